#!/usr/bin/python3
"""End to end: the shipped Grafana dashboard and alert rules (docs/monitoring) against the real
thing, and a picture of the dashboard.

Starts `herald serve` with an SMTP sink and the Firetext and MMG stand-ins, and a real Prometheus
(Debian's, on 127.0.0.1) that scrapes Herald's operations listener every second as job "herald",
exactly as the README's scrape configuration says, and loads herald-alerts.yml. Drives traffic
through the GOV.UK API for thirty seconds (emails, some refused by the relay; texts, some while
both providers fail, so that they wait and are retried, and some while Firetext alone fails, so
that they go out through MMG; refused tokens; a route that does not exist; a status lookup; a
second service's key over its rate limit), and waits until everything has its final status.

Then every query of every panel (rows' panels too), with Grafana's variables filled in as
Grafana would ($instance: every node label_values finds; $__rate_interval: four scrape
intervals), goes to Prometheus's query_range and query APIs. It fails when Prometheus rejects a
query, when a panel the traffic feeds shows nothing (EXPECTED says what each query must show;
a panel not listed there fails too, until someone decides what it should show), when a legend
names a label its series lack, when a selector names a label its metric does not have, or when
rate() or increase() is taken of something that is not a counter. The rules must all load and
evaluate without error, and none may fire on this healthy node.

Last, the panels are drawn where their gridPos puts them (tests/monitoring/dashboard_html.py)
and Chromium takes a screenshot (tests/e2e/dashboard_screenshot.js): left in
build/<dir>/artifacts/monitoring/ with the page, and written to
docs/images/monitoring-dashboard.png when HERALD_UPDATE_SCREENSHOTS=1.
Usage: test_dashboard.py /path/to/herald
"""
import json
import math
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from harness import Herald, SmtpSink, Workspace, make_token, run_tests  # noqa: E402
from sms_provider import SmsProvider  # noqa: E402

import dashboard_html  # noqa: E402

HERALD = sys.argv[1]
PROMETHEUS = "/usr/bin/prometheus"
MONITORING = os.path.join(ROOT, "docs", "monitoring")
DASHBOARD = os.path.join(MONITORING, "herald-dashboard.json")
RULES = os.path.join(MONITORING, "herald-alerts.yml")
SCREENSHOT = os.path.join(ROOT, "docs", "images", "monitoring-dashboard.png")
ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(HERALD)), "artifacts", "monitoring")
SCRAPE_SECONDS = 1
# Grafana's $__rate_interval: max($__interval + scrape interval, 4 x scrape interval), with the
# data source's scrape interval set to Prometheus's and $__interval the step (one second here).
STEP = 1
RATE_INTERVAL = "%ds" % max(STEP + SCRAPE_SECONDS, 4 * SCRAPE_SECONDS)
ROUNDS = 20
ROUND_SECONDS = 1.5
RECEIPT_PASSWORD = "receipt-secret-7"
ENV = {"HERALD_FIRETEXT_API_KEY": "test-api-key", "HERALD_MMG_API_KEY": "test-api-key",
       "HERALD_FIRETEXT_RECEIPT_PASSWORD": RECEIPT_PASSWORD, "HERALD_MMG_RECEIPT_PASSWORD": RECEIPT_PASSWORD}

