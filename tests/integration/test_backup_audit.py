#!/usr/bin/python3
"""Backups and the audit log end to end (SC-24, SC-25, SC-26, SC-32).

Backups: taken while a client sends, verified, restored into a fresh data directory where every
notification acknowledged before the backup reads back and the audit log verifies; a flipped
byte fails verify; restore refuses a database that holds data; the canaries never appear in a
backup file; a restore drill opens the backup in a scratch directory (and fails without the data
keys, or on a rewritten audit chain); data shredded by retention stays unreadable in a backup taken before the shred.
Audit: each of the five tamperings (edited, deleted, reordered entries, a truncated tail, a
forged checkpoint) makes `herald audit verify` fail and name the problem; refused requests are
recorded (counted, no token); export gives JSON Lines.
Usage: test_backup_audit.py /path/to/herald
"""
import hashlib
import json
import os
import shutil
import sqlite3
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from canary import CANARY_EMAIL, CANARY_PERSONALISATION, scan_files  # noqa: E402
from harness import Herald, SmtpSink, Workspace, make_token, retention_moment, run_tests  # noqa: E402

HERALD = sys.argv[1]


def send(herald, key, template_id, email=CANARY_EMAIL, value=CANARY_PERSONALISATION):
    status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
        "email_address": email, "template_id": template_id, "personalisation": {"canary": value}})
    assert status == 201, (status, body)
    return body["id"]


def serving(ws, env=None):
    """An SMTP sink and a started server with a service, its key and a canary email template."""
    sink = ws.track(SmtpSink(ws.dir))
    herald = ws.track(Herald(HERALD, ws.dir, sink.port, env=env))
    service_id, key = herald.create_service()
    template_id = herald.create_template(service_id, "Hi", "Code ((canary))")
    herald.start()
    return sink, herald, service_id, key, template_id


def fresh_copy_with_keys(ws, source, sink_port, name):
    """A data directory made by `herald init`, with the key material copied from `source`."""
    target = ws.track(Herald(HERALD, ws.dir, sink_port, name=name, env=source.env))
    for f in ("keyring", "keys.db"):
        shutil.copy2(os.path.join(source.dir, f), os.path.join(target.dir, f))
    for f in ("keys.db-wal", "keys.db-shm"):
        if os.path.exists(os.path.join(target.dir, f)):
            os.remove(os.path.join(target.dir, f))
        if os.path.exists(os.path.join(source.dir, f)):
            shutil.copy2(os.path.join(source.dir, f), os.path.join(target.dir, f))
    return target


def test_backup_under_load_restores_every_acknowledged_notification():
    with Workspace() as ws:
        sink, herald, service_id, key, template_id = serving(ws)
        acknowledged = [send(herald, key, template_id) for _ in range(20)]
        stop = threading.Event()
        during = []

        def keep_sending():
            while not stop.is_set():
                during.append(send(herald, key, template_id, email="load@example.org", value="x"))

        sender = threading.Thread(target=keep_sending)
        sender.start()
        backup = os.path.join(ws.dir, "herald.backup")
        try:
            created = herald.run_cli("backup", "create", backup)
        finally:
            stop.set()
            sender.join()
        assert "backup written" in created, created
        assert oct(os.stat(backup).st_mode & 0o777) == "0o600"
        verified = herald.run_cli("backup", "verify", backup)
        assert "is intact" in verified, verified
        assert scan_files([backup]) == [], "canaries in the backup file"
        code, _, err = herald.run_cli("backup", "restore", backup, check=False)
        assert code != 0 and "refusing to restore" in err, err
        herald.stop()

        restored = fresh_copy_with_keys(ws, herald, sink.port, "restored")
        out = restored.run_cli("backup", "restore", backup)
        assert "audit log: ok" in out, out
        db = sqlite3.connect(os.path.join(restored.dir, "herald.db"))
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.close()
        restored.start()
        for nid in acknowledged:
            status, body = restored.request("GET", "/v2/notifications/" + nid, key=key)
            assert status == 200 and body["email_address"] == CANARY_EMAIL, (status, body)
        restored.stop()
        verify = restored.run_cli("audit", "verify")
        assert verify.startswith("ok"), verify
        exported = [json.loads(l) for l in restored.run_cli("audit", "export").splitlines()]
        actions = [e["action"] for e in exported]
        assert "backup.created" not in actions, "the backup's own entry comes after its snapshot"
        # The restore's own entry, then the record of the checkpoint the restore signed (then what
        # the restored node's serve recorded, e.g. its configuration check).
        at = actions.index("backup.restored")
        assert actions[at + 1] == "audit.checkpointed" and "service.created" in actions[:at], actions
        assert set(actions[at + 2:]) <= {"security.config_findings", "audit.checkpointed"}, actions
        assert all(CANARY_EMAIL not in json.dumps(e) for e in exported)


