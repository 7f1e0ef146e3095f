#!/usr/bin/python3
"""Integration: delivery-status callbacks to a service's HTTPS URL, and the SSRF guard.

A callback receiver (HTTPS on 127.0.0.1, its own certificate) stands in for the service. Covers:
the callback body field for field with the service's bearer token, for an email (SMTP sink) and a
text (its receipt from a Firetext stand-in); retries on 5xx and none on 4xx; the SSRF guard
refusing 127.0.0.1, 10.0.0.1, 169.254.169.254 and localhost when the URL is saved, and at connect
time for a URL saved while an operator allowed private addresses.
Usage: test_callbacks.py /path/to/herald
"""
import http.server
import json
import os
import ssl
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402
from sms_provider import SmsProvider, self_signed  # noqa: E402

HERALD = sys.argv[1]
TOKEN = "callback-bearer-token-42"
TIMESTAMP = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"


class Receiver:
    """The service's callback endpoint: records each POST; answers with `statuses` in turn, then 200."""

    def __init__(self, workdir, statuses=()):
        self.statuses = list(statuses)
        self.calls = []
        self.lock = threading.Lock()
        self.cert, key = self_signed(workdir, "receiver")
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.calls.append((dict(self.headers), json.loads(body)))
                    status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/herald/status" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.calls) >= n:
                    return list(self.calls)
            time.sleep(0.05)
        raise TimeoutError("%d callbacks, expected %d" % (len(self.calls), n))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def make_herald(ws, receiver, allow_private=True, extra=()):
    sink = ws.track(SmtpSink(ws.dir))
    config = ["[callbacks]\nallow_private_addresses = %s\nca_file = \"%s\"\nretry_ms = 300\nmax_retries = 2"
              % ("true" if allow_private else "false", receiver.cert)] + list(extra)
    env = {"HERALD_FIRETEXT_API_KEY": "test-api-key", "HERALD_FIRETEXT_RECEIPT_PASSWORD": "receipt-pw",
           "HERALD_MMG_API_KEY": "test-api-key", "HERALD_MMG_RECEIPT_PASSWORD": "receipt-pw"}
    herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config="\n\n".join(config), env=env))
    service_id, key = herald.create_service("Clinic")
    return herald, service_id, key


def set_callback(herald, service_id, url, check=True):
    token_file = os.path.join(herald.dir, "token")
    with open(token_file, "w") as f:
        f.write(TOKEN + "\n")
    return herald.run_cli("service", "set-callback", "--service", service_id, "--kind", "delivery_status",
                          "--url", url, "--bearer-token-file", token_file, check=check)


def test_email_and_text_statuses_reach_the_service_with_its_token():
    with Workspace() as ws:
        receiver = ws.track(Receiver(ws.dir))
        provider = ws.track(SmsProvider(ws.dir, "firetext", receipt="0"))
        herald, service_id, key = make_herald(ws, receiver, extra=[
            '[sms]\nproviders = ["firetext"]\nreceipt_base_url = "https://herald.invalid/"', provider.config().strip()])
        set_callback(herald, service_id, receiver.url)
        email_template = herald.create_template(service_id, "Hi", "Hello ((name))")
        sms_template = herald.create_template(service_id, None, "Hello ((name))", name="Text", type="sms")
        herald.start()
        provider.herald_url, provider.herald_cert = "https://127.0.0.1:%d" % herald.port, herald.cert
        status, email = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": "patient@example.com", "template_id": email_template,
            "personalisation": {"name": "Ada"}, "reference": "ref-1"})
        assert status == 201, email
        calls = receiver.wait_for(1)
        headers, body = calls[0]
        assert headers["Authorization"] == "Bearer " + TOKEN, headers
        assert headers["Content-Type"] == "application/json", headers
        assert sorted(body) == ["completed_at", "created_at", "id", "notification_type", "reference", "sent_at",
                                "status", "template_id", "template_version", "to"], body
        assert (body["id"], body["reference"], body["to"], body["status"], body["notification_type"],
                body["template_id"], body["template_version"]) == (
            email["id"], "ref-1", "patient@example.com", "delivered", "email", email_template, 1), body
        import re
        for field in ("created_at", "completed_at", "sent_at"):
            assert re.match(TIMESTAMP, body[field]), (field, body)
        status, text = herald.request("POST", "/v2/notifications/sms", key=key, body={
            "phone_number": "07700900123", "template_id": sms_template, "personalisation": {"name": "Ada"}})
        assert status == 201, text
        calls = receiver.wait_for(2)
        _, body = calls[1]
        assert (body["id"], body["to"], body["status"], body["notification_type"]) == (
            text["id"], "07700900123", "delivered", "sms"), "told when the provider's receipt came"
        time.sleep(1)
        assert len(receiver.calls) == 2, "one callback per status, no more"


