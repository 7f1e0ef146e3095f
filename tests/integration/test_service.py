#!/usr/bin/python3
"""Integration: Herald as an installed service.

`herald --version` names the version, the commit it was built from and that commit's date, and
the libraries it runs with; Herald refuses to run as root unless told to; `herald completion
bash` completes the binary's own commands; `herald --config FILE init` makes what an installed
configuration names (the Debian package's postinst runs it); SIGHUP swaps the TLS certificate
for new connections while open ones carry on, and a bad certificate changes nothing.
Usage: test_service.py /path/to/herald
"""
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402

HERALD = sys.argv[1]
SOURCE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def run(*args, env=None):
    return subprocess.run([HERALD, *args], capture_output=True, text=True, timeout=60, env=env)


def without_root_override():
    return {k: v for k, v in os.environ.items() if k != "HERALD_ALLOW_ROOT"}


def test_version_names_commit_date_and_libraries():
    out = run("--version")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert re.fullmatch(r"herald \d+\.\d+\.\d+", lines[0]), lines
    commit = re.fullmatch(r"commit ([0-9a-f]{40})(-modified)?", lines[1])
    assert commit, lines
    assert re.fullmatch(r"built \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(the commit's date\)", lines[2]), lines
    # The commit and date are the source tree's, not the clock's.
    head = subprocess.run(["git", "-C", SOURCE, "log", "-1", "--format=%H %ct"], capture_output=True, text=True)
    if head.returncode == 0:
        sha, epoch = head.stdout.split()
        assert commit.group(1) == sha, (commit.group(1), sha)
        assert lines[2].startswith("built " + time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch)))), lines
    names = {line.split(" ")[0] for line in lines[3:]}
    for library in ("openssl", "sqlite", "libpq", "libssh", "cairo", "pango", "poppler-cpp", "libqrencode"):
        assert library in names, (library, lines)
    assert all(re.search(r"\d+\.\d+", line) for line in lines[3:]), lines


def test_root_is_refused_unless_allowed():
    if os.geteuid() != 0:
        raise AssertionError("this check needs root (CI runs as root)")
    with Workspace() as ws:
        config = os.path.join(ws.dir, "herald.toml")
        for args in (["serve"], ["init", "--data-dir", os.path.join(ws.dir, "d")], ["keys", "status"]):
            out = run("--config", config, *args, env=without_root_override())
            assert out.returncode == 2, (args, out.returncode, out.stderr)
            assert "refusing to run as root" in out.stderr and "--allow-root" in out.stderr, out.stderr
        assert not os.path.exists(os.path.join(ws.dir, "d")), "nothing may be made before the refusal"
        # Told to: with the flag, or HERALD_ALLOW_ROOT=1.
        made = run("--allow-root", "init", "--data-dir", os.path.join(ws.dir, "d"), "--port", "0",
                   env=without_root_override())
        assert made.returncode == 0, made.stderr
        env = dict(without_root_override(), HERALD_ALLOW_ROOT="1")
        status = run("--config", os.path.join(ws.dir, "d", "herald.toml"), "keys", "status", env=env)
        assert status.returncode == 0, status.stderr
        # What needs no data runs as anyone.
        assert run("--version", env=without_root_override()).returncode == 0
        assert run("completion", "bash", env=without_root_override()).returncode == 0


def complete(script, words):
    """The completions bash offers after `words` (the last one being completed)."""
    program = script + "\nCOMP_WORDS=(%s); COMP_CWORD=%d; _herald; printf '%%s\\n' \"${COMPREPLY[@]}\"\n" % (
        " ".join("'%s'" % w for w in words), len(words) - 1)
    out = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    return set(filter(None, out.stdout.splitlines()))


def test_bash_completion_offers_the_binarys_commands():
    script = run("completion", "bash").stdout
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    assert complete(script, ["herald", "ser"]) == {"serve", "service"}
    assert complete(script, ["herald", "--config", "x.toml", "keys", "ro"]) == {"rotate"}
    assert "--role" in complete(script, ["herald", "serve", "--r"])
    assert complete(script, ["herald", "service", "set-callback", "--k"]) == {"--kind"}
    assert "go-live-requests" in complete(script, ["herald", "service", "go"])
    bad = run("completion", "zsh")
    assert bad.returncode != 0


