#!/usr/bin/python3
"""Key management end to end (SC-24, SC-25): rotation under load from the official Node client,
a KEK on a SoftHSM2 token, retention with crypto-shredding, and no key material in any output.
Usage: test_keys.py /path/to/herald
"""
import http.client
import json
import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from canary import CANARY_EMAIL, CANARY_PERSONALISATION, scan_files  # noqa: E402
from harness import Herald, SmtpSink, Workspace, clock_env, make_token, real_now, retention_moment, run_tests, wait_for_file  # noqa: E402

HERALD = sys.argv[1]
E2E = os.path.join(HERE, "..", "e2e")
SOFTHSM_MODULE = "/usr/lib/softhsm/libsofthsm2.so"


def keyring_secrets(herald):
    """Every base64 key in the keyring file: none may appear in any output."""
    lines = open(os.path.join(herald.dir, "keyring")).read().splitlines()
    return [l.split()[-1] for l in lines if l and not l.startswith(("#", "herald-keyring"))]


def test_rotation_under_load_loses_nothing():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        services = [herald.create_service("Load %d" % i) for i in range(3)]
        for service_id, _ in services:
            herald.lift_limits(service_id)
        templates = [herald.create_template(s, "Hi ((n))", "Number ((n))") for s, _ in services]
        herald.start()
        stop = os.path.join(ws.dir, "stop")
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=herald.cert, HERALD_URL="https://127.0.0.1:%d" % herald.port,
                   HERALD_API_KEYS=",".join(k for _, k in services), HERALD_TEMPLATE_IDS=",".join(templates),
                   STOP_FILE=stop, CONCURRENCY="8")
        load = subprocess.Popen(["node", os.path.join(E2E, "load_sender.js")], cwd=E2E, env=env,
                                stdout=subprocess.PIPE)
        time.sleep(1.5)
        rotated = herald.run_cli("keys", "rotate")
        assert "new key-encryption key file-2" in rotated, rotated
        assert "0 failed" in rotated, rotated
        # A service made after the rotation gets a new data key, wrapped under the new KEK.
        late_service, late_key = herald.create_service("Late")
        late_template = herald.create_template(late_service, "Late", "Late ((n))")
        status, late = herald.request("POST", "/v2/notifications/email", key=late_key,
                                      body={"email_address": "late@example.org", "template_id": late_template,
                                            "personalisation": {"n": "1"}})
        assert status == 201, late
        time.sleep(1.5)
        open(stop, "w").close()
        out, _ = load.communicate(timeout=120)
        result = json.loads(out)
        assert result["failures"] == [], result["failures"][:5]
        assert len(result["accepted"]) > 50, len(result["accepted"])

        status_text = herald.run_cli("keys", "status")
        assert re.search(r"file-1 .* wraps 0 data keys", status_text), status_text
        retired = herald.run_cli("keys", "retire", "--kek", "file-1")
        assert "retired file-1" in retired
        assert "kek 1 " not in open(os.path.join(herald.dir, "keyring")).read()
        herald.stop()

        # Restarted with only the new KEK, every accepted notification reads back.
        herald.start()
        for item in result["accepted"][::7] + [{"id": late["id"], "email": "late@example.org", "key": -1}]:
            key = late_key if item["key"] == -1 else services[item["key"]][1]
            status, body = herald.request("GET", "/v2/notifications/" + item["id"], key=key)
            assert status == 200, (status, body)
            assert body["email_address"] == item["email"]
        herald.stop()
        log = open(herald.log_path).read()
        for secret in keyring_secrets(herald):
            assert secret not in log and secret not in status_text


