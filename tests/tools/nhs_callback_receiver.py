"""A client's NHS Notify callback receiver on 127.0.0.1 (HTTPS, its own certificate), checking
what NHS's documentation tells receivers to check: the API-key header (401 if missing or wrong)
and x-hmac-sha256-signature, the hex HMAC-SHA256 of the raw body with the key
"<application id>.<api key>" (403 if it does not match). It records every request and answers
the next scripted status (with an optional Retry-After), then 202.
Optionally it requires a client certificate (mutual TLS) signed by `client_ca`."""
import base64
import hashlib
import hmac
import http.server
import json
import ssl
import subprocess
import threading
import time

from sms_provider import self_signed


def spki_sha256(cert_file):
    """The certificate's public key pin: base64 of SHA-256 over its DER SubjectPublicKeyInfo."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_file, "-pubkey", "-noout"], check=True,
                         capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "der"], input=pub, check=True,
                         capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class NhsCallbackReceiver:
    def __init__(self, workdir, name, application_id, api_key_header="x-api-key", client_ca=None):
        self.application_id = application_id
        self.api_key_header = api_key_header.lower()
        self.api_key = None  # set once known
        self.script = []  # (status, retry_after or None)
        self.calls = []  # (headers, raw body, status answered)
        self.lock = threading.Lock()
        self.cert, key = self_signed(workdir, name)
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                headers[":path"] = self.path
                status, retry_after = receiver.judge(headers, raw)
                with receiver.lock:
                    receiver.calls.append((headers, raw, status))
                self.send_response(status)
                if retry_after is not None:
                    self.send_header("Retry-After", str(retry_after))
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        if client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(client_ca)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = "https://127.0.0.1:%d/%s/callbacks" % (self.server.server_address[1], name)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def judge(self, headers, raw):
        if self.api_key is None or headers.get(self.api_key_header) != self.api_key:
            return 401, None
        secret = ("%s.%s" % (self.application_id, self.api_key)).encode()
        expected = hmac.new(secret, raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(headers.get("x-hmac-sha256-signature", ""), expected):
            return 403, None
        with self.lock:
            return self.script.pop(0) if self.script else (202, None)

    def items(self, status=202):
        """The items of the requests answered `status`, parsed, in arrival order."""
        with self.lock:
            return [json.loads(raw) for _, raw, s in self.calls if s == status]

    def wait_for(self, predicate, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                calls = list(self.calls)
            if predicate(calls):
                return calls
            time.sleep(0.05)
        raise TimeoutError("receiver %s: %r" % (self.url, self.calls))

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