def test_retried_on_5xx_not_on_4xx():
    with Workspace() as ws:
        receiver = ws.track(Receiver(ws.dir, statuses=[503, 500, 200, 400]))
        herald, service_id, key = make_herald(ws, receiver)
        set_callback(herald, service_id, receiver.url)
        template = herald.create_template(service_id, "Hi", "Hello")
        herald.start()
        status, first = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": "a@example.com", "template_id": template})
        calls = receiver.wait_for(3)
        assert [c[1]["id"] for c in calls] == [first["id"]] * 3, "503 and 500 retried until a 2xx"
        status, second = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": "b@example.com", "template_id": template})
        receiver.wait_for(4)
        time.sleep(1.5)
        assert len(receiver.calls) == 4, "a 400 is not retried"
        # Given up on: on the service's dead list with the answer it got, never the URL; sent
        # again (the same news) when the service asks.
        dead = herald.run_cli("service", "dead-callbacks", "--service", service_id).splitlines()
        assert len(dead) == 1 and dead[0].startswith("delivery_status  %s  1  " % second["id"]), dead
        assert dead[0].endswith("  HTTP 400") and "127.0.0.1" not in dead[0], dead
        code, _, err = herald.run_cli("service", "replay-callback", "--service", service_id, "--kind",
                                      "delivery_status", "--id", first["id"], check=False)
        assert code != 0 and "no dead delivery_status callback" in err, (code, err)
        herald.run_cli("service", "replay-callback", "--service", service_id, "--kind", "delivery_status",
                       "--id", second["id"])
        calls = receiver.wait_for(5)
        assert calls[4][1] == calls[3][1], "the same callback again"
        assert herald.run_cli("service", "dead-callbacks", "--service", service_id) == ""


def test_ssrf_guard_refuses_private_addresses_when_saved_and_when_connecting():
    with Workspace() as ws:
        receiver = ws.track(Receiver(ws.dir))
        herald, service_id, key = make_herald(ws, receiver, allow_private=False)
        port = receiver.url.split(":")[2].split("/")[0]
        for url in (receiver.url, "https://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data",
                    "https://localhost:%s/hook" % port, "https://[::1]:%s/hook" % port):
            code, out, err = set_callback(herald, service_id, url, check=False)
            assert code != 0 and "not a public address" in err, (url, code, out, err)
        code, out, err = set_callback(herald, service_id, "http://example.org/hook", check=False)
        assert code != 0 and "https" in err, err
        # Saved while an operator allowed private addresses, then the guard is back on: the callback
        # is refused when connecting, and nothing reaches the receiver.
        herald.rewrite_config("[callbacks]\nallow_private_addresses = true")
        set_callback(herald, service_id, receiver.url)
        herald.rewrite_config("[callbacks]\nallow_private_addresses = false")
        template = herald.create_template(service_id, "Hi", "Hello")
        herald.start()
        status, sent = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": "a@example.com", "template_id": template})
        assert status == 201, sent
        herald.wait_for_status(key, sent["id"], {"delivered"})
        deadline = time.time() + 10
        log = ""
        while time.time() < deadline and "callback.failed" not in log:
            time.sleep(0.1)
            log = open(herald.log_path).read()
        assert "callback.failed" in log and "not public" in log, log[-2000:]
        assert receiver.calls == [], "the guard must stop the connection"


