"""A stand-in for the NHS API platform on 127.0.0.1, for the tests: its signed-JWT token endpoint,
the NHS App's API (NHSDigital/nhs-app-api, specification/nhs-app.yaml: in-app messages, POST
/nhs-app/communication/in-app/FHIR/R4/CommunicationRequest, checked as the specification says, and
its "realtime receipts", a FHIR Task posted to the sender on the test's word), and PDS FHIR
(NHSDigital/personal-demographics-service-api: GET /personal-demographics/FHIR/R4/Patient/{id},
answering from `patients` as PDS does: restricted records without address and telecom, 404
RESOURCE_NOT_FOUND / INVALIDATED_RESOURCE, an X-Request-ID required).

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
        self.patients = {}  # PDS records by NHS number ("invalidated" for an invalidated one)
        self.lookups = []   # NHS numbers PDS was asked for
        self.lock = threading.Lock()
        self.cert, key = self_signed(workdir, "nhs-app")
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                self.do_POST()

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

    def config(self, private_key_file, pds=False):
        """[nhs_platform] and [nhs_app] (and [pds]) for Herald's configuration."""
        text = ('[nhs_platform]\ntoken_url = "%s"\nkid = "%s"\nprivate_key = "%s"\nca_file = "%s"\n'
                'timeout_ms = 3000\n\n[nhs_app]\nurl = "%s"\n'
                % (self.token_url, self.kid, private_key_file, self.cert, self.url))
        if pds:
            text += '\n[pds]\nurl = "https://127.0.0.1:%d/personal-demographics/FHIR/R4"\n' % self.port
        return text

    def patient(self, nhs_number, given="Ada", family="Lovelace", mobile=None, email=None, restricted=False,
                death=None, exit_code=None):
        """Adds a PDS record: death None, "1" (informal) or "2" (formal)."""
        record = {"resourceType": "Patient", "id": nhs_number,
                  "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number", "value": nhs_number}],
                  "meta": {"versionId": "7", "security": [{
                      "system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality",
                      "code": "R" if restricted else "U", "display": "restricted" if restricted else "unrestricted"}]},
                  "name": [{"use": "old", "given": ["Old"], "family": "Name", "period": {"start": "1990-01-01",
                                                                                          "end": "2000-01-01"}},
                           {"use": "usual", "given": [given], "family": family, "period": {"start": "2000-01-02"}}],
                  "telecom": [{"system": "email", "value": "expired@example.org", "use": "home",
                               "period": {"start": "2010-01-01", "end": "2012-01-01"}}],
                  "address": [{"use": "home", "line": ["1 Trevelyan Square", "Boar Lane", "Leeds"],
                               "postalCode": "LS1 6AE"}],
                  "extension": []}
        if mobile:
            record["telecom"].append({"system": "phone", "value": mobile, "use": "mobile"})
        if email:
            record["telecom"].append({"system": "email", "value": email, "use": "home"})
        if restricted:
            del record["address"]
            del record["telecom"]
        if death:
            record["deceasedDateTime"] = "2026-01-01T00:00:00+00:00"
            record["extension"].append({
                "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus",
                "extension": [{"url": "deathNotificationStatus", "valueCodeableConcept": {"coding": [{
                    "system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus", "code": death}]}}]})
        if exit_code:
            record["extension"].append({
                "url": "https://fhir.nhs.uk/StructureDefinition/Extension-PDS-RemovalFromRegistration",
                "extension": [{"url": "removalFromRegistrationCode", "valueCodeableConcept": {"coding": [{
                    "system": "https://fhir.nhs.uk/CodeSystem/PDS-RemovalReasonExitCode", "code": exit_code}]}}]})
        with self.lock:
            self.patients[nhs_number] = record

    def invalidate(self, nhs_number):
        with self.lock:
            self.patients[nhs_number] = "invalidated"

    def supersede(self, old_number, new_number):
        """`old_number` was merged into `new_number`: PDS answers the old one with the new record."""
        with self.lock:
            self.patients[old_number] = ("superseded", new_number)

    def pds(self, path, headers):
        fhir = {"Content-Type": "application/fhir+json"}

        def error(status, code, issue):
            return status, {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": issue,
                            "details": {"coding": [{"system": "https://fhir.nhs.uk/R4/CodeSystem/Spine-ErrorOrWarningCode",
                                                    "version": "1", "code": code}]}}]}, fhir
        token = headers.get("Authorization", "")[len("Bearer "):]
        with self.lock:
            known = token in self.tokens
        if not known:
            return error(401, "ACCESS_DENIED", "forbidden")
        request_id = headers.get("X-Request-ID", "")
        if not re.fullmatch(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", request_id):
            return error(400, "INVALID_VALUE" if request_id else "MISSING_VALUE", "value")
        nhs_number = path.rsplit("/", 1)[1]
        with self.lock:
            self.lookups.append(nhs_number)
            record = self.patients.get(nhs_number)
        if not re.fullmatch(r"\d{10}", nhs_number):
            return error(400, "INVALID_RESOURCE_ID", "value")
        if record is None:
            return error(404, "RESOURCE_NOT_FOUND", "not-found")
        if record == "invalidated":
            return error(404, "INVALIDATED_RESOURCE", "processing")
        if isinstance(record, tuple):
            with self.lock:
                record = self.patients[record[1]]
        fhir["ETag"] = 'W/"%s"' % record["meta"]["versionId"]
        return 200, record, fhir

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
        if path.startswith("/personal-demographics/FHIR/R4/Patient/"):
            return self.pds(path, headers)
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
