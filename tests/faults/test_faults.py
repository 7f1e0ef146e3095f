#!/usr/bin/python3
"""Fault injection: each scenario runs `herald serve` under load from the official Node client,
breaks something, mends it, and asserts that every notification acknowledged with a 201 is
readable and delivered at least once. Duplicates (a notification the relay received twice) are
counted and printed: Herald's guarantee is at-least-once delivery; a notification is sent twice
only when a crash or a lost connection leaves its outcome unrecorded.

Scenarios (SQLite unless said; `make faults` runs each FAULT_ROUNDS times, `make test` once):
- kill -9 of serve under load, restarted;
- power loss under load: tests/faults/faultfs.cc (LD_PRELOAD) logs every write to the data
  directory; after kill -9, every write no fsync/fdatasync followed is undone (tests/faults/faultfs.py),
  so the files are what a machine losing power would have kept;
- disk full during accept and during the WAL checkpoint: the same shim fails growing writes with
  ENOSPC for a few seconds: requests get 503 (never 500), nothing acknowledged is lost, and
  acceptance resumes when space returns;
- an SMTP relay that hangs, resets connections, or answers garbage, then recovers;
- an SMS provider that hangs (takes the text, answers too late), resets, or answers garbage;
- a callback receiver that accepts connections and never answers: deliveries go on, callbacks
  are given up after their retries, serve stops promptly;
- PostgreSQL restarted (fast) and killed (immediate) mid-load (on PostgreSQL).
Usage: test_faults.py /path/to/herald /path/to/libherald_faultfs.so
"""
import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultfs import power_cut  # noqa: E402
from harness import Herald, SmtpSink, Workspace, new_postgres_database, postgres_server, run_tests  # noqa: E402
from load import Load, received, wait_until_delivered  # noqa: E402
from pg import free_port  # noqa: E402
from sms_provider import SmsProvider, self_signed  # noqa: E402

HERALD = sys.argv[1]
SHIM = sys.argv[2]
ROUNDS = int(os.environ.get("FAULT_ROUNDS", "1"))
CONFIG = ('[delivery]\nlease_seconds = 5\nbatch_size = 20\nfirst_retry_ms = 200\nmax_retry_ms = 1000\nmax_attempts = 1000\n\n'
          '[smtp]\ntimeout_ms = 1500\n\n[log]\nlevel = "warn"')
RESULTS = collections.defaultdict(list)


def setup(ws, sink_port, store_url=None):
    herald = ws.track(Herald(HERALD, ws.dir, sink_port, store_url=store_url, extra_config=CONFIG))
    service_id, key = herald.create_service()
    herald.lift_limits(service_id)
    template_id = herald.create_template(service_id, "Load ((n))", "Message ((n))")
    return herald, key, template_id