def test_retire_refused_and_rewrap_resumes_an_interrupted_rotation():
    with Workspace() as ws:
        herald = ws.track(Herald(HERALD, ws.dir, 2525))
        herald.create_service()
        herald.run_cli("keys", "rotate")
        # Undo the rewrap by hand: pretend a data key is still under file-1 (e.g. made by a
        # server that had read the old keyring): retire must refuse.
        herald.sql("UPDATE data_keys SET kek_id = 'file-1' WHERE id = (SELECT MIN(id) FROM data_keys)", keys=True)
        code, out, err = herald.run_cli("keys", "retire", "--kek", "file-1", check=False)
        assert code != 0 and "still wraps 1 data keys" in err, (code, out, err)
        code, out, err = herald.run_cli("keys", "retire", "--kek", "file-2", check=False)
        assert code != 0 and "active" in err, err
        # A damaged wrapping is reported by rewrap, never skipped silently.
        herald.sql("UPDATE data_keys SET kek_id = 'file-1', wrapped = ? WHERE id = (SELECT MIN(id) FROM data_keys)",
                   (b"x" * 60,), keys=True)
        code, out, err = herald.run_cli("keys", "rewrap", check=False)
        assert code != 0 and "1 failed" in out, (out, err)

    with Workspace() as ws:
        herald = ws.track(Herald(HERALD, ws.dir, 2525))
        herald.create_service()
        before = herald.sql("SELECT id, kek_id, wrapped FROM data_keys ORDER BY id", keys=True)
        herald.run_cli("keys", "rotate")
        # Put one key back under file-1 exactly as it was: a rotation interrupted before that key.
        herald.sql("UPDATE data_keys SET kek_id = ?, wrapped = ? WHERE id = ?", (before[0][1], before[0][2], before[0][0]),
                   keys=True)
        out = herald.run_cli("keys", "rewrap")
        assert "1 re-wrapped now" in out and "0 failed" in out, out
        assert "retired file-1" in herald.run_cli("keys", "retire", "--kek", "file-1")


def test_pkcs11_token_holds_the_kek():
    assert os.path.exists(SOFTHSM_MODULE), "softhsm2 is missing: `make deps` installs it"
    with Workspace() as ws:
        tokens = os.path.join(ws.dir, "tokens")
        os.makedirs(tokens)
        conf = os.path.join(ws.dir, "softhsm2.conf")
        with open(conf, "w") as f:
            f.write("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n" % tokens)
        env = {"SOFTHSM2_CONF": conf}
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "herald", "--so-pin", "5678",
                        "--pin", "1234"], env=dict(os.environ, **env), check=True, capture_output=True)
        pin = os.path.join(ws.dir, "pin")
        with open(pin, "w") as f:
            f.write("1234\n")
        os.chmod(pin, 0o600)
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, env=env,
                                 init_args=("--pkcs11-token", "herald", "--pkcs11-pin-file", pin)))
        assert "kek " not in open(os.path.join(herald.dir, "keyring")).read(), "the KEK must not be in the file"
        service_id, key = herald.create_service()
        template_id = herald.create_template(service_id, "Hi", "Code ((code))")
        herald.start()
        status, sent = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": CANARY_EMAIL, "template_id": template_id, "personalisation": {"code": "42"}})
        assert status == 201, sent
        herald.wait_for_status(key, sent["id"], {"delivered"})
        herald.stop()
        status_text = herald.run_cli("keys", "status")
        assert "PKCS#11 token 'herald'" in status_text and "pkcs11-1" in status_text, status_text
        herald.run_cli("keys", "rotate")
        herald.run_cli("keys", "retire", "--kek", "pkcs11-1")
        status_text = herald.run_cli("keys", "status")
        assert "pkcs11-1" not in status_text and "pkcs11-2" in status_text, status_text
        herald.start()
        status, body = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert status == 200 and body["email_address"] == CANARY_EMAIL, body
        herald.stop()
        # A wrong PIN: a clear error, and the PIN appears nowhere.
        with open(pin, "w") as f:
            f.write("9999\n")
        code, out, err = herald.run_cli("keys", "status", check=False)
        assert code != 0 and "incorrect PIN" in err, err
        assert "9999" not in out + err and "1234" not in out + err


