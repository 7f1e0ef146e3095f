#!/usr/bin/python3
"""End to end: NHS Notify callbacks to a client's receivers on 127.0.0.1, which check what NHS
tells receivers to check (the API-key header, the HMAC-SHA256 signature over the raw bytes).

- a message receiver behind mutual TLS with its key pinned hears "sending" and "delivered"; its
  first answer is 429 with Retry-After: the same callback comes again, with the same
  idempotency key;
- a channel receiver with its own header and agreed key answers 400: the callback is dead at
  once, listed by `herald nhs callback dead`, and `replay` sends it again once it answers 202;
- a receiver registered with the wrong pin never receives anything: its callback is dead.
Usage: test_nhs_callbacks.py /path/to/herald
"""
import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests, wait_for_file  # noqa: E402
from test_admin import Browser, enrol, hidden  # noqa: E402
from nhs_callback_receiver import NhsCallbackReceiver, spki_sha256  # noqa: E402
from sms_provider import self_signed  # noqa: E402

HERALD = sys.argv[1]
FREE_TEXT_EMAIL = "00000000-0000-0000-0000-000000000002"
AGREED_KEY = "agreed-channel-key-0123456789"


def test_callbacks_are_signed_retried_dead_lettered_and_replayed():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        client_cert, client_key = self_signed(ws.dir, "herald-client")
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        service_id, govuk_key = herald.create_service("NHS callbacks service")
        client = herald.create_nhs_client(service_id, "--default-ods", "A12345")
        client_id = herald.run_cli("nhs", "client", "list").split()[0]
        messages = ws.track(NhsCallbackReceiver(ws.dir, "messages", client_id, client_ca=client_cert))
        channels = ws.track(NhsCallbackReceiver(ws.dir, "channels", client_id, api_key_header="x-channel-key"))
        bundle = os.path.join(ws.dir, "receivers.pem")
        with open(bundle, "w") as f:
            for cert in (messages.cert, channels.cert):
                with open(cert) as c:
                    f.write(c.read())
        herald.rewrite_config('[callbacks]\nallow_private_addresses = true\nca_file = "%s"' % bundle)
        records = os.path.join(ws.dir, "patients.csv")
        with open(records, "w") as f:
            f.write("nhs_number,given_name,email\n9990548609,Ada,ada.callbacks@example.org\n")
        herald.run_cli("demographics", "import", "--file", records)

        added = herald.run_cli("nhs", "callback", "add", "--client", client_id, "--kind", "message",
                               "--url", messages.url, "--statuses", "sending,delivered,failed",
                               "--client-cert", client_cert, "--client-key", client_key,
                               "--pin", spki_sha256(messages.cert)).split()
        assert len(added) == 2 and len(added[1]) == 32, added
        messages.api_key = added[1]
        messages.script = [(429, 1)]
        channel_target = herald.run_cli("nhs", "callback", "add", "--client", client_id, "--kind", "channel",
                                        "--url", channels.url, "--header", "x-channel-key",
                                        "--api-key-env", "AGREED_KEY", env={"AGREED_KEY": AGREED_KEY})
        assert len(channel_target.split()) == 1, channel_target  # an agreed key is not printed
        channels.api_key = AGREED_KEY
        channels.script = [(400, None)]
        pinned_wrong = herald.run_cli("nhs", "callback", "add", "--client", client_id, "--kind", "message",
                                      "--url", channels.url.replace("channels", "elsewhere"),
                                      "--pin", spki_sha256(client_cert))
        listed = herald.run_cli("nhs", "callback", "list", "--client", client_id)
        assert "mTLS  pinned" in listed and messages.api_key not in listed and AGREED_KEY not in listed, listed
        bad = herald.run_cli("nhs", "callback", "add", "--client", client_id, "--url", "http://example.org/",
                             check=False)
        assert bad[0] != 0 and "https" in bad[2], bad

        herald.start()
        token = herald.nhs_token(client)
        status, body = herald.request("POST", "/comms/v1/messages", token=token, body={"data": {
            "type": "Message", "attributes": {
                "routingPlanId": FREE_TEXT_EMAIL, "messageReference": "callback-ref-1",
                "recipient": {"nhsNumber": "9990548609"},
                "personalisation": {"email_subject": "Hello", "email_body": "Your appointment."}}}})
        assert status == 201, body
        message_id = body["data"]["id"]

        # The message receiver: sending (refused once with 429, then again), then delivered.
        calls = messages.wait_for(lambda calls: any(b'"messageStatus":"delivered"' in raw and s == 202
                                                    for _, raw, s in calls))
        calls = messages.wait_for(lambda calls: len([c for c in calls if c[2] == 202]) == 2)
        statuses = [(raw.split(b'"messageStatus":"')[1].split(b'"')[0].decode(), s) for _, raw, s in calls]
        # Order is not promised (NHS's neither): the retried "sending" may come after "delivered".
        assert statuses[0] == ("sending", 429) and sorted(statuses[1:]) == [("delivered", 202), ("sending", 202)], \
            statuses
        retried = [raw for _, raw, s in calls[1:] if b'"messageStatus":"sending"' in raw]
        assert retried == [calls[0][1]], "a retry sends the same bytes (the same idempotency key)"
        headers, raw, _ = [c for c in calls if b'"messageStatus":"delivered"' in c[1]][0]
        assert headers["content-type"] == "application/json", headers
        assert json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode() == raw, "compact JSON"
        [item] = [i for i in messages.items() if i["data"][0]["attributes"]["messageStatus"] == "delivered"][0]["data"]
        assert item["type"] == "MessageStatus", item
        attrs = item["attributes"]
        assert attrs["messageId"] == message_id and attrs["messageReference"] == "callback-ref-1", attrs
        assert attrs["channels"] == [{"type": "email", "channelStatus": "delivered"}], attrs
        assert attrs["routingPlan"]["id"] == FREE_TEXT_EMAIL and attrs["routingPlan"]["version"] == "1", attrs
        assert item["links"]["message"].endswith("/comms/v1/messages/" + message_id), item
        assert item["meta"]["idempotencyKey"], item
        assert b"9990548609" not in raw, "no NHS number in a callback"

        # The channel receiver refused it for good: dead, listed, replayed.
        channels.wait_for(lambda calls: any(s == 400 for _, _, s in calls))
        dead = wait_for_dead(herald, client_id, 2)
        assert any("HTTP 400" in line for line in dead), dead
        assert any("pinned key mismatch" in line for line in dead), dead
        assert not [c for c in channels.calls if c[0][":path"].startswith("/elsewhere")], "a wrong pin sends nothing"
        channel_dead = [line for line in dead if "HTTP 400" in line][0]
        # The service's team sees them in the admin UI and sends the channel one again from there
        # (`herald nhs callback replay --id` does the same from the shell).
        browser = admin_browser(herald, service_id)
        base = "/services/" + service_id
        status, _, page = browser.get(base + "/nhs-callbacks")
        assert status == 200 and "Given up on" in page and "HTTP 400" in page, page
        assert "pinned key mismatch" in page and channels.url in page, page
        assert AGREED_KEY not in page and messages.api_key not in page, "receivers' keys are never shown again"
        status, _, _ = browser.post(base + "/nhs-callbacks/dead/%s/replay" % channel_dead.split()[0],
                                    {"csrf_token": hidden(page, "csrf_token")})
        assert status == 303, status
        calls = channels.wait_for(lambda calls: any(s == 202 for _, _, s in calls))
        [item] = channels.items()[0]["data"]
        assert item["type"] == "ChannelStatus" and item["attributes"]["channel"] == "email", item
        assert item["attributes"]["channelStatus"] == "delivered" and item["attributes"]["retryCount"] == 0, item
        assert calls[0][1] == [c for c in calls if c[2] == 202][0][1], "the replay sends the same bytes"
        dead = wait_for_dead(herald, client_id, 1)
        assert "pinned key mismatch" in dead[0], dead
        herald.run_cli("nhs", "callback", "remove", "--target", pinned_wrong.split()[0])
        assert wait_for_dead(herald, client_id, 0) == []

        # A GOV.UK delivery-status callback the receiver refuses (401: not its API key header) is
        # given up on at once, listed on the Callbacks page and sent again from there.
        token_file = os.path.join(ws.dir, "govuk-token")
        with open(token_file, "w") as f:
            f.write("a-govuk-bearer-token\n")
        herald.run_cli("service", "set-callback", "--service", service_id, "--kind", "delivery_status",
                       "--url", channels.url + "/govuk", "--bearer-token-file", token_file)
        template = herald.create_template(service_id, "Hello", "Hello", name="GOV.UK email")
        status, sent = herald.request("POST", "/v2/notifications/email", key=govuk_key,
                                      body={"email_address": "govuk.callback@example.org", "template_id": template})
        assert status == 201, sent
        deadline = time.time() + 30
        while sent["id"] not in herald.run_cli("service", "dead-callbacks", "--service", service_id):
            assert time.time() < deadline, "the refused callback was not given up on"
            time.sleep(0.2)
        status, _, page = browser.get(base + "/callbacks")
        assert status == 200 and "Given up on" in page and "HTTP 401" in page and sent["id"] in page, page
        assert channels.url not in page.split("Given up on")[1], "the dead list names no URL"
        replay = base + "/callbacks/delivery-receipts/dead/%s/replay" % sent["id"]
        assert browser.post(replay, {})[0] == 403, "no CSRF token"
        assert browser.post(base + "/callbacks/received-text-messages/dead/%s/replay" % sent["id"],
                            {"csrf_token": hidden(page, "csrf_token")})[0] == 404, "not a dead text's callback"
        refused = len([c for c in channels.calls if c[0][":path"].endswith("/govuk")])
        status, _, _ = browser.post(replay, {"csrf_token": hidden(page, "csrf_token")})
        assert status == 303, status
        channels.wait_for(lambda calls: len([c for c in calls if c[0][":path"].endswith("/govuk")]) > refused)
        # Refused again: dead again, its attempts counted from the replay.
        deadline = time.time() + 30
        while sent["id"] + "  1  " not in herald.run_cli("service", "dead-callbacks", "--service", service_id):
            assert time.time() < deadline, "the replayed callback was not given up on again"
            time.sleep(0.2)


def admin_browser(herald, service_id):
    """A team member who manages the service's API integration, signed in to the admin UI."""
    out = herald.run_cli("user", "create", "--email", "ops@example.org", "--name", "Ops")
    link = re.search(r"/enrol/(\S+)", out).group(1)
    herald.run_cli("user", "grant", "--email", "ops@example.org", "--service", service_id, "--permissions",
                   "manage_api_keys")
    browser = Browser(herald, int(wait_for_file(os.path.join(herald.dir, "ready.admin"))))
    enrol(browser, link, email="ops@example.org")
    return browser


def wait_for_dead(herald, client_id, n, timeout=30):
    deadline = time.time() + timeout
    while True:
        out = herald.run_cli("nhs", "callback", "dead", "--client", client_id)
        lines = [line for line in out.splitlines() if line.strip()]
        if len(lines) == n or time.time() > deadline:
            assert len(lines) == n, lines
            return lines
        time.sleep(0.2)


if __name__ == "__main__":
    run_tests([test_callbacks_are_signed_retried_dead_lettered_and_replayed])
