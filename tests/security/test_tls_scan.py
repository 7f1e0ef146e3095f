#!/usr/bin/python3
"""Security: testssl.sh (Debian's testssl.sh 3.0.8) against `herald serve`.

Herald serves a certificate from a certificate authority the test makes (given to testssl.sh with
--add-ca), so that chain-of-trust findings are about Herald's TLS, not about a self-signed demo
certificate. testssl.sh runs its default checks (protocols, ciphers, forward secrecy, server
preferences, headers, known vulnerabilities, session resumption, client simulations) against the
API listener; nothing may be rated above LOW. Its own warnings about the machine it runs on
(engine_problem: Debian's OpenSSL has no GOST engine) are the only WARNs allowed, with one more
case: testssl.sh 3.0.8 checks ticket resumption with `openssl s_client </dev/null`, which exits
as soon as its handshake ends; when the server's post-handshake session tickets arrive after that
(a loaded machine), it has no session to resume and reports "check failed because of connect
problem". That WARN is a race in the scanner, not a finding; the test makes the same check itself
with a client that waits for the tickets (always, not only then), and requires that it resumes.
Its session-ID check races the same way: a server with tickets is asked over TLS 1.3, where a
"session ID" resumption is a post-handshake ticket too, and an empty session file is reported as
"not supported" (seen once in CI under load). The test checks ID resumption itself over TLS 1.2
(no tickets, the ID in the ServerHello: no race) every time, and requires it.
Usage: test_tls_scan.py /path/to/herald
"""
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, issue_certificate, make_ca, run_tests  # noqa: E402

HERALD = sys.argv[1]
TESTSSL = "/usr/bin/testssl"
ALLOWED = {"OK", "INFO", "LOW"}
ENVIRONMENT_WARNINGS = {"engine_problem"}
RESUMPTION_RACE = "check failed because of connect problem"


def resumes_with_ticket(port, ca_cert):
    """Whether a TLS 1.3 session from one connection resumes on the next (tickets), checked with a
    client that stays connected long enough to receive the server's session tickets."""
    with tempfile.TemporaryDirectory() as tmp:
        session = os.path.join(tmp, "session.pem")
        for _ in range(3):
            first = subprocess.Popen(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca_cert,
                                      "-sess_out", session], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
            time.sleep(1.0)
            first.communicate(b"", timeout=30)
            if not os.path.exists(session) or os.path.getsize(session) == 0:
                continue
            second = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca_cert,
                                     "-sess_in", session], input=b"", capture_output=True, timeout=30)
            return b"Reused, TLSv1.3" in second.stdout, second.stdout.decode(errors="replace")[-1500:]
        return False, "no session ticket arrived in three connections"


def resumes_by_session_id(port, ca_cert):
    """Whether a TLS 1.2 session without tickets resumes by its session ID on the next connection."""
    with tempfile.TemporaryDirectory() as tmp:
        session = os.path.join(tmp, "session.pem")
        base = ["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, "-CAfile", ca_cert, "-tls1_2", "-no_ticket"]
        subprocess.run(base + ["-sess_out", session], input=b"", capture_output=True, timeout=30)
        if not os.path.exists(session) or os.path.getsize(session) == 0:
            return False, "no TLS 1.2 session was saved"
        second = subprocess.run(base + ["-sess_in", session], input=b"", capture_output=True, timeout=30)
        return b"Reused, TLSv1.2" in second.stdout, second.stdout.decode(errors="replace")[-1500:]


def test_testssl_finds_nothing_above_low():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        ca_key, ca_cert = make_ca(ws.dir)
        cert, key = issue_certificate(ws.dir, ca_key, ca_cert, "server", 200)
        herald.rewrite_config('[server]\ncertificate = "%s"\nprivate_key = "%s"' % (cert, key))
        herald.start()
        report = os.path.join(ws.dir, "testssl.json")
        out = subprocess.run([TESTSSL, "--quiet", "--color", "0", "--warnings", "off", "--add-ca", ca_cert,
                              "--jsonfile", report, "--ip", "one", "127.0.0.1:%d" % herald.port],
                             capture_output=True, text=True, timeout=900)
        assert os.path.exists(report), (out.returncode, out.stdout[-3000:], out.stderr[-2000:])
        findings = json.load(open(report))
        assert len(findings) > 50, "testssl.sh ran too few checks: %d" % len(findings)
        by_id = {f["id"]: f for f in findings}
        raced = [f for f in findings if f["id"].startswith("sessionresumption_") and f["severity"] == "WARN"
                 and f["finding"] == RESUMPTION_RACE]
        above = [f for f in findings if f["severity"] not in ALLOWED and f not in raced
                 and not (f["severity"] == "WARN" and f["id"] in ENVIRONMENT_WARNINGS)]
        for f in sorted(findings, key=lambda f: f["severity"]):
            if f["severity"] not in ("OK", "INFO"):
                print("  %s %s: %s" % (f["severity"], f["id"], f["finding"]))
        assert not above, above
        # Ticket resumption, checked by the test itself every time (and so the only word on it
        # when testssl.sh raced).
        if raced:
            print("  testssl.sh's resumption check raced the server's tickets: %s" % [f["id"] for f in raced])
        resumed, detail = resumes_with_ticket(herald.port, ca_cert)
        assert resumed, detail
        # What the rating rests on, stated: the chain verifies against the test's CA, old protocols
        # are refused, forward secrecy is offered, resumption works.
        assert by_id["cert_chain_of_trust"]["severity"] == "OK", by_id["cert_chain_of_trust"]
        for protocol in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
            assert "not offered" in by_id[protocol]["finding"], by_id[protocol]
        assert "offered" in by_id["TLS1_3"]["finding"], by_id["TLS1_3"]
        assert by_id["PFS"]["severity"] == "OK", by_id["PFS"]
        resumed, detail = resumes_by_session_id(herald.port, ca_cert)
        assert resumed, detail
        if by_id["sessionresumption_ID"]["finding"] != "supported":
            print("  testssl.sh's session-ID check raced the server's tickets: %s" % by_id["sessionresumption_ID"])
        herald.stop()


if __name__ == "__main__":
    run_tests([test_testssl_finds_nothing_above_low])
