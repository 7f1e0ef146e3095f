#!/usr/bin/python3
"""Integration: the HTTPS listener's transport guarantees.

TLS 1.3 is negotiated and TLS 1.1 refused; security headers on every response; a client that
sends its request too slowly is cut off; SIGTERM lets requests in flight finish, and every
request answered 201 is in the database after a restart.
Usage: test_server.py /path/to/herald
"""
import concurrent.futures
import http.client
import json
import resource
import subprocess
import os
import signal
import re
import socket
import ssl
import sys
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests, wait_for_file  # noqa: E402

HERALD = sys.argv[1]


def started(ws, extra=""):
    sink = ws.track(SmtpSink(ws.dir))
    herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=extra))
    service_id, key = herald.create_service()
    template_id = herald.create_template(service_id, "Hi ((name))", "Hello ((name))")
    herald.start()
    return herald, key, template_id


def tls_connect(herald, **context_options):
    context = ssl.create_default_context(cafile=herald.cert)
    for name, value in context_options.items():
        setattr(context, name, value)
    raw = socket.create_connection(("127.0.0.1", herald.port), timeout=10)
    return context.wrap_socket(raw, server_hostname="localhost")


def test_tls_versions_and_headers():
    with Workspace() as ws:
        herald, key, _ = started(ws)
        with tls_connect(herald) as s:
            assert s.version() == "TLSv1.3", s.version()
        # The client is made willing to speak TLS 1.1, so a refusal can only come from Herald.
        old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        old.load_verify_locations(herald.cert)
        old.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = ssl.TLSVersion.TLSv1
            old.maximum_version = ssl.TLSVersion.TLSv1_1
        try:
            with old.wrap_socket(socket.create_connection(("127.0.0.1", herald.port), timeout=10),
                                 server_hostname="localhost"):
                raise AssertionError("TLS 1.1 must be refused")
        except ssl.SSLError as e:
            assert e.reason == "TLSV1_ALERT_PROTOCOL_VERSION", e
        with tls_connect(herald) as s:
            s.sendall(b"GET /v2/notifications/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            response = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                response += chunk
        head = response.split(b"\r\n\r\n")[0].lower()
        for header in (b"strict-transport-security: max-age=", b"x-content-type-options: nosniff",
                       b"cache-control: no-store", b"content-type: application/json"):
            assert header in head, (header, head)
        assert b"HTTP/1.1 401" in response


def raw_exchange(herald, data, send_all=True):
    """Sends raw bytes over TLS; returns (status, parsed JSON body or None, whether the server
    reset the connection before a response could be read)."""
    with tls_connect(herald) as s:
        s.settimeout(20)
        reset = False
        try:
            if send_all:
                s.sendall(data)
            else:
                # A big body in pieces, stopping early if the server has already answered.
                head, body = data
                s.sendall(head)
                for i in range(0, len(body), 1 << 20):
                    s.sendall(body[i:i + (1 << 20)])
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            reset = True
        response = b""
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                response += chunk
        except (ConnectionResetError, ssl.SSLError, socket.timeout):
            pass
    if not response:
        return None, None, True
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ")[1])
    try:
        parsed = json.loads(body.decode())
    except ValueError:
        parsed = None
    return status, parsed, reset


def test_malformed_requests_get_a_400_in_the_api_error_format():
    with Workspace() as ws:
        herald, key, _ = started(ws)
        start = b"POST /v2/notifications/email HTTP/1.1\r\nHost: localhost\r\n"
        cases = {
            "negative Content-Length": start + b"Content-Length: -1\r\n\r\n",
            "two Content-Lengths": start + b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
            "Content-Length with Transfer-Encoding": start + b"Content-Length: 5\r\n"
                                                     b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
            "a header line without a colon": start + b"NoColonHere\r\nContent-Length: 2\r\n\r\n{}",
            "NUL in a header": start + b"X-Thing: a\x00b\r\nContent-Length: 2\r\n\r\n{}",
            "a bad chunk size": start + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        }
        for name, data in cases.items():
            status, body, _ = raw_exchange(herald, data)
            assert status == 400, (name, status, body)
            assert body == {"status_code": 400, "errors": [{"error": "BadRequestError",
                                                            "message": "Malformed HTTP request"}]}, (name, body)
        # The server is still there for well-formed requests.
        status, _, _ = raw_exchange(herald, b"GET /v2/notifications/x HTTP/1.1\r\nHost: localhost\r\n"
                                            b"Connection: close\r\n\r\n")
        assert status == 401, status


def test_a_50_mb_body_gets_a_413_not_a_reset():
    with Workspace() as ws:
        herald, key, _ = started(ws)
        body = b"x" * (50 * 1024 * 1024)
        head = (b"POST /v2/notifications/email HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        status, parsed, reset = raw_exchange(herald, (head, body), send_all=False)
        assert status == 413 and not reset, (status, parsed, reset)
        assert parsed["status_code"] == 413, parsed
        # Under NHS Notify's prefix, in its own format.
        head = (b"POST /comms/v1/message-batches HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        status, parsed, reset = raw_exchange(herald, (head, body), send_all=False)
        assert status == 413 and not reset, (status, parsed, reset)
        assert [(e["code"], e["status"], e["source"]) for e in parsed["errors"]] == [
            ("CM_TOO_LARGE", "413", {"pointer": "/"})], parsed


def cpu_seconds(pid):
    fields = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_descriptor_exhaustion_backs_off_logs_once_and_recovers():
    """1,500 idle TCP connections against a server limited to 1,024 descriptors: the accept loop
    used to log "Too many open files" millions of times and spin at 95% CPU."""
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        # Caps above the descriptor limit, so that the limit is what the flood meets.
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config="[server]\nmax_connections = 100000\n"
                                                                          "max_connections_per_source = 100000"))
        herald.create_service()
        ready = os.path.join(herald.dir, "ready")
        herald.log = open(herald.log_path, "ab")
        herald.proc = subprocess.Popen(
            [HERALD, "--config", herald.config, "serve", "--ready-file", ready], env=herald.env,
            stdout=herald.log, stderr=herald.log,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024)))
        herald.port = int(wait_for_file(ready, proc=herald.proc))
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
        idle = []
        try:
            for _ in range(1500):
                idle.append(socket.create_connection(("127.0.0.1", herald.port), timeout=10))
            before = cpu_seconds(herald.proc.pid)
            time.sleep(5)
            busy = (cpu_seconds(herald.proc.pid) - before) / 5
            log = open(herald.log_path, errors="replace").read()
            failures = log.count("http.accept_failed")
            print("out of descriptors for 5 s: %.1f%% of a core, %d accept_failed lines" % (busy * 100, failures))
            assert failures >= 1, "the test must reach the descriptor limit"
            assert failures <= 3, "logged %d times in 5 s" % failures
            assert busy < 0.5, "the server used %.0f%% of a core while out of descriptors" % (busy * 100)
        finally:
            for s_ in idle:
                s_.close()
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        # Recovered: a well-formed request is answered.
        deadline = time.time() + 30
        while True:
            try:
                status, _, _ = raw_exchange(herald, b"GET /v2/notifications/x HTTP/1.1\r\nHost: localhost\r\n"
                                                    b"Connection: close\r\n\r\n")
                if status == 401:
                    break
            except OSError:
                pass
            assert time.time() < deadline, "no answer after the flood: %s" % open(herald.log_path, errors="replace").read()[-2000:]
            time.sleep(0.5)
        assert herald.proc.poll() is None, "serve exited"


