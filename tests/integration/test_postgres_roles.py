#!/usr/bin/python3
"""Integration: each process role on its own PostgreSQL role with only its grants
(store/postgres/roles.h, `herald store grants`), proving the grants are enough for real work.

The owner applies the grants (`herald store grants --apply`); then `serve --role api`,
`--role worker` and `--role admin` each connect as their own database role (store.api_url, ...;
the passwords in a PGPASSFILE, not in the configuration), and:
- an email and a text go in through the API, are delivered (SMTP sink, SMS stand-in whose
  receipt comes back to the API node) and read back;
- a person enrols in the admin UI (admin node) and sees their service;
- a key revoked with the CLI stops working on the API node;
- `herald retention run` as the retention role redacts the messages and destroys their keys;
- a worker that would run retention without the retention role's grants refuses to start, and a
  node on a role whose schema is behind says how to migrate it;
- docs/postgres-roles.md shows the grants the code applies.
No node's log may hold "permission denied" (a grant missing for what it did).
Always on PostgreSQL (its own server, tests/tools/pg.py). Usage: test_postgres_roles.py /path/to/herald
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
from harness import Herald, SmtpSink, Workspace, new_postgres_database, postgres_server, retention_moment  # noqa: E402
from harness import run_tests  # noqa: E402
from harness import wait_for_file  # noqa: E402
from sms_provider import SmsProvider  # noqa: E402
from test_admin import Browser, enrol  # noqa: E402
from test_multinode import Process  # noqa: E402

HERALD = sys.argv[1]
RECEIPT_PASSWORD = "receipt-secret-7"
ENV = {"HERALD_FIRETEXT_API_KEY": "test-api-key", "HERALD_FIRETEXT_RECEIPT_PASSWORD": RECEIPT_PASSWORD,
       "HERALD_TESTING": "1"}
ROLES = ("api", "worker", "admin", "retention")


class DatabaseRoles:
    """Four LOGIN roles with passwords (as a DBA makes them), a passfile for them, and their URLs."""

    def __init__(self, ws, owner_url, database):
        self.server = postgres_server()
        self.database = database
        prefix = "h%s_" % os.urandom(4).hex()
        self.names = {role: prefix + role for role in ROLES}
        self.passfile = os.path.join(ws.dir, "pgpass")
        lines = []
        for name in self.names.values():
            password = os.urandom(12).hex()
            self.server.psql("CREATE ROLE %s LOGIN PASSWORD '%s'" % (name, password), database="postgres")
            lines.append("127.0.0.1:%d:%s:%s:%s" % (self.server.port, database, name, password))
        with open(self.passfile, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(self.passfile, 0o600)

    def url(self, role):
        # No password: libpq finds it in PGPASSFILE.
        return "postgresql://%s@127.0.0.1:%d/%s?sslmode=disable" % (self.names[role], self.server.port, self.database)

    def stop(self):
        for name in self.names.values():
            self.server.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '%s'" % name,
                             database=self.database)
            self.server.psql("DROP OWNED BY %s" % name, database=self.database)
            self.server.psql("DROP ROLE IF EXISTS %s" % name, database="postgres")


def setup(ws, in_serve=False):
    sink = ws.track(SmtpSink(ws.dir))
    firetext = ws.track(SmsProvider(ws.dir, "firetext", receipt="0"))
    url = new_postgres_database()
    extra = "\n\n".join([
        '[sms]\nproviders = ["firetext"]\nreceipt_base_url = "https://herald.invalid/"',
        firetext.config().strip(),
        "[delivery]\nfirst_retry_ms = 200\nmax_retry_ms = 400",
        "[retention]\nin_serve = %s" % ("true" if in_serve else "false")])
    herald = ws.track(Herald(HERALD, ws.dir, sink.port, store_url=url, extra_config=extra, env=ENV))
    database = url.split("/")[-1].split("?")[0]
    roles = ws.track(DatabaseRoles(ws, url, database))
    herald.env["PGPASSFILE"] = roles.passfile
    herald.roles = roles
    # The owner applies the grants for these role names.
    out = herald.run_cli("store", "grants", "--apply", *[a for role in ROLES
                                                          for a in ("--%s-role" % role, roles.names[role])])
    assert "grants applied" in out, out
    herald.rewrite_config("[store]\n" + "\n".join('%s_url = "%s"' % (role, roles.url(role)) for role in ROLES))
    return herald, sink, firetext


def start_node(ws, herald, role):
    proc, port = herald.spawn_node(role=role, name=role)
    ws.track(Process(proc))
    return proc, port


def meta_recipients(sink):
    return [r for _, meta in sink.messages() for r in meta["rcpt_tos"]]


def logs(ws):
    text = ""
    for role in ("api", "worker", "admin"):
        path = os.path.join(ws.dir, role + ".log")
        if os.path.exists(path):
            text += open(path, errors="replace").read()
    return text


def test_each_role_does_its_work_with_only_its_grants():
    with Workspace() as ws:
        herald, sink, firetext = setup(ws)
        service_id, key = herald.create_service("Clinic")
        email_template = herald.create_template(service_id, "Hello ((name))", "Your code is ((code)).")
        sms_template = herald.create_template(service_id, None, "Code ((code))", name="Text", type="sms")
        out = subprocess.run([HERALD, "--config", herald.config, "key", "create", "--service", service_id, "--type",
                              "live", "--name", "spare"], env=herald.env, capture_output=True, text=True, check=True)
        spare_key, spare_key_id = out.stdout.strip(), out.stderr.split()[2]
        out = herald.run_cli("user", "create", "--email", "ada@example.org", "--name", "Ada Lovelace")
        link = re.search(r"https://\S+/enrol/(\S+)", out).group(1)
        herald.run_cli("user", "grant", "--email", "ada@example.org", "--service", service_id, "--permissions", "send")

        _, api_port = start_node(ws, herald, "api")
        _, worker_port = start_node(ws, herald, "worker")
        assert worker_port is None, "a worker must not listen"
        start_node(ws, herald, "admin")
        admin_port = int(wait_for_file(os.path.join(herald.dir, "admin-ready.admin")))
        herald.port = api_port
        firetext.herald_url = "https://127.0.0.1:%d" % api_port
        firetext.herald_cert = herald.cert
        # Every node connects as its own role.
        sessions = herald.roles.server.psql(
            "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = '%s'" % herald.roles.database,
            database="postgres").split()
        for role in ("api", "worker", "admin"):
            assert herald.roles.names[role] in sessions, (role, sessions)

        # The API accepts, the worker delivers, the provider's receipt reaches the API node.
        status, email = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": "patient@example.org", "template_id": email_template,
            "personalisation": {"name": "Ada", "code": "1234"}})
        assert status == 201, email
        status, text = herald.request("POST", "/v2/notifications/sms", key=key, body={
            "phone_number": "07700 900123", "template_id": sms_template, "personalisation": {"code": "99"}})
        assert status == 201, text
        got = herald.wait_for_status(key, email["id"], {"delivered"})
        assert got["email_address"] == "patient@example.org" and got["body"] == "Your code is 1234.", got
        got = herald.wait_for_status(key, text["id"], {"delivered"})
        assert got["phone_number"] == "07700 900123", got
        assert len(sink.messages()) == 1 and meta_recipients(sink) == ["patient@example.org"], "the email reached the relay"
        assert firetext.messages()[0]["message"] == "Clinic: Code 99", firetext.messages()
        status, listed = herald.request("GET", "/v2/notifications", key=key)
        assert status == 200 and {n["id"] for n in listed["notifications"]} == {email["id"], text["id"]}, listed

        # Every node's operations listener: readiness and the queue figures (its role reads them).
        for role in ("api", "worker", "admin"):
            herald.metrics_port = int(wait_for_file(os.path.join(herald.dir, role + "-ready.metrics")))
            status, body = herald.ops_get("/metrics")
            assert status == 200 and "herald_build_info" in body, (role, status, body[:300])
            status, body = herald.ops_get("/health/ready")
            assert status == 200, (role, status, body)

        # The admin UI: enrolment (users, enrolments, sessions, recovery codes) and the dashboard.
        browser = Browser(herald, admin_port)
        enrol(browser, link)
        status, _, page = browser.get("/")
        assert status == 200 and "Clinic" in page, (status, page[:500])

        # A key revoked with the CLI (the owner) stops working on the API node (its cache: 5 s).
        status, _ = herald.request("GET", "/v2/notifications", key=spare_key)
        assert status == 200
        herald.run_cli("key", "revoke", "--service", service_id, "--key-id", spare_key_id)
        deadline = time.time() + 30
        while time.time() < deadline:
            status, _ = herald.request("GET", "/v2/notifications", key=spare_key)
            if status == 403:
                break
            time.sleep(0.5)
        assert status == 403, "a revoked key still works"

        # Retention as its own role: ten days on, the seven-day period has ended.
        later = retention_moment([n["created_at"] for n in listed["notifications"]], 10)
        out = herald.run_cli("retention", "run", "--now", later)
        destroyed = re.search(r"(\d+) data keys destroyed", out)
        assert "2 notifications redacted" in out and destroyed and int(destroyed.group(1)) >= 1, out
        rows = herald.sql("SELECT count(*) FROM notifications WHERE redacted_at IS NOT NULL")
        assert rows == [(2,)], rows
        denied = [line for line in logs(ws).splitlines() if "permission denied" in line]
        assert not denied, "a node lacked a grant: %s" % denied[:3]


def test_a_worker_without_the_retention_grants_will_not_run_retention():
    with Workspace() as ws:
        herald, _, _ = setup(ws, in_serve=True)
        out = subprocess.run([HERALD, "--config", herald.config, "serve", "--role", "worker"], env=herald.env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and "in_serve = false" in out.stdout + out.stderr, out
        # A node whose schema is behind cannot migrate it as its role, and says what to do.
        herald.sql("DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM schema_migrations)")
        herald.rewrite_config("[retention]\nin_serve = false")
        out = subprocess.run([HERALD, "--config", herald.config, "serve", "--role", "api"], env=herald.env,
                             capture_output=True, text=True, timeout=60)
        assert out.returncode != 0 and "herald store grants --apply" in out.stdout + out.stderr, out


def test_the_documented_grants_are_the_codes():
    out = subprocess.run([HERALD, "store", "grants", "--markdown"], capture_output=True, text=True, check=True,
                         env=dict(os.environ, HERALD_ALLOW_ROOT="1"))
    doc = open(os.path.join(HERE, "..", "..", "docs", "postgres-roles.md")).read()
    assert out.stdout in doc, "docs/postgres-roles.md: paste `herald store grants --markdown` again"


if __name__ == "__main__":
    run_tests([test_each_role_does_its_work_with_only_its_grants,
               test_a_worker_without_the_retention_grants_will_not_run_retention,
               test_the_documented_grants_are_the_codes])
