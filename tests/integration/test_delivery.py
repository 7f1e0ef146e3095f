#!/usr/bin/python3
"""Integration: herald serve delivers over SMTP to a real relay (aiosmtpd) on 127.0.0.1.

Covers: rendered subject/body in both MIME parts; 550 -> permanent-failure; relay down ->
retried then technical-failure; STARTTLS used when offered and certificate verified;
require_starttls with a relay that does not offer it -> nothing sent in plaintext;
kill -9 right after a 201 -> delivered after restart; SIGTERM shuts down cleanly.
Usage: test_delivery.py /path/to/herald
"""
import email
import email.policy
import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402

HERALD = sys.argv[1]
FAST_RETRY = "[delivery]\nmax_attempts = 3\nfirst_retry_ms = 200\nmax_retry_ms = 400\nlease_seconds = 2"


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def send(herald, key, template_id, to="someone@example.com", personalisation=None):
    status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
        "email_address": to, "template_id": template_id,
        "personalisation": personalisation or {"name": "Ada <Lovelace>", "day": "Tuesday"}})
    assert status == 201, (status, body)
    return body["id"]


def setup(ws, sink_port, extra=""):
    herald = ws.track(Herald(HERALD, ws.dir, sink_port, extra_config=extra))
    service_id, key = herald.create_service()
    template_id = herald.create_template(service_id, "Hello ((name))",
                                         "Dear ((name)),\r\n\r\nSee you on ((day)).\r\n\r\n.single dot line")
    return herald, key, template_id


def test_delivers_rendered_email():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald, key, template_id = setup(ws, sink.port)
        herald.start()
        notification_id = send(herald, key, template_id)
        body = herald.wait_for_status(key, notification_id, {"delivered"})
        assert body["sent_at"] and body["completed_at"], body
        (raw, meta), = sink.messages()
        assert meta["rcpt_tos"] == ["someone@example.com"], meta
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert message["subject"] == "Hello Ada <Lovelace>", message["subject"]
        assert notification_id in message["message-id"]
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert "Dear Ada <Lovelace>," in text and "See you on Tuesday." in text, text
        assert ".single dot line" in text, "dot-stuffing must be undone by the relay"
        assert "Ada &lt;Lovelace&gt;" in html and "Ada <Lovelace>" not in html, html
        assert herald.stop() == 0, "SIGTERM must shut down cleanly"


def test_reply_to_addresses_default_and_chosen():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald, key, template_id = setup(ws, sink.port)
        service_id = key[-73:-37]
        herald.run_cli("service", "add-contact", "--service", service_id, "--kind", "email_reply_to",
                       "--value", "desk@clinic.example", "--default")
        other = herald.run_cli("service", "add-contact", "--service", service_id, "--kind", "email_reply_to",
                               "--value", "bookings@clinic.example")
        code, _, err = herald.run_cli("service", "add-contact", "--service", service_id, "--kind",
                                      "email_reply_to", "--value", "not an address", check=False)
        assert code != 0 and "email" in err.lower(), err
        herald.start()
        first = send(herald, key, template_id, to="one@example.com")
        status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": "two@example.com", "template_id": template_id, "email_reply_to_id": other,
            "personalisation": {"name": "Ada", "day": "Monday"}})
        assert status == 201, body
        for notification_id in (first, body["id"]):
            herald.wait_for_status(key, notification_id, {"delivered"})
        reply_to = {}
        for raw, meta in sink.messages():
            message = email.message_from_bytes(raw, policy=email.policy.default)
            reply_to[meta["rcpt_tos"][0]] = message["reply-to"]
        assert reply_to == {"one@example.com": "desk@clinic.example",
                            "two@example.com": "bookings@clinic.example"}, reply_to


def test_relay_550_is_permanent_failure():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir, mode="reject"))
        herald, key, template_id = setup(ws, sink.port)
        herald.start()
        notification_id = send(herald, key, template_id)
        herald.wait_for_status(key, notification_id, {"permanent-failure"})
        assert sink.messages() == []


def test_relay_down_is_retried_then_technical_failure():
    with Workspace() as ws:
        herald, key, template_id = setup(ws, free_port(), FAST_RETRY)
        herald.start()
        notification_id = send(herald, key, template_id)
        herald.wait_for_status(key, notification_id, {"technical-failure"})
        attempts = [l for l in open(herald.log_path) if "delivery.attempt" in l and notification_id in l]
        assert len(attempts) == 3, attempts


def test_relay_4xx_is_retried_then_technical_failure():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir, mode="tempfail"))
        herald, key, template_id = setup(ws, sink.port, FAST_RETRY)
        herald.start()
        notification_id = send(herald, key, template_id)
        herald.wait_for_status(key, notification_id, {"technical-failure"})