def test_connections_from_one_address_are_capped():
    with Workspace() as ws:
        herald, _, _ = started(ws, "[server]\nmax_connections_per_source = 5")
        held = [socket.create_connection(("127.0.0.1", herald.port), timeout=10) for _ in range(5)]
        try:
            time.sleep(0.5)  # the five are accepted and held
            extra = socket.create_connection(("127.0.0.1", herald.port), timeout=10)
            extra.settimeout(5)
            try:
                data = extra.recv(10)
            except ConnectionResetError:
                data = b""
            extra.close()
            assert data == b"", "the sixth connection from one address must be closed at once"
            log = open(herald.log_path, errors="replace").read()
            assert "too many connections from one address" in log, log[-2000:]
        finally:
            for s_ in held:
                s_.close()
        deadline = time.time() + 20
        while True:
            # Until the server has seen the five close, a sixth is still turned away (a reset).
            try:
                status, _, _ = raw_exchange(herald, b"GET /v2/notifications/x HTTP/1.1\r\nHost: localhost\r\n"
                                                    b"Connection: close\r\n\r\n")
            except (ConnectionResetError, ssl.SSLError):
                status = None
            if status == 401:
                break
            assert time.time() < deadline, "not served once the held connections closed"
            time.sleep(0.2)


def test_core_dumps_are_off():
    with Workspace() as ws:
        herald, _, _ = started(ws)
        limits = open("/proc/%d/limits" % herald.proc.pid).read()
        core = [l.split() for l in limits.splitlines() if l.startswith("Max core file size")][0]
        assert core[4:6] == ["0", "0"], "soft and hard core limits must be 0: %s" % core


