#!/usr/bin/python3
"""SC-24: canary recipient and personalisation never appear at rest or in logs.

Sends the canary email address with the canary personalisation through the GOV.UK v2 API, a
text to the canary phone number through an SMS provider stand-in (its receipt included), and a
letter to the canary address (then its PDF, canary-marked, as a precompiled letter), lets
them deliver, receives a text from the canary number with the canary in it, then scans the SQLite database file, its WAL and shared-memory file (while the server
runs, so the WAL is still there, and again after shutdown), the server's log output, a backup
taken while the server runs, the data-key store and the audit log (export and checkpoints). Zero hits
are required. The same scan with encryption switched off (the test-only setting) must find the
canaries, which shows the scan is able to fail.
On PostgreSQL (HERALD_TEST_BACKEND=postgres) the scan covers the server's whole data directory
instead, table files and WAL segments (pg_wal) alike, after a CHECKPOINT so that the table files
hold the rows too.
Usage: test_canary.py /path/to/herald
"""
import base64
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from canary import (CANARY_ADDRESS_LINE, CANARY_EMAIL, CANARY_FILE, CANARY_NHS_NUMBER, CANARY_PERSONALISATION,  # noqa: E402
                    CANARY_PHONE, CANARY_PHONE_DIGITS, scan_files)
from harness import BACKEND, Herald, SmtpSink, Workspace, postgres_server, run_tests  # noqa: E402
from sms_provider import SmsProvider  # noqa: E402

HERALD = sys.argv[1]


