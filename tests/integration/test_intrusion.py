#!/usr/bin/python3
"""Integration: intrusion detection and prevention in `herald serve` (security/intrusion.h,
cli/intrusion.h) and the per-key network allow-lists.

Repeated refused tokens from one address block it on every API in that API's own error format
(GOV.UK's 429 TooManyRequestsError, NHS Notify's 429 CM_QUOTA) with Retry-After, until the block
ends or `herald security unblock` lifts it; the event is in the audit log (`herald security
events`), `herald security blocks` and /metrics. Many 404s on ids are enumeration. By default the
loopback is never blocked (events only), so each blocking test takes it off security.never_block.
`herald key restrict` confines a key to networks: refused elsewhere, allowed inside, lifted by
an empty list; `nhs client set --networks` likewise for NHS Notify clients.
Usage: test_intrusion.py /path/to/herald
"""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import ssl
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, make_token, run_tests  # noqa: E402
from openapi_check import check_response  # noqa: E402
from sms_provider import self_signed  # noqa: E402

HERALD = sys.argv[1]
BLOCKING = '[security]\nauth_failures = 5\nnot_found = 5\nnever_block = []'


def raw_get(herald, path, key=None):
    """(status, headers, parsed body) of a GET, headers included (Herald.request drops them)."""
    context = ssl.create_default_context(cafile=herald.cert)
    conn = http.client.HTTPSConnection("127.0.0.1", herald.port, context=context, timeout=30)
    headers = {}
    if key is not None:
        headers["Authorization"] = "Bearer " + make_token(key[-73:-37], key[-36:], iat=herald.token_time())
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    body = json.loads(response.read())
    conn.close()
    check_response("GET", path, response.status, body, nhs_prefix="/comms")  # docs/openapi
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body


def bad_token(service_id):
    return make_token(service_id, str(uuid.uuid4()))  # signed with a secret the service never had


def security_events(herald):
    """The intrusion detector's events (`herald security events` also lists the daily
    configuration check's)."""
    out = herald.run_cli("security", "events")
    events = [json.loads(line) for line in out.splitlines() if line]
    return [e for e in events if e["actor"] == "system:intrusion-detection"]


def wait_until(condition, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_refused_tokens_block_the_source_on_every_api_until_unblocked():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=BLOCKING))
        herald.start()
        service_id, key = herald.create_service()
        assert herald.request("GET", "/v2/notifications", key=key)[0] == 200
        for _ in range(5):
            status, body = herald.request("GET", "/v2/notifications", token=bad_token(service_id))
            assert status == 403 and body["errors"][0]["error"] == "AuthError", (status, body)
        # Now even a good key is refused from this address, in each API's own format.
        status, headers, body = raw_get(herald, "/v2/notifications", key=key)
        assert status == 429, (status, body)
        assert body["errors"][0]["error"] == "TooManyRequestsError", body
        assert "Too many requests from your address" in body["errors"][0]["message"], body
        assert 1 <= int(headers["retry-after"]) <= 60, headers
        status, headers, body = raw_get(herald, "/comms/v1/messages/" + str(uuid.uuid4()))
        assert status == 429 and body["errors"][0]["code"] == "CM_QUOTA", (status, body)
        assert int(headers["retry-after"]) >= 1, headers
        # Shared through the store: the CLI sees the block, the audit log the event.
        assert wait_until(lambda: "127.0.0.1" in herald.run_cli("security", "blocks"))
        blocks = herald.run_cli("security", "blocks")
        assert "strikes 1" in blocks and "auth_failures" in blocks, blocks
        events = security_events(herald)
        # One for the address (blocked), one for the service the tokens named (an event only).
        assert [e["action"] for e in events] == ["security.auth_failures"] * 2, events
        assert events[0]["source"] == "127.0.0.1" and events[0]["outcome"] == "blocked", events[0]
        assert events[1]["objects"]["subject"] == "service:" + service_id, events[1]
        assert events[1]["outcome"] == "detected", events[1]
        assert key[-36:] not in json.dumps(events), "no secret in the events"
        _, metrics = herald.ops_get("/metrics")
        assert 'herald_security_events_total{detector="auth_failures"} 2' in metrics, metrics
        assert "herald_blocked_requests_total 2" in metrics
        # Lifted everywhere within a poll.
        assert "unblocked" in herald.run_cli("security", "unblock", "--source", "127.0.0.1", check=False)[2]
        assert wait_until(lambda: herald.request("GET", "/v2/notifications", key=key)[0] == 200)
        code, _, err = herald.run_cli("security", "unblock", "--source", "127.0.0.1", check=False)
        assert code == 1 and "not blocked" in err, (code, err)
        code, _, err = herald.run_cli("security", "unblock", "--source", "not-an-address", check=False)
        assert code != 0 and "IP address" in err, err
        assert [e["action"] for e in security_events(herald)] == ["security.auth_failures"] * 2


