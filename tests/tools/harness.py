"""Test harness for Herald's integration, security and fault tests.

Starts real processes on 127.0.0.1 only (herald serve, the SMTP sink), each in a temporary
directory that is removed afterwards, and talks to Herald over HTTPS with GOV.UK-style JWTs.
Standard library only, run with Debian's /usr/bin/python3 (which has python3-aiosmtpd).
"""
import base64
import datetime
import hashlib
import hmac
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import urllib.parse
import sys
import tempfile
import time

from openapi_check import check_response  # noqa: E402 (tests/tools is on the suites' sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))
# The suites and benchmarks run as root in CI, and Herald refuses root unless told to (its files
# would lock the service's own user out); test_service.py checks the refusal itself.
os.environ.setdefault("HERALD_ALLOW_ROOT", "1")
SINK = os.path.join(HERE, "smtp_sink.py")

# Which store the suites run Herald on: "sqlite" (the embedded default) or "postgres" (CTest
# runs the integration suites once per backend). With postgres, one PostgreSQL server per test
# process (tests/tools/pg.py) and a fresh database for every Herald data directory.
BACKEND = os.environ.get("HERALD_TEST_BACKEND", "sqlite")
_POSTGRES = None


def postgres_server():
    """The test process's PostgreSQL server, started on first use and stopped at exit."""
    global _POSTGRES
    if _POSTGRES is None:
        import atexit
        from pg import Postgres
        _POSTGRES = Postgres()
        _POSTGRES.start()
        atexit.register(_POSTGRES.stop)
    return _POSTGRES


def new_postgres_database():
    name = "h_" + os.urandom(6).hex()
    return postgres_server().create_database(name)


# Debian's libfaketime (package faketime), multi-threaded variant: Herald's threads read the clock.
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
FAKETIME_VARIABLES = ("LD_PRELOAD", "FAKETIME", "FAKETIME_SHARED")


def real_now():
    """The machine's own clock, even when this process runs under faketime (make test runs some
    suites so, at awkward moments): `date` without the preloaded library."""
    env = {k: v for k, v in os.environ.items() if k not in FAKETIME_VARIABLES}
    return float(subprocess.run(["date", "+%s.%N"], env=env, capture_output=True, text=True, check=True).stdout)