def with_shim(herald, ws, enospc=None, no_sync=False):
    """Starts serve under faultfs; returns the undo log's path."""
    undo = os.path.join(ws.dir, "undo-%d.log" % time.time_ns())
    plain = herald.env
    herald.env = dict(plain, LD_PRELOAD=SHIM, FAULTFS_DIR=os.path.realpath(herald.dir), FAULTFS_UNDO=undo,
                      FAULTFS_ENOSPC=enospc or "", FAULTFS_NO_SYNC="1" if no_sync else "",
                      ASAN_OPTIONS=plain.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")
    try:
        herald.start()
    finally:
        herald.env = plain
    return undo


def check_delivered(herald, sink, ids, scenario):
    """Every acknowledged id is stored and delivered at least once; records the duplicates. The
    store may hold more than was acknowledged (committed, then cut off before the 201)."""
    stored = {row[0] for row in herald.sql("SELECT id FROM notifications")}
    missing = set(ids) - stored
    assert not missing, "%s: acknowledged but lost: %d, e.g. %s" % (scenario, len(missing), sorted(missing)[:3])
    wait_until_delivered(herald, len(stored), timeout=240)
    got = received(sink)
    undelivered = set(ids) - set(got)
    assert not undelivered, "%s: never delivered: %d" % (scenario, len(undelivered))
    duplicates = sum(1 for i in ids if len(got[i]) > 1)
    RESULTS[scenario].append((len(ids), duplicates))
    print("  %s: %d acknowledged, all stored and delivered; %d delivered twice (%.2f%%)"
          % (scenario, len(ids), duplicates, 100.0 * duplicates / max(len(ids), 1)), flush=True)
    return got


def test_kill_9_under_load_loses_nothing_acknowledged():
    for _ in range(ROUNDS):
        with Workspace() as ws:
            sink = ws.track(SmtpSink(ws.dir, delay_ms=5))
            herald, key, template_id = setup(ws, sink.port)
            herald.start()
            load = Load(herald, [herald.port], key, template_id)
            time.sleep(4)
            port = herald.port
            herald.stop(signal.SIGKILL)
            ids = load.stop(killed_port=port)
            herald.start()
            check_delivered(herald, sink, ids, "kill -9")
            herald.stop()


def power_loss(no_sync=False):
    for _ in range(1 if no_sync else ROUNDS):
        with Workspace() as ws:
            sink = ws.track(SmtpSink(ws.dir, delay_ms=5))
            herald, key, template_id = setup(ws, sink.port)
            undo = with_shim(herald, ws, no_sync=no_sync)
            load = Load(herald, [herald.port], key, template_id)
            time.sleep(4)
            port = herald.port
            herald.stop(signal.SIGKILL)
            ids = load.stop(killed_port=port)
            undone, lost, files = power_cut(undo)
            assert undone > 0, "nothing unsynced at the cut: the scenario tested nothing"
            for name in ("herald.db-shm", "keys.db-shm"):  # shared memory: gone with the power
                path = os.path.join(herald.dir, name)
                if os.path.exists(path):
                    os.remove(path)
            print("  power cut: %d unsynced writes undone (%d bytes past the synced ends) in %s"
                  % (undone, lost, ", ".join(files)), flush=True)
            herald.start()
            check_delivered(herald, sink, ids, "power loss")
            assert herald.run_cli("audit", "verify").startswith("ok")
            herald.stop()


def test_power_loss_under_load_loses_nothing_acknowledged():
    power_loss()


def test_power_loss_check_catches_writes_that_were_never_synced():
    """The control: with every fsync unrecorded (a disk that lies about flushing), the cut takes
    acknowledged notifications with it, and the check above must say so."""
    try:
        power_loss(no_sync=True)
    except AssertionError as e:
        assert "acknowledged but lost" in str(e), e
        print("  control: %s" % str(e).split(", e.g.")[0], flush=True)
    else:
        raise AssertionError("the power-loss check passed with no sync recorded: it proves nothing")


def test_disk_full_answers_503_loses_nothing_and_resumes():
    for _ in range(ROUNDS):
        with Workspace() as ws:
            sink = ws.track(SmtpSink(ws.dir, delay_ms=5))
            herald, key, template_id = setup(ws, sink.port)
            full = os.path.join(ws.dir, "disk-full")
            with_shim(herald, ws, enospc=full)
            load = Load(herald, [herald.port], key, template_id)
            time.sleep(2)
            open(full, "w").close()
            time.sleep(4)
            os.remove(full)
            time.sleep(4)
            ids = load.stop(allowed_statuses=(503,))
            refused = [f for f in load.failures if f["status"] == 503]
            assert refused, "no request met the full disk: the scenario tested nothing"
            status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
                "email_address": "after@example.com", "template_id": template_id, "personalisation": {"n": "x"}})
            assert status == 201, ("acceptance resumes once space returns", status, body)
            check_delivered(herald, sink, ids + [body["id"]], "disk full")
            print("  disk full: %d requests answered 503 while full" % len(refused), flush=True)
            herald.stop()


