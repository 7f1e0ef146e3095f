#!/usr/bin/python3
"""Integration: letters through herald serve (GOV.UK Notify v2 §3.4, §3.5, §3.8).

Covers: a templated letter's 201, its GET (accepted, address lines, postage, estimated delivery,
sheets) and its PDF; the same PDF sent back as a precompiled letter (its address read from the
window); GOV.UK's errors (address, team key, trial mode, base64, postage, not a letter, a PDF that
fails its checks); test keys (received at once); letters waiting, accepted, when no print supplier
is configured; the letter preview and template JSON.
Usage: test_letters.py /path/to/herald
"""
import base64
import hashlib
import os
import re
import struct
import sys
import time
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402
from sftp_server import SftpDrop  # noqa: E402
from test_callbacks import TOKEN, Receiver, set_callback  # noqa: E402

HERALD = sys.argv[1]
ADDRESS = {"address_line_1": "Ada Lovelace", "address_line_2": "12 Marylebone Road", "address_line_3": "London",
           "postcode": "nw1 5lr"}


def setup(ws, live=True, extra_config="", before_start=None):
    sink = ws.track(SmtpSink(ws.dir))
    herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=extra_config))
    service_id, key = herald.create_service("Clinic", live=live)
    template_id = herald.create_template(service_id, "Your appointment on ((day))",
                                         "Dear ((name)),\n\nPlease come on ((day)).\n\n* bring a letter\n* arrive early",
                                         name="Appointment", type="letter")
    herald.run_cli("service", "add-contact", "--service", service_id, "--kind", "letter_contact",
                   "--value", "The Clinic\n1 High Street\nLeeds", "--default")
    # Keys and services made before the server starts (its caches know them from the start).
    herald.team_key = herald.run_cli("key", "create", "--service", service_id, "--type", "team", "--name", "team")
    herald.test_key = herald.run_cli("key", "create", "--service", service_id, "--type", "test", "--name", "test")
    trial_id, herald.trial_key = herald.create_service("Trial", live=False)
    herald.trial_template = herald.create_template(trial_id, "Hi", "Hello", name="L", type="letter")
    # Eleven pages: a horizontal rule starts a new page in Notify's letters.
    herald.long_template = herald.create_template(service_id, "Long", "\n\n---\n\n".join(["((x))"] * 11),
                                                  name="Long", type="letter")
    if before_start:
        before_start(herald, service_id)
    herald.start()
    return herald, key, service_id, template_id


def send(herald, key, template_id, **personalisation):
    values = dict(ADDRESS, name="Ada", day="Monday")
    values.update(personalisation)
    return herald.request("POST", "/v2/notifications/letter", key=key,
                          body={"template_id": template_id, "personalisation": values, "reference": "letter-ref"})


def pdf_pages(pdf):
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_a_templated_letter_is_accepted_shown_and_its_pdf_served():
    with Workspace() as ws:
        herald, key, service_id, template_id = setup(ws)
        status, sent = send(herald, key, template_id)
        assert status == 201, sent
        assert sent["content"] == {"subject": "Your appointment on Monday",
                                   "body": "Dear Ada,\n\nPlease come on Monday.\n\n* bring a letter\n* arrive early"}, sent
        assert sent["reference"] == "letter-ref" and sent["scheduled_for"] is None, sent
        assert sent["template"]["id"] == template_id and sent["template"]["version"] == 1, sent
        assert sent["uri"].endswith("/v2/notifications/" + sent["id"]), sent
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert status == 200, got
        assert got["type"] == "letter" and got["status"] == "accepted", got
        assert (got["line_1"], got["line_2"], got["line_3"], got["postcode"]) == (
            "Ada Lovelace", "12 Marylebone Road", "London", "nw1 5lr"), got
        assert got["line_4"] is None and got["email_address"] is None and got["phone_number"] is None, got
        assert got["subject"] == "Your appointment on Monday", got
        assert got["postage"] == "second", got
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT1[56]:00:00\.000000Z", got["estimated_delivery"]), got
        assert got["cost_details"] == {"billable_sheets_of_paper": 1, "postage": "second"}, got
        # The listing shows it too, mapped the same way, and filters on letters' aliases.
        status, page = herald.request("GET", "/v2/notifications?template_type=letter&status=accepted", key=key)
        assert status == 200 and [n["id"] for n in page["notifications"]] == [sent["id"]], page
        status, pdf = herald.request("GET", "/v2/notifications/%s/pdf" % sent["id"], key=key)
        assert status == 200 and isinstance(pdf, bytes) and pdf.startswith(b"%PDF-"), (status, pdf[:40])
        assert pdf_pages(pdf) == 1, pdf_pages(pdf)
        # No print supplier is configured: the letter waits, accepted, rather than failing.
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert got["status"] == "accepted", got
        # The address is sealed: not in the database's notification or PDF rows.
        for table, column in (("notifications", "recipient"), ("letter_pdfs", "pdf")):
            for (value,) in herald.sql("SELECT %s FROM %s" % (column, table)):
                raw = value if isinstance(value, bytes) else str(value).encode()
                assert b"Marylebone" not in raw and b"4d617279" not in raw, (table, column)


