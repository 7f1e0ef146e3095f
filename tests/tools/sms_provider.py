"""A stand-in for an SMS aggregator's HTTP API on 127.0.0.1, speaking Firetext's or MMG's
protocol exactly as Herald's adapters use it, for the tests.

It serves HTTPS with its own self-signed certificate (give Herald `cert` as the provider's
ca_file), records every message, can be told to fail, and sends delivery receipts back to Herald
the way each provider does: to the receipt URL Herald gave it, with the HTTP Basic credentials
embedded there. The URL's host is replaced by `herald_url` (the test's server on 127.0.0.1).
"""
import base64
import http.server
import json
import os
import socket
import ssl
import struct
import subprocess
import threading
import time
import urllib.parse
import urllib.request


def self_signed(workdir, name):
    cert = os.path.join(workdir, name + "-cert.pem")
    key = os.path.join(workdir, name + "-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


class SmsProvider:
    """name: "firetext" or "mmg". mode: "ok", "error" (HTTP 500), "reject" (Firetext code 3 /
    MMG 401), and for the fault suite "hang" (takes the text, answers after 5 s: past Herald's
    timeout), "reset" (drops the connection without an answer) and "garbage" (200 with a body
    that is not the provider's). receipt: the status to report after accepting ("0"/"1"/"2" Firetext, "3"/"4"/"5"
    MMG), a list of them (sent in order), or None for no receipt."""

    def __init__(self, workdir, name, api_key="test-api-key", receipt=None):
        self.name = name
        self.api_key = api_key
        self.mode = "ok"
        self.receipt = receipt
        self.herald_url = None
        self.herald_cert = None
        self.received = []
        self.receipts_sent = []
        self.lock = threading.Lock()
        self.cert, key = self_signed(workdir, name)
        provider = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                provider.handle(self, body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.url = "https://127.0.0.1:%d/api" % self.port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def config(self):
        """The [sms.<name>] table for Herald's configuration."""
        return '[sms.%s]\nurl = "%s"\nca_file = "%s"\ntimeout_ms = 3000\n' % (self.name, self.url, self.cert)

    def handle(self, request, body):
        def answer(status, payload):
            data = json.dumps(payload).encode()
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)

        if self.name == "firetext":
            form = dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))
            message = {"to": form.get("to"), "from": form.get("from"), "message": form.get("message"),
                       "reference": form.get("reference"), "receipt_url": form.get("receipt"),
                       "api_key": form.get("apiKey")}
        else:
            data = json.loads(body)
            message = {"to": data.get("MSISDN"), "from": data.get("sender"), "message": data.get("msg"),
                       "reference": data.get("cid"), "receipt_url": data.get("delurl"),
                       "api_key": request.headers.get("Authorization", "")[len("Basic "):],
                       "reqType": data.get("reqType"), "multi": data.get("multi")}
        if self.mode == "error":
            return answer(500, {"error": "unavailable"})
        if self.mode == "reset":
            request.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.connection.close()
            request.close_connection = True
            return None
        if self.mode == "garbage":
            data = b"\x00\xff<html>not what a provider says"
            request.send_response(200)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(data)))
            request.end_headers()
            request.wfile.write(data)
            return None
        if self.mode == "hang":
            with self.lock:
                self.received.append(message)
            time.sleep(5)
            return answer(200, {"code": 0, "description": "SMS successfully queued"})
        if message["api_key"] != self.api_key or self.mode == "reject":
            if self.name == "firetext":
                return answer(200, {"code": 3, "description": "Invalid API key"})
            return answer(401, {"error": "unauthorised"})
        with self.lock:
            self.received.append(message)
        answer(200, {"code": 0, "description": "SMS successfully queued"} if self.name == "firetext"
               else {"reference": "mmg-%d" % len(self.received)})
        if self.receipt is not None:
            statuses = self.receipt if isinstance(self.receipt, list) else [self.receipt]
            threading.Thread(target=self.send_receipts, args=(message, statuses), daemon=True).start()

    def send_receipts(self, message, statuses):
        time.sleep(0.05)
        for status in statuses:
            self.post_receipt(message["receipt_url"], message["reference"], status)

    def post_receipt(self, receipt_url, reference, status, credentials=None):
        """Posts one receipt as the provider would; returns Herald's (status, body)."""
        parts = urllib.parse.urlsplit(receipt_url or "")
        user, password = credentials or (urllib.parse.unquote(parts.username or ""),
                                         urllib.parse.unquote(parts.password or ""))
        if self.name == "firetext":
            data = urllib.parse.urlencode({"mobile": "447700900123", "status": status, "code": "000",
                                           "reference": reference, "time": "2026-11-23 09:30:00"}).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            data = json.dumps({"status": status, "substatus": "5", "CID": reference, "MSISDN": "447700900123",
                               "deliverytime": "2026-11-23 09:30:00"}).encode()
            content_type = "application/json"
        request = urllib.request.Request(self.herald_url + "/notifications/sms/" + self.name, data=data,
                                         method="POST", headers={"Content-Type": content_type})
        if user or password:
            token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
            request.add_header("Authorization", "Basic " + token)
        context = ssl.create_default_context(cafile=self.herald_cert)
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as response:
                result = response.status, response.read()
        except urllib.error.HTTPError as e:
            result = e.code, e.read()
        with self.lock:
            self.receipts_sent.append((reference, status, result[0]))
        return result

    def post_inbound(self, source, destination, message, credentials, reference="mmg-in-1"):
        """Posts a received text as the provider would; returns Herald's (status, body)."""
        if self.name == "firetext":
            data = urllib.parse.urlencode({"source": source, "destination": destination, "message": message,
                                           "time": "2026-11-23 09:30:00"}).encode()
            content_type = "application/x-www-form-urlencoded"
        else:
            data = json.dumps({"MSISDN": source, "Number": destination, "ID": reference,
                               "Message": urllib.parse.quote_plus(message),
                               "DateRecieved": urllib.parse.quote_plus("2026-11-23 09:31:00")}).encode()
            content_type = "application/json"
        request = urllib.request.Request(self.herald_url + "/notifications/sms/receive/" + self.name, data=data,
                                         method="POST", headers={"Content-Type": content_type})
        if credentials:
            token = base64.b64encode(("%s:%s" % credentials).encode()).decode()
            request.add_header("Authorization", "Basic " + token)
        context = ssl.create_default_context(cafile=self.herald_cert)
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def messages(self):
        with self.lock:
            return list(self.received)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
