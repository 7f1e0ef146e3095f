#!/usr/bin/python3
"""Integration: the operations listener of `herald serve` (health and Prometheus metrics).

/health/live answers while the process runs; /health/ready passes only when the store takes
writes, the data keys open, the disk has room, the audit sink takes appends and no email or text
has waited too long (each failure is shown by breaking that one thing); /metrics is in
Prometheus' exposition format (`promtool check metrics`, from Debian's prometheus package) and
its figures follow what Herald did: requests by API, route and status, notifications accepted,
delivery outcomes, queue depth and age, refused authentications and limits, backups marked.
Every role (api, worker, admin) has the listener, on loopback.
Usage: test_monitoring.py /path/to/herald
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402

HERALD = sys.argv[1]
PROMTOOL = "/usr/bin/promtool"
MONITORING = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "monitoring")


def sample(text, name, **labels):
    """The value of the sample `name` whose labels include `labels`, or None."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        match = re.fullmatch(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', match.group(3) or ""))
        if all(found.get(k) == v for k, v in labels.items()):
            return float(match.group(4))
    return None


def promtool_check(text):
    out = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and not out.stdout.strip() and not out.stderr.strip(), (out.stdout, out.stderr)


def check_shipped_rules_and_dashboard(scrape):
    """docs/monitoring: the alert rules are valid and their own tests pass, and every metric that
    the rules or the Grafana dashboard name is one Herald exposes (a renamed metric would leave
    an alert that can never fire)."""
    rules = os.path.join(MONITORING, "herald-alerts.yml")
    out = subprocess.run([PROMTOOL, "check", "rules", rules], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    out = subprocess.run([PROMTOOL, "test", "rules", "alerts_test.yml"], capture_output=True, text=True,
                         cwd=os.path.join(MONITORING, "tests"))
    assert out.returncode == 0, out.stdout + out.stderr
    exposed = set(re.findall(r"(?m)^# TYPE (\S+) ", scrape))
    dashboard = json.load(open(os.path.join(MONITORING, "herald-dashboard.json")))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    exprs += re.findall(r"(?m)^ *expr: (.*(?:\n {12,}.*)*)", open(rules).read())
    named = set()
    for expr in exprs:
        for name in re.findall(r"\b((?:herald|process)_[a-z_]+)", expr):
            named.add(re.sub(r"_(bucket|sum|count)$", "", name) if name.endswith(("_bucket", "_sum", "_count"))
                      and re.sub(r"_(bucket|sum|count)$", "", name) in exposed else name)
    assert named, exprs
    missing = sorted(named - exposed)
    assert not missing, missing


def send_email(herald, key, template_id, to="patient@example.com"):
    return herald.request("POST", "/v2/notifications/email", key=key, body={
        "email_address": to, "template_id": template_id, "personalisation": {"name": "Ann"}})


def test_health_and_metrics_follow_what_herald_does():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        service_id, key = herald.create_service()
        template_id = herald.create_template(service_id, "Hi ((name))", "Hello ((name))")
        herald.start()
        assert herald.metrics_port and herald.metrics_port not in (herald.port,)
        status, body = herald.ops_get("/health/live")
        assert status == 200 and json.loads(body) == {"status": "live"}, (status, body)
        status, body = herald.ops_get("/health/ready")
        ready = json.loads(body)
        assert status == 200 and ready["status"] == "ready", body
        assert [c["name"] for c in ready["checks"]] == ["store", "data_keys", "disk", "audit_sink",
                                                        "delivery_backlog"], body
        assert all(c["status"] == "pass" for c in ready["checks"]), body

        for i in range(3):
            status, sent = send_email(herald, key, template_id, "p%d@example.com" % i)
            assert status == 201, sent
            herald.wait_for_status(key, sent["id"], ("delivered",))
        assert herald.request("GET", "/v2/notifications/" + "0" * 8, key=key)[0] == 400
        assert herald.request("GET", "/v2/no-such-route", key=key)[0] == 404
        assert herald.request("GET", "/v2/notifications", token="not-a-token")[0] == 403
        herald.run_cli("backup", "create", os.path.join(ws.dir, "backup.hbk"))
        herald.run_cli("backup", "verify", os.path.join(ws.dir, "backup.hbk"))

        status, text = herald.ops_get("/metrics")
        assert status == 200, text
        promtool_check(text)
        assert sample(text, "herald_http_requests_total", api="govuk_v2", route="/v2/notifications/email",
                      status="201") == 3, text
        assert sample(text, "herald_http_requests_total", api="govuk_v2", route="unmatched", status="404") == 1
        assert sample(text, "herald_http_request_duration_seconds_count", api="govuk_v2",
                      route="/v2/notifications/email") >= 3
        assert sample(text, "herald_notifications_accepted_total", channel="email", key_type="normal") == 3
        assert sample(text, "herald_delivery_outcomes_total", channel="email", status="delivered") == 3, text
        assert sample(text, "herald_auth_failures_total", api="govuk_v2") >= 1, text
        assert sample(text, "herald_queue_waiting", channel="email") == 0
        assert sample(text, "herald_queue_oldest_age_seconds", channel="email") == 0
        assert sample(text, "herald_store_up") == 1
        assert sample(text, "herald_kek_age_seconds") >= 0
        assert sample(text, "herald_data_keys_live") >= 1
        now = time.time()
        assert abs(sample(text, "herald_backup_last_timestamp_seconds") - now) < 120, text
        assert abs(sample(text, "herald_backup_last_verified_timestamp_seconds") - now) < 120, text
        assert sample(text, "herald_backup_last_restore_drill_timestamp_seconds") == 0, "no drill ran"
        assert sample(text, "herald_build_info") == 1
        assert sample(text, "process_resident_memory_bytes") > 0
        check_shipped_rules_and_dashboard(text)
        # Nothing personal in the figures: no recipient, no key, no template text.
        for secret in ("p0@example.com", "patient", key[-36:], "Hello"):
            assert secret not in text, secret
        herald.stop()


def test_readiness_fails_for_each_broken_part():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        # Disk: a floor above any disk's free space.
        herald = ws.track(Herald(HERALD, ws.dir, sink.port,
                                 extra_config="[metrics]\nmin_free_disk_mb = 1000000000\nmax_backlog_seconds = 1\n"))
        service_id, key = herald.create_service()
        template_id = herald.create_template(service_id, "Hi ((name))", "Hello ((name))")
        herald.start()
        status, body = herald.ops_get("/health/ready")
        checks = {c["name"]: c for c in json.loads(body)["checks"]}
        assert status == 503 and json.loads(body)["status"] == "not ready", body
        assert checks["disk"]["status"] == "fail" and "below" in checks["disk"]["detail"], body
        assert checks["store"]["status"] == "pass" and checks["delivery_backlog"]["status"] == "pass", body
        # Backlog: the relay goes away, an email waits longer than a second.
        sink.stop()
        status, sent = send_email(herald, key, template_id)
        assert status == 201, sent
        time.sleep(2.5)
        status, body = herald.ops_get("/health/ready")
        checks = {c["name"]: c for c in json.loads(body)["checks"]}
        assert checks["delivery_backlog"]["status"] == "fail", body
        status, text = herald.ops_get("/metrics")
        assert sample(text, "herald_queue_waiting", channel="email") == 1, text
        assert sample(text, "herald_queue_oldest_age_seconds", channel="email") >= 2, text
        # Audit sink: the checkpoint file's directory replaced by a file (even root cannot append then).
        herald.stop()
        herald.rewrite_config("[metrics]\nmax_backlog_seconds = 0\nmin_free_disk_mb = 0\n\n[audit]\ncheckpoints = \"%s\"\n"
                              % os.path.join(ws.dir, "not-a-dir", "checkpoints"))
        open(os.path.join(ws.dir, "not-a-dir"), "w").close()
        herald.start()
        status, body = herald.ops_get("/health/ready")
        checks = {c["name"]: c for c in json.loads(body)["checks"]}
        assert checks["audit_sink"]["status"] == "fail", body
        assert checks["disk"]["status"] == "pass", body
        herald.stop()


def test_every_role_has_the_listener_on_loopback():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        for role in ("worker", "api", "admin"):
            herald.start(role=role)
            assert herald.metrics_port, role
            status, body = herald.ops_get("/health/live")
            assert status == 200, (role, body)
            status, text = herald.ops_get("/metrics")
            assert status == 200 and "herald_build_info" in text, role
            status, body = herald.ops_get("/nope")
            assert status == 404 and json.loads(body) == {"error": "Not found"}, body
            herald.stop()
        log = open(herald.log_path).read()
        assert '"metrics_address":"127.0.0.1"' in log, log[-2000:]


if __name__ == "__main__":
    run_tests([test_health_and_metrics_follow_what_herald_does, test_readiness_fails_for_each_broken_part,
               test_every_role_has_the_listener_on_loopback])
