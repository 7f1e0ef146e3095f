#!/usr/bin/python3
"""Patch management and compliance evidence with the real binary (docs/compliance.md):

- `herald advisories check` against feeds the test makes (OSV and the Debian security tracker's
  JSON), for the SBOM of a release signed from this very binary: affected components listed with
  severity and fixed version, exit 1; a feed that affects nothing, exit 0;
- the daily check inside `serve`: a security event in the audit log and herald_advisories_affected;
- `herald compliance report`: live evidence (configuration, backups and a verified one, the audit
  chain, admin users' second factors, the running binary's signed provenance, advisories,
  penetration-test results) mapped to the frameworks; the JSON form signed (checked here with
  OpenSSL), the HTML form readable; exit 1 while anything is not met.
Usage: test_compliance.py /path/to/herald
"""
import base64
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, for_herald, run_tests  # noqa: E402

HERALD = os.path.abspath(sys.argv[1])
SOURCE = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PASSPHRASE = "compliance test passphrase"


def herald(*args, check=True):
    env = for_herald(dict(os.environ, HERALD_RELEASE_KEY_PASSPHRASE=PASSPHRASE, HERALD_REPORT_KEY_PASSPHRASE=PASSPHRASE))
    out = subprocess.run([HERALD] + list(args), env=env, capture_output=True, text=True, timeout=600)
    if check and out.returncode != 0:
        raise AssertionError("herald %s failed: %s %s" % (" ".join(args), out.stdout, out.stderr))
    return out