def tls_relay(ws):
    """An SMTP sink offering STARTTLS with a localhost certificate from a second data directory."""
    os.makedirs(os.path.join(ws.dir, "relay"))
    relay_tls = Herald(HERALD, os.path.join(ws.dir, "relay"), 1)
    sink = ws.track(SmtpSink(ws.dir, tls_cert=relay_tls.cert,
                             tls_key=os.path.join(relay_tls.dir, "tls", "key.pem")))
    return sink, relay_tls.cert


def test_starttls_used_and_verified():
    with Workspace() as ws:
        sink, relay_cert = tls_relay(ws)
        herald, key, template_id = setup(ws, sink.port, "[smtp]\nrequire_starttls = true\nca_file = \"%s\"" % relay_cert)
        herald.start()
        notification_id = send(herald, key, template_id)
        herald.wait_for_status(key, notification_id, {"delivered"})
        (raw, meta), = sink.messages()
        assert meta["tls"] is True, meta


def test_starttls_with_untrusted_certificate_is_not_sent():
    with Workspace() as ws:
        sink, _ = tls_relay(ws)
        # Herald's own (different) certificate as the only trust anchor: verification must fail.
        herald, key, template_id = setup(ws, sink.port, FAST_RETRY)
        herald.rewrite_config("[smtp]\nca_file = \"%s\"" % os.path.join(herald.dir, "tls", "cert.pem"))
        herald.start()
        notification_id = send(herald, key, template_id)
        herald.wait_for_status(key, notification_id, {"technical-failure"})
        assert sink.messages() == []


def test_require_starttls_refuses_plaintext_relay():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))  # no STARTTLS offered
        herald, key, template_id = setup(ws, sink.port, FAST_RETRY + "\n\n[smtp]\nrequire_starttls = true")
        herald.start()
        notification_id = send(herald, key, template_id)
        herald.wait_for_status(key, notification_id, {"technical-failure"})
        assert sink.messages() == [], "nothing may be sent in plaintext when STARTTLS is required"


def test_kill_9_after_201_then_delivered_after_restart():
    with Workspace() as ws:
        sink_port = free_port()
        herald, key, template_id = setup(ws, sink_port, FAST_RETRY.replace("max_attempts = 3", "max_attempts = 50"))
        herald.start()
        ids = [send(herald, key, template_id, to="kill%d@example.com" % i) for i in range(5)]
        herald.stop(signal.SIGKILL)
        sink = ws.track(SmtpSink(ws.dir, port=sink_port))
        herald.start()
        for notification_id in ids:
            herald.wait_for_status(key, notification_id, {"delivered"})
        recipients = sorted(meta["rcpt_tos"][0] for _, meta in sink.messages())
        assert recipients == sorted("kill%d@example.com" % i for i in range(5)), recipients


def test_pipelined_session_is_reused_across_refusals_and_batches():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir, mode="mixed", pipelining=True))
        herald, key, template_id = setup(ws, sink.port, "[delivery]\nconnections = 1\nbatch_size = 3")
        herald.start()
        sent = []
        for i in range(7):  # three batches; two refusals in the middle of them
            to = "reject%d@example.com" % i if i in (2, 4) else "person%d@example.com" % i
            sent.append((to, send(herald, key, template_id, to=to)))
        for to, notification_id in sent:
            expected = "permanent-failure" if to.startswith("reject") else "delivered"
            herald.wait_for_status(key, notification_id, {expected})
        messages = sink.messages()
        assert sorted(m["rcpt_tos"][0] for _, m in messages) == sorted(
            to for to, _ in sent if not to.startswith("reject")), messages
        assert all(m["pipelined"] for _, m in messages), "MAIL, RCPT and DATA must go in one write"
        ports = {m["client_port"] for _, m in messages}
        assert len(ports) == 1, "one connection for every message, across refusals: %s" % ports


def test_roles_split_accepting_and_delivering():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald, key, template_id = setup(ws, sink.port)
        herald.start(role="api")
        notification_id = send(herald, key, template_id)
        time.sleep(1)
        status, body = herald.request("GET", "/v2/notifications/" + notification_id, key=key)
        assert body["status"] == "created" and sink.messages() == [], "an api node must not deliver"
        worker = herald.spawn_worker()
        try:
            herald.wait_for_status(key, notification_id, {"delivered"})
        finally:
            worker.terminate()
            assert worker.wait(30) == 0


if __name__ == "__main__":
    run_tests([
        test_reply_to_addresses_default_and_chosen,
        test_delivers_rendered_email,
        test_relay_550_is_permanent_failure,
        test_relay_down_is_retried_then_technical_failure,
        test_relay_4xx_is_retried_then_technical_failure,
        test_starttls_used_and_verified,
        test_starttls_with_untrusted_certificate_is_not_sent,
        test_require_starttls_refuses_plaintext_relay,
        test_kill_9_after_201_then_delivered_after_restart,
        test_roles_split_accepting_and_delivering,
        test_pipelined_session_is_reused_across_refusals_and_batches,
    ])
