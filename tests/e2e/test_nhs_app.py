#!/usr/bin/python3
"""End to end: NHS Notify messages through the NHS App channel, against a stand-in for the NHS
App's API (tests/tools/nhs_app.py) that checks Herald's signed-JWT token requests and FHIR
CommunicationRequests as the NHS App's specification says, and posts realtime receipts back.

- plan NHS App -> SMS (24 h): the app message read -> delivered, and no SMS is ever sent;
- a Rejected receipt (NHS number not found) -> the SMS goes at once, through the SMS provider;
- receipts without the right credentials are refused; a receipt for an unknown message is
  acknowledged and changes nothing.
Usage: test_nhs_app.py /path/to/herald
"""
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402
from nhs_app import NhsApp  # noqa: E402
from sms_provider import SmsProvider  # noqa: E402

HERALD = sys.argv[1]
RECEIPT_PASSWORD = "receipt-secret-5b2e"
APP_API_KEY = "HeraldAppKey0123456789abcdefABCD"
PLAN_APP_THEN_SMS = "00000000-0000-0000-0000-000000000006"


def until(herald, token, message_id, done):
    for _ in range(300):
        status, body = herald.request("GET", "/comms/v1/messages/" + message_id, token=token)
        assert status == 200, body
        if done(body["data"]["attributes"]):
            return body["data"]["attributes"]
        time.sleep(0.1)
    raise AssertionError("message %s never got there: %s" % (message_id, body))


def platform_stand_in(ws):
    """Herald's own key pair as an application of the NHS API platform, and the platform's
    stand-in knowing its public key; returns (stand-in, private key file)."""
    key = os.path.join(ws.dir, "herald-platform.pem")
    subprocess.run([HERALD, "nhs", "keygen", "--kid", "herald-app-1", "--private-key-out", key],
                   check=True, capture_output=True)
    public_pem = subprocess.run(["openssl", "rsa", "-in", key, "-pubout"], check=True,
                                capture_output=True, text=True).stdout
    return ws.track(NhsApp(ws.dir, APP_API_KEY, "herald-app-1", public_pem)), key


def test_nhs_app_messages_are_sent_read_and_fall_back_to_sms():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        app, app_key = platform_stand_in(ws)
        mmg = ws.track(SmsProvider(ws.dir, "mmg", receipt="3"))
        extra = "\n\n".join([
            app.config(app_key).strip() + '\nreceipt_sources = ["127.0.0.1"]',
            '[sms]\nproviders = ["mmg"]\nreceipt_base_url = "https://herald.invalid/"', mmg.config().strip()])
        env = {"HERALD_NHS_PLATFORM_API_KEY": APP_API_KEY, "HERALD_NHS_APP_RECEIPT_PASSWORD": RECEIPT_PASSWORD,
               "HERALD_MMG_API_KEY": "test-api-key", "HERALD_MMG_RECEIPT_PASSWORD": "mmg-receipts"}
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=extra, env=env))
        service_id, _ = herald.create_service("NHS App service")
        records = os.path.join(ws.dir, "patients.csv")
        with open(records, "w") as f:
            f.write("nhs_number,given_name,mobile,nhs_app\n9990548609,Ada,07700900123,true\n"
                    "9434765919,Charles,07700900456,true\n")
        herald.run_cli("demographics", "import", "--file", records)
        client = herald.create_nhs_client(service_id, "--default-ods", "A12345")
        herald.start()
        mmg.herald_url = "https://127.0.0.1:%d" % herald.port
        mmg.herald_cert = herald.cert
        herald_url = "https://127.0.0.1:%d" % herald.port
        token = herald.nhs_token(client)

        def send(reference, nhs_number):
            status, body = herald.request("POST", "/comms/v1/messages", token=token, body={"data": {
                "type": "Message", "attributes": {
                    "routingPlanId": PLAN_APP_THEN_SMS, "messageReference": reference,
                    "recipient": {"nhsNumber": nhs_number},
                    "personalisation": {"nhsapp_body": "Your **results** are ready.", "sms_body": "Results ready."}}}})
            assert status == 201, body
            return body["data"]["id"]

        # 1. Read in time: delivered, and the SMS never goes.
        read_id = send("app-read", "9990548609")
        attrs = until(herald, token, read_id, lambda a: a["channels"] and a["channels"][0].get("supplierStatus"))
        assert attrs["messageStatus"] == "sending", attrs
        assert [c["type"] for c in attrs["channels"]] == ["nhsapp", "sms"], attrs
        assert attrs["channels"][0]["supplierStatus"] == "received", attrs
        [(communication, request)] = app.messages()
        assert request["resourceType"] == "CommunicationRequest" and request["status"] == "active", request
        assert request["recipient"][0]["identifier"] == {"system": "https://fhir.nhs.uk/Id/nhs-number",
                                                         "value": "9990548609"}, request
        assert request["requester"]["identifier"]["value"] == "A12345", request
        assert request["payload"] == [{"contentString": "Your **results** are ready."}], request
        assert {"system": "https://fhir.nhs.uk/NHSApp/request-id", "value": read_id} in request["identifier"]

        # Receipts need the credentials.
        status, _ = app.post_receipt(herald_url, herald.cert, (communication, request), "Read", None)
        assert status == 401, status
        status, _ = app.post_receipt(herald_url, herald.cert, (communication, request), "Read",
                                     ("nhs-app", "wrong-password"))
        assert status == 401, status
        creds = ("nhs-app", RECEIPT_PASSWORD)
        for code in ("Delivered", "Notified", "Read"):
            status, body = app.post_receipt(herald_url, herald.cert, (communication, request), code, creds)
            assert status == 202, (status, body)
        attrs = until(herald, token, read_id, lambda a: a["messageStatus"] != "sending")
        assert attrs["messageStatus"] == "delivered", attrs
        app_channel, sms_channel = attrs["channels"]
        assert app_channel["channelStatus"] == "delivered" and app_channel["supplierStatus"] == "read", attrs
        assert sms_channel["channelStatus"] == "created", attrs
        # A receipt for a message Herald never sent: acknowledged, nothing changes.
        status, _ = app.post_receipt(herald_url, herald.cert, (communication, {"identifier": [
            {"system": "https://fhir.nhs.uk/NHSApp/request-id", "value": "2WL3qFTEFM0qMY8xjRbt1LIKCzM"}]}), "Read", creds)
        assert status == 202, status
        # A malformed receipt: a FHIR OperationOutcome.
        status, body = app.post_receipt(herald_url, herald.cert, (communication, {}), "Read", creds)
        assert status == 400 and b"OperationOutcome" in body, (status, body)

        # 2. Rejected by the NHS App: the SMS goes at once.
        rejected_id = send("app-rejected", "9434765919")
        until(herald, token, rejected_id, lambda a: a["channels"] and a["channels"][0].get("supplierStatus"))
        second = [m for m in app.messages() if m[0] != communication]
        assert len(second) == 1, app.messages()
        status, _ = app.post_receipt(herald_url, herald.cert, second[0], "Rejected", creds)
        assert status == 202, status
        attrs = until(herald, token, rejected_id, lambda a: a["messageStatus"] != "sending")
        assert attrs["messageStatus"] == "delivered", attrs
        app_channel, sms_channel = attrs["channels"]
        assert app_channel["channelStatus"] == "failed" and app_channel["supplierStatus"] == "rejected", attrs
        assert sms_channel["channelStatus"] == "delivered" and sms_channel["supplierStatus"] == "delivered", attrs
        texts = mmg.messages()
        assert [t["to"] for t in texts] == ["447700900456"] and texts[0]["message"] == "Results ready.", texts
        # The first recipient was never texted.
        assert not any(t["to"] == "447700900123" for t in texts), texts