# What each panel's queries must show after the traffic, by panel title and refId:
#   "rises":   a series with a value above zero somewhere in the window (the traffic moved it);
#              with a list, each of those label sets must be among the series that rise
#   "present": at least one series with a value (a gauge that may rightly stay at 0)
#   "empty: why": allowed to show nothing in a healthy run, and why
EXPECTED = {
    "Requests per second by API and status": {
        "A": ("rises", [{"api": "govuk_v2", "status": "201"}, {"api": "govuk_v2", "status": "403"},
                        {"api": "govuk_v2", "status": "404"}, {"api": "govuk_v2", "status": "429"},
                        {"api": "govuk_v2", "status": "200"}])},
    "Send latency (p50, p99)": {"A": "rises", "B": "rises"},
    "Notifications accepted per second by channel": {"A": ("rises", [{"channel": "email"}, {"channel": "sms"}])},
    "Delivery outcomes per second by channel, provider and status": {
        "A": ("rises", [{"channel": "email", "status": "delivered"},
                        {"channel": "email", "status": "permanent-failure"},
                        {"channel": "sms", "provider": "mmg"}, {"channel": "sms", "provider": "firetext"}])},
    "Waiting notifications by channel": {"A": "present", "B": "present"},
    "Oldest waiting notification by channel": {"A": "present"},
    "Retries and dead letters per second": {
        "A": ("rises", [{"channel": "sms"}]),
        "B": "empty: nothing is given up on in a healthy run (a dead letter takes every attempt failing); "
             "the counter has no series until the first one"},
    "Callbacks: due, dead, oldest due": {"A": "present", "B": "present", "C": "present", "D": "present",
                                         "E": "present", "F": "present"},
    "Refused authentications per second by reason": {"A": ("rises", [{"api": "govuk_v2"}])},
    "Limit refusals per second": {"A": "rises"},
    "Key ages (days)": {"A": "rises", "B": "rises", "C": "present"},
    "Since the last backup, verification and audit checkpoint": {"A": "rises", "B": "rises", "C": "present"},
    "CPU seconds per second": {"A": "rises"},
    "Resident memory and open descriptors": {"A": "rises", "B": "rises"},
}


