#!/usr/bin/python3
"""Integration: text messages through herald serve to SMS provider stand-ins on 127.0.0.1.

Firetext and MMG stand-ins (tests/tools/sms_provider.py) speak each provider's HTTP API and send
delivery receipts back the way each does. Covers: the text as the provider gets it (prefix,
sender, number), receipts (authenticated; delivered, pending then declined), failover to the
other provider and back, GOV.UK's validation errors, test keys and simulated numbers.
Usage: test_sms.py /path/to/herald
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402
from sms_provider import SmsProvider  # noqa: E402

HERALD = sys.argv[1]
RECEIPT_PASSWORD = "receipt-secret-7"
ENV = {"HERALD_FIRETEXT_API_KEY": "test-api-key", "HERALD_MMG_API_KEY": "test-api-key",
       "HERALD_FIRETEXT_RECEIPT_PASSWORD": RECEIPT_PASSWORD, "HERALD_MMG_RECEIPT_PASSWORD": RECEIPT_PASSWORD}


def setup(ws, firetext_receipt="0", mmg_receipt="3"):
    firetext = ws.track(SmsProvider(ws.dir, "firetext", receipt=firetext_receipt))
    mmg = ws.track(SmsProvider(ws.dir, "mmg", receipt=mmg_receipt))
    sink = ws.track(SmtpSink(ws.dir))
    extra = "\n\n".join([
        '[sms]\nproviders = ["firetext", "mmg"]\nreceipt_base_url = "https://herald.invalid/"\n'
        'retry_after_seconds = 1\nfailures_to_switch = 2',
        firetext.config().strip(), mmg.config().strip(),
        "[delivery]\nfirst_retry_ms = 200\nmax_retry_ms = 400"])
    herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=extra, env=ENV))
    service_id, key = herald.create_service("Clinic")
    template_id = herald.create_template(service_id, None, "Hello ((name)), your code is ((code)).",
                                         name="Code", type="sms")
    herald.start()
    for provider in (firetext, mmg):
        provider.herald_url = "https://127.0.0.1:%d" % herald.port
        provider.herald_cert = herald.cert
    return herald, key, service_id, template_id, firetext, mmg


def send(herald, key, template_id, number="07700 900123", **extra):
    body = {"phone_number": number, "template_id": template_id, "personalisation": {"name": "Ada", "code": "1234"}}
    body.update(extra)
    return herald.request("POST", "/v2/notifications/sms", key=key, body=body)


def test_text_reaches_firetext_and_its_receipt_delivers():
    with Workspace() as ws:
        herald, key, service_id, template_id, firetext, mmg = setup(ws)
        status, sent = send(herald, key, template_id, reference="sms-ref")
        assert status == 201, sent
        assert sent["content"] == {"body": "Hello Ada, your code is 1234.", "from_number": "Herald"}, sent
        assert sent["reference"] == "sms-ref" and sent["scheduled_for"] is None, sent
        got = herald.wait_for_status(key, sent["id"], {"delivered"})
        (message,) = firetext.messages()
        assert message["to"] == "447700900123", message
        assert message["from"] == "Herald", message
        assert message["message"] == "Clinic: Hello Ada, your code is 1234.", "the service-name prefix"
        assert message["reference"] == sent["id"], message
        assert message["receipt_url"] == ("https://firetext:%s@herald.invalid/notifications/sms/firetext"
                                          % RECEIPT_PASSWORD), message["receipt_url"]
        assert not mmg.messages()
        assert got["phone_number"] == "07700 900123" and got["type"] == "sms" and got["subject"] is None, got
        assert got["body"] == "Hello Ada, your code is 1234.", got
        assert got["cost_details"] == {"billable_sms_fragments": 1, "international_rate_multiplier": 1.0,
                                       "sms_rate": 0.0227}, got
        assert got["cost_in_pounds"] == 0.0227 and got["is_cost_data_ready"] is True, got
        assert got["sent_at"] and got["completed_at"], got
        # Nothing about the text in the database in plaintext.
        rows = herald.sql("SELECT sent_by, billable_units, sender FROM notifications WHERE id = ?", (sent["id"],))
        assert [tuple(map(str, r)) for r in rows] == [("firetext", "1", "Herald")], rows


def test_receipts_need_the_providers_credentials_and_only_the_sender_counts():
    with Workspace() as ws:
        herald, key, service_id, template_id, firetext, mmg = setup(ws, firetext_receipt=None)
        status, sent = send(herald, key, template_id)
        assert status == 201, sent
        herald.wait_for_status(key, sent["id"], {"sending"})
        deadline = time.time() + 10
        while not firetext.messages() and time.time() < deadline:
            time.sleep(0.05)
        receipt_url = firetext.messages()[0]["receipt_url"]
        code, _ = firetext.post_receipt(receipt_url, sent["id"], "0", credentials=("", ""))
        assert code == 401, code
        code, _ = firetext.post_receipt(receipt_url, sent["id"], "0", credentials=("firetext", "wrong"))
        assert code == 403, code
        code, _ = mmg.post_receipt(None, sent["id"], "3", credentials=("mmg", RECEIPT_PASSWORD))
        assert code == 200, "acknowledged"
        assert herald.wait_for_status(key, sent["id"], {"sending"})["status"] == "sending", \
            "a receipt from a provider that did not send it changes nothing"
        code, body = firetext.post_receipt(receipt_url, "", "0")
        assert code == 400 and b"reference missing" in body, (code, body)
        code, _ = firetext.post_receipt(receipt_url, sent["id"], "2")
        assert code == 200
        assert herald.wait_for_status(key, sent["id"], {"pending"})
        code, _ = firetext.post_receipt(receipt_url, sent["id"], "1")
        got = herald.wait_for_status(key, sent["id"], {"temporary-failure", "permanent-failure"})
        assert got["status"] == "temporary-failure", "declined after pending counts as temporary"


def test_failover_to_mmg_and_back_when_firetext_recovers():
    with Workspace() as ws:
        herald, key, service_id, template_id, firetext, mmg = setup(ws)
        firetext.mode = "error"
        ids = []
        for _ in range(4):
            status, sent = send(herald, key, template_id)
            assert status == 201, sent
            ids.append(sent["id"])
        for notification_id in ids:
            herald.wait_for_status(key, notification_id, {"delivered"})
        assert sorted(m["reference"] for m in mmg.messages()) == sorted(ids), "every text went out through MMG"
        assert not firetext.messages()
        mmg_message = mmg.messages()[0]
        assert mmg_message["reqType"] == "BULK" and mmg_message["multi"] is True, mmg_message
        assert mmg_message["message"] == "Clinic: Hello Ada, your code is 1234.", mmg_message
        firetext.mode = "ok"
        time.sleep(1.5)  # retry_after_seconds = 1
        status, sent = send(herald, key, template_id)
        herald.wait_for_status(key, sent["id"], {"delivered"})
        assert [m["reference"] for m in firetext.messages()] == [sent["id"]], "back to the preferred provider"


def test_validation_errors_as_govuk_gives_them():
    with Workspace() as ws:
        herald, key, service_id, template_id, firetext, mmg = setup(ws)

        def error(status, name, message, **body):
            code, got = send(herald, key, template_id, **body)
            assert (code, got) == (status, {"status_code": status, "errors": [{"error": name, "message": message}]}), \
                (body, code, got)

        error(400, "ValidationError", "phone_number Not enough digits", number="0770090")
        error(400, "ValidationError", "phone_number Must not contain letters or symbols", number="0770090012a")
        error(400, "BadRequestError", "Cannot send to international mobile numbers", number="+1 202 555 0123")
        error(400, "InvalidPhoneError", "Not a UK mobile number", number="020 7946 0000")
        sender = "8c0ff2f5-5b2c-4f3a-8d7e-3a4d1e1c9b10"
        error(400, "BadRequestError",
              "sms_sender_id %s does not exist in database for service id %s" % (sender, service_id),
              sms_sender_id=sender)
        code, got = send(herald, key, template_id, personalisation={"name": "x" * 1000, "code": "1"})
        assert code == 400 and got["errors"][0]["message"].startswith(
            "Your message is too long. Text messages cannot be longer than 918 characters."), got
        herald.run_cli("service", "set", "--service", service_id, "--permissions", "email,sms,international_sms",
                       "--sms-prefix", "false")
        sender_id = herald.run_cli("service", "add-contact", "--service", service_id, "--kind", "sms_sender",
                                   "--value", "CLINIC", "--default")
        time.sleep(5.5)  # the API's service cache (5 s)
        code, sent = send(herald, key, template_id, number="+1 202 555 0123", sms_sender_id=sender_id)
        assert code == 201 and sent["content"]["from_number"] == "CLINIC", sent
        herald.wait_for_status(key, sent["id"], {"delivered"})
        message = [m for m in firetext.messages() if m["reference"] == sent["id"]][0]
        assert message["to"] == "12025550123" and message["from"] == "CLINIC", message
        assert message["message"] == "Hello Ada, your code is 1234.", "prefix switched off"
        herald.run_cli("service", "set", "--service", service_id, "--permissions", "email")
        time.sleep(5.5)
        error(400, "BadRequestError", "Service is not allowed to send text messages")


def test_test_keys_and_simulated_numbers_never_reach_a_provider():
    with Workspace() as ws:
        herald, key, service_id, template_id, firetext, mmg = setup(ws)
        test_key = herald.run_cli("key", "create", "--service", service_id, "--type", "test", "--name", "t")
        outcomes = {"07700900003": "temporary-failure", "07700900002": "permanent-failure",
                    "07700900456": "delivered"}
        for number, expected in outcomes.items():
            status, sent = send(herald, test_key, template_id, number=number)
            assert status == 201, sent
            assert herald.wait_for_status(test_key, sent["id"], {expected})["status"] == expected
        status, sent = send(herald, key, template_id, number="+447700900111")
        assert status == 201, sent
        time.sleep(1)
        assert herald.wait_for_status(key, sent["id"], {"created"})["status"] == "created"
        assert not firetext.messages() and not mmg.messages()


def test_only_what_talks_to_a_provider_needs_its_secrets():
    """Administration from the shell works without the providers' API keys; serve, which sends
    through them, refuses to start and names the variable; an API-only node needs none."""
    with Workspace() as ws:
        provider = ws.track(SmsProvider(ws.dir, "firetext"))
        extra = "\n\n".join(['[sms]\nproviders = ["firetext"]', provider.config().strip()])
        bare = {name: "" for name in ENV}
        herald = ws.track(Herald(HERALD, ws.dir, 2525, extra_config=extra, env=bare))
        service_id, key = herald.create_service("Clinic")  # service create, go-live, key create
        herald.create_template(service_id, None, "Hello", name="Text", type="sms")
        herald.run_cli("keys", "status")
        herald.run_cli("audit", "verify")
        code, out, err = herald.run_cli("serve", "--role", "worker", check=False)
        assert code != 0 and "HERALD_FIRETEXT_API_KEY" in err + out, (code, out, err)
        herald.start(role="api")  # takes requests; sends nothing
        status, _ = herald.request("GET", "/v2/notifications", key=key)
        assert status == 200
        herald.stop()


if __name__ == "__main__":
    run_tests([test_text_reaches_firetext_and_its_receipt_delivers,
               test_receipts_need_the_providers_credentials_and_only_the_sender_counts,
               test_failover_to_mmg_and_back_when_firetext_recovers,
               test_validation_errors_as_govuk_gives_them,
               test_test_keys_and_simulated_numbers_never_reach_a_provider,
               test_only_what_talks_to_a_provider_needs_its_secrets])
