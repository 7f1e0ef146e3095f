#!/usr/bin/python3
"""Integration: several `herald serve` nodes on one PostgreSQL database, under load from the
official Node client (tests/e2e/load_sender.js).

- two nodes, and three nodes: every accepted notification is delivered exactly once, and more
  than one node delivers (each node says EHLO with its own name; the sink records it);
- a node set up with a keyring of its own on the shared database is refused (init and serve);
- a relay slower than the lease (a batch outlasts it): still each notification exactly once (a
  node stops sending a batch before its lease runs out, and claims no more than it can send);
- kill -9 of a delivering node mid-load, while it holds claims (the relay is slowed down so
  that claims are held for a while): nothing accepted is lost, and the only notifications
  delivered twice are ones another node re-claimed after the dead node's lease ran out
  (attempts >= 2 in the database); the test prints how many;
- kill -9 of a node that accepts and delivers, mid-load: every notification it acknowledged
  (201) is delivered (by the other node); only its cut-off requests fail, as connection errors.
Always on PostgreSQL (its own server, tests/tools/pg.py). Usage: test_multinode.py /path/to/herald
"""
import collections
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, new_postgres_database, run_tests  # noqa: E402
from load import Load, received, wait_until_delivered  # noqa: E402

HERALD = sys.argv[1]
LEASE = "[delivery]\nlease_seconds = 3\nbatch_size = 20\nconnections = 2"


def setup(ws, sink_port):
    herald = ws.track(Herald(HERALD, ws.dir, sink_port, store_url=new_postgres_database(),
                             extra_config=LEASE + '\n\n[log]\nlevel = "warn"'))
    service_id, key = herald.create_service()
    herald.lift_limits(service_id)
    template_id = herald.create_template(service_id, "Load ((n))", "Message ((n))")
    return herald, key, template_id


def start_node(ws, herald, name, role):
    config = herald.node_config(name, '[smtp]\nhelo_name = "%s"' % name)
    proc, port = herald.spawn_node(role=role, name=name, config=config)
    ws.track(Process(proc))
    return proc, port


class Process:
    def __init__(self, proc):
        self.proc = proc

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def exactly_once(nodes):
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald, key, template_id = setup(ws, sink.port)
        ports = [start_node(ws, herald, "node%d" % i, "all")[1] for i in range(1, nodes + 1)]
        load = Load(herald, ports, key, template_id)
        time.sleep(4)
        ids = load.stop()
        wait_until_delivered(herald, len(ids))
        got = received(sink)
        assert set(got) == set(ids), "lost: %d, unexpected: %d" % (len(set(ids) - set(got)), len(set(got) - set(ids)))
        twice = [i for i, senders in got.items() if len(senders) > 1]
        assert twice == [], "delivered more than once without any failure: %s" % twice[:5]
        senders = collections.Counter(s for names in got.values() for s in names)
        assert len(senders) == nodes, "every node should have delivered: %s" % dict(senders)
        print("  %d nodes: %d accepted, each delivered once; per node %s" % (nodes, len(ids), dict(senders)),
              flush=True)


def test_two_nodes_deliver_each_notification_exactly_once():
    exactly_once(2)


def test_three_nodes_deliver_each_notification_exactly_once():
    exactly_once(3)


def test_a_relay_slower_than_the_lease_causes_no_duplicates():
    # 250 ms per message: a full batch (20) takes 5 s, longer than the 3 s lease. A node must not
    # go on sending claims whose lease ran out: another node has re-claimed them by then.
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir, delay_ms=250))
        herald, key, template_id = setup(ws, sink.port)
        ports = [start_node(ws, herald, "node%d" % i, "all")[1] for i in (1, 2)]
        load = Load(herald, ports, key, template_id)
        time.sleep(3)
        # Volume is not the point here (a slow ASan build on a busy machine accepts few): more
        # than a batch is enough to make the lease run out.
        ids = load.stop(minimum=20)
        wait_until_delivered(herald, len(ids))
        got = received(sink)
        assert set(got) == set(ids), "lost: %d" % len(set(ids) - set(got))
        twice = [i for i, senders in got.items() if len(senders) > 1]
        assert twice == [], "%d of %d delivered twice, e.g. %s" % (len(twice), len(ids), twice[:3])
        attempts = collections.Counter(a for _, a in herald.sql("SELECT id, attempts FROM notifications"))
        print("  slow relay: %d accepted, each delivered once; attempts %s" % (len(ids), dict(attempts)), flush=True)


