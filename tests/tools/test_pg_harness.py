#!/usr/bin/python3
"""Self-test of tests/tools/pg.py, the throwaway PostgreSQL 15 servers of Herald's tests:

- a plain server: the herald URL works over TCP with a password (a wrong one is refused), no
  trust authentication, the settings we rely on (fsync, max_connections), create_database;
- a TLS server: sslmode=verify-full against its CA gives a TLS connection, against another CA
  it is refused;
- stop() removes every file and frees the port;
- the CLI pair used by the CTest fixture: start (replacing a server left in DIR), stop;
- a workdir the postgres user cannot reach fails at once, clearly, leaving nothing behind.
Usage: test_pg_harness.py
"""
import os
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pg  # noqa: E402
from harness import run_tests  # noqa: E402

PG_PY = os.path.join(HERE, "pg.py")


def assert_gone(root, port):
    assert not os.path.exists(root), "left behind: %s" % root
    with socket.socket() as s:  # nothing listens on the port any more...
        assert s.connect_ex(("127.0.0.1", port)) != 0, "port %d still accepts" % port
    with socket.socket() as s:  # ...and it can be bound again
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))


def test_plain_server():
    started = time.time()
    server = pg.Postgres().start()
    took = time.time() - started
    try:
        url = server.url()
        assert url.startswith("postgresql://herald:") and "@127.0.0.1:%d/herald?sslmode=disable" % server.port in url
        assert pg.psql(url, "SELECT current_user, current_database()") == "herald|herald"
        assert server.psql("SHOW fsync") == "on"
        assert server.psql("SHOW max_connections") == "200"
        assert server.psql("SELECT rolcreatedb FROM pg_roles WHERE rolname = 'herald'") == "t"
        try:
            pg.psql(url.replace(server.password, "wrong"), "SELECT 1")
            raise AssertionError("a wrong password was accepted")
        except RuntimeError as e:
            assert "password authentication failed" in str(e), e
        hba = [line for line in open(os.path.join(server.data_dir, "pg_hba.conf")) if line.strip()]
        assert hba == ["host all all 127.0.0.1/32 scram-sha-256\n"], hba
        assert os.access(os.path.join(server.data_dir, "pg_wal"), os.R_OK)  # the canary scans it
        other = server.create_database("t_other")
        assert other == url.replace("/herald?", "/t_other?")
        assert pg.psql(other, "SELECT current_database(), pg_get_userbyid(datdba) FROM pg_database "
                              "WHERE datname = current_database()") == "t_other|herald"
    finally:
        started_stop = time.time()
        server.stop()
    print("  plain server: start %.2fs, stop %.2fs" % (took, time.time() - started_stop))
    assert_gone(server.root, server.port)
    server.stop()  # a second stop is harmless


def make_foreign_ca(directory):
    ca = os.path.join(directory, "other-ca.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "1", "-subj", "/CN=Another CA", "-keyout", os.path.join(directory, "other-ca.key"),
                    "-out", ca], check=True, capture_output=True)
    return ca


def test_tls_server():
    started = time.time()
    with pg.Postgres(ssl=True) as server:
        print("  TLS server: start %.2fs" % (time.time() - started))
        url = server.url(tls=True)
        assert "@localhost:%d/herald?sslmode=verify-full&sslrootcert=" % server.port in url, url
        assert pg.psql(url, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "t"
        # Plain connections remain possible (url() without tls); they are not encrypted.
        assert pg.psql(server.url(), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") == "f"
        key = os.stat(os.path.join(server.root, "server.key"))
        assert key.st_mode & 0o777 == 0o600, oct(key.st_mode)
        if os.geteuid() == 0:
            assert key.st_uid == pg.pwd.getpwnam("postgres").pw_uid
        with tempfile.TemporaryDirectory() as elsewhere:
            wrong = url.replace(server.ca_file, make_foreign_ca(elsewhere))
            assert wrong != url
            try:
                pg.psql(wrong, "SELECT 1")
                raise AssertionError("a certificate from another CA was accepted")
            except RuntimeError as e:
                assert "certificate verify failed" in str(e), e
    assert_gone(server.root, server.port)


def cli(*args):
    return subprocess.run([sys.executable, PG_PY] + list(args), capture_output=True, text=True, timeout=120)


def test_cli_start_stop():
    with tempfile.TemporaryDirectory() as tmp:
        directory, url_file = os.path.join(tmp, "pgtest"), os.path.join(tmp, "pgtest-url")
        started = time.time()
        out = cli("start", "--dir", directory, "--url-file", url_file)
        assert out.returncode == 0, out.stderr
        print("  CLI start %.2fs" % (time.time() - started))
        url = open(url_file).read().strip()
        assert pg.psql(url, "SELECT current_user") == "herald"
        assert pg.psql(open(os.path.join(directory, "admin_url")).read().strip(), "SELECT current_user") == "postgres"
        assert os.path.isdir(open(os.path.join(directory, "data_dir")).read().strip())
        first_root = open(os.path.join(directory, "root")).read().strip()
        first_port = int(url.split("@127.0.0.1:")[1].split("/")[0])

        # A start over a DIR whose server still runs (an interrupted run) replaces that server.
        out = cli("start", "--dir", directory, "--url-file", url_file)
        assert out.returncode == 0, out.stderr
        assert_gone(first_root, first_port)
        url = open(url_file).read().strip()
        root = open(os.path.join(directory, "root")).read().strip()
        port = int(url.split("@127.0.0.1:")[1].split("/")[0])
        assert pg.psql(url, "SELECT 1") == "1"

        started = time.time()
        out = cli("stop", "--dir", directory)
        assert out.returncode == 0, out.stderr
        print("  CLI stop %.2fs" % (time.time() - started))
        assert not os.path.exists(directory)
        assert_gone(root, port)
        assert cli("stop", "--dir", directory).returncode == 0  # nothing to stop: fine


def test_unreachable_workdir_fails_clearly():
    if os.geteuid() != 0:
        print("  (skipped: only root runs the server as another user)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        private = os.path.join(tmp, "private")
        os.mkdir(private, 0o700)
        server = pg.Postgres(private)
        try:
            server.start()
            server.stop()
            raise AssertionError("started in a directory the postgres user cannot reach")
        except RuntimeError as e:
            assert "cannot reach" in str(e), e
        assert os.listdir(private) == []


if __name__ == "__main__":
    run_tests([test_plain_server, test_tls_server, test_cli_start_stop, test_unreachable_workdir_fails_clearly])
