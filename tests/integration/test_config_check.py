#!/usr/bin/python3
"""Integration: `herald config check` against the hardening baseline (docs/hardening.md).

Each check is shown failing by breaking that one thing, and passing once it is put right: the
demo's self-signed certificate is low on a loopback node and high on one that serves beyond it,
a certificate from a CA passes and one about to expire does not; a world-readable keyring, a
secret written into the configuration, no backup, a backup never verified. Any high finding
makes the exit status 1. `serve` runs the check at start as a security event (log, audit log,
herald_config_findings).
Usage: test_config_check.py /path/to/herald
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, issue_certificate, make_ca, run_tests  # noqa: E402

HERALD = sys.argv[1]


def check(herald):
    code, out, err = herald.run_cli("config", "check", "--json", check=False)
    assert code in (0, 1), (code, out, err)
    report = json.loads(out)
    results = {c["id"]: c for c in report["checks"]}
    assert report["high"] == (code == 1) == any(c["result"] == "high" for c in report["checks"]), report
    return code, results


def test_each_check_fails_when_broken_and_passes_when_put_right():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        code, results = check(herald)
        # Root (CI) and no backup yet: high. The demo certificate on loopback: low.
        assert code == 1
        assert results["process.user"]["result"] == "high"
        assert results["backups.recent"]["result"] == "high"
        assert results["backups.verified"]["result"] == "medium"
        assert results["tls.certificate"]["result"] == "low" and "self-signed" in results["tls.certificate"]["found"]
        for passing in ("tls.protocols", "tls.key", "files.keyring", "files.tls_private_key", "files.config",
                        "secrets.inline", "process.core_dumps", "listeners.admin", "audit.checkpoints"):
            assert results[passing]["result"] == "pass", (passing, results[passing])

        # The same certificate on a node that serves beyond this machine: high.
        herald.rewrite_config('[server]\npublic_url = "https://notify.example.org/"')
        _, results = check(herald)
        assert results["tls.certificate"]["result"] == "high", results["tls.certificate"]

        # A certificate from a CA passes; one that expires within 14 days is high.
        ca_key, ca_cert = make_ca(ws.dir)
        cert, key = issue_certificate(ws.dir, ca_key, ca_cert, "good", 200)
        herald.rewrite_config('[server]\ncertificate = "%s"\nprivate_key = "%s"' % (cert, key))
        _, results = check(herald)
        assert results["tls.certificate"]["result"] == "pass", results["tls.certificate"]
        assert "Herald test CA" in results["tls.certificate"]["found"]
        cert, key = issue_certificate(ws.dir, ca_key, ca_cert, "expiring", 5)
        herald.rewrite_config('[server]\ncertificate = "%s"\nprivate_key = "%s"' % (cert, key))
        _, results = check(herald)
        assert results["tls.certificate"]["result"] == "high" and "expires in" in results["tls.certificate"]["found"]

        # A world-readable keyring: high; mode 0600 again: pass.
        keyring = os.path.join(herald.dir, "keyring")
        os.chmod(keyring, 0o644)
        _, results = check(herald)
        assert results["files.keyring"]["result"] == "high", results["files.keyring"]
        assert results["store.open"]["result"] == "high", results["store.open"]  # Herald refuses such a keyring
        os.chmod(keyring, 0o600)
        _, results = check(herald)
        assert results["files.keyring"]["result"] == "pass"

        # A secret written into the file (Herald never reads it): high, naming the key, not the value.
        herald.rewrite_config('[smtp]\npassword = "hunter2-canary"')
        code, out, _ = herald.run_cli("config", "check", check=False)
        assert code == 1 and "smtp.password" in out and "hunter2-canary" not in out, out
        _, results = check(herald)
        assert results["secrets.inline"]["result"] == "high"

        # A backup, then a verified one.
        backup = os.path.join(ws.dir, "backup.hbk")
        herald.run_cli("backup", "create", backup)
        _, results = check(herald)
        assert results["backups.recent"]["result"] == "pass" and results["backups.verified"]["result"] == "medium"
        herald.run_cli("backup", "verify", backup)
        _, results = check(herald)
        assert results["backups.verified"]["result"] == "pass", results["backups.verified"]
        assert results["backups.restore_drill"]["result"] == "medium", results["backups.restore_drill"]
        assert "--restore-drill" in results["backups.restore_drill"]["fix"], results["backups.restore_drill"]
        herald.run_cli("backup", "verify", "--restore-drill", backup)
        _, results = check(herald)
        assert results["backups.restore_drill"]["result"] == "pass", results["backups.restore_drill"]

        # Intrusion detection off: medium; never_block beyond this machine: low; the default passes.
        assert results["security.intrusion_detection"]["result"] == "pass"
        herald.rewrite_config('[security]\nintrusion_detection = false')
        _, results = check(herald)
        assert results["security.intrusion_detection"]["result"] == "medium", results["security.intrusion_detection"]
        herald.rewrite_config('[security]\nintrusion_detection = true\nnever_block = ["10.0.0.0/8"]')
        _, results = check(herald)
        assert results["security.intrusion_detection"]["result"] == "low", results["security.intrusion_detection"]


def test_serve_runs_the_check_as_a_security_event():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        herald.start()
        status, text = herald.ops_get("/metrics")
        deadline = time.time() + 20
        while 'herald_config_findings{severity="high"}' not in text and time.time() < deadline:
            time.sleep(0.1)
            status, text = herald.ops_get("/metrics")
        assert 'herald_config_findings{severity="high"} 2' in text, text  # root, no backup
        herald.stop()
        log = open(herald.log_path).read()
        assert '"event":"config.finding","check":"process.user","severity":"high"' in log, log[-3000:]
        export = herald.run_cli("audit", "export")
        assert "security.config_findings" in export and '"high":"2"' in export.replace(" ", ""), export[-2000:]


if __name__ == "__main__":
    run_tests([test_each_check_fails_when_broken_and_passes_when_put_right,
               test_serve_runs_the_check_as_a_security_event])
