"""Load from the official Node client (tests/e2e/load_sender.js) and what the SMTP sink received,
for the suites that check nothing acknowledged is lost (test_multinode.py, tests/faults)."""
import collections
import json
import os
import subprocess
import time

E2E = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")


class Load:
    """The official client sending from 8 loops, spread over the given API nodes, until stop()."""

    def __init__(self, herald, ports, key, template_id, concurrency=8):
        self.stop_file = os.path.join(herald.dir, "stop-load-%d" % time.time_ns())
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=herald.cert,
                   HERALD_URLS=",".join("https://127.0.0.1:%d" % p for p in ports),
                   HERALD_API_KEYS=key, HERALD_TEMPLATE_IDS=template_id, STOP_FILE=self.stop_file,
                   CONCURRENCY=str(concurrency))
        # No LD_PRELOAD of the server's (a fault shim) in the client.
        env.pop("LD_PRELOAD", None)
        self.proc = subprocess.Popen(["node", os.path.join(E2E, "load_sender.js")], cwd=E2E, env=env,
                                     stdout=subprocess.PIPE)

    def stop(self, killed_port=None, minimum=50, allowed_statuses=()):
        """The accepted ids. Failures are allowed only as connection errors from a node killed
        on purpose (its in-flight requests were never acknowledged), and as `allowed_statuses`
        (e.g. 503 while the disk is full). self.failures: every failure."""
        open(self.stop_file, "w").close()
        out, _ = self.proc.communicate(timeout=120)
        result = json.loads(out)
        killed = "https://127.0.0.1:%d" % killed_port if killed_port else None
        unexpected = [f for f in result["failures"]
                      if not ((f["base"] == killed and f["status"] is None) or f["status"] in allowed_statuses)]
        assert unexpected == [], unexpected[:5]
        assert len(result["accepted"]) > minimum, len(result["accepted"])
        self.failures = result["failures"]
        self.failed = len(result["failures"])
        return [a["id"] for a in result["accepted"]]


def received(sink):
    """Message-ID (= notification id) -> list of the EHLO names of the nodes that sent it."""
    out = collections.defaultdict(list)
    for raw, meta in sink.messages():
        for line in raw.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                out[line.split(b"<", 1)[1].split(b"@", 1)[0].decode()].append(meta["helo"])
                break
    return out


def wait_until_delivered(herald, expected, timeout=120):
    """Until the store holds `expected` notifications, all delivered."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        pending = herald.sql("SELECT count(*) FROM notifications WHERE status <> 'delivered'")[0][0]
        total = herald.sql("SELECT count(*) FROM notifications")[0][0]
        if pending == 0 and total == expected:
            return
        time.sleep(0.3)
    raise TimeoutError("%s of %s notifications still undelivered" % (pending, total))
