#!/usr/bin/python3
"""Integration: Herald on PostgreSQL beyond what the shared suites cover.

- TLS to PostgreSQL with sslmode=verify-full: Herald's connections use TLS (pg_stat_ssl), and a
  server certificate from another CA is refused with a clear error;
- the database restarting under a running node: requests after the restart succeed (broken
  connections are re-established) and nothing accepted is lost;
- `herald migrate-store` from a live SQLite data directory: counts, a decrypted sample, the
  same notifications and API keys afterwards through the API, the audit chain still verifying;
  a second run into the same database is refused;
- `herald backup` on PostgreSQL: a consistent snapshot while the node runs, verified, restored
  into a SQLite data directory that reads the data keys from PostgreSQL; the backup holds no
  data keys.
Usage: test_postgres.py /path/to/herald
"""
import base64
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402
from pg import Postgres  # noqa: E402

HERALD = sys.argv[1]


def send(herald, key, template_id, to="someone@example.com"):
    status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
        "email_address": to, "template_id": template_id, "personalisation": {"name": "Ada"}})
    assert status == 201, (status, body)
    return body["id"]


def test_tls_verify_full_is_used_and_a_foreign_ca_is_refused():
    with Workspace() as ws:
        server = ws.track(Postgres(ssl=True).start())
        other_ca = ws.track(Postgres(ssl=True).start())
        server.create_database("tls")
        url = server.url("tls", tls=True)
        assert "sslmode=verify-full" in url
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, store_url=url))
        service_id, key = herald.create_service()
        template_id = herald.create_template(service_id, "Hi ((name))", "Hello ((name))")
        herald.start()
        herald.wait_for_status(key, send(herald, key, template_id), {"delivered"})
        encrypted = server.psql("SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s "
                                "JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'herald'").split("|")
        assert int(encrypted[1]) > 0 and encrypted[0] == encrypted[1], encrypted
        herald.stop()
        # The same server named with another CA's certificate as the trust anchor: refused.
        wrong = url.replace(server.ca_file.replace("/", "%2F"), other_ca.ca_file.replace("/", "%2F"))
        wrong = wrong.replace(server.ca_file, other_ca.ca_file)
        assert wrong != url
        herald.rewrite_config('[store]\nurl = "%s"\n\n[keys]\nstore = "%s"' % (wrong, wrong))
        code, _, err = herald.run_cli("keys", "status", check=False)
        assert code != 0 and "certificate verify failed" in err, (code, err)
        assert server.password not in err, "the password must never be printed"