class QueryRejected(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Loopback only, whatever proxy the environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Prometheus:
    """Debian's Prometheus on 127.0.0.1 with a data directory of its own, scraping `herald`."""

    def __init__(self, workdir, herald):
        self.dir = os.path.join(workdir, "prometheus")
        os.makedirs(self.dir)
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:  # JSON is YAML
            json.dump({
                "global": {"scrape_interval": "%ds" % SCRAPE_SECONDS, "scrape_timeout": "%ds" % SCRAPE_SECONDS,
                           "evaluation_interval": "%ds" % SCRAPE_SECONDS},
                "rule_files": [os.path.abspath(RULES)],
                # As the README's scrape configuration has it.
                "scrape_configs": [{"job_name": "herald", "scheme": "https",
                                    "tls_config": {"ca_file": herald.cert, "server_name": "localhost"},
                                    "static_configs": [{"targets": ["127.0.0.1:%d" % herald.metrics_port]}]}],
            }, f, indent=1)
        self.log_path = os.path.join(self.dir, "prometheus.log")
        self.proc = None
        for _ in range(3):  # another process may take the free port first
            self.port = free_port()
            self.log = open(self.log_path, "ab")
            self.proc = subprocess.Popen([
                PROMETHEUS, "--config.file=" + config, "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                "--web.listen-address=127.0.0.1:%d" % self.port, "--storage.tsdb.retention.time=1h"],
                stdout=self.log, stderr=self.log)
            if self.wait_ready():
                return
            self.stop()
        raise RuntimeError("Prometheus did not start: " + self.log_tail())

    def wait_ready(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with DIRECT.open("http://127.0.0.1:%d/-/ready" % self.port, timeout=5) as r:
                    if r.status == 200:
                        return True
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.2)
        return False

    def log_tail(self):
        return open(self.log_path, errors="replace").read()[-3000:]

    def api(self, path, **params):
        """data of /api/v1/PATH; QueryRejected with Prometheus's reason when it refuses."""
        url = "http://127.0.0.1:%d/api/v1/%s?%s" % (self.port, path, urllib.parse.urlencode(params, doseq=True))
        request = urllib.request.Request(url)
        try:
            with DIRECT.open(request, timeout=30) as r:
                answer = json.load(r)
        except urllib.error.HTTPError as e:
            answer = json.load(e)
            raise QueryRejected("%s %s: %s" % (e.code, answer.get("errorType"), answer.get("error")))
        assert answer["status"] == "success", answer
        return answer["data"]

    def now(self):
        """Prometheus's own clock (the window the panels are drawn over is in its time)."""
        return float(self.api("query", query="time()")["result"][0])

    def query(self, expr):
        return self.api("query", query=expr)["result"]

    def wait_for_scrapes(self, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            done = self.query('sum_over_time(up{job="herald"}[1m])')  # the scrapes that succeeded
            if done and float(done[0]["value"][1]) >= count:
                return
            time.sleep(0.25)
        raise TimeoutError("Prometheus scraped Herald fewer than %d times: %s" % (count, self.api("targets")))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc:
            self.log.close()
        self.proc = None


# Traffic ---------------------------------------------------------------------------------------

def start_herald(ws):
    firetext = ws.track(SmsProvider(ws.dir, "firetext", receipt="0"))
    mmg = ws.track(SmsProvider(ws.dir, "mmg", receipt="3"))
    sink = ws.track(SmtpSink(ws.dir, mode="mixed"))  # addresses starting "reject" are refused
    extra = "\n\n".join([
        '[sms]\nproviders = ["firetext", "mmg"]\nreceipt_base_url = "https://herald.invalid/"\n'
        'retry_after_seconds = 1\nfailures_to_switch = 2',
        firetext.config().strip(), mmg.config().strip(),
        "[delivery]\nfirst_retry_ms = 200\nmax_retry_ms = 400\nmax_attempts = 30"])
    herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=extra, env=ENV))
    service_id, key = herald.create_service("Clinic")
    templates = (herald.create_template(service_id, "Hi ((name))", "Hello ((name))"),
                 herald.create_template(service_id, None, "Your code is ((code)).", name="Code", type="sms"))
    # A second service at 3 requests a minute: its key is soon refused (rate limits are per minute,
    # not per day, so no midnight can change the outcome).
    limited_id, limited_key = herald.create_service("Busy clinic")
    herald.run_cli("service", "set", "--service", limited_id, "--rate-limit", "3")
    limited_template = herald.create_template(limited_id, "Hi", "Hello")
    # A backup, its verification and a restore drill, as a healthy installation has (the backup panel's figures).
    backup = os.path.join(ws.dir, "backup.hbk")
    herald.run_cli("backup", "create", backup)
    herald.run_cli("backup", "verify", "--restore-drill", backup)
    herald.start()
    for provider in (firetext, mmg):
        provider.herald_url = "https://127.0.0.1:%d" % herald.port
        provider.herald_cert = herald.cert
    return herald, firetext, mmg, key, templates, limited_key, limited_template


def drive_traffic(herald, firetext, mmg, key, templates, limited_key, limited_template):
    """ROUNDS rounds, ROUND_SECONDS apart; returns {notification id: the statuses it must end in}."""
    email_template, sms_template = templates
    sent = {}
    counts = {}

    def expect(status, code, body, what):
        assert status == code, (what, status, body)
        counts[code] = counts.get(code, 0) + 1

    started = time.monotonic()
    for i in range(ROUNDS):
        if i == 4:  # both providers fail: texts wait and are retried
            firetext.mode = mmg.mode = "error"
        if i == 6:  # MMG is back: texts go out through it while Firetext is passed over
            mmg.mode = "ok"
        if i == 8:
            firetext.mode = "ok"
        for n in range(1 + i % 3):
            refused = i % 4 == 3 and n == 0
            to = "reject-%d@example.com" % i if refused else "patient-%d-%d@example.com" % (i, n)
            status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
                "email_address": to, "template_id": email_template, "personalisation": {"name": "Ann"}})
            expect(status, 201, body, "email")
            sent[body["id"]] = {"permanent-failure"} if refused else {"delivered"}
        status, body = herald.request("POST", "/v2/notifications/sms", key=key, body={
            "phone_number": "07700 9003%02d" % i, "template_id": sms_template, "personalisation": {"code": "1234"}})
        expect(status, 201, body, "sms")
        sent[body["id"]] = {"delivered"}
        status, body = herald.request("GET", "/v2/notifications/" + next(iter(sent)), key=key)
        expect(status, 200, body, "status")
        # Refused tokens, 12 in all: under the 20 in five minutes from one address at which the
        # intrusion detector (src/security/intrusion.h) blocks the address, 127.0.0.1 here.
        if i % 3 == 0:
            status, body = herald.request("GET", "/v2/notifications", token="not-a-token")
            expect(status, 403, body, "malformed token")
        if i % 4 == 1:
            wrong_secret = make_token(key[-73:-37], "0" * 36)
            status, body = herald.request("GET", "/v2/notifications", token=wrong_secret)
            expect(status, 403, body, "wrong secret")
        status, body = herald.request("GET", "/v2/no-such-route", key=key)
        expect(status, 404, body, "no such route")
        status, body = herald.request("POST", "/v2/notifications/email", key=limited_key, body={
            "email_address": "someone@example.com", "template_id": limited_template})
        assert status in (201, 429), (status, body)
        counts[status] = counts.get(status, 0) + 1
        time.sleep(max(0.0, started + (i + 1) * ROUND_SECONDS - time.monotonic()))
    assert counts.get(429, 0) >= ROUNDS - 3 and counts[403] < 20, counts
    wait_for_delivery(herald, key, sent)
    return sent, counts