class BadRelay:
    """An SMTP port that misbehaves: 'hang' (accepts, never greets), 'reset' (RST at once),
    'garbage' (random bytes for a greeting)."""

    def __init__(self, port, mode):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.mode, self.held, self.accepted = mode, [], 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == "hang":
                self.held.append(conn)
            elif self.mode == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                conn.close()
            else:
                conn.sendall(os.urandom(64) + b"\r\n\x00\xff 999 what\r\n")
                time.sleep(0.05)
                conn.close()

    def stop(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self.held:
            conn.close()


def test_a_relay_that_hangs_resets_or_answers_garbage_delays_but_loses_nothing():
    for mode in ("hang", "reset", "garbage"):
        with Workspace() as ws:
            port = free_port()
            herald, key, template_id = setup(ws, port)
            relay = BadRelay(port, mode)
            herald.start()
            load = Load(herald, [herald.port], key, template_id, concurrency=2)
            time.sleep(4)
            ids = load.stop(minimum=5)
            assert relay.accepted > 0, "Herald never tried the relay"
            statuses = collections.Counter(s for (s,) in herald.sql("SELECT status FROM notifications"))
            assert set(statuses) <= {"created", "sending", "pending"}, statuses
            relay.stop()
            sink = ws.track(SmtpSink(ws.dir, port=port))
            check_delivered(herald, sink, ids, "relay " + mode)
            herald.stop()


def test_a_callback_receiver_that_never_answers_stalls_nothing():
    """The service's callback URL accepts connections and never says a word (not even TLS).
    Deliveries go on at full pace, every callback is tried and given up after its retries, and
    serve still stops promptly."""
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir, delay_ms=5))
        silent = BadRelay(free_port(), "hang")
        cert, _ = self_signed(ws.dir, "receiver")
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=CONFIG + (
            '\n\n[callbacks]\nallow_private_addresses = true\nca_file = "%s"\ntimeout_ms = 1000\n'
            'retry_ms = 200\nmax_retries = 1' % cert)))
        service_id, key = herald.create_service()
        herald.lift_limits(service_id)
        template_id = herald.create_template(service_id, "Load ((n))", "Message ((n))")
        token_file = os.path.join(herald.dir, "token")
        with open(token_file, "w") as f:
            f.write("callback-bearer-token-42\n")
        herald.run_cli("service", "set-callback", "--service", service_id, "--kind", "delivery_status",
                       "--url", "https://127.0.0.1:%d/status" % silent.sock.getsockname()[1],
                       "--bearer-token-file", token_file)
        herald.start()
        load = Load(herald, [herald.port], key, template_id)
        time.sleep(4)
        ids = load.stop()
        check_delivered(herald, sink, ids, "silent callback receiver")
        assert silent.accepted > 0, "no callback was tried"
        deadline = time.time() + 120
        while time.time() < deadline:
            left = herald.sql("SELECT count(*) FROM notifications WHERE callback_due_at IS NOT NULL")[0][0]
            if left == 0:
                break
            time.sleep(0.5)
        assert left == 0, "%d callbacks still due after their retries" % left
        started = time.time()
        herald.stop()
        assert time.time() - started < 15, "serve took %.1f s to stop" % (time.time() - started)
        print("  silent callback receiver: %d connections held, every callback given up after its retries"
              % silent.accepted, flush=True)
        silent.stop()