def send_canary_and_scan(plaintext):
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        provider = ws.track(SmsProvider(ws.dir, "firetext", receipt="0"))
        env = {"HERALD_FIRETEXT_API_KEY": "test-api-key", "HERALD_FIRETEXT_RECEIPT_PASSWORD": "receipt-pw"}
        if plaintext:
            env["HERALD_TESTING"] = "1"
        extra = ['[sms]\nproviders = ["firetext"]\nreceipt_base_url = "https://herald.invalid/"',
                 provider.config().strip()]
        if plaintext:
            extra.append("[testing]\nstore_plaintext = true")
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, env=env, extra_config="\n\n".join(extra)))
        service_id, key = herald.create_service()
        template_id = herald.create_template(service_id, "Your code", "Your reference is ((canary)).")
        sms_template_id = herald.create_template(service_id, None, "Code ((canary))", name="Text", type="sms")
        letter_template_id = herald.create_template(service_id, "About ((canary))", "Your reference is ((canary)).",
                                                    name="Letter", type="letter")
        herald.run_cli("service", "set", "--service", service_id, "--permissions", "email,sms,letter,inbound_sms")
        herald.run_cli("service", "add-contact", "--service", service_id, "--kind", "sms_sender",
                       "--value", "07700900999", "--default")
        herald.start()
        provider.herald_url = "https://127.0.0.1:%d" % herald.port
        provider.herald_cert = herald.cert
        status, sms = herald.request("POST", "/v2/notifications/sms", key=key, body={
            "phone_number": CANARY_PHONE, "template_id": sms_template_id,
            "personalisation": {"canary": CANARY_PERSONALISATION}})
        assert status == 201, (status, sms)
        herald.wait_for_status(key, sms["id"], {"delivered"})
        (text,) = provider.messages()
        assert text["to"] == CANARY_PHONE_DIGITS and CANARY_PERSONALISATION in text["message"], text
        # A text received from the canary number, with the canary in it.
        status, _ = provider.post_inbound(CANARY_PHONE_DIGITS, "07700900999", "Reply " + CANARY_PERSONALISATION,
                                          ("firetext", "receipt-pw"))
        assert status == 200
        status, received = herald.request("GET", "/v2/received-text-messages", key=key)
        assert [t["user_number"] for t in received["received_text_messages"]] == [CANARY_PHONE_DIGITS], received
        # Services put patient identifiers in `reference`: it is sealed too, and still filters.
        status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": CANARY_EMAIL, "template_id": template_id, "reference": CANARY_NHS_NUMBER,
            "personalisation": {"canary": CANARY_PERSONALISATION}})
        assert status == 201, (status, body)
        herald.wait_for_status(key, body["id"], {"delivered"})
        status, listed = herald.request("GET", "/v2/notifications?reference=" + CANARY_NHS_NUMBER, key=key)
        assert status == 200 and [n["id"] for n in listed["notifications"]] == [body["id"]], listed
        # The relay did receive it: the scan below is not clean merely because nothing happened.
        (raw, meta), = sink.messages()
        assert CANARY_PERSONALISATION.encode() in raw and meta["rcpt_tos"] == [CANARY_EMAIL]
        # A file sent by email, the canary in its content and filename: the email carries only the
        # link, and the stored file is sealed twice (link key, then the day's data key).
        file_template_id = herald.create_template(service_id, "Your file", "Download it: ((letter))", name="File")
        status, body = herald.request("POST", "/v2/notifications/email", key=key, body={
            "email_address": CANARY_EMAIL, "template_id": file_template_id,
            "personalisation": {"letter": {
                "file": base64.b64encode(("Results for you: %s\n" % CANARY_FILE).encode()).decode(),
                "filename": "%s.txt" % CANARY_FILE, "confirm_email_before_download": True,
                "retention_period": None}}})
        assert status == 201, (status, body)
        herald.wait_for_status(key, body["id"], {"delivered"})
        assert len(sink.messages()) == 2

        # A letter to the canary address, and its PDF sent back as a precompiled letter with the
        # canary in its bytes (a comment after %%EOF: the rendered PDF's own text is compressed,
        # so only this shows that the stored PDF itself is sealed).
        status, letter = herald.request("POST", "/v2/notifications/letter", key=key, body={
            "template_id": letter_template_id, "personalisation": {
                "address_line_1": "Flat 1", "address_line_2": CANARY_ADDRESS_LINE, "address_line_3": "London",
                "postcode": "SW1A 1AA", "canary": CANARY_PERSONALISATION}})
        assert status == 201, (status, letter)
        status, pdf = herald.request("GET", "/v2/notifications/%s/pdf" % letter["id"], key=key)
        assert status == 200 and pdf.startswith(b"%PDF-"), status
        marked = pdf + b"\n%" + CANARY_ADDRESS_LINE.encode() + b" " + CANARY_PERSONALISATION.encode() + b"\n"
        status, pre = herald.request("POST", "/v2/notifications/letter", key=key, body={
            "reference": "canary-letter", "content": base64.b64encode(marked).decode()})
        assert status == 201, (status, pre)
        status, back = herald.request("GET", "/v2/notifications/%s/pdf" % pre["id"], key=key)
        assert back == marked, "the precompiled PDF is stored as sent"
        status, got = herald.request("GET", "/v2/notifications/" + pre["id"], key=key)
        assert got["status"] == "accepted" and got["line_2"] == CANARY_ADDRESS_LINE.upper(), got

        # The recipient's record for NHS-number lookups (herald demographics import): sealed.
        records = os.path.join(ws.dir, "patients.csv")
        with open(records, "w") as f:
            f.write("nhs_number,given_name,mobile,address_line_1,postcode\n%s,%s,%s,%s,SW1A 1AA\n"
                    % (CANARY_NHS_NUMBER, CANARY_PERSONALISATION, CANARY_PHONE, CANARY_ADDRESS_LINE))
        herald.run_cli("demographics", "import", "--file", records)
        os.remove(records)
        # An NHS Notify message: NHS number, personalisation, contact details and references sealed.
        nhs = herald.create_nhs_client(service_id, "--default-ods", "A12345", "--allow-contact-details", "true")
        nhs_token = herald.nhs_token(nhs)
        # Its callbacks name the reference: sealed in the outbox (this receiver is refused by the
        # SSRF guard, so the callback stays, dead, for an operator to see).
        client_id = herald.run_cli("nhs", "client", "list").split()[0]
        herald.run_cli("nhs", "callback", "add", "--client", client_id, "--url", "https://127.0.0.1:9/callbacks",
                       "--statuses", "sending,delivered")
        status, message = herald.request("POST", "/comms/v1/messages", token=nhs_token, body={
            "data": {"type": "Message", "attributes": {
                "routingPlanId": "00000000-0000-0000-0000-000000000002", "messageReference": CANARY_FILE,
                "billingReference": CANARY_FILE,
                "recipient": {"nhsNumber": CANARY_NHS_NUMBER, "contactDetails": {"email": CANARY_EMAIL}},
                "personalisation": {"email_subject": "Results", "email_body": CANARY_PERSONALISATION}}}})
        assert status == 201, (status, message)
        # Enriched and sent: the looked-up record and the channel's email are stored too.
        for _ in range(300):
            status, got = herald.request("GET", "/comms/v1/messages/" + message["data"]["id"], token=nhs_token)
            if got["data"]["attributes"]["messageStatus"] in ("delivered", "failed"):
                break
            time.sleep(0.1)
        assert got["data"]["attributes"]["messageStatus"] == "delivered", got

        # A list sent from a CSV file (herald job send, as the admin UI's "Send to a list"): the
        # file's name and rows are sealed, and so are the notifications made from them.
        listed = os.path.join(ws.dir, "list-%s.csv" % CANARY_PERSONALISATION)
        with open(listed, "w") as f:
            f.write("email address,canary\n%s,%s\n" % (CANARY_EMAIL, CANARY_PERSONALISATION))
        job = herald.run_cli("job", "send", "--service", service_id, "--template", template_id, "--file", listed,
                             "--start")
        os.remove(listed)
        for _ in range(300):
            if "delivered 1" in herald.run_cli("job", "status", "--service", service_id, "--job", job):
                break
            time.sleep(0.1)
        assert "delivered 1" in herald.run_cli("job", "status", "--service", service_id, "--job", job)

        # An admin UI user: their email and name are sealed too (and the audit entry names only their id).
        herald.run_cli("user", "create", "--email", CANARY_EMAIL, "--name", "Admin " + CANARY_PERSONALISATION)

        db = os.path.join(herald.dir, "herald.db")
        if BACKEND == "postgres":
            server = postgres_server()
            server.psql("CHECKPOINT")
            files = database_files(server.data_dir)
            assert any("/pg_wal/" in f for f in files), "the WAL segments must be scanned"
        else:
            files = [p for p in (db, db + "-wal", db + "-shm") if os.path.exists(p)]
            assert db + "-wal" in files, "the WAL must exist while the server runs"
        # A backup taken while the server runs, the key store and the audit trail: no canary either.
        backup = os.path.join(ws.dir, "canary.backup")
        herald.run_cli("backup", "create", backup)
        exported = os.path.join(ws.dir, "audit.jsonl")
        with open(exported, "w") as f:
            f.write(herald.run_cli("audit", "export"))
        extra = [backup, exported] + [os.path.join(herald.dir, f) for f in ("keys.db", "audit-checkpoints")]
        hits = scan_files(files + [herald.log_path] + [p for p in extra if os.path.exists(p)])
        herald.stop()
        if BACKEND == "postgres":
            postgres_server().psql("CHECKPOINT")
            hits += scan_files(database_files(postgres_server().data_dir) + [herald.log_path])
        else:
            hits += scan_files([p for p in (db, db + "-wal", db + "-shm", herald.log_path) if os.path.exists(p)])
        return hits