def wait_for_delivery(herald, key, sent, timeout=60):
    """Until every notification has its final status: the API's list, twice a second (one
    request a poll, so that the waiting barely shows on the requests panel)."""
    deadline = time.time() + timeout
    while True:
        status, body = herald.request("GET", "/v2/notifications", key=key)
        assert status == 200, (status, body)
        now = {n["id"]: n["status"] for n in body["notifications"]}
        waiting = {i: now.get(i) for i, statuses in sent.items() if now.get(i) not in statuses}
        if not waiting:
            return
        assert time.time() < deadline, "not delivered: %s" % waiting
        time.sleep(0.5)


# The dashboard's queries -----------------------------------------------------------------------

def variable_values(prometheus, dashboard, window):
    """The dashboard's variables as Grafana fills them in, and Grafana's own that it uses. A
    label_values(...) variable gets every value Prometheus has (the "All" choice); several
    values of a multi-value variable make a regex alternation, each escaped as Grafana's
    Prometheus data source does (a backslash before regex metacharacters, doubled for PromQL)."""
    start, end, step = window
    values = {"__rate_interval": RATE_INTERVAL, "__interval": "%ds" % step, "__interval_ms": str(step * 1000),
              "__range": "%ds" % (end - start), "__range_s": str(end - start)}
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "datasource":
            continue
        match = re.fullmatch(r"label_values\((.+), *([a-zA-Z_][a-zA-Z0-9_]*)\)", str(variable.get("query", "")))
        assert variable.get("type") == "query" and match, "a variable this test cannot fill in: %s" % variable
        found = prometheus.api("label/%s/values" % match.group(2), **{"match[]": match.group(1)})
        assert found, "the variable %s finds nothing: %s" % (variable["name"], variable["query"])
        if variable.get("multi") or variable.get("includeAll"):
            escaped = [re.sub(r"[$^*{}\[\]'+?.()|\\]", lambda m: "\\\\" + m.group(0), v) for v in found]
            values[variable["name"]] = escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
        else:
            values[variable["name"]] = found[0]
    return values


def expand(expr, variables):
    def one(m):
        name = m.group(1) or m.group(2)
        assert name in variables, "the dashboard uses $%s, which this test does not fill in" % name
        return variables[name]
    return re.sub(r"\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)", one, expr)


def finite(points):
    return [(t, v) for t, v in points if math.isfinite(v)]


SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^{}]*)\}")
MATCHER = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"')
RATE_OF = re.compile(r"\b(rate|irate|increase)\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)")


def lint_expr(prometheus, expr, metadata, where, label_cache):
    """Selectors name labels their metric has; rate() and increase() take counters."""
    problems = []
    for name, matchers in SELECTOR.findall(expr):
        if name not in label_cache:
            series = prometheus.api("series", **{"match[]": name})
            label_cache[name] = set().union(*(s.keys() for s in series)) if series else None
        labels = label_cache[name]
        for label in MATCHER.findall(matchers):
            if labels is not None and label not in labels:
                problems.append("%s: %s has no label %r (it has %s)" % (where, name, label, sorted(labels)))
    for function, name in RATE_OF.findall(expr):
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        kind = (metadata.get(name) or metadata.get(base) or [{}])[0].get("type")
        if not (kind == "counter" or (kind == "histogram" and name != base)):
            problems.append("%s: %s() of %s, a %s" % (where, function, name, kind or "metric Prometheus does not know"))
    return problems