class Siem:
    """A SIEM's HTTPS endpoint on 127.0.0.1: keeps each POST's headers and exact body."""

    def __init__(self, workdir):
        self.calls = []
        self.cert, key = self_signed(workdir, "siem")
        siem = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                siem.calls.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/events" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_events_reach_the_siem_webhook_signed():
    secret = "siem-shared-secret-0123456789"
    with Workspace() as ws:
        siem = ws.track(Siem(ws.dir))
        sink = ws.track(SmtpSink(ws.dir))
        config = ('[security]\nauth_failures = 3\nwebhook_url = "%s"\n\n'
                  '[callbacks]\nallow_private_addresses = true\nca_file = "%s"' % (siem.url, siem.cert))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=config,
                                 env={"HERALD_SECURITY_WEBHOOK_SECRET": secret}))
        herald.start()
        service_id, _ = herald.create_service()
        for _ in range(3):
            assert herald.request("GET", "/v2/notifications", token=bad_token(service_id))[0] == 403
        assert wait_until(lambda: len(siem.calls) == 2), siem.calls
        for headers, body in siem.calls:
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            assert headers["x-herald-signature"] == expected, (headers, body)
            assert headers["content-type"] == "application/json"
            event = json.loads(body)
            assert event["type"] == "security_event" and event["detector"] == "auth_failures", event
        subjects = sorted(json.loads(body)["subject"] for _, body in siem.calls)
        assert subjects == ["service:" + service_id, "source:127.0.0.1"], subjects
        # Without the secret, a webhook is refused at start: an unsigned feed would be forgeable.
        code, _, err = herald.run_cli("config", "check", check=False, env={"HERALD_SECURITY_WEBHOOK_SECRET": ""})
        assert "HERALD_SECURITY_WEBHOOK_SECRET" in err, err


def test_many_not_found_ids_are_enumeration():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=BLOCKING))
        herald.start()
        _, key = herald.create_service()
        for _ in range(5):
            status, _ = herald.request("GET", "/v2/notifications/" + str(uuid.uuid4()), key=key)
            assert status == 404
        status, _, body = raw_get(herald, "/v2/notifications", key=key)
        assert status == 429, (status, body)
        assert wait_until(lambda: [e["action"] for e in security_events(herald)] == ["security.enumeration"])


def test_normal_traffic_and_the_loopback_are_not_blocked():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config='[security]\nauth_failures = 5'))
        herald.start()
        service_id, key = herald.create_service()
        # A busy client's ordinary mistakes: a few bad tokens, a few unknown ids, many good requests.
        for _ in range(3):
            assert herald.request("GET", "/v2/notifications", token=bad_token(service_id))[0] == 403
            assert herald.request("GET", "/v2/notifications/" + str(uuid.uuid4()), key=key)[0] == 404
            for _ in range(10):
                assert herald.request("GET", "/v2/notifications", key=key)[0] == 200
        time.sleep(1.5)
        assert security_events(herald) == []
        # Past the threshold from the loopback (security.never_block's default): an event, no block.
        for _ in range(5):
            assert herald.request("GET", "/v2/notifications", token=bad_token(service_id))[0] == 403
        assert herald.request("GET", "/v2/notifications", key=key)[0] == 200
        assert wait_until(lambda: len(security_events(herald)) == 2)
        event = security_events(herald)[0]
        assert event["objects"]["subject"] == "source:127.0.0.1", event
        assert event["outcome"] == "detected", event
        assert "not blocked" in json.dumps(event), event
        assert "no source is blocked" in herald.run_cli("security", "blocks", check=False)[2]


