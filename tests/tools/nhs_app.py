"""A stand-in for the NHS App's API (NHSDigital/nhs-app-api, specification/nhs-app.yaml) on
127.0.0.1, for the tests: its signed-JWT token endpoint, in-app messages
(POST /communication/in-app/FHIR/R4/CommunicationRequest) checked as the specification says, and
its "realtime receipts" (a FHIR Task posted to the sender) sent on the test's word.

The token endpoint checks the client assertion the way the NHS API platform does: RS512, the
registered kid, iss = sub = the API key, aud = this token URL, exp at most 5 minutes ahead, a jti
never seen before, and the signature against the public key (openssl), so Herald's client is
tested against the real rules. HTTPS with its own self-signed certificate (give Herald `cert`).
"""
import base64
import http.server
import json
import os
import re
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid

from sms_provider import self_signed

COMMUNICATION_ID = "https://fhir.nhs.uk/Id/nhs-app-communication-id"
REQUEST_ID = "https://fhir.nhs.uk/NHSApp/request-id"


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def outcome(diagnostics, expression=None, code="invalid"):
    issue = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = [expression]
    return {"resourceType": "OperationOutcome", "issue": [issue]}


class NhsApp:
    """public_key_pem: Herald's registered public key. mode: "ok", "error" (HTTP 500 to messages)."""

    def __init__(self, workdir, api_key, kid, public_key_pem):
        self.api_key = api_key
        self.kid = kid
        self.public_key = os.path.join(workdir, "nhs-app-client-public.pem")
        with open(self.public_key, "w") as f:
            f.write(public_key_pem)
        self.mode = "ok"
        self.workdir = workdir
        self.tokens = set()
        self.jtis = set()
        self.received = []  # (communication id, request body)
        self.refused = []   # (status, OperationOutcome)
        self.lock = threading.Lock()
        self.cert, key = self_signed(workdir, "nhs-app")
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, payload, headers = app.handle(self.path, self.headers, body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d/nhs-app" % self.port
        self.token_url = "https://127.0.0.1:%d/oauth2/token" % self.port
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def config(self, private_key_file):
        return ('[nhs_app]\nurl = "%s"\ntoken_url = "%s"\nkid = "%s"\nprivate_key = "%s"\nca_file = "%s"\n'
                'timeout_ms = 3000\n' % (self.url, self.token_url, self.kid, private_key_file, self.cert))

    def verify_signature(self, signing_input, signature):
        with tempfile.NamedTemporaryFile(dir=self.workdir) as data, tempfile.NamedTemporaryFile(dir=self.workdir) as sig:
            data.write(signing_input)
            data.flush()
            sig.write(signature)
            sig.flush()
            result = subprocess.run(["openssl", "dgst", "-sha512", "-verify", self.public_key, "-signature", sig.name,
                                     data.name], capture_output=True)
            return result.returncode == 0

    def token(self, headers, body):
        form = dict(urllib.parse.parse_qsl(body.decode()))
        if form.get("grant_type") != "client_credentials" or form.get("client_assertion_type") != \
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return 400, {"error": "invalid_request"}, {}
        parts = form.get("client_assertion", "").split(".")
        if len(parts) != 3:
            return 400, {"error": "invalid_request", "error_description": "Malformed JWT"}, {}
        header = json.loads(b64url_decode(parts[0]))
        claims = json.loads(b64url_decode(parts[1]))
        now = time.time()
        problems = []
        if header.get("alg") != "RS512" or header.get("kid") != self.kid:
            problems.append("alg/kid")
        if claims.get("iss") != self.api_key or claims.get("sub") != self.api_key:
            problems.append("iss/sub")
        if claims.get("aud") != self.token_url:
            problems.append("aud")
        if not isinstance(claims.get("exp"), int) or not now - 10 < claims["exp"] <= now + 310:
            problems.append("exp")
        with self.lock:
            if claims.get("jti") in self.jtis:
                problems.append("jti")
            self.jtis.add(claims.get("jti"))
        if not self.verify_signature((parts[0] + "." + parts[1]).encode(), b64url_decode(parts[2])):
            problems.append("signature")
        if problems:
            return 401, {"error": "invalid_request", "error_description": "assertion: " + ", ".join(problems)}, {}
        token = uuid.uuid4().hex
        with self.lock:
            self.tokens.add(token)
        return 200, {"access_token": token, "expires_in": "599", "token_type": "Bearer"}, {}

    def in_app(self, headers, body):
        fhir = {"Content-Type": "application/fhir+json"}
        token = headers.get("Authorization", "")[len("Bearer "):]
        with self.lock:
            known = token in self.tokens
        if not known:
            return 401, outcome("Invalid Access Token", code="forbidden"), fhir
        if self.mode == "error":
            return 500, outcome("Internal error", code="exception"), fhir
        try:
            request = json.loads(body)
        except ValueError:
            return 400, outcome("Invalid Json encountered."), fhir
        problem = None
        recipients = request.get("recipient") or []
        if request.get("resourceType") != "CommunicationRequest":
            problem = outcome("type (at Cannot locate type information)")
        elif request.get("status") != "active":
            problem = outcome("Not specified", "status")
        elif len(recipients) != 1:
            problem = outcome("Exceeds maximum length" if recipients else "Not specified", "recipient")
        elif not re.fullmatch(r"\d{10}", recipients[0].get("identifier", {}).get("value", "")):
            problem = outcome("NHS Number is invalid", "recipient[0].identifier.value")
        elif not re.fullmatch(r"[0-9A-Z]+", request.get("requester", {}).get("identifier", {}).get("value", "")):
            problem = outcome("Not specified", "requester.identifier.value")
        elif len((request.get("payload") or [{}])[0].get("contentString", "")) > 5000:
            problem = outcome("Exceeds maximum length", "payload[0].contentString")
        if problem:
            with self.lock:
                self.refused.append((400, problem))
            return 400, problem, fhir
        communication = str(uuid.uuid4())
        answer = dict(request)
        answer["identifier"] = [{"system": COMMUNICATION_ID, "value": communication}] + request.get("identifier", [])
        with self.lock:
            self.received.append((communication, request))
        fhir["Location"] = self.url + "/communication/in-app/FHIR/R4/CommunicationRequest/" + communication
        return 201, answer, fhir

    def handle(self, path, headers, body):
        if path == "/oauth2/token":
            return self.token(headers, body)
        if path == "/nhs-app/communication/in-app/FHIR/R4/CommunicationRequest":
            return self.in_app(headers, body)
        return 404, outcome("Not found", code="not-found"), {}

    def messages(self):
        with self.lock:
            return list(self.received)

    def post_receipt(self, herald_url, herald_cert, request, code, credentials, last_modified=None):
        """Posts a realtime receipt (a FHIR Task) for one received request; returns (status, body)."""
        communication, body = request
        task = {"resourceType": "Task", "intent": "order",
                "identifier": list(body.get("identifier", [])) + [{"system": COMMUNICATION_ID, "value": communication}],
                "status": "rejected" if code == "Rejected" else "completed",
                "code": {"coding": [{"system": "https://fhir.nhs.uk/CodeSystem/NHSApp-Communication-Status",
                                     "code": code}]},
                "authoredOn": "2026-12-01T09:00:00+00:00",
                "lastModified": last_modified or time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())}
        if code == "Rejected":
            task["statusReason"] = {"text": "NHS number not found"}
        data = json.dumps(task).encode()
        req = urllib.request.Request(herald_url + "/nhs-app/FHIR/R4/Task", data=data, method="POST",
                                     headers={"Content-Type": "application/json"})
        if credentials:
            req.add_header("Authorization", "Basic " + base64.b64encode(("%s:%s" % credentials).encode()).decode())
        try:
            with urllib.request.urlopen(req, context=ssl.create_default_context(cafile=herald_cert),
                                        timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