def test_a_rendered_letter_sent_back_as_precompiled_has_its_address_read_from_the_window():
    with Workspace() as ws:
        herald, key, service_id, template_id = setup(ws)
        status, sent = send(herald, key, template_id)
        assert status == 201, sent
        status, pdf = herald.request("GET", "/v2/notifications/%s/pdf" % sent["id"], key=key)
        assert status == 200, pdf
        content = base64.b64encode(pdf).decode()
        status, pre = herald.request("POST", "/v2/notifications/letter", key=key,
                                     body={"reference": "pre-ref", "content": content, "postage": "first"})
        assert status == 201, pre
        assert set(pre) == {"id", "reference", "postage"}, pre
        assert pre["reference"] == "pre-ref" and pre["postage"] == "first", pre
        status, got = herald.request("GET", "/v2/notifications/" + pre["id"], key=key)
        assert status == 200 and got["status"] == "accepted", got
        # Read back from the window as printed: Notify prints addresses in capitals.
        assert got["line_1"] == "ADA LOVELACE" and got["postcode"] == "NW1 5LR", got
        assert got["cost_details"] == {"billable_sheets_of_paper": 1, "postage": "first"}, got
        status, back = herald.request("GET", "/v2/notifications/%s/pdf" % pre["id"], key=key)
        assert status == 200 and back == pdf, "the precompiled PDF comes back byte for byte"
        # Its template is the service's hidden precompiled one: not listed among templates.
        status, templates = herald.request("GET", "/v2/templates?type=letter", key=key)
        assert sorted(t["id"] for t in templates["templates"]) == sorted([template_id, herald.long_template]), templates
        # A PDF that fails the checks is accepted, then validation-failed (as GOV.UK).
        bad = base64.b64encode(b"%PDF-1.4 not really a pdf").decode()
        status, pre = herald.request("POST", "/v2/notifications/letter", key=key, body={"reference": "x", "content": bad})
        assert status == 201 and pre["postage"] == "second", pre
        status, got = herald.request("GET", "/v2/notifications/" + pre["id"], key=key)
        assert got["status"] == "validation-failed" and got["line_1"] == "Provided as PDF", got
        assert got["completed_at"], got


def wait_for_letters(drop, count, timeout=30):
    deadline = time.time() + timeout
    while sum(len(b["manifest"]["letters"]) for b in drop.batches().values()) < count and time.time() < deadline:
        time.sleep(0.1)
    return drop.batches()


def test_letters_reach_the_print_suppliers_sftp_drop():
    with Workspace() as ws:
        drop = ws.track(SftpDrop(ws.dir))
        herald, key, service_id, template_id = setup(ws, extra_config=drop.config())
        ids = []
        for name in ("Ada", "Grace"):
            status, sent = send(herald, key, template_id, name=name)
            assert status == 201, sent
            ids.append(sent["id"])
        batches = wait_for_letters(drop, 2)
        letters = [entry for b in batches.values() for entry in b["manifest"]["letters"]]
        assert sorted(entry["reference"] for entry in letters) == sorted(ids), batches
        for batch_id, batch in batches.items():
            assert batch["manifest"]["batch_id"] == batch_id, batch["manifest"]
            for entry in batch["manifest"]["letters"]:
                pdf = batch["files"][entry["file"]]
                assert entry["file"] == entry["reference"] + ".pdf" and entry["postage"] == "second", entry
                assert entry["pages"] == 1 and entry["sha256"] == hashlib.sha256(pdf).hexdigest(), entry
                status, served = herald.request("GET", "/v2/notifications/%s/pdf" % entry["reference"], key=key)
                assert served == pdf, "the supplier prints the PDF the API serves"
                assert set(entry) == {"reference", "file", "postage", "pages", "sha256"}, "no address in the manifest"
        # An operator's check: it connects and proves the drop writable, and sends nothing.
        checked = herald.run_cli("letters", "check")
        assert "as pinned" in checked and "is writable" in checked, checked
        assert sorted(wait_for_letters(drop, 2)) == sorted(batches), "no batch from the check"
        # With the supplier: sending (GOV.UK shows "accepted" until it is posted).
        for notification_id in ids:
            rows = herald.sql("SELECT status, sent_by FROM notifications WHERE id = ?", (notification_id,))
            assert [tuple(r) for r in rows] == [("sending", "sftp-print")], rows
            status, got = herald.request("GET", "/v2/notifications/" + notification_id, key=key)
            assert got["status"] == "accepted" and got["sent_at"], got


