#!/usr/bin/python3
"""Herald's benchmark: accepted durable, encrypted notifications per second, against ceilings
measured in the same run on the same machine (client and server sharing it).

Measures, each several times (min / median / max, since shared machines are noisy):
  * the disk: SQLite WAL synchronous=FULL single-row commits per second, and rows per second
    in batches of 1,000;
  * ceiling A: nginx answering a fixed 201 over TLS with keep-alive (wrk, same connections);
  * ceiling B: Herald's own HTTPS listener answering a route-less 404;
  * Herald: POST /v2/notifications/email in --role api (accept, validate, render, encrypt,
    group-commit, 201 after fsync), with server CPU and peak RSS;
  * p99 at 70% of that rate (wrk's delay() paces each connection);
  * delivery: `herald serve --role worker` draining what those runs queued into a local SMTP
    sink that accepts everything (bench/smtp_count_sink.py), emails per second;
  * scale: the accept rate again with 1 M and 10 M past notifications stored (bench/fill.cc);
  * PostgreSQL (a throwaway PostgreSQL 15 server, fsync on, tests/tools/pg.py): the engine's own
    ceilings with pgbench (single-row commits, 1,000-row INSERTs), then the same POST runs with
    one Herald node on it, and with two nodes sharing the database (wrk's connections split
    between them, their rates added).
Before each round the machine must be idle (bench waits for a second under 10% busy, and
reports the check), and a fresh server gets a short warm-up round first, not counted; one extra round is profiled with perf (by library, by function, context
switches, migrations and heap allocations per request).
Writes bench/RESULTS.md. Usage: bench.py path/to/herald [--seconds N] [--runs N] [--connections N]
[--scale 1000000,10000000 | --scale none] [--baseline OTHER_HERALD --baseline-label TEXT]
[--postgres | --no-postgres]
"""
import argparse
import base64
import hashlib
import hmac
import json
import os
import platform
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "tools"))
from harness import Herald, wait_for_file  # noqa: E402
from pg import Postgres  # noqa: E402

LUA_REPORT = r'''
done = function(summary, latency, requests)
  io.write(string.format("RESULT %f %d %d %f %f %f\n", summary.requests / (summary.duration / 1e6),
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests, latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
'''


STEAL = []  # per wrk run: share of CPU time the hypervisor gave to other guests
IDLE = []  # per round: (what, busy % of the last second before it, seconds waited for it)


def busy_percent(seconds=1.0):
    """Share of all cores' time spent not idle (nor waiting for I/O) over `seconds`."""
    def sample():
        fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
        return sum(fields[:8]), fields[3] + fields[4]  # all time; idle + iowait
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return 100.0 * (1 - (idle1 - idle0) / max(1, total1 - total0))


IDLE_TIMEOUT = [120.0]  # seconds a round waits for an idle machine (--idle-timeout)


def wait_for_idle(what, limit=10.0, timeout=None):
    """Waits until the machine is idle (under `limit` % busy over a whole second: no delivery
    backlog draining, no build, no previous round's server still finishing) before a round: a
    ceiling measured on a busy machine understates it and flatters every ratio. Records the
    check; after `timeout` the round goes ahead and the figure says how busy it was."""
    timeout = IDLE_TIMEOUT[0] if timeout is None else timeout
    started = time.time()
    while True:
        busy = busy_percent()
        if busy < limit or time.time() - started >= timeout:
            IDLE.append((what, busy, time.time() - started))
            return busy


def cpu_ticks():
    fields = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return sum(fields[:8]), fields[7]  # all time, steal


def wrk(url, lua, seconds, connections, what=None):
    wait_for_idle(what or url)
    total0, steal0 = cpu_ticks()
    out = subprocess.run(["wrk", "-t", "2", "-c", str(connections), "-d", "%ds" % seconds, "-s", lua, url],
                         capture_output=True, text=True, timeout=seconds + 60).stdout
    m = re.search(r"RESULT (\S+) (\d+) (\d+) (\S+) (\S+) (\S+)", out)
    if not m:
        raise RuntimeError("wrk printed no result: " + out)
    total1, steal1 = cpu_ticks()
    STEAL.append(100.0 * (steal1 - steal0) / max(1, total1 - total0))
    rate, errors, requests, p50, p99, p999 = m.groups()
    # Non-2xx answers count as errors for the POST runs; the 404 ceiling is all "errors" by design.
    return {"rate": float(rate), "errors": int(errors), "p50": float(p50), "p99": float(p99), "p999": float(p999),
            "steal": STEAL[-1]}


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def fsync_probe(workdir):
    path = os.path.join(workdir, "probe.db")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE t (x BLOB)")
    started, n = time.time(), 0
    while time.time() - started < 2:
        db.execute("BEGIN")
        db.execute("INSERT INTO t VALUES (randomblob(400))")
        db.execute("COMMIT")
        n += 1
    single = n / (time.time() - started)
    started = time.time()
    for _ in range(50):
        db.execute("BEGIN")
        db.executemany("INSERT INTO t VALUES (randomblob(400))", [()] * 1000)
        db.execute("COMMIT")
    batched = 50000 / (time.time() - started)
    db.close()
    return single, batched