def installed(package):
    return subprocess.run(["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True).stdout


def osv_feed(path, fixed):
    """One npm advisory for the UI's nhsuk-frontend, fixed in `fixed`."""
    lock = json.load(open(os.path.join(SOURCE, "ui", "package-lock.json")))
    version = lock["packages"]["node_modules/nhsuk-frontend"]["version"]
    entry = {"id": "GHSA-test-0001", "summary": "A test advisory for nhsuk-frontend",
             "affected": [{"package": {"ecosystem": "npm", "name": "nhsuk-frontend"},
                           "ranges": [{"type": "SEMVER", "events": [{"introduced": "0"}, {"fixed": fixed}]}]}],
             "database_specific": {"severity": "HIGH"}}
    json.dump({"vulns": [entry]}, open(path, "w"))
    return version


def tracker_feed(path, fixed):
    """The Debian security tracker's shape: one issue in openssl, resolved in bookworm at `fixed`."""
    feed = {"openssl": {"CVE-2099-0001": {"description": "A test issue in OpenSSL", "scope": "remote",
                                          "releases": {"bookworm": {"status": "resolved", "fixed_version": fixed,
                                                                    "urgency": "medium",
                                                                    "repositories": {"bookworm": installed("libssl3")}}}}}}
    json.dump(feed, open(path, "w"))


class Installation:
    """A data directory whose binary is a signed release, with [compliance] pointing at it."""

    def __init__(self, ws, sink):
        self.ws = ws
        self.node = ws.track(Herald(HERALD, ws.dir, sink.port))
        keys = os.path.join(ws.dir, "keys")
        os.makedirs(keys)
        self.release_key = os.path.join(keys, "release.key")
        self.report_key = os.path.join(keys, "report.key")
        herald("release", "keygen", "--out", self.release_key, "--public-out", self.release_key + ".pub")
        herald("release", "keygen", "--out", self.report_key, "--public-out", self.report_key + ".pub")
        self.trust = os.path.join(keys, "trust.toml")
        open(self.trust, "w").write('[[key]]\nrole = "release"\npublic_key_file = "release.key.pub"\n\n'
                                    '[[key]]\nrole = "report"\npublic_key_file = "report.key.pub"\n')
        self.release = os.path.join(ws.dir, "release")
        herald("release", "assemble", "--binary", HERALD, "--version", "0.15.0", "--commit", "1" * 40,
               "--package-lock", os.path.join(SOURCE, "ui", "package-lock.json"), "--key", self.release_key,
               "--out", self.release)
        self.feed = os.path.join(ws.dir, "advisories.json")
        self.pentest = os.path.join(ws.dir, "pentest")
        self.node.rewrite_config('[compliance]\nadvisory_feed = "%s"\nrelease_dir = "%s"\nrelease_trust = "%s"\n'
                                 'pentest_results = "%s"' % (self.feed, self.release, self.trust, self.pentest))

    def cli(self, *args, check=True):
        return herald("--config", self.node.config, *args, check=check)


def test_advisories_check_lists_what_is_affected():
    with Workspace() as ws:
        inst = Installation(ws, ws.track(SmtpSink(ws.dir)))
        version = osv_feed(inst.feed, "999.0.0")
        out = inst.cli("advisories", "check", "--json", check=False)
        assert out.returncode == 1, (out.stdout, out.stderr)
        result = json.loads(out.stdout)
        assert [(a["advisory"], a["severity"], a["component"], a["installed"], a["fixed_version"])
                for a in result["affected"]] == [("GHSA-test-0001", "high", "nhsuk-frontend", version, "999.0.0")]
        assert result["components"] > 10, result
        # Fixed in the version installed: nothing affected.
        osv_feed(inst.feed, version)
        out = inst.cli("advisories", "check")
        assert out.stdout == "" and "0 affected" in out.stderr, (out.stdout, out.stderr)
        # The Debian tracker's format, against the Debian packages in the SBOM (by source package).
        feed = os.path.join(ws.dir, "tracker.json")
        tracker_feed(feed, "99:" + installed("libssl3"))
        out = inst.cli("advisories", "check", "--feed", feed, check=False)
        assert out.returncode == 1 and "CVE-2099-0001 medium libssl3" in out.stdout, (out.stdout, out.stderr)
        tracker_feed(feed, "0")  # never affected
        inst.cli("advisories", "check", "--feed", feed)
        # A malformed feed is an error naming the file, not "nothing affected".
        open(feed, "w").write('{"vulns": [{"id": "X", "affected": [{"package": {"ecosystem": "npm"}}]}]}')
        out = inst.cli("advisories", "check", "--feed", feed, check=False)
        assert out.returncode == 2 and feed in out.stderr, (out.returncode, out.stderr)


def test_serve_checks_advisories_daily_as_a_security_event():
    with Workspace() as ws:
        inst = Installation(ws, ws.track(SmtpSink(ws.dir)))
        osv_feed(inst.feed, "999.0.0")
        inst.node.start()
        # The first check runs in the background as serve starts: wait for it (a loaded machine).
        deadline = time.monotonic() + 120
        while True:
            metrics = inst.node.ops_get("/metrics")[1]
            if "herald_advisories_affected{" in metrics or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert 'herald_advisories_affected{severity="high"} 1' in metrics, \
            [l for l in metrics.splitlines() if "advisories" in l]
        inst.node.stop()
        events = [json.loads(l) for l in inst.node.run_cli("security", "events").splitlines() if l]
        found = [e for e in events if e["action"] == "security.advisories"]
        assert found and found[0]["objects"]["affected"] == "1" and found[0]["outcome"] == "detected", events


def verify_envelope(path, public_key):
    """Checks a DSSE envelope's Ed25519 signature with OpenSSL, not with Herald."""
    envelope = json.load(open(path))
    payload = base64.b64decode(envelope["payload"])
    kind = envelope["payloadType"].encode()
    pae = b"DSSEv1 %d %s %d %s" % (len(kind), kind, len(payload), payload)
    directory = os.path.dirname(path)
    open(os.path.join(directory, "pae.bin"), "wb").write(pae)
    open(os.path.join(directory, "sig.bin"), "wb").write(base64.b64decode(envelope["signatures"][0]["sig"]))
    out = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", public_key, "-rawin", "-in",
                          os.path.join(directory, "pae.bin"), "-sigfile", os.path.join(directory, "sig.bin")],
                         capture_output=True, text=True)
    return out.returncode == 0, json.loads(payload)


def evidence_of(report):
    return {e["id"]: e for e in report["evidence"]}