def test_key_backup_restores_while_a_key_copy_taken_while_serving_is_refused():
    """The old README procedure (copy keyring and keys.db while serve runs) missed the day's data
    keys, which live in keys.db-wal until a checkpoint: the restore said "audit log: ok" and every
    restored notification answered 500. Now `backup restore` refuses such a key store by name and
    restores nothing, serve refuses to start on it, and `herald keys backup` gets it right."""
    with Workspace() as ws:
        sink, herald, service_id, key, template_id = serving(ws)
        sent = [send(herald, key, template_id) for _ in range(5)]
        stale = os.path.join(ws.dir, "stale-copy")
        os.makedirs(stale)
        for f in ("keyring", "keys.db"):
            shutil.copy2(os.path.join(herald.dir, f), os.path.join(stale, f))
        keys_backup = os.path.join(ws.dir, "keys.backup")
        out = herald.run_cli("keys", "backup", keys_backup)
        assert "read back and verified" in out, out
        assert oct(os.stat(keys_backup).st_mode & 0o777) == "0o600"
        backup = os.path.join(ws.dir, "herald.backup")
        herald.run_cli("backup", "create", backup)
        herald.stop()
        copied = sqlite3.connect(os.path.join(stale, "keys.db"))
        scopes = [row[0] for row in copied.execute("SELECT scope FROM data_keys")]
        copied.close()
        assert not any(s.startswith("notifications/" + service_id) for s in scopes), \
            "premise: the copy taken while serving lacks the day's key (it was in the WAL): %s" % scopes

        naive = ws.track(Herald(HERALD, ws.dir, sink.port, name="naive", env=herald.env))
        for f in ("keyring", "keys.db"):
            shutil.copy2(os.path.join(stale, f), os.path.join(naive.dir, f))
        code, out, err = naive.run_cli("backup", "restore", backup, check=False)
        assert code != 0, (out, err)
        assert "nothing was restored" in err and "no data key for the notifications of service " + service_id in err, err
        assert "herald keys restore" in err, err

        good = ws.track(Herald(HERALD, ws.dir, sink.port, name="good", env=herald.env))
        shutil.copy2(os.path.join(herald.dir, "keyring"), os.path.join(good.dir, "keyring"))
        out = good.run_cli("backup", "restore", backup, "--keys", keys_backup)
        assert "data keys: ok" in out and "audit log: ok" in out, out
        good.start()
        for nid in sent:
            status, body = good.request("GET", "/v2/notifications/" + nid, key=key)
            assert status == 200 and body["email_address"] == CANARY_EMAIL, (status, body)
        good.stop()

        # The restored data beside the stale key store: serve refuses to start, naming the day.
        shutil.copy2(os.path.join(good.dir, "herald.db"), os.path.join(naive.dir, "herald.db"))
        started = subprocess.run([HERALD, "--config", naive.config, "serve"], env=naive.env,
                                 capture_output=True, text=True, timeout=120)
        assert started.returncode != 0, started
        log = started.stdout + started.stderr
        assert "serve.start_failed" in log and "no data key for the notifications" in log, log
        keys_after = sqlite3.connect(os.path.join(naive.dir, "keys.db"))
        made = [row[0] for row in keys_after.execute("SELECT scope FROM data_keys")
                if row[0].startswith("notifications/" + service_id)]
        keys_after.close()
        assert made == [], "no key may be made for a day whose data is sealed under another: %s" % made

        # The key backup mends that key store in place; then serve starts and reads everything.
        out = naive.run_cli("keys", "restore", keys_backup)
        assert "restored" in out, out
        naive.start()
        for nid in sent:
            status, body = naive.request("GET", "/v2/notifications/" + nid, key=key)
            assert status == 200 and body["email_address"] == CANARY_EMAIL, (status, body)
        naive.stop()