def test_kill_9_of_a_node_mid_load_loses_nothing():
    with Workspace() as ws:
        # 30 ms per message: a worker's batch of 20 is held for ~0.6 s, so the kill lands on claims.
        sink = ws.track(SmtpSink(ws.dir, delay_ms=30))
        herald, key, template_id = setup(ws, sink.port)
        _, api_port = start_node(ws, herald, "api", "api")
        victim, _ = start_node(ws, herald, "victim", "worker")
        start_node(ws, herald, "survivor", "worker")
        load = Load(herald, [api_port], key, template_id)
        time.sleep(3)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        time.sleep(2)
        ids = load.stop()
        wait_until_delivered(herald, len(ids))
        got = received(sink)
        missing = set(ids) - set(got)
        assert not missing, "lost after kill -9: %d, e.g. %s" % (len(missing), sorted(missing)[:3])
        attempts = dict(herald.sql("SELECT id, attempts FROM notifications"))
        reclaimed = [i for i in ids if attempts[i] >= 2]
        duplicates = [i for i, senders in got.items() if len(senders) > 1]
        wrong = [i for i in duplicates if attempts[i] < 2]
        assert not wrong, "delivered twice but never re-claimed: %s" % wrong[:5]
        assert reclaimed, "the killed node held no claims: the test did not test a crash"
        assert all(got[i][-1] == "survivor" for i in duplicates)
        print("  kill -9: %d accepted, %d re-claimed after the lease, %d delivered twice (all of them re-claimed)"
              % (len(ids), len(reclaimed), len(duplicates)), flush=True)


def test_a_node_with_a_keyring_of_its_own_is_refused():
    with Workspace() as ws:
        url = new_postgres_database()
        first = ws.track(Herald(HERALD, ws.dir, 1, store_url=url))
        first.create_service()  # data keys now exist, wrapped under the first node's KEK
        try:
            Herald(HERALD, ws.dir, 1, store_url=url, name="stranger")  # `herald init` with a new keyring
        except RuntimeError as e:
            assert "same keyring" in str(e), e
        else:
            raise AssertionError("a node whose KEK cannot unwrap the shared data keys must not join")
        # And serve refuses too, should such a configuration exist.
        stranger_config = os.path.join(ws.dir, "stranger", "herald.toml")
        out = subprocess.run([HERALD, "--config", stranger_config, "serve"], capture_output=True, text=True,
                             timeout=60)
        assert out.returncode != 0 and "same keyring" in out.stdout + out.stderr, out


def test_kill_9_of_an_accepting_node_loses_nothing_it_acknowledged():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir, delay_ms=30))
        herald, key, template_id = setup(ws, sink.port)
        victim, victim_port = start_node(ws, herald, "victim", "all")
        _, survivor_port = start_node(ws, herald, "survivor", "all")
        load = Load(herald, [victim_port, survivor_port], key, template_id)
        time.sleep(3)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        time.sleep(2)
        ids = load.stop(killed_port=victim_port)
        # Also rows the killed node committed but whose 201 never left it: they are delivered too.
        wait_until_delivered(herald, herald.sql("SELECT count(*) FROM notifications")[0][0])
        got = received(sink)
        missing = set(ids) - set(got)
        assert not missing, "acknowledged (201) but never delivered: %d" % len(missing)
        attempts = dict(herald.sql("SELECT id, attempts FROM notifications"))
        duplicates = [i for i, senders in got.items() if len(senders) > 1]
        assert all(attempts[i] >= 2 for i in duplicates), "delivered twice but never re-claimed"
        print("  kill -9 of an accepting node: %d acknowledged, %d requests cut off, %d delivered twice"
              % (len(ids), load.failed, len(duplicates)), flush=True)


if __name__ == "__main__":
    run_tests([test_a_node_with_a_keyring_of_its_own_is_refused,
               test_two_nodes_deliver_each_notification_exactly_once,
               test_three_nodes_deliver_each_notification_exactly_once,
               test_a_relay_slower_than_the_lease_causes_no_duplicates,
               test_kill_9_of_a_node_mid_load_loses_nothing,
               test_kill_9_of_an_accepting_node_loses_nothing_it_acknowledged])
