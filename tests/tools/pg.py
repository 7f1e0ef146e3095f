#!/usr/bin/python3
"""A throwaway PostgreSQL 15 server for Herald's tests: Debian's binaries, a temporary data
directory, 127.0.0.1 and a free port only, password authentication (no trust), fsync on (the
benchmarks measure durable commits). As root, the server runs as the `postgres` user (initdb
refuses root).

Module: Postgres(workdir=None, ssl=False, fsync=True).start() / .url() / .create_database(name) /
.psql(sql) / .stop(); the server's files go in a new directory herald-pg-* under `workdir`
(default: the system temp dir), which the server user must be able to reach: a checkout in a
0700 directory is not reachable by `postgres`. TCP only (no Unix socket), so nothing clashes with
Debian's own "15/main" cluster or /var/run/postgresql. CLI (for CTest fixtures):
  pg.py start --dir DIR --url-file FILE [--ssl]   leaves a server running (its files in a new
                                                  directory under /tmp), writes its URL to FILE
                                                  and DIR/{root,data_dir,admin_url}
  pg.py stop --dir DIR                            stops it and removes both directories
"""
import argparse
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import urllib.parse

BIN = "/usr/lib/postgresql/15/bin"


def as_owner(args, **kw):
    """Runs a command as the server's user: `postgres` when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--"] + args
    return subprocess.run(args, capture_output=True, text=True, **kw)


def stop_root(root):
    """Stops the server whose files are in `root` (if it runs) and removes `root`."""
    data_dir = os.path.join(root, "data")
    if os.path.isdir(data_dir):
        as_owner([BIN + "/pg_ctl", "-D", data_dir, "-m", "fast", "-w", "stop"])
    shutil.rmtree(root, ignore_errors=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postgres:
    def __init__(self, workdir=None, ssl=False, fsync=True):
        self.root = tempfile.mkdtemp(prefix="herald-pg-", dir=os.path.abspath(workdir) if workdir else None)
        self.data_dir = os.path.join(self.root, "data")
        self.ssl = ssl
        self.fsync = fsync
        self.port = None
        self.password = secrets.token_hex(16)
        self.admin_password = secrets.token_hex(16)
        self.ca_file = os.path.join(self.root, "ca.pem")
        self.log_file = os.path.join(self.root, "server.log")

    # -- processes ---------------------------------------------------------------------------
    def _chown(self, path):
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(path, pw.pw_uid, pw.pw_gid)

    def start(self, owner=None):
        """Initialises and starts the server, then makes the role and database `herald`. On
        failure, removes everything and raises with the server log's tail. owner: the pid whose
        exit makes this server an orphan for the next start's sweep (default: this process); the
        CLI passes "fixture", never swept: its server lives until `pg.py stop`."""
        sweep_orphans()
        try:
            self._start(owner)
        except Exception as e:
            message = "%s\n--- server log tail ---\n%s" % (e, self.log_tail())
            self.stop()
            raise RuntimeError(message) from None
        return self

    def _start(self, owner):
        with open(os.path.join(self.root, "owner"), "w") as f:
            f.write("%s\n" % (os.getpid() if owner is None else owner))
        os.chmod(self.root, 0o755)  # the server user must reach its data directory
        self._chown(self.root)
        if as_owner(["test", "-w", self.root]).returncode != 0:
            raise RuntimeError("the postgres user cannot reach %s: make its parent directories "
                               "traversable (o+x) or use another workdir" % self.root)
        pwfile = os.path.join(self.root, "pwfile")
        with open(pwfile, "w") as f:
            f.write(self.admin_password + "\n")
        self._chown(pwfile)
        out = as_owner([BIN + "/initdb", "-D", self.data_dir, "-U", "postgres", "-A", "scram-sha-256",
                        "--pwfile", pwfile, "-E", "UTF8", "--locale=C", "--no-instructions"])
        os.remove(pwfile)
        if out.returncode != 0:
            raise RuntimeError("initdb failed: " + out.stdout + out.stderr)
        hba = ["host all all 127.0.0.1/32 scram-sha-256"]
        settings = ["listen_addresses = '127.0.0.1'", "unix_socket_directories = ''",
                    "fsync = %s" % ("on" if self.fsync else "off"), "max_connections = 200",
                    "shared_buffers = 128MB", "logging_collector = off"]
        if self.ssl:
            self._make_certificates()
            hba = ["hostssl all all 127.0.0.1/32 scram-sha-256", "host all all 127.0.0.1/32 scram-sha-256"]
            settings += ["ssl = on", "ssl_cert_file = '%s/server.pem'" % self.root,
                         "ssl_key_file = '%s/server.key'" % self.root]
        with open(os.path.join(self.data_dir, "pg_hba.conf"), "w") as f:
            f.write("\n".join(hba) + "\n")
        for attempt in range(5):
            self.port = free_port()
            with open(os.path.join(self.data_dir, "postgresql.auto.conf"), "w") as f:
                f.write("\n".join(settings + ["port = %d" % self.port]) + "\n")
            out = as_owner([BIN + "/pg_ctl", "-D", self.data_dir, "-l", self.log_file, "-w", "-t", "60", "start"])
            if out.returncode == 0:
                break
            if attempt == 4:  # earlier failures may be a race for the port: retry on another
                raise RuntimeError("postgres did not start: " + out.stdout + out.stderr)
        self.psql("CREATE ROLE herald LOGIN CREATEDB PASSWORD '%s'; GRANT pg_checkpoint TO herald;" % self.password,
                  database="postgres")
        self.psql("CREATE DATABASE herald OWNER herald", database="postgres")

    def _make_certificates(self):
        """A throwaway CA and a server certificate for localhost / 127.0.0.1 signed by it."""
        def openssl(*args):
            out = subprocess.run(["openssl"] + list(args), capture_output=True, text=True)
            if out.returncode != 0:
                raise RuntimeError("openssl %s failed: %s" % (args[0], out.stderr))
        r = self.root
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                "-subj", "/CN=Herald test CA", "-keyout", r + "/ca.key", "-out", self.ca_file)
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                "-keyout", r + "/server.key", "-out", r + "/server.csr")
        ext = r + "/san.ext"
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        openssl("x509", "-req", "-in", r + "/server.csr", "-CA", self.ca_file, "-CAkey", r + "/ca.key",
                "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", r + "/server.pem")
        os.chmod(r + "/server.key", 0o600)
        for name in ("server.key", "server.pem"):
            self._chown(os.path.join(r, name))

    def log_tail(self):
        try:
            return open(self.log_file).read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        stop_root(self.root)

    def restart(self, mode="fast"):
        """pg_ctl restart: "fast" (clients disconnected, a clean shutdown) or "immediate" (the
        server killed without a checkpoint: crash recovery at start). Same port."""
        out = as_owner([BIN + "/pg_ctl", "-D", self.data_dir, "-l", self.log_file, "-w", "-t", "60", "-m", mode,
                        "restart"])
        if out.returncode != 0:
            raise RuntimeError("postgres restart failed: " + out.stdout + out.stderr + self.log_tail())

    # -- access ------------------------------------------------------------------------------
    def url(self, database="herald", tls=False):
        auth = "herald:%s" % urllib.parse.quote(self.password, safe="")
        if tls:
            return "postgresql://%s@localhost:%d/%s?sslmode=verify-full&sslrootcert=%s" % (
                auth, self.port, database, urllib.parse.quote(self.ca_file))
        return "postgresql://%s@127.0.0.1:%d/%s?sslmode=disable" % (auth, self.port, database)

    def admin_url(self, database="postgres"):
        return "postgresql://postgres:%s@127.0.0.1:%d/%s?sslmode=disable" % (
            urllib.parse.quote(self.admin_password, safe=""), self.port, database)

    def psql(self, sql, database="herald", separator="|"):
        """Runs SQL as the superuser; see psql()."""
        return psql(self.admin_url(database), sql, separator)

    def create_database(self, name):
        self.psql('CREATE DATABASE "%s" OWNER herald' % name, database="postgres")
        return self.url(name)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False


def sweep_orphans():
    """Stops the servers of test processes that died without stopping them (killed by a CTest
    timeout, say): each server's root names its owner's pid."""
    for root in [os.path.join(tempfile.gettempdir(), d) for d in os.listdir(tempfile.gettempdir())
                 if d.startswith("herald-pg-")]:
        try:
            owner = open(os.path.join(root, "owner")).read().strip()
        except OSError:
            continue
        if owner.isdigit() and not os.path.exists("/proc/" + owner):
            stop_root(root)


def psql(url, sql, separator="|"):
    """Runs SQL at a libpq URL; returns the rows as text, unaligned, fields joined by `separator`."""
    out = subprocess.run([BIN + "/psql", "-X", "-q", "-t", "-A", "-F", separator, "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        raise RuntimeError("psql failed: %s\n%s" % (sql[:200], out.stderr))
    return out.stdout.strip()


def stop_recorded(directory):
    """Stops the server whose root DIR/root names (left by `start`), and removes DIR."""
    root_file = os.path.join(directory, "root")
    if os.path.exists(root_file):
        stop_root(open(root_file).read().strip())
    shutil.rmtree(directory, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["start", "stop"])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--url-file")
    parser.add_argument("--ssl", action="store_true")
    args = parser.parse_args()
    stop_recorded(args.dir)  # also a server left behind by an interrupted run
    if args.command == "stop":
        return 0
    os.makedirs(args.dir, mode=0o700)
    server = Postgres(ssl=args.ssl)
    with open(os.path.join(args.dir, "root"), "w") as f:
        f.write(server.root + "\n")
    try:
        server.start(owner="fixture")  # stopped by `pg.py stop`, never swept
    except Exception as e:
        print("pg.py start: %s" % e, file=sys.stderr)
        stop_recorded(args.dir)
        return 1
    with open(os.path.join(args.dir, "data_dir"), "w") as f:
        f.write(server.data_dir + "\n")
    with open(os.path.join(args.dir, "admin_url"), "w") as f:
        f.write(server.admin_url() + "\n")
    with open(args.url_file, "w") as f:
        f.write(server.url() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
