#!/usr/bin/python3
"""End to end in a real browser: the admin web UI driven through Debian's Chromium by
playwright-core (admin_browser.js): enrolment with a computed TOTP, keyboard-only sign-in, a
wrong code, another service's page, a security key added through Chromium's virtual
authenticator and used to sign in; an email and a text message template created, edited and
previewed, an API key created and used by the official node client, and a view-only member
refused the pages that change things; axe-core finds no WCAG 2.2 A/AA violation on any page and
the CSP reports none. Screenshots of every page are left in build/<dir>/artifacts/admin/.
Usage: test_admin_browser.py /path/to/herald
"""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests, wait_for_file  # noqa: E402

HERALD = sys.argv[1]
ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(HERALD)), "artifacts", "admin")


def spki_sha256(cert_path):
    """Base64 SHA-256 of the certificate's public key: Chromium trusts Herald's self-signed
    certificate by it (--ignore-certificate-errors-spki-list), as a browser trusts a real one,
    rather than ignoring certificate errors (WebAuthn refuses pages with certificate errors)."""
    pubkey = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"], check=True,
                            capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pubkey, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_the_admin_ui_in_chromium():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        mine, _ = herald.create_service("Clinic A")
        other, _ = herald.create_service("Clinic B")
        viewed, _ = herald.create_service("Clinic C")
        out = herald.run_cli("user", "create", "--email", "ada@example.org", "--name", "Ada Lovelace")
        link = re.search(r"/enrol/(\S+)", out).group(1)
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", mine, "--permissions",
                       "send,manage_templates,manage_api_keys,manage_team,manage_settings")
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", viewed, "--permissions", "view")
        herald.create_nhs_client(mine)  # for the routing plan editor
        herald.start()
        admin_port = int(wait_for_file(os.path.join(herald.dir, "ready.admin")))
        os.makedirs(ARTIFACTS, exist_ok=True)
        env = dict(os.environ, ADMIN_URL="https://localhost:%d/" % admin_port, LINK=link, OTHER_SERVICE=other,
                   ARTIFACTS=ARTIFACTS, HOME=ws.dir, CERT_SPKI=spki_sha256(herald.cert), MY_SERVICE=mine,
                   VIEWED_SERVICE=viewed, NODE_EXTRA_CA_CERTS=herald.cert,
                   HERALD_URL="https://127.0.0.1:%d" % herald.port)
        run = subprocess.run(["node", os.path.join(HERE, "admin_browser.js")], env=env, cwd=HERE,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
        print(run.stdout.strip())
        shots = sorted(f for f in os.listdir(ARTIFACTS) if f.endswith(".png"))
        assert len(shots) >= 16, shots
        herald.stop()
        audit = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        actions = [(e.get("action"), e.get("outcome")) for e in audit]
        for action in ("template.created", "template.updated", "api_key.created", "routing_plan.created"):
            assert (action, "success") in actions, (action, actions)
        assert ("admin.request_refused", "failure: lacks permission manage_api_keys") in actions, actions


if __name__ == "__main__":
    run_tests([test_the_admin_ui_in_chromium])