def read_response_then_close(s, timeout=10):
    """The whole of what the server sends on `s` until it closes it: (bytes, seconds taken)."""
    started_at = time.time()
    s.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = s.recv(4096)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    return data, time.time() - started_at


def test_slow_client_is_told_408_and_cut_off():
    """A request not whole within request_timeout_seconds is answered 408 in its API's error
    format and the connection closed: a slow header (GOV.UK's format), a slow body under NHS
    Notify's prefix (CM_TIMEOUT)."""
    with Workspace() as ws:
        herald, _, _ = started(ws, "[server]\nrequest_timeout_seconds = 2")
        with tls_connect(herald) as s:
            s.sendall(b"POST /v2/notifications/email HTTP/1.1\r\nHost: localhost\r\n")
            data, elapsed = read_response_then_close(s)
            assert elapsed < 6, elapsed
            head, body = data.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 408") and b"connection: close" in head.lower(), head
            assert json.loads(body)["status_code"] == 408, body
        with tls_connect(herald) as s:
            s.sendall(b"POST /comms/v1/messages HTTP/1.1\r\nHost: localhost\r\n"
                      b"Content-Type: application/vnd.api+json\r\nContent-Length: 100\r\n\r\n{\"data\":")
            data, elapsed = read_response_then_close(s)
            assert elapsed < 6, elapsed
            head, body = data.split(b"\r\n\r\n", 1)
            assert head.startswith(b"HTTP/1.1 408"), head
            error = json.loads(body)["errors"][0]
            assert (error["status"], error["code"], error["title"]) == ("408", "CM_TIMEOUT", "Request timeout"), error
        # A request that arrived whole in time (slowly, so its deadline was armed) leaves no
        # deadline behind for the next request on the connection.
        with tls_connect(herald) as s:
            s.settimeout(10)
            s.sendall(b"GET /no-such-route HTTP/1.1\r\n")
            time.sleep(1)
            s.sendall(b"Host: localhost\r\n\r\n")
            first = b""
            while b"\r\n\r\n" not in first:
                first += s.recv(4096)
            head, body = first.split(b"\r\n\r\n", 1)
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            while len(body) < length:
                body += s.recv(4096)
            assert head.startswith(b"HTTP/1.1 404"), head
            time.sleep(2.5)  # past the first request's deadline
            s.sendall(b"GET /no-such-route HTTP/1.1\r\n")
            time.sleep(1)
            s.sendall(b"Host: localhost\r\n\r\n")
            second = s.recv(12)
            assert second == b"HTTP/1.1 404", second


def closed_after(s, timeout=15):
    """Seconds until the server closes `s` (nothing sent on it)."""
    started_at = time.time()
    s.settimeout(timeout)
    try:
        data = s.recv(100)
    except (ConnectionResetError, ssl.SSLError):
        data = b""
    assert data == b"", data
    return time.time() - started_at


def test_idle_and_request_timeouts_are_separate():
    """An idle connection (after the handshake, and between keep-alive requests) is closed after
    idle_timeout_seconds; a request that has begun has request_timeout_seconds to arrive."""
    with Workspace() as ws:
        herald, _, _ = started(ws, "[server]\nidle_timeout_seconds = 1\nrequest_timeout_seconds = 6")
        with tls_connect(herald) as s:
            assert closed_after(s) < 4, "an idle connection after the handshake"
        with tls_connect(herald) as s:
            s.sendall(b"GET /no-such-route HTTP/1.1\r\nHost: localhost\r\n\r\n")
            s.settimeout(10)
            response = b""
            while b"\r\n\r\n" not in response:
                response += s.recv(4096)
            head, body = response.split(b"\r\n\r\n", 1)
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
            while len(body) < length:
                body += s.recv(4096)
            assert head.startswith(b"HTTP/1.1 404") and b"close" not in head.lower(), head
            assert closed_after(s) < 4, "an idle keep-alive connection"
        with tls_connect(herald) as s:
            s.sendall(b"POST /v2/notifications/email HTTP/1.1\r\n")
            time.sleep(2.5)  # past the idle timeout, within the request timeout
            s.sendall(b"Host: localhost\r\nContent-Length: 2\r\n\r\n{}")
            s.settimeout(10)
            assert s.recv(12) == b"HTTP/1.1 401", "a slow request that began is still read"