def query_panels(prometheus, dashboard, window):
    """Runs every target of every panel. Returns ({panel id: [(name, points, refId)]}, problems)."""
    start, end, step = window
    variables = variable_values(prometheus, dashboard, window)
    metadata = prometheus.api("metadata")
    results, problems, label_cache, seen = {}, [], {}, set()
    for panel in dashboard_html.flat_panels(dashboard):
        if panel.get("type") == "row":
            continue
        title = panel.get("title")
        if not panel.get("targets"):
            if panel.get("type") not in ("text", "news", "dashlist"):
                problems.append("panel %r has no query" % title)
            continue
        seen.add(title)
        expected = EXPECTED.get(title)
        if expected is None:
            problems.append("panel %r is not in EXPECTED: say what the traffic should make it show" % title)
            expected = {}
        results[panel.get("id")] = []
        refs = set()
        for target in panel["targets"]:
            ref = target.get("refId")
            refs.add(ref)
            where = "%s [%s]" % (title, ref)
            expr = expand(target["expr"], variables)
            problems += lint_expr(prometheus, expr, metadata, where, label_cache)
            try:
                prometheus.api("query", query=expr, time=end)
                ranged = prometheus.api("query_range", query=expr, start=start, end=end, step=step)
            except QueryRejected as e:
                problems.append("%s: Prometheus rejects %s: %s" % (where, expr, e))
                continue
            assert ranged["resultType"] == "matrix", ranged
            series = []
            for s in ranged["result"]:
                points = [(float(t), float(v)) for t, v in s["values"]]
                series.append((s["metric"], points))
                for label in re.findall(r"\{\{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}", target.get("legendFormat", "")):
                    if label not in s["metric"]:
                        problems.append("%s: the legend names %s, which the series %s lacks"
                                        % (where, label, s["metric"]))
            results[panel["id"]] += [(dashboard_html.legend_name(target.get("legendFormat"), m), p, ref)
                                     for m, p in series]
            want = expected.get(ref, "present")
            if ref not in expected and expected:
                problems.append("%s: not in EXPECTED" % where)
            kind, labels = want if isinstance(want, tuple) else (want, [])
            shown = [(m, p) for m, p in series if finite(p)]
            rising = [m for m, p in shown if any(v > 0 for _, v in finite(p))]
            if kind == "present" and not shown:
                problems.append("%s: no data: %s" % (where, expr))
            elif kind == "rises":
                if not rising:
                    problems.append("%s: nothing above zero (%d series): %s" % (where, len(shown), expr))
                for wanted in labels:
                    if not any(all(m.get(k) == v for k, v in wanted.items()) for m in rising):
                        problems.append("%s: no rising series with %s among %s" % (where, wanted, rising))
            print("  %-62s %s: %d series%s" % (title[:62], ref, len(shown), "" if shown else " (" + kind + ")"))
        for ref in set(expected) - refs:
            problems.append("%s [%s]: EXPECTED names a query the panel no longer has" % (title, ref))
    for title in set(EXPECTED) - seen:
        problems.append("EXPECTED names a panel the dashboard no longer has: %r" % title)
    return results, problems


def check_rules(prometheus):
    """Every rule of herald-alerts.yml loaded and evaluated without error; none firing. Returns
    (problems, the rules' count)."""
    in_file = len(re.findall(r"(?m)^\s*- (?:alert|record):", open(RULES).read()))
    deadline = time.time() + 30
    while True:
        groups = prometheus.api("rules")["groups"]
        rules = [r for g in groups for r in g["rules"]]
        if all(r.get("health") != "unknown" for r in rules) or time.time() > deadline:
            break
        time.sleep(0.5)
    problems = []
    if len(rules) != in_file:
        problems.append("Prometheus loaded %d rules of the file's %d" % (len(rules), in_file))
    metadata = prometheus.api("metadata")
    cache = {}
    for rule in rules:
        if rule.get("health") != "ok":
            problems.append("rule %s: health %s: %s" % (rule["name"], rule.get("health"), rule.get("lastError")))
        if rule.get("state") == "firing":
            problems.append("rule %s fires on a healthy node: %s" % (rule["name"], rule.get("alerts")))
        elif rule.get("state") == "pending":
            print("  (pending: %s)" % rule["name"])
        problems += lint_expr(prometheus, rule["query"], metadata, "rule " + rule["name"], cache)
    return problems, len(rules)