def wait_for_status(herald, key, notification_id, status, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        got = herald.request("GET", "/v2/notifications/" + notification_id, key=key)[1]
        if got["status"] == status:
            return got
        time.sleep(0.1)
    raise AssertionError("%s is %s, not %s" % (notification_id, got["status"], status))


def test_the_suppliers_reports_become_statuses_and_reach_the_service():
    with Workspace() as ws:
        drop = ws.track(SftpDrop(ws.dir))
        receiver = ws.track(Receiver(ws.dir))
        config = (drop.config().replace('supplier = "sftp"\n', 'supplier = "sftp"\nreport_interval_seconds = 1\n') +
                  '\n[callbacks]\nallow_private_addresses = true\nca_file = "%s"' % receiver.cert)
        herald, key, service_id, template_id = setup(
            ws, extra_config=config,
            before_start=lambda herald, service_id: set_callback(herald, service_id, receiver.url))
        ids = [send(herald, key, template_id, name=name)[1]["id"] for name in ("Ada", "Grace", "Alan")]
        wait_for_letters(drop, 3)
        ada, grace, alan = ids
        drop.report("2026-11-24T0900.json", [{"reference": ada, "status": "despatched"},
                                             {"reference": grace, "status": "failed", "reason": "paper jam"},
                                             {"reference": "5f0e6c1a-0000-4000-8000-000000000000",
                                              "status": "despatched"}])
        drop.report("2026-11-24T0800.json", [{"reference": alan, "status": "Sent"}])  # not the format
        wait_for_status(herald, key, ada, "received")
        wait_for_status(herald, key, grace, "technical-failure")
        status, listed = herald.request("GET", "/v2/notifications?status=delivered", key=key)
        assert [n["id"] for n in listed["notifications"]] == [ada], listed
        reports = sorted(os.listdir(os.path.join(drop.drop, "reports")))
        assert reports == ["2026-11-24T0800.json.invalid", "2026-11-24T0900.json.done"], reports
        rows = herald.sql("SELECT status FROM notifications WHERE id = ?", (alan,))
        assert [tuple(r) for r in rows] == [("sending",)], "nothing of a broken file is applied"

        # Posted, then returned to sender.
        drop.report("2026-11-25T0900.json", [{"reference": ada, "status": "returned"}])
        deadline = time.time() + 30
        while herald.sql("SELECT status FROM notifications WHERE id = ?", (ada,))[0][0] != "returned-letter":
            assert time.time() < deadline, "the returned letter was not recorded"
            time.sleep(0.1)
        status, listed = herald.request("GET", "/v2/notifications?status=returned-letter", key=key)
        assert [n["id"] for n in listed["notifications"]] == [ada], listed

        calls = receiver.wait_for(3)
        assert all(c[0]["Authorization"] == "Bearer " + TOKEN for c in calls), calls
        said = sorted((c[1]["id"], c[1]["status"], c[1]["notification_type"]) for c in calls)
        assert said == sorted([(ada, "delivered", "letter"), (grace, "technical-failure", "letter"),
                               (ada, "returned-letter", "letter")]), said


def test_a_letter_waits_while_the_print_supplier_is_down_and_goes_when_it_is_back():
    with Workspace() as ws:
        drop = ws.track(SftpDrop(ws.dir))
        herald, key, service_id, template_id = setup(
            ws, extra_config=drop.config() + "\n\n[delivery]\nfirst_retry_ms = 300\nmax_retry_ms = 600\nmax_attempts = 2")
        drop.stop()
        code, out, err = herald.run_cli("letters", "check", check=False)
        assert code != 0 and "sftp-print" in err, (code, out, err)
        status, sent = send(herald, key, template_id)
        assert status == 201, sent
        deadline = time.time() + 30
        while time.time() < deadline:
            (attempts,) = herald.sql("SELECT attempts FROM notifications WHERE id = ?", (sent["id"],))[0]
            if int(attempts) >= 3:
                break
            time.sleep(0.1)
        assert int(attempts) >= 3, "the batch is tried again, past max_attempts: letters wait for the supplier"
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert got["status"] == "accepted", got
        assert drop.batches() == {}, "nothing half-delivered"
        drop.start()
        batches = wait_for_letters(drop, 1)
        assert [e["reference"] for b in batches.values() for e in b["manifest"]["letters"]] == [sent["id"]], batches
        rows = herald.sql("SELECT status FROM notifications WHERE id = ?", (sent["id"],))
        assert [tuple(r) for r in rows] == [("sending",)], rows


def test_errors_as_govuk_gives_them():
    with Workspace() as ws:
        herald, key, service_id, template_id = setup(ws)

        def error_of(body, k=key, path="/v2/notifications/letter"):
            status, reply = herald.request("POST", path, key=k, body=body)
            return status, reply["errors"][0]["error"], reply["errors"][0]["message"]

        assert error_of({"template_id": template_id}) == (
            400, "ValidationError", "personalisation is a required property")
        assert error_of({"template_id": template_id, "personalisation": {"name": "A", "day": "B"}, "x": 1}) == (
            400, "ValidationError", "Additional properties are not allowed (x was unexpected)")
        status, reply = send(herald, key, template_id, postcode="not a postcode")
        assert status == 400 and reply["errors"] == [
            {"error": "ValidationError", "message": "Must be a real UK postcode"}], reply
        status, reply = send(herald, key, template_id, address_line_2=None, address_line_3=None)
        assert status == 400 and reply["errors"][0]["message"] == "Address must be at least 3 lines", reply
        status, reply = send(herald, key, template_id, postcode="France")
        assert status == 400 and reply["errors"][0]["message"] == "Must be a real UK postcode", reply
        values = dict(ADDRESS, name="Ada")
        status, reply = herald.request("POST", "/v2/notifications/letter", key=key,
                                       body={"template_id": template_id, "personalisation": values})
        assert status == 400 and reply["errors"] == [
            {"error": "BadRequestError", "message": "Missing personalisation: day"}], reply
        assert error_of({"reference": "r", "content": "not base64!"}) == (
            400, "BadRequestError", "Cannot decode letter content (invalid base64 encoding)")
        assert error_of({"reference": "r", "content": "JVBERg==", "postage": "third"}) == (
            400, "ValidationError", "postage invalid. It must be either first, second or economy.")
        assert error_of({"content": "JVBERg=="}) == (400, "ValidationError", "reference is a required property")
        # Team keys and trial services may not send letters (403).
        status, reply = send(herald, herald.team_key, template_id)
        assert status == 403 and reply["errors"] == [
            {"error": "BadRequestError", "message": "Cannot send letters with a team api key"}], reply
        status, reply = herald.request("POST", "/v2/notifications/letter", key=herald.trial_key,
                                       body={"template_id": herald.trial_template, "personalisation": ADDRESS})
        assert status == 403 and reply["errors"] == [
            {"error": "BadRequestError", "message": "Cannot send letters when service is in trial mode"}], reply
        # The PDF endpoint: not a letter, unknown, not a UUID.
        email_template = herald.create_template(service_id, "S", "Body", name="E")
        status, email = herald.request("POST", "/v2/notifications/email", key=key,
                                       body={"email_address": "a@example.com", "template_id": email_template})
        assert status == 201, email
        status, reply = herald.request("GET", "/v2/notifications/%s/pdf" % email["id"], key=key)
        assert status == 400 and reply["errors"] == [
            {"error": "BadRequestError", "message": "Notification is not a letter"}], reply
        status, reply = herald.request("GET", "/v2/notifications/%s/pdf" % service_id, key=key)
        assert status == 404 and reply["errors"][0]["error"] == "NoResultFound", reply
        status, reply = herald.request("GET", "/v2/notifications/nope/pdf", key=key)
        assert status == 400 and reply["errors"][0]["message"] == "notification_id is not a valid UUID", reply
        # A service without the letter permission.
        herald.run_cli("service", "set", "--service", service_id, "--permissions", "email,sms")
        deadline = time.time() + 10  # the service's settings are cached for a moment
        while True:
            status, reply = send(herald, key, template_id)
            if status != 201 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert status == 400 and reply["errors"][0]["message"] == "Service is not allowed to send letters", reply


def png(width=8, height=8):
    """A small opaque red PNG."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_the_configured_logo_is_printed_on_letters():
    with Workspace() as ws:
        logo = os.path.join(ws.dir, "logo.png")
        with open(logo, "wb") as f:
            f.write(png())
        herald, key, service_id, template_id = setup(ws, extra_config='[letters]\nlogo_png = "%s"' % logo)
        status, sent = send(herald, key, template_id)
        assert status == 201, sent
        status, pdf = herald.request("GET", "/v2/notifications/%s/pdf" % sent["id"], key=key)
        assert status == 200 and re.search(rb"/Subtype\s*/Image", pdf), "the logo is drawn as an image"
    with Workspace() as ws:
        herald, key, service_id, template_id = setup(ws)
        status, sent = send(herald, key, template_id)
        status, pdf = herald.request("GET", "/v2/notifications/%s/pdf" % sent["id"], key=key)
        assert not re.search(rb"/Subtype\s*/Image", pdf), "no logo configured, no image"


def test_a_letter_over_ten_pages_is_accepted_then_validation_failed():
    with Workspace() as ws:
        herald, key, service_id, template_id = setup(ws)
        status, sent = herald.request("POST", "/v2/notifications/letter", key=key, body={
            "template_id": herald.long_template, "personalisation": dict(ADDRESS, x="A page.")})
        assert status == 201, sent
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert got["status"] == "validation-failed" and got["completed_at"], got
        # GOV.UK: a letter never sent costs nothing, ready at once.
        assert got["cost_details"] == {"billable_sheets_of_paper": 0, "postage": "second"}, got
        assert got["cost_in_pounds"] == 0.0 and got["is_cost_data_ready"] is True, got
        status, reply = herald.request("GET", "/v2/notifications/%s/pdf" % sent["id"], key=key)
        assert status == 400 and reply["errors"] == [{"error": "BadRequestError", "message":
                                                      "PDF not available for letters in status validation-failed"}], reply


def test_test_keys_letters_are_received_at_once_and_international_needs_permission():
    with Workspace() as ws:
        herald, key, service_id, template_id = setup(ws)
        test_key = herald.test_key
        status, sent = send(herald, test_key, template_id)
        assert status == 201, sent
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=test_key)
        assert got["status"] == "received" and got["completed_at"], got
        status, pdf = herald.request("GET", "/v2/notifications/%s/pdf" % sent["id"], key=test_key)
        assert status == 200 and pdf.startswith(b"%PDF-"), status
        herald.run_cli("service", "set", "--service", service_id, "--permissions", "email,sms,letter,international_letters")
        deadline = time.time() + 10  # the service's settings are cached for a moment
        while True:
            status, sent = send(herald, key, template_id, postcode="France")
            if status == 201 or time.time() > deadline:
                break
            time.sleep(0.2)
        assert status == 201, sent
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert got["postage"] == "europe" and got["postcode"] == "France", got


def test_letter_preview_and_template_json():
    with Workspace() as ws:
        herald, key, service_id, template_id = setup(ws)
        status, preview = herald.request("POST", "/v2/template/%s/preview" % template_id, key=key,
                                         body={"personalisation": {"name": "Ada", "day": "Friday"}})
        assert status == 200, preview
        assert preview["subject"] == "Your appointment on Friday" and preview["html"] is None, preview
        assert preview["body"].startswith("Dear Ada,") and preview["postage"] == "second", preview
        status, reply = herald.request("POST", "/v2/template/%s/preview" % template_id, key=key,
                                       body={"personalisation": {"name": "Ada"}})
        assert status == 400 and reply["errors"][0]["message"] == "Missing personalisation: day", reply
        status, t = herald.request("GET", "/v2/template/" + template_id, key=key)
        assert t["type"] == "letter" and t["postage"] == "second" and t["subject"] == "Your appointment on ((day))", t
        assert t["personalisation"] == {"day": {"required": True}, "name": {"required": True}}, t
        # The template has no contact of its own: GOV.UK reports null (its models.py), even though
        # the letter prints the service's default block (README, "Letters").
        assert t["letter_contact_block"] is None, t
        status, listed = herald.request("GET", "/v2/templates", key=key)
        assert [x["letter_contact_block"] for x in listed["templates"]] == [None] * 2, listed


def test_a_letter_templates_own_postage_and_contact_block_are_used():
    with Workspace() as ws:
        herald, key, service_id, template_id = setup(
            ws, extra_config="[letters.prices]\nfirst = [1.05, 1.12]\neconomy = [0.62]")
        herald.stop()
        surgery = herald.run_cli("service", "add-contact", "--service", service_id, "--kind", "letter_contact",
                                 "--value", "The Surgery\n2 Low Road\nYork")
        body = os.path.join(herald.dir, "first.txt")
        with open(body, "w") as f:
            f.write("Dear ((name)),\n\nSee you on ((day)).")
        first_class = herald.run_cli("template", "create", "--service", service_id, "--type", "letter", "--name",
                                     "First class", "--subject", "Results", "--body-file", body, "--postage", "first",
                                     "--letter-contact", surgery)
        # Refused: postage on an email template, an unknown postage, another service's contact.
        for args in (["--type", "email", "--postage", "first"], ["--type", "letter", "--postage", "express"],
                     ["--type", "letter", "--letter-contact", "5f0e6c1a-0000-4000-8000-000000000000"]):
            code, out, err = herald.run_cli("template", "create", "--service", service_id, "--name", "Bad",
                                            "--subject", "S", "--body-file", body, *args, check=False)
            assert code != 0 and ("postage" in err or "letter contact" in err), (args, err)
        herald.start()

        status, sent = send(herald, key, first_class)
        assert status == 201, sent
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert got["postage"] == "first" and got["cost_details"]["postage"] == "first", got
        assert got["cost_in_pounds"] == 1.05 and got["is_cost_data_ready"] is True, "the configured price for 1 sheet"
        printed = herald.sql("SELECT sender FROM notifications WHERE id = ?", (sent["id"],))
        assert "The Surgery" in str(printed) and "Clinic" not in str(printed), ("the contact block printed", printed)
        status, t = herald.request("GET", "/v2/template/" + first_class, key=key)
        assert t["postage"] == "first" and t["letter_contact_block"] == "The Surgery\n2 Low Road\nYork", t
        status, listed = herald.request("GET", "/v2/templates?type=letter", key=key)
        blocks = {x["name"]: (x["postage"], x["letter_contact_block"]) for x in listed["templates"]}
        assert blocks["First class"] == ("first", "The Surgery\n2 Low Road\nYork"), blocks
        assert blocks["Appointment"] == ("second", None), "no contact of its own: null, as GOV.UK"
        status, preview = herald.request("POST", "/v2/template/%s/preview" % first_class, key=key,
                                         body={"personalisation": {"name": "Ada", "day": "Friday"}})
        assert preview["postage"] == "first", preview

        herald.stop()  # so that the send below cannot meet a cached version 1
        herald.update_template(service_id, first_class, postage="economy", letter_contact="default")
        herald.start()
        status, t = herald.request("GET", "/v2/template/" + first_class, key=key)
        assert t["version"] == 2 and t["postage"] == "economy", t
        assert t["letter_contact_block"] is None, "version 2 has no contact of its own"
        status, v1 = herald.request("GET", "/v2/template/%s/version/1" % first_class, key=key)
        assert v1["postage"] == "first", "each version keeps its own"
        assert v1["letter_contact_block"] == "The Surgery\n2 Low Road\nYork", "version 1's own contact"
        status, sent = send(herald, key, first_class)
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert got["postage"] == "economy" and got["cost_in_pounds"] == 0.62, got
        printed = herald.sql("SELECT sender FROM notifications WHERE id = ?", (sent["id"],))
        assert "The Clinic" in str(printed), ("a version without a contact prints the service default", printed)
        status, sent = send(herald, key, template_id)
        status, got = herald.request("GET", "/v2/notifications/" + sent["id"], key=key)
        assert got["postage"] == "second" and got["cost_in_pounds"] is None, "no second-class price: not ready"
        assert got["is_cost_data_ready"] is False and got["cost_details"]["billable_sheets_of_paper"] == 1, got


if __name__ == "__main__":
    run_tests([test_a_templated_letter_is_accepted_shown_and_its_pdf_served,
               test_a_rendered_letter_sent_back_as_precompiled_has_its_address_read_from_the_window,
               test_letters_reach_the_print_suppliers_sftp_drop,
               test_the_suppliers_reports_become_statuses_and_reach_the_service,
               test_a_letter_waits_while_the_print_supplier_is_down_and_goes_when_it_is_back,
               test_errors_as_govuk_gives_them,
               test_a_letter_over_ten_pages_is_accepted_then_validation_failed,
               test_the_configured_logo_is_printed_on_letters,
               test_test_keys_letters_are_received_at_once_and_international_needs_permission,
               test_letter_preview_and_template_json,
               test_a_letter_templates_own_postage_and_contact_block_are_used])
