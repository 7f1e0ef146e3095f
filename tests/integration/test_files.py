#!/usr/bin/python3
"""Integration: sending a file by email (GOV.UK's prepareUpload, api spec §3.3) through `herald serve`.

An email with a file object is sent over the v2 API; the link is read from the email the SMTP
stand-in received; the download page asks for the email address (a wrong one is refused, the right
one gets the bytes with safe headers); wrong keys, other services and expired files all get the
same 404; ten wrong addresses lock the file; without confirmation the page links straight to the
file; retention deletes expired files and destroys their day's data key; simulated recipients and
test keys store nothing; every §3.3 validation message over HTTP.
Usage: test_files.py /path/to/herald
"""
import base64
import email
import email.policy
import http.client
import os
import re
import ssl
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, retention_moment, run_tests  # noqa: E402

HERALD = sys.argv[1]
RECIPIENT = "Patient.Files@Example.org"
PDF = b"%PDF-1.4\n% FILE-CONTENT-5c2e\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TESTING = {"HERALD_TESTING": "1"}  # `retention run --now` in the future
LINK = re.compile(r"https://[^\s)>\]]+/d/[0-9a-f-]{36}/[0-9a-f-]{36}\?key=[A-Za-z0-9_-]+")


def upload(content=PDF, filename=None, confirm=None, retention=None):
    """What the official clients' prepareUpload returns: null keys present."""
    return {"file": base64.b64encode(content).decode(), "filename": filename,
            "confirm_email_before_download": confirm, "retention_period": retention}


def setup(ws, live=True):
    sink = ws.track(SmtpSink(ws.dir))
    herald = ws.track(Herald(HERALD, ws.dir, sink.port))
    service_id, key = herald.create_service("Clinic", live=live)
    template_id = herald.create_template(service_id, "Your results", "Hello,\r\n\r\nDownload your results: ((file))")
    herald.test_key = herald.run_cli("key", "create", "--service", service_id, "--type", "test", "--name", "t")
    herald.start()
    return herald, sink, service_id, key, template_id


def send(herald, key, template_id, file_object, to=RECIPIENT, expect=201):
    status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
        "email_address": to, "template_id": template_id, "personalisation": {"file": file_object}})
    assert status == expect, (status, body)
    return body