def marks(herald):
    db = sqlite3.connect(os.path.join(herald.dir, "herald.db"))
    try:
        return {name for (name,) in db.execute("SELECT name FROM operation_marks WHERE name LIKE 'backup.%'")}
    finally:
        db.close()


def test_restore_drill_opens_the_backup_without_touching_the_live_data():
    with Workspace() as ws:
        sink, herald, service_id, key, template_id = serving(ws)
        for _ in range(5):
            send(herald, key, template_id)
        backup = os.path.join(ws.dir, "drill.backup")
        herald.run_cli("backup", "create", backup)
        before = sorted(os.listdir(herald.dir))
        # While serve runs: the drill restores into a scratch directory, not over the live files.
        out = herald.run_cli("backup", "verify", "--restore-drill", backup)
        assert "is intact" in out and "restore drill passed: integrity check ok; 1 services, 5 notifications" in out, out
        assert "1 service days of sealed notifications open" in out and "audit log: ok" in out, out
        assert sorted(os.listdir(herald.dir)) == before, "the drill's scratch directory is gone"
        assert {"backup.verified", "backup.restore_drill"} <= marks(herald)
        status, body = herald.request("GET", "/v2/notifications", key=key)
        assert status == 200 and len(body["notifications"]) == 5, (status, body)
        herald.stop()
        actions = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        drills = [e for e in actions if e["action"] == "backup.restore_drill"]
        assert len(drills) == 1 and drills[0]["outcome"] == "success", drills
        assert drills[0]["objects"]["notifications"] == "5", drills

        # A key store without the backup's data keys (the keyring is the same, so the file opens):
        # plain verification passes, the drill fails and says which data it cannot open.
        keyless = ws.track(Herald(HERALD, ws.dir, sink.port, name="keyless"))
        shutil.copy2(os.path.join(herald.dir, "keyring"), os.path.join(keyless.dir, "keyring"))
        assert "is intact" in keyless.run_cli("backup", "verify", backup)
        code, out, err = keyless.run_cli("backup", "verify", "--restore-drill", backup, check=False)
        assert code != 0 and "restore drill failed" in err and "data key" in err, (code, out, err)
        assert "backup.restore_drill" not in marks(keyless)
        failed = [json.loads(l) for l in keyless.run_cli("audit", "export").splitlines()]
        assert [e["outcome"] for e in failed if e["action"] == "backup.restore_drill"] == ["failure"], failed

        # A chain rewritten in the database before the backup (no signing key): the file is intact
        # and SQLite's check passes, but the restored audit chain does not verify.
        db = sqlite3.connect(os.path.join(herald.dir, "herald.db"))
        rechain(db, edit={2: "cli:someone-else"})
        db.close()
        rewritten = os.path.join(ws.dir, "rewritten.backup")
        herald.run_cli("backup", "create", rewritten)
        assert "is intact" in herald.run_cli("backup", "verify", rewritten)
        code, out, err = herald.run_cli("backup", "verify", "--restore-drill", rewritten, check=False)
        assert code != 0 and "restored audit chain does not verify" in err, (code, out, err)