def test_compliance_report_from_live_evidence():
    with Workspace() as ws:
        inst = Installation(ws, ws.track(SmtpSink(ws.dir)))
        osv_feed(inst.feed, "999.0.0")
        out_json = os.path.join(ws.dir, "report.dsse.json")
        out_html = os.path.join(ws.dir, "report.html")
        report_args = ("compliance", "report", "--json", out_json, "--html", out_html, "--key", inst.report_key)
        out = inst.cli(*report_args, check=False)
        assert out.returncode == 1, (out.stdout, out.stderr)
        ok, report = verify_envelope(out_json, inst.report_key + ".pub")
        assert ok, "the report's signature does not verify"
        evidence = evidence_of(report)
        assert evidence["advisories.status"]["status"] == "not met", evidence["advisories.status"]
        assert evidence["backup.recent"]["status"] == "not met", evidence["backup.recent"]
        assert evidence["pentest.results"]["status"] == "not met"
        # The running binary is the signed release's; assembled, not reproduced: partly met.
        assert evidence["release.provenance"]["status"] == "partly met", evidence["release.provenance"]
        assert "the running binary is release 0.15.0" in evidence["release.provenance"]["found"]
        assert evidence["audit.chain"]["status"] in ("met", "partly met"), evidence["audit.chain"]
        assert evidence["encryption.at_rest"]["status"] == "met"
        assert report["herald"]["binary_sha256"] == subprocess.run(["sha256sum", HERALD], capture_output=True,
                                                                    text=True).stdout.split()[0]
        names = [f["name"] for f in report["frameworks"]]
        assert names == ["DSPT 2025-26", "NDG data security standards", "NCSC CAF v4.0", "Cyber Essentials",
                         "ISO/IEC 27001:2022 Annex A"], names
        html = open(out_html).read()
        assert "Herald compliance report" in html and "Some items are not met." in html
        # A tampered report no longer verifies.
        envelope = json.load(open(out_json))
        body = json.loads(base64.b64decode(envelope["payload"]))
        body["evidence"][0]["status"] = "met"
        envelope["payload"] = base64.b64encode(json.dumps(body).encode()).decode()
        json.dump(envelope, open(out_json, "w"))
        assert not verify_envelope(out_json, inst.report_key + ".pub")[0]

        # Fix what the live checks found and the evidence follows: a backup made and verified, the
        # advisory fixed, a passing full penetration test on record; then a failed one, newer.
        backup = os.path.join(ws.dir, "backup.hbk")
        inst.node.run_cli("backup", "create", backup)
        inst.node.run_cli("backup", "verify", backup)
        osv_feed(inst.feed, osv_feed(inst.feed, "999.0.0"))
        run = os.path.join(inst.pentest, "2026-12-01")
        os.makedirs(run)
        json.dump({"date": "2026-12-01", "mode": "full", "status": "pass", "complete": True}, open(
            os.path.join(run, "summary.json"), "w"))
        inst.cli(*report_args, check=False)
        evidence = evidence_of(verify_envelope(out_json, inst.report_key + ".pub")[1])
        assert evidence["backup.recent"]["status"] == "met", evidence["backup.recent"]
        # Verified, not restored: partly met; a restore drill makes it met.
        assert evidence["backup.restore_verified"]["status"] == "partly met", evidence["backup.restore_verified"]
        assert "backups.restore_drill: no restore drill" in evidence["backup.restore_verified"]["found"]
        inst.node.run_cli("backup", "verify", "--restore-drill", backup)
        inst.cli(*report_args, check=False)
        evidence = evidence_of(verify_envelope(out_json, inst.report_key + ".pub")[1])
        assert evidence["backup.restore_verified"]["status"] == "met", evidence["backup.restore_verified"]
        assert evidence["advisories.status"]["status"] == "met", evidence["advisories.status"]
        assert evidence["pentest.results"]["status"] in ("met", "partly met"), evidence["pentest.results"]
        assert "2026-12-01, full mode" in evidence["pentest.results"]["found"]
        json.dump({"date": "2026-12-02", "mode": "full", "status": "fail", "complete": True}, open(
            os.path.join(inst.pentest, "summary.json.tmp"), "w"))
        os.makedirs(os.path.join(inst.pentest, "2026-12-02"))
        os.rename(os.path.join(inst.pentest, "summary.json.tmp"), os.path.join(inst.pentest, "2026-12-02", "summary.json"))
        inst.cli(*report_args, check=False)
        evidence = evidence_of(verify_envelope(out_json, inst.report_key + ".pub")[1])
        assert evidence["pentest.results"]["status"] == "not met", evidence["pentest.results"]


if __name__ == "__main__":
    run_tests([test_advisories_check_lists_what_is_affected, test_serve_checks_advisories_daily_as_a_security_event,
               test_compliance_report_from_live_evidence])