def test_received_texts_are_listed_and_forwarded():
    with Workspace() as ws:
        receiver = ws.track(Receiver(ws.dir))
        firetext = ws.track(SmsProvider(ws.dir, "firetext"))
        mmg = ws.track(SmsProvider(ws.dir, "mmg"))
        herald, service_id, key = make_herald(ws, receiver, extra=[
            '[sms]\nproviders = ["firetext", "mmg"]', firetext.config().strip(), mmg.config().strip()])
        herald.run_cli("service", "set", "--service", service_id, "--permissions", "email,sms,inbound_sms")
        herald.run_cli("service", "add-contact", "--service", service_id, "--kind", "sms_sender",
                       "--value", "07700900999", "--default")
        token_file = os.path.join(herald.dir, "token")
        with open(token_file, "w") as f:
            f.write(TOKEN)
        herald.run_cli("service", "set-callback", "--service", service_id, "--kind", "inbound_sms",
                       "--url", receiver.url, "--bearer-token-file", token_file)
        herald.start()
        for provider in (firetext, mmg):
            provider.herald_url, provider.herald_cert = "https://127.0.0.1:%d" % herald.port, herald.cert
        assert firetext.post_inbound("447700900123", "07700900999", "Hi", None)[0] == 401
        assert firetext.post_inbound("447700900123", "07700900999", "Hi", ("firetext", "wrong"))[0] == 403
        status, _ = firetext.post_inbound("447700900123", "447700900999", "Yes please", ("firetext", "receipt-pw"))
        assert status == 200
        status, _ = mmg.post_inbound("447700900456", "447700900999", "Cancel & rebook: 2pm?", ("mmg", "receipt-pw"))
        assert status == 200
        status, _ = mmg.post_inbound("447700900456", "447700900000", "to nobody", ("mmg", "receipt-pw"))
        assert status == 200, "texts to numbers no service has are acknowledged, and dropped"

        status, page = herald.request("GET", "/v2/received-text-messages", key=key)
        assert status == 200, page
        base = "https://127.0.0.1:%d/v2/received-text-messages" % herald.port
        texts = page["received_text_messages"]
        assert [t["content"] for t in texts] == ["Cancel & rebook: 2pm?", "Yes please"], texts
        assert texts[0] == {"id": texts[0]["id"], "user_number": "447700900456", "notify_number": "07700900999",
                            "created_at": texts[0]["created_at"], "service_id": service_id,
                            "content": "Cancel & rebook: 2pm?"}, texts[0]
        assert page["links"] == {"current": base, "next": base + "?older_than=" + texts[1]["id"]}, page["links"]
        status, older = herald.request("GET", "/v2/received-text-messages?older_than=" + texts[0]["id"], key=key)
        assert [t["content"] for t in older["received_text_messages"]] == ["Yes please"], older
        status, bad = herald.request("GET", "/v2/received-text-messages?older_than=x", key=key)
        assert (status, bad["errors"][0]["message"]) == (400, "older_than is not a valid UUID"), bad

        calls = receiver.wait_for(2)
        bodies = sorted((c[1] for c in calls), key=lambda b: b["message"])
        assert all(c[0]["Authorization"] == "Bearer " + TOKEN for c in calls), calls
        assert bodies[0] == {"id": texts[0]["id"], "source_number": "447700900456", "destination_number": "07700900999",
                             "message": "Cancel & rebook: 2pm?", "date_received": "2026-11-23T09:31:00.000000Z"}, bodies
        assert bodies[1]["message"] == "Yes please" and bodies[1]["date_received"] == "2026-11-23T09:30:00.000000Z"


if __name__ == "__main__":
    run_tests([test_email_and_text_statuses_reach_the_service_with_its_token,
               test_retried_on_5xx_not_on_4xx,
               test_ssrf_guard_refuses_private_addresses_when_saved_and_when_connecting,
               test_received_texts_are_listed_and_forwarded])