def wait_for_link(sink, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for raw, meta in sink.messages():
            message = email.message_from_bytes(raw, policy=email.policy.default)
            found = LINK.search(message.get_body(("plain",)).get_content())
            if found:
                return found.group(0)
        time.sleep(0.1)
    raise TimeoutError("no email with a download link")


def fetch(herald, method, url, form=None):
    """A browser's request to a download page: (status, headers, body bytes)."""
    parsed = urllib.parse.urlsplit(url)
    target = parsed.path + ("?" + parsed.query if parsed.query else "")
    context = ssl.create_default_context(cafile=herald.cert)
    conn = http.client.HTTPSConnection("127.0.0.1", herald.port, context=context, timeout=30)
    headers, body = {}, None
    if form is not None:
        body = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    conn.request(method, target, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    out = (response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    conn.close()
    return out


def with_key(url, key):
    return url.split("?key=")[0] + "?key=" + key


def check_safe_headers(headers):
    assert headers.get("cache-control") == "no-store", headers
    assert headers.get("referrer-policy") == "no-referrer", headers
    assert headers.get("x-content-type-options") == "nosniff", headers


def test_confirm_email_then_download():
    with Workspace() as ws:
        herald, sink, service_id, key, template_id = setup(ws)
        body = send(herald, key, template_id, upload(filename="results.pdf"))
        assert "/d/%s/" % service_id in body["content"]["body"], body
        assert "FILE-CONTENT" not in str(body)
        link = wait_for_link(sink)
        assert link in body["content"]["body"]
        assert link.startswith("https://127.0.0.1:%d/d/%s/" % (herald.port, service_id)), link

        status, headers, page = fetch(herald, "GET", link)
        assert status == 200 and b"Confirm your email address" in page and b"Clinic" in page, (status, page)
        assert b"FILE-CONTENT" not in page and RECIPIENT.lower().encode() not in page.lower()
        check_safe_headers(headers)
        status, headers, page = fetch(herald, "GET", link.replace("?key=", "/download?key="))
        assert status == 200 and b"Confirm your email address" in page, "no file without the address"

        status, headers, page = fetch(herald, "POST", link, {"email_address": "someone.else@example.org"})
        assert status == 400 and b"not the email address" in page and b"9 tries left" in page, (status, page)
        assert b"FILE-CONTENT" not in page

        status, headers, data = fetch(herald, "POST", link, {"email_address": "  patient.files@EXAMPLE.org "})
        assert status == 200 and data == PDF, (status, data[:200])
        assert headers["content-type"] == "application/pdf", headers
        assert headers["content-disposition"].startswith('attachment; filename="results.pdf"'), headers
        check_safe_headers(headers)

        # Wrong key, another service, an unknown document: one and the same 404.
        document_id = link.split("/d/")[1].split("/")[1].split("?")[0]
        wrong_key = with_key(link, base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="))
        other_service = link.replace(service_id, "00000000-0000-4000-8000-000000000000")
        unknown = link.replace(document_id, "00000000-0000-4000-8000-000000000001")
        pages = set()
        for url in (wrong_key, other_service, unknown, with_key(link, "short"), link.split("?")[0]):
            for method, form in (("GET", None), ("POST", {"email_address": RECIPIENT})):
                status, headers, page = fetch(herald, method, url, form)
                assert status == 404, (url, method, status)
                check_safe_headers(headers)
                pages.add(page)
        assert len(pages) == 1, "every refusal must look the same"
        log = open(herald.log_path, "rb").read()
        assert link.split("?key=")[1].encode() not in log, "the link's key must never be logged"


def test_wrong_addresses_lock_the_file():
    with Workspace() as ws:
        herald, sink, service_id, key, template_id = setup(ws)
        send(herald, key, template_id, upload(filename="letter.txt", content=b"plain text"))
        link = wait_for_link(sink)
        for attempt in range(9):
            status, _, page = fetch(herald, "POST", link, {"email_address": "guess%d@example.org" % attempt})
            assert status == 400, (attempt, status)
        status, _, page = fetch(herald, "POST", link, {"email_address": "last.guess@example.org"})
        assert status == 403 and b"locked" in page, (status, page)
        status, _, page = fetch(herald, "POST", link, {"email_address": RECIPIENT})
        assert status == 403 and page != b"plain text", "a locked file stays locked"


def test_no_confirmation_and_expiry():
    with Workspace() as ws:
        herald, sink, service_id, key, template_id = setup(ws)
        csv = b"name,result\nA,1\n"
        sent = send(herald, key, template_id, {"file": base64.b64encode(csv).decode(), "is_csv": True,
                                               "confirm_email_before_download": False, "retention_period": "1 week"})
        link = wait_for_link(sink)
        status, headers, page = fetch(herald, "GET", link)
        assert status == 200 and b"Download this file" in page and b"Confirm" not in page, (status, page)
        status, headers, data = fetch(herald, "GET", link.replace("?key=", "/download?key="))
        assert status == 200 and data == csv and headers["content-type"] == "text/csv", (status, headers)
        assert 'filename="document.csv"' in headers["content-disposition"], headers

        # Still there before its week is out; gone (and its day's data key destroyed) after. The
        # moments follow the notification's own time, not the wall clock.
        created = herald.wait_for_status(key, sent["id"], {"delivered"})["created_at"]
        soon = retention_moment([created], 6)
        assert "0 expired files deleted" in herald.run_cli("retention", "run", "--now", soon, env=TESTING)
        assert fetch(herald, "GET", link)[0] == 200
        later = retention_moment([created], 9)
        assert "1 expired files deleted" in herald.run_cli("retention", "run", "--now", later, env=TESTING)
        assert fetch(herald, "GET", link)[0] == 404
        assert herald.sql("SELECT COUNT(*) FROM documents") == [(0,)]
        keys = herald.sql("SELECT scope, destroyed_at FROM data_keys WHERE scope LIKE 'documents/%'", keys=True)
        assert keys and all(destroyed not in (None, "") for _, destroyed in keys), keys


def test_simulated_recipients_and_test_keys_store_nothing():
    with Workspace() as ws:
        herald, sink, service_id, key, template_id = setup(ws)
        body = send(herald, key, template_id, upload(filename="a.pdf"),
                    to="simulate-delivered@notifications.service.gov.uk")
        expected = "https://127.0.0.1:%d/services/%s/documents/test-document" % (herald.port, service_id)
        assert expected in body["content"]["body"], body
        body = send(herald, herald.test_key, template_id, upload(filename="a.pdf"))
        assert expected in body["content"]["body"], body
        assert herald.sql("SELECT COUNT(*) FROM documents") == [(0,)]


def test_validation_messages():
    with Workspace() as ws:
        herald, sink, service_id, key, template_id = setup(ws)
        good = base64.b64encode(b"a,b,c\n1,2,3\n").decode()
        cases = [
            ({"file": False}, "ValidationError", ["file False is not of type string"]),
            ({"file": good, "is_csv": "bad"}, "ValidationError",
             ["is_csv Unsupported value for is_csv: bad. Use a boolean true or false value."]),
            ({"file": good, "confirm_email_before_download": "potato"}, "ValidationError",
             ["confirm_email_before_download Unsupported value for confirm_email_before_download: potato. "
              "Use a boolean true or false value."]),
            ({"file": good, "retention_period": "9999 weeks"}, "ValidationError",
             ["retention_period Unsupported value for retention_period: 9999 weeks. "
              "Supported periods are from 1 to 78 weeks."]),
            ({"file": good, "retention_period": "1 month"}, "ValidationError",
             ["retention_period Unsupported value for retention_period: 1 month. "
              "Supported periods are from 1 to 78 weeks."]),
            ({"file": good, "retention_period": False}, "ValidationError",
             ["retention_period Unsupported value for retention_period: False. "
              "Supported periods are from 1 to 78 weeks."]),
            ({"file": good, "filename": "file"}, "ValidationError",
             ["filename `filename` must end with a file extension. For example, filename.csv"]),
            ({"file": good, "is_csv": True, "filename": "file.csv"}, "ValidationError",
             ["Do not set a value for `is_csv` if `filename` is set."]),
            ({"file": good, "is_csv": None, "filename": None}, "ValidationError",
             ["Do not set a value for `is_csv` if `filename` is set."]),
            ({"file": good, "other": "attribute"}, "ValidationError",
             ["Additional properties are not allowed (other was unexpected)"]),
            ({"file": "not base64!"}, "BadRequestError", ["Document is not base64 encoded"]),
            ({"file": base64.b64encode(b"x" * (2 * 1024 * 1024 + 1)).decode()}, "BadRequestError",
             ["File is larger than 2MB"]),
            ({"file": good, "filename": "virus.exe"}, "BadRequestError",
             ["Unsupported file type '.exe'. Supported types are: '.csv', '.doc', '.docx', '.jpeg', '.jpg', "
              "'.json', '.odt', '.pdf', '.png', '.rtf', '.txt', '.xlsx'"]),
            ({"file": base64.b64encode(b"\x00\x01\x02binary").decode()}, "BadRequestError",
             ["Unsupported file type 'application/octet-stream'. Supported types are: '.csv', '.doc', '.docx', "
              "'.jpeg', '.jpg', '.json', '.odt', '.pdf', '.png', '.rtf', '.txt', '.xlsx'"]),
            ({"file": good, "filename": "x" * 101 + ".csv"}, "BadRequestError",
             ["`filename` cannot be longer than 100 characters"]),
        ]
        for file_object, kind, messages in cases:
            body = send(herald, key, template_id, file_object, expect=400)
            assert body["status_code"] == 400, body
            assert body["errors"] == [{"error": kind, "message": m} for m in messages], (file_object.keys(), body)
        # A dict without "file" is not a file: it renders as text, as GOV.UK's does.
        send(herald, key, template_id, {"potato": good})
        sms_template = herald.create_template(service_id, None, "Hi ((file))", name="Text", type="sms")
        status, body = herald.request("POST", "/v2/notifications/sms", key=key, body={
            "phone_number": "07700900123", "template_id": sms_template, "personalisation": {"file": upload()}})
        assert (status, body["errors"]) == (400, [{"error": "BadRequestError",
                                                   "message": "Can only send a file by email"}]), body
        assert herald.sql("SELECT COUNT(*) FROM documents") == [(0,)]


if __name__ == "__main__":
    run_tests([test_confirm_email_then_download, test_wrong_addresses_lock_the_file, test_no_confirmation_and_expiry,
               test_simulated_recipients_and_test_keys_store_nothing, test_validation_messages])