def test_sigterm_finishes_in_flight_requests():
    with Workspace() as ws:
        herald, key, template_id = started(ws)

        def send(i):
            try:
                return herald.request("POST", "/v2/notifications/email", key=key, body={
                    "email_address": "p%d@example.com" % i, "template_id": template_id,
                    "personalisation": {"name": "n"}})
            except (OSError, ssl.SSLError):
                return None, None

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(send, i) for i in range(200)]
            time.sleep(0.05)
            herald.proc.send_signal(signal.SIGTERM)
            results = [f.result() for f in futures]
        assert herald.proc.wait(30) == 0
        herald.proc = None
        herald.log.close()
        accepted = [body["id"] for status, body in results if status == 201]
        assert accepted, "some requests should have been answered before the listener closed"
        assert all(status in (201, None) for status, _ in results), [s for s, _ in results]
        herald.start()
        for notification_id in accepted:
            status, body = herald.request("GET", "/v2/notifications/" + notification_id, key=key)
            assert status == 200, (notification_id, status, body)


def test_head_answers_carry_no_body():
    """A HEAD response has headers only (RFC 9110 9.3.2), errors included: a body would be read as
    the next response on a kept-alive connection."""
    with Workspace() as ws:
        herald, key, _ = started(ws)
        with tls_connect(herald) as s:
            for path in ("/v2/notifications", "/comms/v1/messages/0000", "/no-such-path"):
                s.sendall(("HEAD %s HTTP/1.1\r\nHost: localhost\r\n\r\n" % path).encode())
                head = b""
                while b"\r\n\r\n" not in head:
                    head += s.recv(65536)
                headers, extra = head.split(b"\r\n\r\n", 1)
                assert extra == b"", (path, extra)
                assert int(re.search(rb"(?i)content-length: *(\d+)", headers).group(1)) > 0, headers
            # The same connection still reads the next answer from its first byte.
            s.sendall(b"GET /_status HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 "), "desynchronised"


def test_large_answers_arrive_whole_and_the_connection_goes_on():
    """A body over one TLS record (the OpenAPI documents, ~46 KB) is written after its head and
    arrives byte for byte; the kept-alive connection then answers a small request."""
    with Workspace() as ws:
        herald, key, _ = started(ws)
        ctx = ssl.create_default_context(cafile=herald.cert)
        conn = http.client.HTTPSConnection("127.0.0.1", herald.port, context=ctx, timeout=10)
        for name in ("govuk-notify-v2.yaml", "nhs-notify-v1.yaml", "govuk-notify-v2.yaml"):
            conn.request("GET", "/openapi/" + name)
            response = conn.getresponse()
            body = response.read()
            expected = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "openapi",
                                         name), "rb").read()
            assert response.status == 200 and len(expected) > 16384 and body == expected, (name, len(body))
        conn.request("GET", "/no-such-path")
        response = conn.getresponse()
        assert response.status == 404 and json.loads(response.read()), response.status
        conn.close()


if __name__ == "__main__":
    run_tests([test_tls_versions_and_headers, test_core_dumps_are_off, test_slow_client_is_told_408_and_cut_off,
               test_idle_and_request_timeouts_are_separate,
               test_malformed_requests_get_a_400_in_the_api_error_format, test_a_50_mb_body_gets_a_413_not_a_reset,
               test_descriptor_exhaustion_backs_off_logs_once_and_recovers, test_connections_from_one_address_are_capped,
               test_sigterm_finishes_in_flight_requests, test_head_answers_carry_no_body,
               test_large_answers_arrive_whole_and_the_connection_goes_on])