def test_recipients_are_looked_up_in_pds():
    """[nhs] demographics = "pds": each NHS number is looked up once in PDS FHIR (the stand-in
    answers as PDS does); the mobile on record gets the text; a formally dead, restricted,
    exit-coded, invalidated, superseded or unknown record gets nothing, with NHS's reason code."""
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        platform, app_key = platform_stand_in(ws)
        platform.patient("9990548609", mobile="07700900123")
        platform.patient("9434765919", mobile="07700900201", death="2")
        platform.patient("9434765870", mobile="07700900202", restricted=True)
        platform.patient("9449304130", mobile="07700900203", exit_code="SCT")
        platform.invalidate("9449305552")
        platform.patient("9449306028", mobile="07700900204")
        platform.supersede("9449306001", "9449306028")  # merged: PDS answers with 9449306028's record
        mmg = ws.track(SmsProvider(ws.dir, "mmg", receipt="3"))
        extra = "\n\n".join([
            platform.config(app_key, pds=True).strip(), '[nhs]\ndemographics = "pds"',
            '[sms]\nproviders = ["mmg"]\nreceipt_base_url = "https://herald.invalid/"', mmg.config().strip()])
        env = {"HERALD_NHS_PLATFORM_API_KEY": APP_API_KEY, "HERALD_MMG_API_KEY": "test-api-key",
               "HERALD_MMG_RECEIPT_PASSWORD": "mmg-receipts"}
        herald = ws.track(Herald(HERALD, ws.dir, sink.port, extra_config=extra, env=env))
        service_id, _ = herald.create_service("PDS service")
        client = herald.create_nhs_client(service_id, "--default-ods", "A12345")
        herald.start()
        mmg.herald_url = "https://127.0.0.1:%d" % herald.port
        mmg.herald_cert = herald.cert
        token = herald.nhs_token(client)
        expected = {"9990548609": None, "9434765919": "MFR_PDSV_0112", "9434765870": "HRD_PDSV_0001",
                    "9449304130": "MFR_PDSV_0110", "9449305552": "MFR_PDSV_0008", "9449310610": "MFR_PDSV_0004",
                    "9449306001": "MFR_PDSV_0008"}
        ids = {}
        for nhs_number in expected:
            status, body = herald.request("POST", "/comms/v1/messages", token=token, body={"data": {
                "type": "Message", "attributes": {
                    "routingPlanId": "00000000-0000-0000-0000-000000000003", "messageReference": "pds-" + nhs_number,
                    "recipient": {"nhsNumber": nhs_number}, "personalisation": {"sms_body": "Hello from PDS"}}}})
            assert status == 201, body
            ids[nhs_number] = body["data"]["id"]
        for nhs_number, code in expected.items():
            attrs = until(herald, token, ids[nhs_number], lambda a: a["messageStatus"] in ("delivered", "failed"))
            if code is None:
                assert attrs["messageStatus"] == "delivered", attrs
                assert attrs["metadata"][0]["source"] == "pds" and attrs["metadata"][0]["version"] == "7", attrs
            else:
                assert attrs["messageStatus"] == "failed" and attrs["messageFailureReasonCode"] == code, attrs
        assert [t["to"] for t in mmg.messages()] == ["447700900123"], mmg.messages()
        assert sorted(platform.lookups) == sorted(expected), platform.lookups


if __name__ == "__main__":
    run_tests([test_nhs_app_messages_are_sent_read_and_fall_back_to_sms, test_recipients_are_looked_up_in_pds])