def test_an_sms_provider_that_hangs_resets_or_answers_garbage_delays_but_loses_nothing():
    """Texts sent while the only provider misbehaves wait (never fail), and all reach it once it
    recovers. A provider that took a text but answered too late is sent it again: counted."""
    env = {"HERALD_FIRETEXT_API_KEY": "test-api-key", "HERALD_FIRETEXT_RECEIPT_PASSWORD": "receipt-pw"}
    for mode in ("hang", "reset", "garbage"):
        with Workspace() as ws:
            provider = ws.track(SmsProvider(ws.dir, "firetext", receipt="0"))
            sink = ws.track(SmtpSink(ws.dir))
            herald = ws.track(Herald(HERALD, ws.dir, sink.port, env=env, extra_config=CONFIG + "\n\n" + "\n\n".join([
                '[sms]\nproviders = ["firetext"]\nreceipt_base_url = "https://herald.invalid/"',
                provider.config().strip()])))
            service_id, key = herald.create_service()
            herald.lift_limits(service_id)
            template_id = herald.create_template(service_id, None, "Code ((n))", name="Text", type="sms")
            herald.start()
            provider.herald_url, provider.herald_cert = "https://127.0.0.1:%d" % herald.port, herald.cert
            provider.mode = mode
            ids = []
            for n in range(20):
                status, body = herald.request("POST", "/v2/notifications/sms", key=key, body={
                    "phone_number": "07700 9005%02d" % n, "template_id": template_id, "personalisation": {"n": str(n)}})
                assert status == 201, (status, body)
                ids.append(body["id"])
            time.sleep(4)
            statuses = collections.Counter(s for (s,) in herald.sql("SELECT status FROM notifications"))
            assert set(statuses) <= {"created", "sending", "pending"}, (mode, statuses)
            provider.mode = "ok"
            deadline = time.time() + 120
            while time.time() < deadline:
                statuses = collections.Counter(s for (s,) in herald.sql("SELECT status FROM notifications"))
                if statuses == {"delivered": len(ids)}:
                    break
                time.sleep(0.5)
            assert statuses == {"delivered": len(ids)}, (mode, statuses, herald.sql(
                "SELECT status, attempts, due_at, updated_at, sent_by FROM notifications WHERE status <> 'delivered'"))
            texts = collections.Counter(m["message"] for m in provider.received)
            assert len(texts) == len(ids), (mode, len(texts))
            twice = sum(1 for c in texts.values() if c > 1)
            RESULTS["sms provider " + mode].append((len(ids), twice))
            print("  sms provider %s: %d acknowledged, all delivered; %d sent to the provider twice"
                  % (mode, len(ids), twice), flush=True)
            herald.stop()


def test_postgres_restarted_and_killed_mid_load_loses_nothing():
    server = postgres_server()
    for how in ("fast", "immediate"):
        with Workspace() as ws:
            sink = ws.track(SmtpSink(ws.dir, delay_ms=5))
            herald, key, template_id = setup(ws, sink.port, store_url=new_postgres_database())
            herald.start()
            load = Load(herald, [herald.port], key, template_id)
            time.sleep(3)
            server.restart(how)
            time.sleep(5)
            ids = load.stop(allowed_statuses=(503,))
            refused = sum(1 for f in load.failures if f["status"] == 503)
            check_delivered(herald, sink, ids, "postgres %s restart" % how)
            print("  postgres %s restart: %d requests answered 503 while it was down" % (how, refused), flush=True)
            herald.stop()


def summary():
    for scenario, rounds in RESULTS.items():
        acknowledged = sum(a for a, _ in rounds)
        duplicates = sum(d for _, d in rounds)
        print("SUMMARY %s: %d rounds, %d acknowledged, none lost, %d delivered twice (%.3f%%)"
              % (scenario, len(rounds), acknowledged, duplicates, 100.0 * duplicates / max(acknowledged, 1)))


if __name__ == "__main__":
    try:
        run_tests([test_kill_9_under_load_loses_nothing_acknowledged, test_power_loss_under_load_loses_nothing_acknowledged,
                   test_power_loss_check_catches_writes_that_were_never_synced,
                   test_disk_full_answers_503_loses_nothing_and_resumes,
                   test_a_relay_that_hangs_resets_or_answers_garbage_delays_but_loses_nothing,
                   test_a_callback_receiver_that_never_answers_stalls_nothing,
                   test_an_sms_provider_that_hangs_resets_or_answers_garbage_delays_but_loses_nothing,
                   test_postgres_restarted_and_killed_mid_load_loses_nothing])
    finally:
        summary()