def test_tampered_backup_fails_verify():
    with Workspace() as ws:
        herald = ws.track(Herald(HERALD, ws.dir, 2525))
        herald.create_service()
        backup = os.path.join(ws.dir, "b")
        herald.run_cli("backup", "create", backup)
        data = bytearray(open(backup, "rb").read())
        data[len(data) // 2] ^= 0x01
        open(backup, "wb").write(bytes(data))
        code, out, err = herald.run_cli("backup", "verify", backup, check=False)
        assert code != 0 and "intact" not in out, (out, err)


def test_shredded_data_is_unreadable_in_a_backup_taken_before_the_shred():
    with Workspace() as ws:
        sink, herald, service_id, key, template_id = serving(ws, env={"HERALD_TESTING": "1"})
        nid = send(herald, key, template_id)
        created = herald.wait_for_status(key, nid, {"delivered"})["created_at"]
        herald.stop()
        backup = os.path.join(ws.dir, "before-shred.backup")
        herald.run_cli("backup", "create", backup)
        keys_before = os.path.join(ws.dir, "keys-before.db")
        shutil.copy2(os.path.join(herald.dir, "keys.db"), keys_before)
        herald.run_cli("service", "set-retention", "--service", service_id, "--days", "3")
        # Four days after the notification's own day (not the wall clock's): its key goes, and so
        # does tomorrow's (made ahead, empty) when that day is past the cutoff too.
        later = retention_moment([created], 4)
        report = herald.run_cli("retention", "run", "--now", later)
        assert "1 notifications redacted" in report and herald.notification_keys(service_id)[created[:10]], report

        # The old backup restored with today's key material: counts remain, the data is gone.
        restored = fresh_copy_with_keys(ws, herald, sink.port, "after-shred")
        restored.run_cli("backup", "restore", backup)
        db = sqlite3.connect(os.path.join(restored.dir, "herald.db"))
        assert db.execute("SELECT status, COUNT(*) FROM notifications GROUP BY status").fetchall() == [("delivered", 1)]
        db.close()
        restored.start()
        status, body = restored.request("GET", "/v2/notifications/" + nid, key=key)
        assert status == 404 and CANARY_EMAIL not in json.dumps(body), (status, body)  # as after retention
        restored.stop()
        code, out, err = restored.run_cli("subject", "find", "--service", service_id, "--email", CANARY_EMAIL, check=False)
        assert code != 0 and "destroyed" in err and CANARY_EMAIL not in out, (code, out, err)

        # The control: the same backup with the key store as it was before the shred reads fine,
        # so it is the destroyed key, not the restore, that makes the data unreadable.
        control = fresh_copy_with_keys(ws, herald, sink.port, "control")
        for f in ("keys.db-wal", "keys.db-shm"):
            if os.path.exists(os.path.join(control.dir, f)):
                os.remove(os.path.join(control.dir, f))
        shutil.copy2(keys_before, os.path.join(control.dir, "keys.db"))
        control.run_cli("backup", "restore", backup)
        control.start()
        status, body = control.request("GET", "/v2/notifications/" + nid, key=key)
        assert status == 200 and body["email_address"] == CANARY_EMAIL, (status, body)
        control.stop()


def entry_hash(seq, at, actor, action, objects, outcome, source, prev):
    """An entry's hash as docs/formats/audit.md defines it."""
    def field(b):
        return struct.pack(">Q", len(b)) + b
    objs = json.loads(objects)
    data = field(b"herald.audit.v1") + field(struct.pack(">q", seq)) + field(struct.pack(">q", at))
    data += field(actor.encode()) + field(action.encode()) + field(struct.pack(">q", len(objs)))
    for k, v in objs:
        data += field(k.encode()) + field(v.encode())
    data += field(outcome.encode()) + field(source.encode()) + field(prev)
    return hashlib.sha256(data).digest()


def rechain(db, edit=None, drop_action=None):
    """What an attacker with write access to the database (not the signing key) can do: change
    actors (edit: {seq: actor}), drop every entry with one action and renumber, and recompute
    every hash so that the chain is self-consistent again."""
    rows = db.execute("SELECT seq, at, actor, action, objects, outcome, source, prev_hash, hash FROM audit_log "
                      "ORDER BY seq").fetchall()
    assert entry_hash(*rows[0][:7], rows[0][7]) == rows[0][8], "the test's hash must match herald's format"
    kept = [list(r) for r in rows if r[3] != drop_action]
    db.execute("DELETE FROM audit_log")
    prev = b"\0" * 32
    for seq, row in enumerate(kept, start=1):
        row[0] = seq
        row[2] = (edit or {}).get(seq, row[2])
        row[7] = prev
        row[8] = prev = entry_hash(*row[:7], prev)
        db.execute("INSERT INTO audit_log (seq, at, actor, action, objects, outcome, source, prev_hash, hash) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
    db.commit()
    return len(rows) - len(kept)


def audit_fixture(ws):
    herald = ws.track(Herald(HERALD, ws.dir, 2525))
    for i in range(4):
        herald.create_service("Service %d" % i)   # each: service.created, api_key.created + a checkpoint
    assert herald.run_cli("audit", "verify").startswith("ok")
    return herald, sqlite3.connect(os.path.join(herald.dir, "herald.db"))


def expect_failure(herald, words):
    code, out, err = herald.run_cli("audit", "verify", check=False)
    assert code != 0 and "FAILED" in out and any(w in out for w in words), (code, out, err)
    return out


def test_audit_verify_catches_an_edited_entry():
    with Workspace() as ws:
        herald, db = audit_fixture(ws)
        db.execute("UPDATE audit_log SET actor = 'cli:someone-else' WHERE seq = 3")
        db.commit()
        out = expect_failure(herald, ["altered"])
        assert "3" in out, out


def test_audit_verify_catches_a_deleted_entry():
    with Workspace() as ws:
        herald, db = audit_fixture(ws)
        db.execute("DELETE FROM audit_log WHERE seq = 4")
        db.commit()
        expect_failure(herald, ["missing"])


def test_audit_verify_catches_reordered_entries():
    with Workspace() as ws:
        herald, db = audit_fixture(ws)
        # Swap the contents of entries 2 and 3, keeping their seq numbers.
        rows = {r[0]: r[1:] for r in db.execute("SELECT seq, at, actor, action, objects, outcome, source, prev_hash, hash "
                                                "FROM audit_log WHERE seq IN (2, 3)")}
        for seq, other in ((2, 3), (3, 2)):
            db.execute("UPDATE audit_log SET at=?, actor=?, action=?, objects=?, outcome=?, source=?, prev_hash=?, hash=? "
                       "WHERE seq = ?", rows[other] + (seq,))
        db.commit()
        expect_failure(herald, ["order", "missing", "altered"])


def test_audit_verify_catches_a_truncated_tail():
    with Workspace() as ws:
        herald, db = audit_fixture(ws)
        db.execute("DELETE FROM audit_log WHERE seq > 5")
        db.commit()
        expect_failure(herald, ["missing", "truncat"])


def test_audit_verify_catches_a_forged_checkpoint_and_a_rewritten_chain():
    with Workspace() as ws:
        herald, db = audit_fixture(ws)
        path = os.path.join(herald.dir, "audit-checkpoints")
        lines = open(path).read().splitlines()
        original = list(lines)
        forged = json.loads(lines[-1])
        forged["hash"] = "00" * 32
        lines[-1] = json.dumps(forged, separators=(",", ":"))
        open(path, "w").write("\n".join(lines) + "\n")
        expect_failure(herald, ["signature", "forged", "checkpoint"])
        open(path, "w").write("\n".join(original) + "\n")
        assert herald.run_cli("audit", "verify").startswith("ok")
        # Rewriting an entry AND recomputing every later hash still fails: the signed checkpoints
        # pin the chain (rewritten with the documented hash; no signing key needed for that).
        rechain(db, edit={2: "cli:mallory"})
        expect_failure(herald, ["checkpoint"])


def test_audit_verify_fails_when_checkpoints_are_deleted_after_a_rewrite():
    """The outside probe's finding: an entry edited, every later hash recomputed and the checkpoint
    file deleted verified as "ok". The chain records each checkpoint, so it now fails."""
    with Workspace() as ws:
        herald, db = audit_fixture(ws)
        out = herald.run_cli("audit", "verify")
        assert "the chain records 12 checkpoints; every one was found" in out, out
        assert "audit-checkpoints: 12 checkpoints" in out and "syslog" in out, out
        rechain(db, edit={3: "cli:mallory"})
        os.remove(os.path.join(herald.dir, "audit-checkpoints"))
        out = expect_failure(herald, ["records a checkpoint"])
        assert "no witness checked holds" in out, out


def test_audit_verify_checks_a_second_witness():
    """A syslog export of the checkpoint lines is a second witness: with the checkpoint file gone
    and the whole chain rewritten without its records (nothing in the database can show that),
    verify --witness EXPORT still fails, and says which witnesses it read."""
    with Workspace() as ws:
        herald, db = audit_fixture(ws)
        export = os.path.join(ws.dir, "syslog-export.txt")
        with open(export, "w") as out:
            out.write("Dec  2 10:00:00 host sshd[1]: unrelated line\n")
            for line in open(os.path.join(herald.dir, "audit-checkpoints")):
                out.write("Dec  2 10:00:01 host herald[42]: audit checkpoint " + line)
        assert "syslog-export.txt: 12 checkpoints" in herald.run_cli("audit", "verify", "--witness", export)
        os.remove(os.path.join(herald.dir, "audit-checkpoints"))
        assert rechain(db, edit={2: "cli:mallory"}, drop_action="audit.checkpointed") == 12
        assert herald.run_cli("audit", "verify").startswith("ok"), "without a witness this rewrite is invisible"
        code, out, err = herald.run_cli("audit", "verify", "--witness", export, check=False)
        assert code == 1 and "does not match the signed checkpoint" in out, (code, out, err)
        assert "syslog-export.txt: 12 checkpoints" in out, out


def test_refused_requests_are_audited_without_the_token():
    with Workspace() as ws:
        herald = ws.track(Herald(HERALD, ws.dir, 2525))
        service_id, key = herald.create_service()
        herald.rewrite_config("[audit]\ncheckpoint_interval_seconds = 1")
        herald.start()
        bad = make_token(service_id, "0" * 36)
        for _ in range(5):
            status, _ = herald.request("GET", "/v2/notifications/" + service_id, token=bad)
            assert status == 403
        status, _ = herald.request("GET", "/v2/notifications/" + service_id)
        assert status == 401
        herald.stop()
        entries = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        failed = [e for e in entries if e["action"] == "auth.failed"]
        counts = {e["objects"]["reason"]: int(e["objects"]["count"]) for e in failed}
        assert sum(counts.values()) == 6 and len(failed) == 2, failed
        assert all(e["source"] == "127.0.0.1" and e["outcome"] == "denied" for e in failed)
        assert bad not in json.dumps(entries) and key[-36:] not in json.dumps(entries)
        assert herald.run_cli("audit", "verify").startswith("ok")
        since = failed[0]["time"]
        later = [json.loads(l) for l in herald.run_cli("audit", "export", "--since", since).splitlines()]
        assert later and all(e["time"] >= since for e in later)


def test_revoked_key_is_refused_by_a_running_server_and_audited():
    with Workspace() as ws:
        herald = ws.track(Herald(HERALD, ws.dir, 2525))
        service_id = herald.run_cli("service", "create", "--name", "Revoking")
        herald.run_cli("service", "go-live", "--service", service_id)
        out = subprocess.run([HERALD, "--config", herald.config, "key", "create", "--service", service_id, "--type", "live",
                              "--name", "k"], capture_output=True, text=True, check=True)
        key, key_id = out.stdout.strip(), out.stderr.split()[2]
        template_id = herald.create_template(service_id, "Hi", "Code ((canary))")
        herald.start()
        send(herald, key, template_id, email="a@example.org", value="1")
        assert "revoked" in herald.run_cli("key", "revoke", "--service", service_id, "--key-id", key_id)
        deadline = time.time() + 10
        while True:
            status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
                "email_address": "a@example.org", "template_id": template_id, "personalisation": {"canary": "1"}})
            if status == 403:
                break
            assert status == 201 and time.time() < deadline, (status, body)
            time.sleep(0.5)
        assert body["errors"][0]["message"] == "Invalid token: API key revoked", body
        herald.stop()
        entries = [json.loads(l) for l in herald.run_cli("audit", "export").splitlines()]
        revoked = [e for e in entries if e["action"] == "api_key.revoked"]
        assert revoked and revoked[0]["objects"] == {"service_id": service_id, "api_key_id": key_id}, revoked
        assert herald.run_cli("audit", "verify").startswith("ok")


if __name__ == "__main__":
    run_tests([test_backup_under_load_restores_every_acknowledged_notification,
               test_key_backup_restores_while_a_key_copy_taken_while_serving_is_refused, test_tampered_backup_fails_verify,
               test_shredded_data_is_unreadable_in_a_backup_taken_before_the_shred,
               test_audit_verify_catches_an_edited_entry, test_audit_verify_catches_a_deleted_entry,
               test_audit_verify_catches_reordered_entries, test_audit_verify_catches_a_truncated_tail,
               test_audit_verify_catches_a_forged_checkpoint_and_a_rewritten_chain,
               test_audit_verify_fails_when_checkpoints_are_deleted_after_a_rewrite,
               test_audit_verify_checks_a_second_witness,
               test_refused_requests_are_audited_without_the_token,
               test_revoked_key_is_refused_by_a_running_server_and_audited])