def clock_env(moment, base=None):
    """`base` (default: this process's environment) changed so that processes started with it
    have a clock that reads `moment` ("2026-11-23 04:57:44", UTC) now and runs on from there at
    the real pace, whatever the machine's date: Debian's libfaketime with an offset, so every
    process started with it, at any time, shares one clock; for herald processes only (see
    for_herald). ASan is told to accept the preloaded library.
    Returns (env, offset in seconds from the real clock)."""
    target = datetime.datetime.strptime(moment, "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    offset = int(round(target.timestamp() - real_now()))
    env = {k: v for k, v in (os.environ if base is None else base).items() if k != "FAKETIME_SHARED"}
    env.update({"LD_PRELOAD": LIBFAKETIME, "FAKETIME": "%+d" % offset, "TZ": "UTC",
                "ASAN_OPTIONS": asan_options(verify_asan_link_order=0)})
    return for_herald(env), offset


def for_herald(env):
    """`env` for a herald process: under libfaketime, Herald keeps the real monotonic clock.
    Its timed waits (std::condition_variable::wait_for) reach glibc's pthread_cond_clockwait,
    which libfaketime does not intercept, so a deadline on a faked monotonic clock never comes.
    (Python is the other way round: its sleep fails with EINVAL unless monotonic is faked too.)"""
    if "faketime" in env.get("LD_PRELOAD", ""):
        env = dict(env, FAKETIME_DONT_FAKE_MONOTONIC="1")
    return env


def noon_yesterday():
    """Noon (UTC) of the day before this process's: the clock for a test that must not see a day
    change (daily limits), whatever time of day it runs at. In this process's past, so the TLS
    certificate `herald init` makes under it is already valid here (tokens follow Herald's
    clock: Herald.token_time)."""
    return time.strftime("%Y-%m-%d 12:00:00", time.gmtime(time.time() - 86400))


def asan_options(**extra):
    """ASAN_OPTIONS as this process has them, with `extra` set."""
    options = dict(item.split("=", 1) for item in os.environ.get("ASAN_OPTIONS", "").split(":") if "=" in item)
    options.update({k: str(v) for k, v in extra.items()})
    return ":".join("%s=%s" % kv for kv in options.items())


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(service_id, secret, iat=None, alg="HS256"):
    header = b64url(json.dumps({"typ": "JWT", "alg": alg}).encode())
    claims = b64url(json.dumps({"iss": service_id, "iat": int(time.time()) if iat is None else iat}).encode())
    signing_input = (header + "." + claims).encode()
    signature = b64url(hmac.new(secret.encode(), signing_input, hashlib.sha256).digest())
    return header + "." + claims + "." + signature


def wait_for_file(path, timeout=30.0, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if os.path.exists(path) and os.path.getsize(path) > 0:
            return open(path).read().strip()
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before writing %s" % (proc.returncode, path))
        time.sleep(0.05)
    raise TimeoutError("timed out waiting for " + path)


class SmtpSink:
    def __init__(self, workdir, mode="accept", port=0, tls_cert=None, tls_key=None, pipelining=False, delay_ms=0):
        self.maildir = tempfile.mkdtemp(prefix="mail-", dir=workdir)
        port_file = os.path.join(self.maildir, "port")
        args = ["/usr/bin/python3", SINK, "--maildir", self.maildir, "--mode", mode,
                "--port", str(port), "--port-file", port_file, "--quiet"]
        if tls_cert:
            args += ["--tls-cert", tls_cert, "--tls-key", tls_key]
        if pipelining:
            args.append("--pipelining")
        if delay_ms:
            args += ["--delay-ms", str(delay_ms)]
        self.proc = subprocess.Popen(args)
        self.port = int(wait_for_file(port_file, proc=self.proc))

    def messages(self):
        names = sorted(n for n in os.listdir(self.maildir) if n.endswith(".eml"))
        out = []
        for n in names:
            raw = open(os.path.join(self.maildir, n), "rb").read()
            meta = json.load(open(os.path.join(self.maildir, n[:-4] + ".json")))
            out.append((raw, meta))
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


def retention_moment(created_at, days_after):
    """A moment to run retention at, chosen from the notifications' own times (GOV.UK format)
    rather than the wall clock: one hour into the UTC day `days_after` days after the day of
    the latest of them. So a test that straddles midnight still means the same thing."""
    latest = max(datetime.datetime.strptime(c, "%Y-%m-%dT%H:%M:%S.%fZ") for c in created_at)
    day = datetime.datetime(latest.year, latest.month, latest.day)
    return (day + datetime.timedelta(days=days_after, hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000000Z")


class Herald:
    """A data directory made by `herald init`, plus a running `herald serve` when started."""

    def __init__(self, binary, workdir, smtp_port, extra_config="", env=None, init_args=(), name="data",
                 store_url=None, clock=None):
        """store_url: a PostgreSQL database for this data directory; by default a new one when
        the suite runs on PostgreSQL (HERALD_TEST_BACKEND=postgres), else the SQLite file.
        clock: "YYYY-MM-DD HH:MM:SS" (UTC) for a test that needs a particular time of day or
        date: every herald process of this data directory runs on a clock set to it now."""
        self.binary = binary
        self.dir = os.path.join(workdir, name)
        self.env = for_herald(dict(os.environ, **(env or {})))
        self.clock_shift = None  # Herald's clock minus this process's, when the test sets it
        if clock:
            self.env, offset = clock_env(clock, self.env)
            self.clock_shift = offset + real_now() - time.time()
        if store_url is None and BACKEND == "postgres":
            store_url = new_postgres_database()
        self.store_url = store_url
        if store_url:
            init_args = tuple(init_args) + ("--store-url", store_url)
        self.run_cli("init", "--data-dir", self.dir, "--port", "0", "--smtp-port", str(smtp_port),
                     *init_args, config=False)
        self.config = os.path.join(self.dir, "herald.toml")
        if extra_config:
            self.rewrite_config(extra_config)
        self.cert = os.path.join(self.dir, "tls", "cert.pem")
        self.log_path = os.path.join(workdir, "herald.log" if name == "data" else name + ".log")
        self.proc = None
        self.port = None

    def rewrite_config(self, extra, path=None):
        """Appends settings; a table given again replaces keys of the same name. `path`: another
        configuration file (a node's own, see node_config)."""
        path = path or self.config
        text = open(path).read()
        for block in extra.strip().split("\n\n"):
            lines = block.strip().splitlines()
            table, settings = lines[0], lines[1:]
            # The table's own header line (not a mention of it in a comment).
            if "\n" + table + "\n" not in "\n" + text:
                text += "\n" + table + "\n"
            at = ("\n" + text).index("\n" + table + "\n")
            head, tail = text[:at], text[at + len(table) + 1:]
            for setting in settings:
                key = setting.split("=")[0].strip()
                kept = [l for l in tail.split("\n") if not l.strip().startswith(key + " ")]
                tail = "\n".join(kept)
                tail = setting + "\n" + tail
            text = head + table + "\n" + tail
        open(path, "w").write(text)

    def node_config(self, name, extra=""):
        """A copy of this configuration for another node (same keyring and database), with
        `extra` settings of its own; returns its path."""
        path = os.path.join(self.dir, name + ".toml")
        shutil.copyfile(self.config, path)
        if extra:
            self.rewrite_config(extra, path)
        return path

    def run_cli(self, *args, config=True, check=True, env=None):
        """Runs a herald command; returns its stdout, or (code, stdout, stderr) when check=False."""
        cmd = [self.binary] + (["--config", self.config] if config else []) + list(args)
        out = subprocess.run(cmd, env=dict(self.env, **(env or {})), capture_output=True, text=True, timeout=300)
        if not check:
            return out.returncode, out.stdout, out.stderr
        if out.returncode != 0:
            raise RuntimeError("%s failed: %s %s" % (" ".join(args), out.stdout, out.stderr))
        return out.stdout.strip()

    def sql(self, statement, params=(), keys=False):
        """Runs SQL behind Herald's back on whichever backend this data directory uses (`?`
        placeholders; keys=True: the data-key store). Returns the rows; on PostgreSQL, numbers
        come back as int and bytea as its '\\x..' text, which works as a parameter again."""
        if not self.store_url:
            import sqlite3
            db = sqlite3.connect(os.path.join(self.dir, "keys.db" if keys else "herald.db"))
            try:
                rows = db.execute(statement, params).fetchall()
                db.commit()
                return rows
            finally:
                db.close()

        def literal(value):
            if isinstance(value, bytes):
                return "'\\x%s'::bytea" % value.hex()
            if isinstance(value, int):
                return str(value)
            return "'%s'" % str(value).replace("'", "''")
        parts = statement.split("?")
        assert len(parts) == len(params) + 1, "one parameter per placeholder"
        text = parts[0] + "".join(literal(p) + rest for p, rest in zip(params, parts[1:]))
        from pg import psql
        out = psql(self.store_url, "SET search_path TO %s; %s" % ("herald_keys, public" if keys else "public", text),
                   separator="\x1f")
        convert = lambda cell: int(cell) if cell.lstrip("-").isdigit() else cell
        return [tuple(convert(c) for c in line.split("\x1f")) for line in out.splitlines() if line]

    def notification_keys(self, service_id):
        """{"YYYY-MM-DD": destroyed?} for the service's notification data keys, one per UTC day."""
        # No NULL in the answer: psql's text form would drop a trailing empty column.
        rows = self.sql("SELECT scope, COALESCE(destroyed_at, 0) FROM data_keys WHERE scope LIKE ?",
                        ("notifications/%s/%%" % service_id,), keys=True)
        return {scope.rsplit("/", 1)[1]: destroyed not in (None, "", 0) for scope, destroyed in rows}

    def create_service(self, name="Test service", live=True):
        """A new service (live unless live=False: then in trial mode, as GOV.UK starts them)."""
        service_id = self.run_cli("service", "create", "--name", name)
        if live:
            self.run_cli("service", "go-live", "--service", service_id)
        key = self.run_cli("key", "create", "--service", service_id, "--type", "live", "--name", "test key")
        return service_id, key

    def lift_limits(self, service_id):
        """Rate and daily limits out of the way, for load tests and benchmarks."""
        big = "1000000000"
        self.run_cli("service", "set", "--service", service_id, "--rate-limit", big, "--email-limit", big,
                     "--sms-limit", big, "--letter-limit", big)

    def create_template(self, service_id, subject, body, name="Template", type="email", created_by=None):
        path = os.path.join(self.dir, "body.txt")
        with open(path, "w") as f:
            f.write(body)
        args = ["template", "create", "--service", service_id, "--type", type, "--name", name,
                "--body-file", path]
        if subject:
            args += ["--subject", subject]
        if created_by:
            args += ["--created-by", created_by]
        return self.run_cli(*args)

    def update_template(self, service_id, template_id, body=None, subject=None, name=None, created_by=None,
                        postage=None, letter_contact=None):
        args = ["template", "update", "--service", service_id, "--id", template_id]
        if postage:
            args += ["--postage", postage]
        if letter_contact:
            args += ["--letter-contact", letter_contact]
        if body is not None:
            path = os.path.join(self.dir, "body.txt")
            with open(path, "w") as f:
                f.write(body)
            args += ["--body-file", path]
        if subject is not None:
            args += ["--subject", subject]
        if name is not None:
            args += ["--name", name]
        if created_by:
            args += ["--created-by", created_by]
        return self.run_cli(*args)

    def start(self, role="all"):
        ready = os.path.join(self.dir, "ready")
        if os.path.exists(ready):
            os.remove(ready)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([self.binary, "--config", self.config, "serve", "--role", role,
                                      "--ready-file", ready], env=self.env, stdout=self.log, stderr=self.log)
        port = wait_for_file(ready, proc=self.proc)
        self.port = None if port == "none" else int(port)  # none: a role without the API (admin, worker)
        # The operations listener (/health/*, /metrics), written before the ready file.
        metrics = ready + ".metrics"
        self.metrics_port = int(open(metrics).read().strip()) if os.path.exists(metrics) else None

    def ops_get(self, path):
        """GET on the operations listener: (status, body text)."""
        context = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.metrics_port, context=context, timeout=30)
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read().decode()
        conn.close()
        return response.status, body

    def spawn_node(self, role="all", name="node", config=None):
        """Another `herald serve` on the same configuration (same keyring and database), or on
        `config` (from node_config), with a port of its own: another node. Returns (process,
        port); port is None for a worker."""
        ready = os.path.join(self.dir, name + "-ready")
        if os.path.exists(ready):
            os.remove(ready)
        log = open(os.path.join(os.path.dirname(self.log_path), name + ".log"), "ab")
        proc = subprocess.Popen([self.binary, "--config", config or self.config, "serve", "--role", role,
                                 "--ready-file", ready], env=self.env, stdout=log, stderr=log)
        port = wait_for_file(ready, proc=proc)
        return proc, (None if port == "none" else int(port))

    def spawn_worker(self):
        """A second process on the same database that only delivers (--role worker)."""
        ready = os.path.join(self.dir, "worker-ready")
        proc = subprocess.Popen([self.binary, "--config", self.config, "serve", "--role", "worker",
                                 "--ready-file", ready], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert wait_for_file(ready, proc=proc) == "none", "a worker must not listen"
        return proc

    def token_time(self):
        """`iat` for this Herald's JWTs: its own clock's seconds, or None (this process's time)."""
        return None if self.clock_shift is None else int(time.time() + self.clock_shift)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(60)
        if self.proc:
            self.log.close()
        code = self.proc.returncode if self.proc else None
        self.proc = None
        return code

    def request(self, method, path, key=None, body=None, token=None, headers=None, validate=True):
        """Returns (status, parsed JSON body, or the raw bytes when it is not JSON). Responses of
        the GOV.UK Notify API (/v2/...) and of the NHS Notify API (its `[nhs] prefix`, and
        /oauth2/token) are checked against docs/openapi/ (tests/tools/openapi_check.py), errors
        too: a body that does not match raises AssertionError, unless validate=False."""
        context = ssl.create_default_context(cafile=self.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context, timeout=30)
        hdrs = dict(headers or {})
        if key is not None:
            hdrs["Authorization"] = "Bearer " + make_token(key[-73:-37], key[-36:], iat=self.token_time())
        if token is not None:
            hdrs["Authorization"] = "Bearer " + token
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        if data is not None:
            hdrs.setdefault("Content-Type", "application/json")
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        try:
            result = response.status, json.loads(raw)
        except ValueError:
            result = response.status, raw
        if validate:
            import tomllib  # the NHS API's prefix, as this data directory's configuration sets it
            try:
                with open(self.config, "rb") as f:
                    prefix = tomllib.load(f).get("nhs", {}).get("prefix", "/comms")
            except (OSError, tomllib.TOMLDecodeError):
                prefix = "/comms"
            check_response(method, path, result[0], result[1], nhs_prefix=prefix)
        return result

    def create_nhs_client(self, service_id, *options):
        """Registers an NHS Notify client with a new key pair; returns (api_key, kid, private key file)."""
        kid = "key-%d" % len(os.listdir(self.dir))
        private_key = os.path.join(self.dir, "nhs-%s.pem" % kid)
        jwks = self.run_cli("nhs", "keygen", "--kid", kid, "--private-key-out", private_key, config=False)
        jwks_file = private_key + ".jwks"
        with open(jwks_file, "w") as f:
            f.write(jwks)
        api_key = self.run_cli("nhs", "client", "create", "--service", service_id, "--name", "client " + kid,
                               "--jwks", jwks_file, *options)
        return api_key, kid, private_key

    def nhs_token(self, client):
        """A bearer token for the client, from /oauth2/token with an assertion signed by npm jsonwebtoken."""
        api_key, kid, private_key = client
        token_url = "https://127.0.0.1:%d/oauth2/token" % self.port
        e2e = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e")
        assertion = subprocess.run(["node", "sign_assertion.js", api_key, kid, private_key, token_url], cwd=e2e,
                                   capture_output=True, text=True, check=True, timeout=60).stdout
        form = urllib.parse.urlencode({
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion}).encode()
        status, body = self.request("POST", "/oauth2/token", body=form,
                                    headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert status == 200, (status, body)
        return body["access_token"]

    def wait_for_status(self, key, notification_id, statuses, timeout=60):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            status, body = self.request("GET", "/v2/notifications/" + notification_id, key=key)
            assert status == 200, (status, body)
            last = body["status"]
            if last in statuses:
                return body
            time.sleep(0.1)
        raise TimeoutError("notification %s stayed %s" % (notification_id, last))


class Workspace:
    """A temporary directory holding every process of one test; cleans up on exit."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="herald-test-")
        self.processes = []
        return self

    def track(self, thing):
        self.processes.append(thing)
        return thing

    def __exit__(self, *exc):
        for thing in reversed(self.processes):
            try:
                thing.stop()
            except Exception as e:  # keep cleaning up
                print("cleanup:", e, file=sys.stderr)
        if exc[0] is not None and os.path.exists(os.path.join(self.dir, "herald.log")):
            sys.stderr.write(open(os.path.join(self.dir, "herald.log")).read()[-5000:])
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


# Certificates from a CA a test makes, so that TLS findings are about Herald, not a self-signed
# certificate (tests/integration/test_config_check.py, tests/security/test_tls_scan.py).
def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(directory):
    """A certificate authority of the test's own (key, certificate), valid 30 days from now."""
    ca_key, ca_cert = os.path.join(directory, "ca-key.pem"), os.path.join(directory, "ca.pem")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-subj", "/CN=Herald test CA", "-days", "30", "-keyout", ca_key, "-out", ca_cert,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return ca_key, ca_cert


def issue_certificate(directory, ca_key, ca_cert, name, days):
    """A server certificate for localhost and 127.0.0.1 from `make_ca`'s CA: (certificate, key)."""
    key, csr, cert = (os.path.join(directory, name + suffix) for suffix in ("-key.pem", ".csr", ".pem"))
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=localhost",
            "-keyout", key, "-out", csr)
    ext = os.path.join(directory, name + ".ext")
    with open(ext, "w") as f:
        # Revocation pointers, as a real CA's certificates have (nothing fetches them in the tests).
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
                "crlDistributionPoints=URI:http://127.0.0.1:9/herald-test-ca.crl\n"
                "authorityInfoAccess=OCSP;URI:http://127.0.0.1:9/ocsp\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-CAcreateserial", "-days", str(days),
            "-extfile", ext, "-out", cert)
    os.chmod(key, 0o600)
    return cert, key


def run_tests(tests):
    """Runs `tests`, or those whose names contain one of the comma-separated words of
    HERALD_TEST_FILTER (make test's runs at awkward moments take the time-sensitive ones)."""
    words = [w for w in os.environ.get("HERALD_TEST_FILTER", "").split(",") if w]
    if words:
        tests = [t for t in tests if any(w in t.__name__ for w in words)]
        assert tests, "HERALD_TEST_FILTER matches no test"
    failed = 0
    for test in tests:
        started = time.time()
        try:
            test()
            print("PASS %s (%.1fs)" % (test.__name__, time.time() - started), flush=True)
        except Exception:
            failed += 1
            import traceback
            traceback.print_exc()
            print("FAIL %s" % test.__name__, flush=True)
    sys.exit(1 if failed else 0)