def test_init_makes_what_an_installed_config_names():
    with Workspace() as ws:
        etc = os.path.join(ws.dir, "etc")
        data = os.path.join(ws.dir, "var", "lib", "herald")
        os.makedirs(etc)
        template = os.path.join(ws.dir, "template")
        assert run("init", "--data-dir", template, "--port", "0").returncode == 0
        text = open(os.path.join(template, "herald.toml")).read()
        # Absolute paths into the data directory, as the package's /etc/herald/herald.toml has.
        for key, name in (("certificate", "tls/cert.pem"), ("private_key", "tls/key.pem"), ("keyring", "keyring"),
                          ("store", "keys.db"), ("path", "herald.db"), ("checkpoints", "audit-checkpoints")):
            text, count = re.subn(r'(?m)^%s = "%s"' % (key, re.escape(name)),
                                  '%s = "%s/%s"' % (key, data, name), text)
            assert count == 1, (key, text)
        config = os.path.join(etc, "herald.toml")
        with open(config, "w") as f:
            f.write(text)
        out = run("--config", config, "init")
        assert out.returncode == 0, out.stderr
        for name in ("keyring", "keys.db", "herald.db", "tls/cert.pem", "tls/key.pem"):
            assert os.path.exists(os.path.join(data, name)), (name, out.stdout)
        assert oct(os.stat(os.path.join(data, "keyring")).st_mode & 0o777) == "0o600"
        assert oct(os.stat(os.path.join(data, "tls")).st_mode & 0o777) == "0o700"
        assert not os.path.exists(os.path.join(etc, "herald.db")) and not os.path.exists(os.path.join(etc, "keyring"))
        # Again: nothing is replaced (the keyring above all).
        keyring = open(os.path.join(data, "keyring"), "rb").read()
        again = run("--config", config, "init")
        assert again.returncode == 0 and "created" not in again.stdout, again.stdout
        assert open(os.path.join(data, "keyring"), "rb").read() == keyring
        # Without --data-dir, init needs a configuration that exists.
        missing = run("--config", os.path.join(etc, "absent.toml"), "init")
        assert missing.returncode == 2 and "no configuration" in missing.stderr, missing.stderr


def new_certificate(directory, name):
    cert, key = os.path.join(directory, name + ".pem"), os.path.join(directory, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-days", "30",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def connect(port):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE  # the test compares the certificate itself
    return context.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=10), server_hostname="localhost")


def get_on(sock, path="/_status"):
    sock.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return int(head.split(b" ")[1])


def der_of(pem_path):
    return ssl.PEM_cert_to_DER_cert(open(pem_path).read())


def wait_for_log(herald, event, count):
    deadline = time.time() + 20
    while time.time() < deadline:
        if open(herald.log_path).read().count('"event":"%s"' % event) >= count:
            return
        time.sleep(0.05)
    raise AssertionError("no %s in the log" % event)


def test_sighup_swaps_the_certificate_without_dropping_connections():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        herald.start()
        old = connect(herald.port)
        first = get_on(old)
        assert old.getpeercert(binary_form=True) == der_of(herald.cert)
        # Renewed in place, as certbot or an operator's script does, then SIGHUP.
        cert, key = new_certificate(ws.dir, "renewed")
        shutil.copy(cert, herald.cert)
        shutil.copy(key, os.path.join(os.path.dirname(herald.cert), "key.pem"))
        herald.proc.send_signal(signal.SIGHUP)
        wait_for_log(herald, "serve.reloaded", 1)
        with connect(herald.port) as new:
            assert new.getpeercert(binary_form=True) == der_of(cert), "a new connection gets the new certificate"
            assert get_on(new) == first
        assert get_on(old) == first, "the connection open before the reload still works"
        assert old.getpeercert(binary_form=True) != der_of(cert)
        # A key that does not match the certificate: refused, logged, the running one kept.
        _, other_key = new_certificate(ws.dir, "other")
        shutil.copy(other_key, os.path.join(os.path.dirname(herald.cert), "key.pem"))
        herald.proc.send_signal(signal.SIGHUP)
        wait_for_log(herald, "serve.reload_failed", 1)
        assert "TLS private key" in open(herald.log_path).read()
        with connect(herald.port) as after:
            assert after.getpeercert(binary_form=True) == der_of(cert)
        assert get_on(old) == first
        old.close()
        assert herald.proc.poll() is None, "SIGHUP never stops the server"
        herald.stop()


def test_openapi_documents_are_served_as_built():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        herald.start()
        for name in ("govuk-notify-v2.yaml", "nhs-notify-v1.yaml"):
            with connect(herald.port) as sock:
                sock.sendall(("GET /openapi/%s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n" % name).encode())
                data = b""
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            head, body = data.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert b"content-type: application/yaml" in head.lower(), head
            assert body == open(os.path.join(SOURCE, "docs", "openapi", name), "rb").read(), name
            assert body.startswith(b"openapi: 3.1"), body[:40]
        herald.stop()


if __name__ == "__main__":
    run_tests([test_version_names_commit_date_and_libraries, test_root_is_refused_unless_allowed,
               test_bash_completion_offers_the_binarys_commands, test_init_makes_what_an_installed_config_names,
               test_sighup_swaps_the_certificate_without_dropping_connections,
               test_openapi_documents_are_served_as_built])