def test_node_survives_a_database_restart():
    with Workspace() as ws:
        server = ws.track(Postgres().start())
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, store_url=server.create_database("restart")))
        service_id, key = herald.create_service()
        template_id = herald.create_template(service_id, "Hi ((name))", "Hello ((name))")
        herald.start()
        first = send(herald, key, template_id)
        herald.wait_for_status(key, first, {"delivered"})
        out = subprocess.run(["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                              server.data_dir, "-m", "fast", "-w", "restart", "-l", server.log_file],
                             capture_output=True, text=True) if os.geteuid() == 0 else subprocess.run(
            ["/usr/lib/postgresql/15/bin/pg_ctl", "-D", server.data_dir, "-m", "fast", "-w", "restart",
             "-l", server.log_file], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        ids = [send(herald, key, template_id, "after-%d@example.com" % i) for i in range(5)]
        for notification_id in [first] + ids:
            herald.wait_for_status(key, notification_id, {"delivered"})
        assert len(sink.messages()) == 6


def test_migrate_store_moves_a_live_service():
    with Workspace() as ws:
        server = ws.track(Postgres().start())
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, store_url=""))  # SQLite
        service_id, key = herald.create_service()
        template_id = herald.create_template(service_id, "Hi ((name))", "Hello ((name))")
        herald.start()
        ids = [send(herald, key, template_id, "person-%d@example.com" % i) for i in range(30)]
        for notification_id in ids:
            herald.wait_for_status(key, notification_id, {"delivered"})
        queued = send(herald, key, template_id, "later@example.com")
        # A file sent by email moves too, and its link keeps working.
        status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": "files@example.com", "template_id": template_id, "personalisation": {"name": {
                "file": base64.b64encode(b"moved file\n").decode(), "filename": "moved.txt",
                "confirm_email_before_download": False, "retention_period": None}}})
        assert status == 201, (status, body)
        link = re.search(r"/d/\S+\?key=[\w-]+", body["content"]["body"]).group(0)
        herald.stop()  # offline move
        url = server.create_database("moved")
        db = os.path.join(herald.dir, "herald.db")
        out = herald.run_cli("migrate-store", "--from", "sqlite://" + db, "--to", url, "--sample", "20")
        assert "notifications: 32 rows in SQLite, 32 in PostgreSQL" in out, out
        assert "documents: 1 rows in SQLite, 1 in PostgreSQL" in out, out
        assert "decrypted and compared 20 sampled notifications" in out, out
        assert server.password not in out, "the password must never be printed"
        code, _, err = herald.run_cli("migrate-store", "--from", "sqlite://" + db, "--to", url, check=False)
        assert code != 0 and "already holds" in err, err
        herald.rewrite_config('[store]\nurl = "%s"\n\n[keys]\nstore = "%s"' % (url, url))
        herald.store_url = url
        assert herald.run_cli("audit", "verify").startswith("ok"), "the chain and its checkpoints move intact"
        herald.start()
        for notification_id in ids[:3]:
            status, body = herald.request("GET", "/v2/notifications/" + notification_id, key=key)
            assert status == 200 and body["status"] == "delivered", body
            assert body["email_address"].startswith("person-"), body
        herald.wait_for_status(key, queued, {"delivered"})
        status, data = herald.request("GET", link.replace("?key=", "/download?key="))
        assert (status, data) == (200, b"moved file\n"), (status, data)
        assert send(herald, key, template_id)
        assert herald.sql("SELECT count(*) FROM notifications") == [(33,)]
        exported = herald.run_cli("audit", "export")
        assert '"store.migrated"' in exported, exported[-500:]


def test_backup_of_a_postgresql_store_restores_into_sqlite():
    with Workspace() as ws:
        server = ws.track(Postgres().start())
        sink = ws.track(SmtpSink(ws.dir))
        url = server.create_database("backed")
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, store_url=url))
        service_id, key = herald.create_service()
        template_id = herald.create_template(service_id, "Hi ((name))", "Hello ((name))")
        herald.start()
        ids = [send(herald, key, template_id, "kept-%d@example.com" % i) for i in range(5)]
        for notification_id in ids:
            herald.wait_for_status(key, notification_id, {"delivered"})
        backup = os.path.join(ws.dir, "pg.backup")
        assert "backup written" in herald.run_cli("backup", "create", backup)  # while serving
        herald.stop()
        assert "is intact" in herald.run_cli("backup", "verify", backup)
        code, _, err = herald.run_cli("backup", "restore", backup, check=False)
        assert code != 0 and "migrate-store" in err, err
        # A SQLite data directory with the same keyring, reading data keys from PostgreSQL.
        restored = ws.track(Herald(HERALD, ws.dir, sink.port, store_url="", name="restored"))
        shutil.copy(os.path.join(herald.dir, "keyring"), os.path.join(restored.dir, "keyring"))
        restored.rewrite_config('[keys]\nstore = "%s"' % url)
        out = restored.run_cli("backup", "restore", backup)
        assert "audit log: ok" in out, out
        assert restored.sql("SELECT name FROM sqlite_master WHERE name LIKE '%key%' AND type = 'table'") == [
            ("api_keys",)], "no data-key table in the backup"
        restored.start()
        for notification_id in ids:
            status, body = restored.request("GET", "/v2/notifications/" + notification_id, key=key)
            assert status == 200 and body["email_address"].startswith("kept-"), (status, body)


if __name__ == "__main__":
    run_tests([test_tls_verify_full_is_used_and_a_foreign_ca_is_refused, test_node_survives_a_database_restart,
               test_migrate_store_moves_a_live_service, test_backup_of_a_postgresql_store_restores_into_sqlite])
