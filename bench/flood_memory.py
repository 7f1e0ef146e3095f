#!/usr/bin/python3
"""Memory under a connection flood: `herald serve` (use a release build: the ASan allocator keeps
freed memory in quarantine) idles, then N TLS connections are opened and held without a request,
then closed. Reports VmRSS idle, held (and per connection), and a few seconds after the close,
for each N given; exits 1 when RSS after the close is above `--limit` times the idle RSS.

Usage: flood_memory.py path/to/herald [--connections 5000,10000,20000] [--limit 2.0]
"""
import argparse
import os
import resource
import socket
import ssl
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
from harness import Herald, Workspace  # noqa: E402


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def settle(pid, seconds):
    """RSS after `seconds`, sampled (the lowest of the last second: a sample can catch a trim)."""
    deadline = time.time() + seconds
    samples = []
    while time.time() < deadline:
        samples.append(rss_kb(pid))
        time.sleep(0.1)
    return min(samples[-10:])


def flood(herald, count):
    context = ssl.create_default_context(cafile=herald.cert)
    held = []
    for _ in range(count):
        raw = socket.create_connection(("127.0.0.1", herald.port), timeout=30)
        held.append(context.wrap_socket(raw, server_hostname="localhost"))
    return held


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("herald")
    parser.add_argument("--connections", default="5000,10000,20000")
    parser.add_argument("--limit", type=float, default=2.0)
    args = parser.parse_args()
    counts = [int(c) for c in args.connections.split(",")]
    # Each end needs a descriptor per connection: the limit is inherited by the server. Up to the
    # hard limit (a container may not allow raising it).
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    want = max(counts) + 1024 if hard == resource.RLIM_INFINITY else min(max(counts) + 1024, hard)
    if want < max(counts) + 100:
        sys.exit("the descriptor limit (%d) is too low for %d connections" % (hard, max(counts)))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    failed = False
    print("| connections | RSS idle | RSS held | per connection | RSS 5 s after close | after / idle |")
    print("|---|---|---|---|---|---|")
    for count in counts:
        with Workspace() as ws:
            herald = ws.track(Herald(args.herald, ws.dir, 1, extra_config=(
                "[server]\nmax_connections = %d\nmax_connections_per_source = %d\nidle_timeout_seconds = 600\n"
                "handshake_timeout_seconds = 600\n\n[log]\nlevel = \"warn\"" % (count + 100, count + 100))))
            herald.start(role="api")
            pid = herald.proc.pid
            idle = settle(pid, 2)
            held = flood(herald, count)
            during = settle(pid, 2)
            for s in held:
                s.close()
            after = settle(pid, 5)
            ratio = after / idle
            failed = failed or ratio > args.limit
            print("| %d | %.1f MB | %.1f MB | %.1f KB | %.1f MB | %.2fx |" % (
                count, idle / 1024, during / 1024, (during - idle) / count, after / 1024, ratio), flush=True)
            herald.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