def database_files(data_dir):
    return [os.path.join(d, f) for d, _, names in os.walk(data_dir) for f in names]


def test_no_canary_at_rest_or_in_logs():
    hits = send_canary_and_scan(plaintext=False)
    assert hits == [], "\n".join(hits)


def test_scan_finds_canaries_when_encryption_is_off():
    hits = send_canary_and_scan(plaintext=True)
    assert any(CANARY_EMAIL in h for h in hits), hits
    assert any(CANARY_PHONE in h for h in hits), "the text's recipient must be found too: %s" % hits
    assert any(CANARY_PERSONALISATION in h for h in hits), hits
    assert any(CANARY_ADDRESS_LINE in h for h in hits), "the letter's address must be found too: %s" % hits
    assert any(CANARY_FILE in h for h in hits), "the file sent by email must be found too: %s" % hits


def test_plaintext_mode_refused_without_testing_flag():
    with Workspace() as ws:
        herald = Herald(HERALD, ws.dir, 1, extra_config="[testing]\nstore_plaintext = true",
                        env={"HERALD_TESTING": "1"})
        herald.env.pop("HERALD_TESTING")
        try:
            herald.run_cli("service", "create", "--name", "x")
        except RuntimeError as e:
            assert "HERALD_TESTING" in str(e), e
        else:
            raise AssertionError("plaintext storage must need HERALD_TESTING=1")


if __name__ == "__main__":
    run_tests([test_no_canary_at_rest_or_in_logs, test_scan_finds_canaries_when_encryption_is_off,
               test_plaintext_mode_refused_without_testing_flag])