def token(key):
    enc = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=")
    signing = enc(b'{"typ":"JWT","alg":"HS256"}') + b"." + enc(
        json.dumps({"iss": key[-73:-37], "iat": int(time.time())}).encode())
    return (signing + b"." + enc(hmac.new(key[-36:].encode(), signing, hashlib.sha256).digest())).decode()


def start_nginx(workdir, cert, key):
    os.makedirs(os.path.join(workdir, "nginx", "logs"), exist_ok=True)
    conf = os.path.join(workdir, "nginx", "nginx.conf")
    with open(conf, "w") as f:
        f.write("""
worker_processes 2;
pid %(dir)s/nginx.pid;
error_log %(dir)s/logs/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:0 ssl;
    ssl_certificate %(cert)s;
    ssl_certificate_key %(key)s;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { default_type application/json; return 201 '{"id":"740e5834-3a29-46b4-9a6f-16142fde533a"}'; }
  }
}
""" % {"dir": os.path.join(workdir, "nginx"), "cert": cert, "key": key})
    # nginx cannot listen on port 0 and report it; pick a free port first.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    text = open(conf).read().replace("127.0.0.1:0", "127.0.0.1:%d" % port)
    open(conf, "w").write(text)
    proc = subprocess.Popen(["nginx", "-c", conf, "-p", os.path.join(workdir, "nginx"), "-g", "daemon off; user root;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not start")


def summary(values, fmt="%.0f"):
    return "%s / %s / %s" % (fmt % min(values), fmt % statistics.median(values), fmt % max(values))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("herald")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--output", default=os.path.join(HERE, "RESULTS.md"))
    parser.add_argument("--api-threads", type=int, default=None, help="override server.api_threads")
    parser.add_argument("--scale", default="1000000,10000000",
                        help="stored-row counts for the scale runs, or 'none'")
    parser.add_argument("--baseline", default=None,
                        help="another herald binary (e.g. built before a change): its accept rate is measured "
                             "in turns with this one's, in the same run")
    parser.add_argument("--baseline-label", default="baseline")
    parser.add_argument("--no-postgres", dest="postgres", action="store_false",
                        help="skip the PostgreSQL runs")
    parser.add_argument("--idle-timeout", type=float, default=120.0,
                        help="seconds each round waits for an idle machine before it goes ahead busy (the smoke "
                             "test, which shares the machine with the other tests, says 0)")
    args = parser.parse_args()
    IDLE_TIMEOUT[0] = args.idle_timeout
    workdir = tempfile.mkdtemp(prefix="herald-bench-")
    processes = []
    try:
        results = run(args, workdir, processes)
    finally:
        for p in processes:
            if p.poll() is None:
                p.terminate()
                p.wait(30)
        shutil.rmtree(workdir, ignore_errors=True)
    results["micro"] = micro_benchmarks(args)
    write_results(args, results)


def run(args, workdir, processes):
    r = {"fsync": [], "batched": [], "nginx": [], "listener": [], "herald": [], "cpu": [], "rss": [],
         "delivery": []}
    for _ in range(args.runs):
        single, batched = fsync_probe(workdir)
        r["fsync"].append(single)
        r["batched"].append(batched)
        os.remove(os.path.join(workdir, "probe.db"))
    herald = Herald(os.path.abspath(args.herald), workdir, 1)
    herald.rewrite_config('[log]\nlevel = "warn"')
    if args.api_threads:
        herald.rewrite_config("[server]\napi_threads = %d" % args.api_threads)
    service_id, key = herald.create_service("bench")
    herald.lift_limits(service_id)
    template_id = herald.create_template(service_id, "Hello ((name))",
                                         "Dear ((name)),\n\nYour appointment is on ((date)) at ((place)).\n")
    nginx, nginx_port = start_nginx(workdir, herald.cert, os.path.join(herald.dir, "tls", "key.pem"))
    processes.append(nginx)
    get_lua = os.path.join(workdir, "get.lua")
    open(get_lua, "w").write(LUA_REPORT)
    herald.start(role="api")
    processes.append(herald.proc)
    base = "https://127.0.0.1:%d" % herald.port
    body = json.dumps({"email_address": "someone@example.com", "template_id": template_id,
                       "personalisation": {"name": "Ada", "date": "1 May", "place": "Leeds"}})
    wrk(base + "/none", get_lua, 3, args.connections, "listener warm-up")  # not counted
    warm_up(args, herald, workdir, key, body)
    # In turns: nginx, Herald's listener, Herald accepting, back to back, so that each turn's
    # ratios compare rounds seconds apart. This machine's speed drifts by +-20% over minutes;
    # three ceiling rounds, then three listener rounds, then three accept rounds, turned that
    # drift into the ratios (two runs ten minutes apart gave 33.4% and 25.6%).
    one = argparse.Namespace(**dict(vars(args), runs=1))
    for _ in range(args.runs):
        r["nginx"].append(wrk("https://127.0.0.1:%d/" % nginx_port, get_lua, args.seconds, args.connections, "nginx"))
        r["listener"].append(wrk(base + "/none", get_lua, args.seconds, args.connections, "listener"))
        r["herald"] += post_runs(one, herald, workdir, key, body)
    nginx.terminate()
    maximum = statistics.median([x["rate"] for x in r["herald"]])
    # Paced: each connection waits before each request so that all together offer ~70% of the
    # maximum (wrk's latency excludes the wait).
    # One calibration run measures the latency that adds to the pause in each request's cycle.
    # wrk's delay() is whole milliseconds and a cycle is a few of them, so each pause is the floor
    # or the ceiling of the wanted one at random, in the proportion that makes the mean exact.
    cycle_ms = args.connections * 1000.0 / (0.7 * maximum)
    pace = lambda pause: ("local low, frac = %d, %f\nfunction delay() if math.random() < frac then "
                          "return low + 1 end return low end\n" % (int(pause), pause - int(pause)))
    trial = post_runs(argparse.Namespace(**dict(vars(args), runs=1)), herald, workdir, key, body, pace(cycle_ms))[0]
    latency_ms = args.connections * 1000.0 / trial["rate"] - cycle_ms
    r["paced"] = post_runs(args, herald, workdir, key, body, pace(max(0.0, cycle_ms - latency_ms)))
    r["profile"] = profile_round(args, herald, workdir, key, body)
    r["rss"] = peak_rss_mb(herald.proc.pid)
    herald.stop()
    r["compare"] = compare_runs(args, herald, workdir, processes, key, body) if args.baseline else None
    r["delivery"], r["delivery_cpu"] = delivery_runs(args, herald, workdir, processes)
    r["postgres"] = postgres_runs(args, workdir, processes) if args.postgres else None
    r["scale"] = []
    if args.scale != "none":
        key_id = sqlite3.connect(os.path.join(herald.dir, "herald.db")).execute(
            "SELECT id FROM api_keys WHERE service_id = ?", (service_id,)).fetchone()[0]
        for level in [int(x) for x in args.scale.split(",")]:
            stored = stored_rows(herald)
            if level > stored:
                subprocess.run([os.path.join(os.path.dirname(os.path.abspath(args.herald)), "herald_bench_fill"),
                                herald.config, service_id, key_id, template_id, str(level - stored)], check=True)
                os.sync()  # the fill's dirty pages must not be flushed during the measurement
            herald.start(role="api")
            processes.append(herald.proc)
            warm_up(args, herald, workdir, key, body)
            r["scale"].append((stored_rows(herald), post_runs(args, herald, workdir, key, body)))
            herald.stop()
    return r


def postgres_cpu_seconds():
    """CPU time of every process of the postgres user so far (the benchmark's server is the only
    one on a test machine; its backends live as long as Herald's connections)."""
    uid = __import__("pwd").getpwnam("postgres").pw_uid
    total = 0.0
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                if os.stat("/proc/" + pid).st_uid == uid:
                    total += cpu_seconds(int(pid))
            except (OSError, ValueError):
                pass
    return total


def pgbench(server, script, clients, seconds):
    """Transactions per second of a pgbench custom script against the bench database."""
    path = os.path.join(server.root, "script.sql")
    with open(path, "w") as f:
        f.write(script)
    out = subprocess.run(["/usr/lib/postgresql/15/bin/pgbench", "-n", "-c", str(clients), "-j", "2",
                          "-T", str(seconds), "-f", path, server.url("bench")],
                         capture_output=True, text=True, timeout=seconds + 120)
    m = re.search(r"tps = ([\d.]+)", out.stdout)
    if not m:
        raise RuntimeError("pgbench printed no rate: " + out.stdout + out.stderr)
    return float(m.group(1))


def postgres_runs(args, workdir, processes):
    """Herald on PostgreSQL: the engine's ceilings, then one node and two nodes accepting."""
    server = Postgres().start()
    try:
        url = server.create_database("bench")
        server.psql("CREATE TABLE probe (id uuid PRIMARY KEY, body bytea)", database="bench")
        server.psql("GRANT ALL ON probe TO herald", database="bench")
        out = {"single": [], "batched": [], "one": [], "two": []}
        for _ in range(args.runs):
            out["single"].append(pgbench(server, "INSERT INTO probe VALUES (gen_random_uuid(), "
                                         "convert_to(repeat('x', 600), 'UTF8'));\n", 16, max(2, args.seconds // 2)))
            out["batched"].append(1000 * pgbench(server, "INSERT INTO probe SELECT gen_random_uuid(), "
                                                 "convert_to(repeat('x', 600), 'UTF8') FROM generate_series(1, 1000);\n",
                                                 2, max(2, args.seconds // 2)))
        server.psql("DROP TABLE probe", database="bench")
        node = Herald(os.path.abspath(args.herald), os.path.join(workdir, "pg"), 1, store_url=url)
        node.rewrite_config('[log]\nlevel = "warn"')
        service_id, key = node.create_service("bench")
        node.lift_limits(service_id)
        template_id = node.create_template(service_id, "Hello ((name))",
                                           "Dear ((name)),\n\nYour appointment is on ((date)) at ((place)).\n")
        body = json.dumps({"email_address": "someone@example.com", "template_id": template_id,
                           "personalisation": {"name": "Ada", "date": "1 May", "place": "Leeds"}})
        node.start(role="api")
        processes.append(node.proc)
        for _ in range(args.runs):
            before = postgres_cpu_seconds()
            run = post_runs(argparse.Namespace(**dict(vars(args), runs=1)), node, workdir, key, body)[0]
            run["pg_cpu"] = (postgres_cpu_seconds() - before) / args.seconds
            out["one"].append(run)
        second, second_port = node.spawn_node(role="api", name="node2")
        processes.append(second)
        for _ in range(args.runs):
            out["two"].append(two_node_run(args, node, second, second_port, workdir, key, body))
        second.terminate()
        second.wait(60)
        node.stop()
        return out
    finally:
        server.stop()


def two_node_run(args, node, second, second_port, workdir, key, body):
    """One wrk per node, each with half the connections, at the same time; rates added."""
    wait_for_idle("two nodes")
    before = [cpu_seconds(node.proc.pid), cpu_seconds(second.pid), postgres_cpu_seconds()]
    procs = []
    for port, name in ((node.port, "a"), (second_port, "b")):
        lua = os.path.join(workdir, "post-%s.lua" % name)
        with open(lua, "w") as f:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    'wrk.headers["Authorization"] = "Bearer %s"\nwrk.body = \'%s\'\n' % (token(key), body) + LUA_REPORT)
        procs.append(subprocess.Popen(["wrk", "-t", "1", "-c", str(max(1, args.connections // 2)), "-d",
                                       "%ds" % args.seconds, "-s", lua, "https://127.0.0.1:%d/v2/notifications/email" % port],
                                      stdout=subprocess.PIPE, text=True))
    results = []
    for p in procs:
        text = p.communicate(timeout=args.seconds + 60)[0]
        m = re.search(r"RESULT (\S+) (\d+) (\d+) (\S+) (\S+) (\S+)", text)
        if not m:
            raise RuntimeError("wrk printed no result: " + text)
        results.append([float(x) for x in m.groups()])
    after = [cpu_seconds(node.proc.pid), cpu_seconds(second.pid), postgres_cpu_seconds()]
    return {"rate": sum(r[0] for r in results), "errors": sum(int(r[1]) for r in results),
            "p99": max(r[4] for r in results), "cpu": (after[0] - before[0] + after[1] - before[1]) / args.seconds,
            "pg_cpu": (after[2] - before[2]) / args.seconds}


def postgres_lines(r, nginx_median, sqlite_median):
    pg = r.get("postgres")
    if not pg:
        return []
    rates = lambda runs: [x["rate"] for x in runs]
    one, two = statistics.median(rates(pg["one"])), statistics.median(rates(pg["two"]))
    row = lambda label, runs: "| %s | **%s** | %s | %s | %s | %s |" % (
        label, summary(rates(runs)), summary([x["p99"] for x in runs], "%.1f"),
        summary([x["cpu"] for x in runs], "%.2f"), summary([x["pg_cpu"] for x in runs], "%.2f"),
        summary([x["errors"] for x in runs]))
    return [
        "PostgreSQL 15 (same machine, fsync on, synchronous_commit on; a fresh server for this run):",
        "",
        "| measure | min / median / max |",
        "|---|---|",
        "| PostgreSQL: single-row INSERT commits/s (pgbench, 16 clients) | %s |" % summary(pg["single"]),
        "| PostgreSQL: rows/s in 1,000-row INSERTs (pgbench, 2 clients) | %s |" % summary(pg["batched"]),
        "",
        "| Herald on PostgreSQL | accepted/s | p99 ms | Herald CPU, cores | PostgreSQL CPU, cores | non-201 |",
        "|---|---|---|---|---|---|",
        row("one node", pg["one"]),
        row("two nodes, one database (rates added)", pg["two"]),
        "",
        "Ratios of medians to the nginx ceiling: SQLite %.1f%%, PostgreSQL one node **%.1f%%**, two nodes **%.1f%%**."
        % (100 * sqlite_median / nginx_median, 100 * one / nginx_median, 100 * two / nginx_median),
        "Targets (issue 6): at least 15,000/s with one node and with two, and at least 15% of the nginx ceiling.",
        "",
    ]


def compare_runs(args, herald, workdir, processes, key, body):
    """This build against --baseline, in turns (baseline, this, baseline, ...), one server at a
    time, each on its own data directory, so that both see the same machine within seconds."""
    base_dir = os.path.join(workdir, "baseline")
    os.makedirs(base_dir)
    old = Herald(os.path.abspath(args.baseline), base_dir, 1)
    old.rewrite_config('[log]\nlevel = "warn"')
    old_service, old_key = old.create_service("bench")
    old.lift_limits(old_service)  # as this build's service: otherwise the baseline answers 429s
    old_template = old.create_template(old_service, "Hello ((name))",
                                       "Dear ((name)),\n\nYour appointment is on ((date)) at ((place)).\n")
    old_body = body.replace(json.loads(body)["template_id"], old_template)
    once = argparse.Namespace(**dict(vars(args), runs=1))
    out = {"baseline": [], "current": []}
    for _ in range(args.runs):
        for name, server, k, b in (("baseline", old, old_key, old_body), ("current", herald, key, body)):
            server.start(role="api")
            processes.append(server.proc)
            warm_up(args, server, workdir, k, b)
            out[name] += post_runs(once, server, workdir, k, b)
            server.stop()
    return out


def compare_lines(args, r):
    if not r.get("compare"):
        return []
    c = r["compare"]
    base = statistics.median([x["rate"] for x in c["baseline"]])
    cur = statistics.median([x["rate"] for x in c["current"]])
    return ["Before and after (%s vs this build), in turns within this run, %d runs each:" % (args.baseline_label, args.runs),
            "",
            "| build | accepted/s min / median / max | p99 ms (median) | server CPU, cores (median) | CPU stolen, % (max) |",
            "|---|---|---|---|---|"] + [
            "| %s | %s | %.1f | %.2f | %.1f |" % (
                label, summary([x["rate"] for x in runs]), statistics.median([x["p99"] for x in runs]),
                statistics.median([x["cpu"] for x in runs]), max(x["steal"] for x in runs))
            for label, runs in ((args.baseline_label, c["baseline"]), ("this build", c["current"]))] + [
            "", "This build's median is **%.1f%%** of the baseline's." % (100 * cur / base), ""]


def stored_rows(herald):
    return sqlite3.connect(os.path.join(herald.dir, "herald.db")).execute(
        "SELECT MAX(rowid) FROM notifications").fetchone()[0] or 0


def warm_up(args, herald, workdir, key, body):
    """A short accept round, not counted: a fresh server's first seconds (the day's data key
    made, caches and the database file growing) run measurably slower than the rest."""
    post_runs(argparse.Namespace(**dict(vars(args), runs=1, seconds=3)), herald, workdir, key, body)


def post_runs(args, herald, workdir, key, body, extra_lua=""):
    """args.runs wrk runs of POST /v2/notifications/email, each with a fresh token."""
    out = []
    for _ in range(args.runs):
        post_lua = os.path.join(workdir, "post.lua")
        with open(post_lua, "w") as f:
            f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                    'wrk.headers["Authorization"] = "Bearer %s"\nwrk.body = \'%s\'\n' % (token(key), body)
                    + extra_lua + LUA_REPORT)
        before = cpu_seconds(herald.proc.pid)
        result = wrk("https://127.0.0.1:%d/v2/notifications/email" % herald.port, post_lua, args.seconds,
                     args.connections, "accept")
        result["cpu"] = (cpu_seconds(herald.proc.pid) - before) / args.seconds
        out.append(result)
    return out


def perf_available():
    return shutil.which("perf") is not None and subprocess.run(
        ["perf", "stat", "-e", "task-clock", "true"], capture_output=True).returncode == 0


def profile_round(args, herald, workdir, key, body):
    """One more accept round, not counted in the rates: where the server's CPU goes (perf samples
    of the server process, kernel included, by library and by function, with callers from the
    frame pointers), its context switches and CPU migrations per request; then a short round
    with a uprobe on malloc for heap allocations per request (the probe slows what it counts,
    so that round's rate means nothing)."""
    if not perf_available():
        return None
    pid = herald.proc.pid
    data = os.path.join(workdir, "perf.data")
    seconds = max(3, args.seconds // 2)
    post_lua = os.path.join(workdir, "post-profile.lua")
    with open(post_lua, "w") as f:
        f.write('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
                'wrk.headers["Authorization"] = "Bearer %s"\nwrk.body = \'%s\'\n' % (token(key), body) + LUA_REPORT)
    url = "https://127.0.0.1:%d/v2/notifications/email" % herald.port
    wait_for_idle("profile round")
    threads_before = thread_cpu(pid)
    record = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", str(pid), "-o", data, "--", "sleep",
                               str(seconds)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stat_file = os.path.join(workdir, "perf-stat.txt")
    stat = subprocess.Popen(["perf", "stat", "-x", ",", "-o", stat_file, "-e", "context-switches,cpu-migrations",
                             "-p", str(pid), "--", "sleep", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    result = wrk(url, post_lua, seconds, args.connections, "profile round")
    record.wait(60)
    stat.wait(60)
    threads_after = thread_cpu(pid)
    requests = result["rate"] * seconds
    threads = {}
    for name, cpu in threads_after.items():
        threads[name] = 1e6 * (cpu - threads_before.get(name, 0.0)) / max(1, requests)
    counters = {}
    for line in open(stat_file):
        parts = line.strip().split(",")
        if len(parts) > 2 and parts[0].replace(".", "").isdigit():
            counters[parts[2]] = float(parts[0])
    by_dso = perf_breakdown(data, "dso")
    by_symbol = perf_breakdown(data, "dso,sym", limit=25)
    out = {"rate": result["rate"], "requests": requests, "dso": by_dso, "symbols": by_symbol,
           "context_switches": counters.get("context-switches", 0) / max(1, requests),
           "migrations": counters.get("cpu-migrations", 0) / max(1, requests), "allocations": None,
           "threads": sorted(threads.items(), key=lambda x: -x[1])}
    # Heap allocations per request: a uprobe on libc's malloc (and calloc, realloc), counted for
    # the server process only, in a short round of its own.
    libc = next((l.split("=>")[1].split()[0] for l in subprocess.run(
        ["ldd", herald.binary], capture_output=True, text=True).stdout.splitlines() if "libc.so.6" in l), None)
    if libc:
        probes = []
        for fn in ("malloc", "calloc", "realloc"):
            made = subprocess.run(["perf", "probe", "-q", "-x", libc, "--add", "herald_%s=%s" % (fn, fn)],
                                  capture_output=True, text=True)
            if made.returncode == 0:
                probes.append("probe_libc:herald_%s" % fn)
        if probes:
            try:
                wait_for_idle("allocation count")
                stat = subprocess.Popen(["perf", "stat", "-x", ",", "-o", stat_file, "-e", ",".join(probes),
                                         "-p", str(pid), "--", "sleep", "3"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                counted = wrk(url, post_lua, 3, args.connections, "allocation count")
                stat.wait(60)
                calls = 0.0
                for line in open(stat_file):
                    parts = line.strip().split(",")
                    if len(parts) > 2 and parts[0].isdigit():
                        calls += float(parts[0])
                out["allocations"] = calls / max(1, counted["rate"] * 3)
            finally:
                subprocess.run(["perf", "probe", "-q", "--del", "probe_libc:herald_*"], capture_output=True)
    return out


def thread_cpu(pid):
    """CPU seconds so far of each of the process's threads, added up by thread name (https-0,
    https-1, the store's writer, the pool's workers: their names less a trailing number)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            name = open("/proc/%d/task/%s/comm" % (pid, tid)).read().strip()
            fields = open("/proc/%d/task/%s/stat" % (pid, tid)).read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        key = re.sub(r"[-_]?\d+$", "", name) or name
        out[key] = out.get(key, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def perf_breakdown(data, sort, limit=12):
    """Self-time shares from a perf.data file, as [(percent, name)], largest first."""
    text = subprocess.run(["perf", "report", "-i", data, "--no-children", "--sort", sort, "--stdio",
                           "--percent-limit", "0.3", "-g", "none"], capture_output=True, text=True).stdout
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(.*\S)", line)
        if m:
            rows.append((float(m.group(1)), re.sub(r"\s+", " ", m.group(2))))
    return rows[:limit]


def delivery_runs(args, herald, workdir, processes):
    """Emails per second from the queue the POST runs filled to a sink that accepts everything."""
    port_file, count_file = os.path.join(workdir, "sink-port"), os.path.join(workdir, "sink-count")
    sink = subprocess.Popen(["/usr/bin/python3", os.path.join(HERE, "smtp_count_sink.py"),
                             "--port-file", port_file, "--count-file", count_file])
    processes.append(sink)
    herald.rewrite_config("[smtp]\nport = %d" % int(wait_for_file(port_file, proc=sink)))
    herald.rewrite_config("[delivery]\nbatch_size = 200")
    read_count = lambda: tuple(float(x) for x in open(count_file).read().split())
    wait_for_idle("delivery")
    worker = herald.spawn_worker()
    processes.append(worker)
    rates, cpu = [], []
    time.sleep(1)  # connections open, caches warm
    for _ in range(args.runs):
        (n0, t0), c0 = read_count(), cpu_seconds(worker.pid)
        time.sleep(args.seconds)
        (n1, t1), c1 = read_count(), cpu_seconds(worker.pid)
        rates.append((n1 - n0) / (t1 - t0))
        cpu.append((c1 - c0) / (t1 - t0))
    worker.terminate()
    worker.wait(60)
    sink.terminate()
    sink.wait(10)
    return rates, cpu


def micro_benchmarks(args):
    """herald_micro_bench's figures (per step of accepting one email), if it was built."""
    binary = os.path.join(os.path.dirname(os.path.abspath(args.herald)), "herald_micro_bench")
    if not os.path.exists(binary):
        return []
    out = subprocess.run([binary, "--benchmark_format=json", "--benchmark_repetitions=3",
                          "--benchmark_report_aggregates_only=true"],
                         capture_output=True, text=True, timeout=600, check=True).stdout
    rows = []
    for b in json.loads(out)["benchmarks"]:
        if b.get("aggregate_name") == "median":
            rows.append((b["run_name"], b["cpu_time"], b.get("allocs", 0)))
    return rows


def micro_lines(r):
    if not r["micro"]:
        return []
    lines = ["Accepting one email, step by step (`herald_micro_bench`, median of 3; allocations per call):", "",
             "| step | CPU ns | heap allocations |", "|---|---|---|"]
    lines += ["| %s | %.0f | %.0f |" % (name, ns, allocs) for name, ns, allocs in r["micro"]]
    return lines + [""]


def scale_lines(r, fresh_median):
    if not r["scale"]:
        return []
    lines = ["| notifications already stored | accepted/s min / median / max | p99 ms (median) | rate vs fresh "
             "| CPU stolen, % (max) |",
             "|---|---|---|---|---|",
             "| ~0 (the runs above, fresh database) | %s | %.1f | 100%% | %.1f |"
             % (summary([x["rate"] for x in r["herald"]]), statistics.median([x["p99"] for x in r["herald"]]),
                max(x["steal"] for x in r["herald"]))]
    for stored, runs in r["scale"]:
        median = statistics.median([x["rate"] for x in runs])
        lines.append("| %s | %s | %.1f | %.0f%% | %.1f |" % (
            "{:,}".format(stored), summary([x["rate"] for x in runs]), statistics.median([x["p99"] for x in runs]),
            100 * median / fresh_median, max(x["steal"] for x in runs)))
    return lines + ["", "A run whose CPU was stolen by other guests is slower for that reason alone; compare rows "
                    "with similar steal.", ""]


def idle_lines():
    if not IDLE:
        return []
    busy = [b for _, b, _ in IDLE]
    waited = [w for _, _, w in IDLE]
    late = [(what, b) for what, b, _ in IDLE if b >= 10.0]
    return ["Idle check before each of the %d rounds (CPU busy over the whole second before it must be under 10%%): "
            "busy %s %% (min / median / max), waited %s s; %s." % (
                len(IDLE), summary(busy, "%.1f"), summary(waited, "%.1f"),
                "every round started idle" if not late else "%d started busy after %.0f s wait: %s" % (
                    len(late), IDLE_TIMEOUT[0], ", ".join("%s (%.0f%%)" % x for x in late))), ""]


def profile_lines(r):
    p = r.get("profile")
    if not p:
        return ["No profile: `perf` is missing or not permitted here.", ""]
    lines = ["Where the server's CPU goes while accepting (perf, 499 Hz, the server process with its kernel time, "
             "one round of %.0f/s not counted above):" % p["rate"], "",
             "| share of samples | library |", "|---|---|"]
    lines += ["| %.1f%% | %s |" % (pct, name) for pct, name in p["dso"]]
    lines += ["", "| share of samples | library, function |", "|---|---|"]
    lines += ["| %.1f%% | %s |" % (pct, name.replace("|", "\\|")) for pct, name in p["symbols"]]
    lines += ["", "Server CPU per accepted request by thread (names less their number): " + ", ".join(
        "%s %.1f us" % (name, us) for name, us in p["threads"] if us >= 0.5) + "."]
    lines += ["", "Per accepted request: %.2f context switches, %.3f CPU migrations%s." % (
        p["context_switches"], p["migrations"],
        "" if p["allocations"] is None else ", %.0f heap allocations (malloc, calloc, realloc)" % p["allocations"]), ""]
    return lines


def write_results(args, r):
    rates = lambda runs: [x["rate"] for x in runs]
    herald_median = statistics.median(rates(r["herald"]))
    nginx_median = statistics.median(rates(r["nginx"]))
    listener_median = statistics.median(rates(r["listener"]))
    cpu_median = statistics.median([x["cpu"] for x in r["herald"]])
    cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = [
        "# Herald benchmark results",
        "",
        "Generated by `make bench` (bench/bench.py) on %s UTC." % time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "Machine: %d cores (%s), Linux %s; client (wrk, 2 threads, %d keep-alive connections) and server share it."
        % (os.cpu_count(), cpu_model, platform.release(), args.connections),
        "Each figure: %d runs of %d s, shown as min / median / max. CPU time stolen by the hypervisor during"
        % (args.runs, args.seconds),
        "the wrk runs (from /proc/stat): %s %% (min / median / max), a measure of how noisy the machine was."
        % summary(STEAL, "%.1f"),
        "",
        "| measure | min / median / max |",
        "|---|---|",
        "| disk: SQLite WAL synchronous=FULL, single-row commits/s | %s |" % summary(r["fsync"]),
        "| disk: rows/s in batches of 1,000 | %s |" % summary(r["batched"]),
        "| ceiling A: nginx, fixed 201 over TLS, requests/s | %s |" % summary(rates(r["nginx"])),
        "| ceiling B: Herald listener, route-less 404, requests/s | %s |" % summary(rates(r["listener"])),
        "| **Herald: accepted durable encrypted notifications/s** | **%s** |" % summary(rates(r["herald"])),
        "| Herald p50 latency, ms | %s |" % summary([x["p50"] for x in r["herald"]], "%.1f"),
        "| Herald p99 latency, ms | %s |" % summary([x["p99"] for x in r["herald"]], "%.1f"),
        "| Herald p99.9 latency, ms | %s |" % summary([x["p999"] for x in r["herald"]], "%.1f"),
        "| Herald server CPU, cores | %s |" % summary([x["cpu"] for x in r["herald"]], "%.2f"),
        "| Herald non-201 answers | %s |" % summary([x["errors"] for x in r["herald"]]),
        "| Herald peak RSS, MB | %.0f |" % r["rss"],
        "| Herald paced to ~70%% of its maximum: achieved requests/s (%% of the median maximum) | %s (%.0f%%) |"
        % (summary(rates(r["paced"])), 100 * statistics.median(rates(r["paced"])) / herald_median),
        "| Herald paced: p99 latency, ms | %s |" % summary([x["p99"] for x in r["paced"]], "%.1f"),
        "| **delivery: emails/s from the queue to a local SMTP sink** | **%s** |" % summary(r["delivery"]),
        "| delivery worker CPU, cores | %s |" % summary(r["delivery_cpu"], "%.2f"),
        "",
        "Ratios of medians to the nginx ceiling: Herald's listener **%.1f%%** (target 80%%); accepted notifications"
        % (100 * listener_median / nginx_median),
        "**%.1f%%** (target 30%%, aim 45%%); accepted / own listener %.1f%%."
        % (100 * herald_median / nginx_median, 100 * herald_median / listener_median),
        "Server CPU per accepted notification: **%.0f us** (median CPU %.2f cores / median rate)."
        % (1e6 * cpu_median / herald_median, cpu_median),
        "Each turn's own ratios (nginx, listener and accept rounds back to back), min / median / max: listener "
        "%s %%, accepted %s %%." % (
            summary([100 * l["rate"] / n["rate"] for n, l in zip(r["nginx"], r["listener"])], "%.1f"),
            summary([100 * h["rate"] / n["rate"] for n, h in zip(r["nginx"], r["herald"])], "%.1f")),
        "",
    ] + idle_lines() + postgres_lines(r, nginx_median, herald_median) + compare_lines(args, r) + profile_lines(r) + scale_lines(r, herald_median) + micro_lines(r) + [
        "Targets (issue 22), same run, medians: Herald's listener at 80% or more of nginx; accepted durable",
        "encrypted notifications at 30% or more (SQLite, --role api), PostgreSQL one node 20% or more; p99",
        "under 50 ms at 70% of the maximum; peak RSS under 200 MB; delivery at least 5,000 emails/s.",
        "",
    ]
    with open(args.output, "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
