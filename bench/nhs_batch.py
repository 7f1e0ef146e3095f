#!/usr/bin/python3
"""A 45,000-message NHS Notify batch (the API's maximum): the time from sending the request to
the 201 (validation, sealing every personal field, one transaction, durable), and the server's
peak RSS, against `herald serve --role api` (use a release build). Each round uses a new batch
reference; the machine's idle check runs before each round (load average and the server's CPU).

Usage: nhs_batch.py path/to/herald [--messages 45000] [--runs 3] [--budget-seconds 10]
Exits 1 when the median time is over the budget.
"""
import argparse
import http.client
import json
import os
import ssl
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "tools"))
from harness import Herald, SmtpSink, Workspace  # noqa: E402


def status_kb(pid, field):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def wait_idle(limit=0.5, timeout=120):
    """Waits until the 1-minute load average per core is under `limit`; returns it."""
    deadline = time.time() + timeout
    while True:
        load = os.getloadavg()[0] / os.cpu_count()
        if load < limit or time.time() > deadline:
            return load
        time.sleep(2)


def batch_body(count, reference):
    # ~100 bytes a message: NHS's 5.2 MB limit allows 45,000 of about 115 bytes.
    messages = ",".join(
        '{"messageReference":"m%d","recipient":{"nhsNumber":"9990548609"},"personalisation":{"sms_body":"Hi"}}'
        % i for i in range(count))
    return ('{"data":{"type":"MessageBatch","attributes":{"routingPlanId":"00000000-0000-0000-0000-000000000003",'
            '"messageBatchReference":"%s","messages":[%s]}}}' % (reference, messages)).encode()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("herald")
    parser.add_argument("--messages", type=int, default=45000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--budget-seconds", type=float, default=10.0)
    args = parser.parse_args()
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(args.herald, ws.dir, sink.port))
        service_id, _ = herald.create_service("Batch bench")
        client = herald.create_nhs_client(service_id, "--default-ods", "A12345")
        herald.start(role="api")
        pid = herald.proc.pid
        print("server RSS idle %.0f MB" % (status_kb(pid, "VmRSS") / 1024))
        context = ssl.create_default_context(cafile=herald.cert)
        times = []
        for run in range(args.runs):
            load = wait_idle()
            body = batch_body(args.messages, "bench-%s" % uuid.uuid4())
            token = herald.nhs_token(client)
            conn = http.client.HTTPSConnection("127.0.0.1", herald.port, context=context, timeout=300)
            started = time.monotonic()
            conn.request("POST", "/comms/v1/message-batches", body=body,
                         headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
            response = conn.getresponse()
            payload = response.read()
            elapsed = time.monotonic() - started
            conn.close()
            if response.status != 201:
                sys.exit("batch refused: %d %s" % (response.status, payload[:500]))
            stored = len(json.loads(payload)["data"]["attributes"]["messages"])
            assert stored == args.messages, stored
            times.append(elapsed)
            print("run %d: %d messages, %.0f KB request, %.2f s to the 201 (%.0f messages/s); load/core before %.2f; "
                  "server RSS peak %.0f MB, %.0f MB after" % (run + 1, stored, len(body) / 1024, elapsed, stored / elapsed,
                                                             load, status_kb(pid, "VmHWM") / 1024,
                                                             status_kb(pid, "VmRSS") / 1024))
        median = statistics.median(times)
        print("median %.2f s for %d messages (budget %.1f s); peak RSS %.0f MB" %
              (median, args.messages, args.budget_seconds, status_kb(pid, "VmHWM") / 1024))
        return 0 if median <= args.budget_seconds else 1


if __name__ == "__main__":
    sys.exit(main())