def test_a_key_restricted_to_networks_is_refused_from_any_other():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        herald.start()
        service_id, key = herald.create_service()
        other_key = herald.run_cli("key", "create", "--service", service_id, "--type", "live", "--name", "other")
        assert herald.request("GET", "/v2/notifications", key=key)[0] == 200
        # The key's id, from the audit entry of its creation.
        entries = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        key_ids = [dict(e["objects"])["api_key_id"] for e in entries if e["action"] == "api_key.created"]
        assert len(key_ids) == 2, entries
        restricted = key_ids[0]
        out = herald.run_cli("key", "restrict", "--service", service_id, "--key-id", restricted,
                             "--networks", "192.0.2.0/24, 2001:DB8::/32")
        assert "192.0.2.0/24,2001:db8::/32" in out, out

        def refused():
            status, body = herald.request("GET", "/v2/notifications", key=key)
            return status == 403 and body["errors"][0]["message"] == \
                "Invalid token: API key cannot be used from this network"
        assert wait_until(refused, timeout=15), herald.request("GET", "/v2/notifications", key=key)
        assert herald.request("GET", "/v2/notifications", key=other_key)[0] == 200, "other keys are unaffected"
        herald.run_cli("key", "restrict", "--service", service_id, "--key-id", restricted,
                       "--networks", "192.0.2.0/24,127.0.0.0/8")
        assert wait_until(lambda: herald.request("GET", "/v2/notifications", key=key)[0] == 200, timeout=15)
        herald.run_cli("key", "restrict", "--service", service_id, "--key-id", restricted, "--networks", "")
        assert herald.request("GET", "/v2/notifications", key=key)[0] == 200
        # Bad input is refused, saying why; the change is audited.
        code, _, err = herald.run_cli("key", "restrict", "--service", service_id, "--key-id", restricted,
                                      "--networks", "10.0.0.1/8", check=False)
        assert code != 0 and "did you mean 10.0.0.0/8" in err, err
        code, _, err = herald.run_cli("key", "restrict", "--service", service_id, "--key-id", str(uuid.uuid4()),
                                      "--networks", "10.0.0.0/8", check=False)
        assert code != 0, err
        actions = [json.loads(l)["action"] for l in herald.run_cli("audit", "export").splitlines()]
        assert actions.count("api_key.restricted") == 3, actions


def test_an_nhs_client_restricted_to_networks_is_refused_from_any_other():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        herald.start()
        service_id, _ = herald.create_service()
        client = herald.create_nhs_client(service_id)
        token = herald.nhs_token(client)
        client_id = herald.run_cli("nhs", "client", "list").split()[0]
        path = "/comms/v1/messages/" + str(uuid.uuid4())
        status, body = herald.request("GET", path, token=token)
        assert status == 404, (status, body)
        out = herald.run_cli("nhs", "client", "set", "--client", client_id, "--networks", "198.51.100.0/24")
        assert "networks 198.51.100.0/24" in out, out

        def refused():  # clients are cached for 5 s
            status, body = herald.request("GET", path, token=token)
            return status == 403 and body["errors"][0]["code"] == "CM_FORBIDDEN"
        assert wait_until(refused, timeout=15)
        herald.run_cli("nhs", "client", "set", "--client", client_id, "--networks", "127.0.0.1")
        assert wait_until(lambda: herald.request("GET", path, token=token)[0] == 404, timeout=15)


if __name__ == "__main__":
    run_tests([
        test_refused_tokens_block_the_source_on_every_api_until_unblocked,
        test_many_not_found_ids_are_enumeration,
        test_events_reach_the_siem_webhook_signed,
        test_normal_traffic_and_the_loopback_are_not_blocked,
        test_a_key_restricted_to_networks_is_refused_from_any_other,
        test_an_nhs_client_restricted_to_networks_is_refused_from_any_other,
    ])