# The picture -----------------------------------------------------------------------------------

def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", head
    return struct.unpack(">II", head[16:24])


def screenshot(ws, dashboard, results, window, update_docs):
    page = os.path.join(ws.dir, "dashboard.html")
    png = os.path.join(ws.dir, "dashboard.png")
    version = subprocess.run([PROMETHEUS, "--version"], capture_output=True, text=True).stdout.split()[2]
    note = "Drawn from Prometheus %s by tests/monitoring/test_dashboard.py, not by Grafana" % version
    with open(page, "w") as f:
        f.write(dashboard_html.render(dashboard, results, window, note=note))
    e2e = os.path.join(HERE, "..", "e2e")
    run = subprocess.run(["node", os.path.join(e2e, "dashboard_screenshot.js"), page, png,
                          str(dashboard_html.PAGE_WIDTH)], cwd=e2e, env=dict(os.environ, HOME=ws.dir),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    width, height = png_size(png)
    assert width == dashboard_html.PAGE_WIDTH and height > 1000, (width, height)
    os.makedirs(ARTIFACTS, exist_ok=True)
    shutil.copyfile(page, os.path.join(ARTIFACTS, "dashboard.html"))
    shutil.copyfile(png, os.path.join(ARTIFACTS, "dashboard.png"))
    print("  screenshot %dx%d in %s" % (width, height, ARTIFACTS))
    if update_docs and os.environ.get("HERALD_UPDATE_SCREENSHOTS") == "1":
        shutil.copyfile(png, SCREENSHOT)
        print("  written to", os.path.normpath(SCREENSHOT))


def keep_logs(ws, prometheus):
    """Herald's and Prometheus's logs into the artifacts, for a failure."""
    os.makedirs(ARTIFACTS, exist_ok=True)
    for log in (os.path.join(ws.dir, "herald.log"), prometheus.log_path):
        if os.path.exists(log):
            shutil.copyfile(log, os.path.join(ARTIFACTS, os.path.basename(log)))


def test_the_dashboard_against_prometheus_and_herald():
    dashboard = json.load(open(DASHBOARD))
    with Workspace() as ws:
        herald, firetext, mmg, key, templates, limited_key, limited_template = start_herald(ws)
        prometheus = ws.track(Prometheus(ws.dir, herald))
        try:
            prometheus.wait_for_scrapes(3)
            start = int(prometheus.now()) - 3
            sent, counts = drive_traffic(herald, firetext, mmg, key, templates, limited_key, limited_template)
            print("  traffic: %d notifications delivered, answers %s" % (len(sent), dict(sorted(counts.items()))))
            time.sleep(8)  # the rates fall back after the traffic; the last deliveries are scraped
            end = int(prometheus.now())
            window = (start, end, STEP)
            results, problems = query_panels(prometheus, dashboard, window)
            rule_problems, rule_count = check_rules(prometheus)
            print("  %d rules loaded and evaluated" % rule_count)
        except Exception:
            sys.stderr.write("prometheus log:\n" + prometheus.log_tail())
            keep_logs(ws, prometheus)
            raise
        # The picture, failing or not (a failed query draws as "No data"); docs/ only when all is well.
        screenshot(ws, dashboard, results, window, update_docs=not problems + rule_problems)
        assert not problems + rule_problems, "\n".join(problems + rule_problems)
        prometheus.stop()
        herald.stop()


if __name__ == "__main__":
    run_tests([test_the_dashboard_against_prometheus_and_herald])