def test_retention_redacts_and_shreds_keeping_counts():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, env={"HERALD_TESTING": "1"}))
        service_id, key = herald.create_service()
        other_id, other_key = herald.create_service("Keeps longer")
        template_id = herald.create_template(service_id, "Hi", "Code ((canary))")
        other_template = herald.create_template(other_id, "Hi", "Code ((canary))")
        herald.start()
        ids, created = [], []
        for k, t in ((key, template_id), (key, template_id), (other_key, other_template)):
            status, sent = herald.request("POST", "/v2/notifications/email", key=k, body={
                "email_address": CANARY_EMAIL, "template_id": t, "personalisation": {"canary": CANARY_PERSONALISATION}})
            assert status == 201, sent
            created.append(herald.wait_for_status(k, sent["id"], {"delivered"})["created_at"])
            ids.append(sent["id"])
        herald.stop()
        # The blind index finds the person's notifications without decrypting anything else.
        found = herald.run_cli("subject", "find", "--service", service_id, "--email", CANARY_EMAIL.upper())
        assert sorted(l.split()[0] for l in found.splitlines()) == sorted(ids[:2]), found
        herald.run_cli("service", "set-retention", "--service", service_id, "--days", "3")
        herald.run_cli("service", "set-retention", "--service", other_id, "--days", "30")
        # Four days after the day they were accepted (their own created_at, not the wall clock):
        # the first service's data is past retention, the other's is not. Every data key of a day
        # wholly before the cutoff goes (Herald makes tomorrow's key ahead, so near midnight that
        # can be two); the notifications' own day is always among them.
        created = created[:2]
        later = retention_moment(created, 4)
        cutoff = later[:10]  # 3 days of retention: days before (later's day - 3) are expired
        cutoff = (datetime.strptime(cutoff, "%Y-%m-%d") - timedelta(days=3)).strftime("%Y-%m-%d")
        before = herald.notification_keys(service_id)
        expired = sorted(day for day, destroyed in before.items() if day < cutoff and not destroyed)
        assert {c[:10] for c in created} <= set(expired), (created, before)
        other_before = herald.notification_keys(other_id)
        report = herald.run_cli("retention", "run", "--now", later)
        assert "2 notifications redacted" in report and "%d data keys destroyed" % len(expired) in report, report
        after = herald.notification_keys(service_id)
        assert sorted(day for day, destroyed in after.items() if destroyed) == expired, (expired, after)
        assert herald.notification_keys(other_id) == other_before, "the other service keeps its keys"
        herald.start()
        status, body = herald.request("GET", "/v2/notifications/" + ids[0], key=key)
        assert status == 404, (status, body)
        status, body = herald.request("GET", "/v2/notifications/" + ids[2], key=other_key)
        assert status == 200 and body["email_address"] == CANARY_EMAIL
        herald.stop()
        counts = herald.sql("SELECT status, COUNT(*) FROM notifications WHERE service_id = ? GROUP BY status",
                            (service_id,))
        assert counts == [("delivered", 2)], counts
        empty = herald.sql("SELECT length(recipient) + length(body) + length(personalisation) FROM notifications "
                           "WHERE service_id = ?", (service_id,))
        assert empty == [(0,), (0,)], empty
        status_text = herald.run_cli("keys", "status")
        assert re.search(r"destroyed .* notifications of service %s" % service_id, status_text), status_text
        assert not herald.run_cli("subject", "find", "--service", service_id, "--email", CANARY_EMAIL)
        # Idempotent: a second run changes nothing.
        assert "0 notifications redacted" in herald.run_cli("retention", "run", "--now", later)
        # Without HERALD_TESTING, --now is refused (it would destroy data early).
        code, _, err = herald.run_cli("retention", "run", "--now", later, check=False, env={"HERALD_TESTING": "0"})
        assert code != 0 and "HERALD_TESTING" in err


def test_bad_keyring_never_leaks_key_material():
    with Workspace() as ws:
        herald = ws.track(Herald(HERALD, ws.dir, 2525))
        secrets = keyring_secrets(herald)
        path = os.path.join(herald.dir, "keyring")
        text = open(path).read()
        os.chmod(path, 0o644)
        code, out, err = herald.run_cli("keys", "status", check=False)
        assert code != 0 and "chmod 600" in err, err
        os.chmod(path, 0o600)
        # A damaged line (a key cut short): the error names the line, never its content.
        damaged = text.replace(secrets[0], secrets[0][:20])
        open(path, "w").write(damaged)
        code, out, err = herald.run_cli("keys", "status", check=False)
        assert code != 0 and "line" in err, err
        herald.log_path = os.path.join(ws.dir, "serve.log")
        with open(herald.log_path, "wb") as log:
            serve = subprocess.run([HERALD, "--config", herald.config, "serve"], stdout=log, stderr=log, timeout=60)
        assert serve.returncode != 0
        output = out + err + open(herald.log_path).read()
        for secret in secrets:
            assert secret not in output and secret[:20] not in output


def test_first_release_data_directory_upgrades_without_losing_anything():
    """A data directory of the first release (single-layer keyring, tests/fixtures) is upgraded in
    place: its data keys move into keys.db under their old ids, wrapped under a new KEK, and
    leave the keyring file; the old API key and the old notification still read."""
    with Workspace() as ws:
        data = os.path.join(ws.dir, "old")
        shutil.copytree(os.path.join(HERE, "..", "fixtures", "first-release"), data)
        os.chmod(data, 0o700)
        for f in ("keyring", "herald.db", "herald.toml", "tls/cert.pem", "tls/key.pem"):
            os.chmod(os.path.join(data, f), 0o600)
        sent = json.load(open(os.path.join(data, "sent.json")))
        assert "data-key 1 " in open(os.path.join(data, "keyring")).read()
        config = os.path.join(data, "herald.toml")
        # The fixture carries its own date: Herald runs an hour after its notification was
        # accepted, well inside the 7-day retention, whatever today's date is.
        created = datetime.strptime(sent["created_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
        stored = sqlite3.connect(os.path.join(data, "herald.db")).execute(
            "SELECT created_at FROM notifications WHERE id = ?", (sent["notification_id"],)).fetchone()[0]
        assert stored == int(created.timestamp() * 1_000_000), "sent.json names the notification's own time"
        moment = created + timedelta(hours=1)
        env, offset = clock_env(moment.strftime("%Y-%m-%d %H:%M:%S"))
        status = subprocess.run([HERALD, "--config", config, "keys", "status"], capture_output=True, text=True, env=env)
        assert status.returncode == 0, status.stderr
        assert "first-release keyring" in status.stdout and "file-1" in status.stdout, status.stdout
        keyring = open(os.path.join(data, "keyring")).read()
        assert keyring.startswith("herald-keyring v2") and "data-key" not in keyring and "kek 1 " in keyring
        ready = os.path.join(data, "ready")
        log = open(os.path.join(ws.dir, "old.log"), "wb")
        proc = ws.track(subprocess.Popen([HERALD, "--config", config, "serve", "--ready-file", ready],
                                         stdout=log, stderr=log, env=env))
        proc.stop = lambda: (proc.terminate(), proc.wait(30))
        port = int(wait_for_file(ready, proc=proc))
        key = sent["api_key"]
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=ssl._create_unverified_context(), timeout=30)
        auth = {"Authorization": "Bearer " + make_token(key[-73:-37], key[-36:], iat=int(real_now()) + offset)}
        conn.request("GET", "/v2/notifications/" + sent["notification_id"], headers=auth)
        response = conn.getresponse()
        body = json.loads(response.read())
        assert response.status == 200 and body["email_address"] == "first.release@example.org", body
        conn.request("POST", "/v2/notifications/email", headers=dict(auth, **{"Content-Type": "application/json"}),
                     body=json.dumps({"email_address": "after@example.org", "template_id": sent["template_id"],
                                      "personalisation": {"name": "A", "date": "B", "place": "C"}}))
        response = conn.getresponse()
        assert response.status == 201, response.read()
        response.read()
        conn.close()


if __name__ == "__main__":
    run_tests([test_rotation_under_load_loses_nothing, test_retire_refused_and_rewrap_resumes_an_interrupted_rotation,
               test_pkcs11_token_holds_the_kek, test_retention_redacts_and_shreds_keeping_counts,
               test_bad_keyring_never_leaks_key_material,
               test_first_release_data_directory_upgrades_without_losing_anything])
