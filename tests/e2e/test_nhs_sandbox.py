#!/usr/bin/python3
"""End to end: Herald's sandbox mode ([nhs] sandbox = true) answering as NHS's public sandbox
does, checked the way NHS's own sandbox tests check it: whole error bodies (less their ids),
the Prefer and Authorization triggers in the gateway's order, the special routing plans, the
fixed message ids, the NHS App accounts report, the sandbox's own paths, correlation ids, CORS.
Nothing is stored: no token, no client, no service.
Usage: test_nhs_sandbox.py /path/to/herald
"""
import http.client
import json
import os
import re
import ssl
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402

HERALD = sys.argv[1]
ABOUT = {"about": "https://digital.nhs.uk/developer/api-catalogue/nhs-notify"}
PLAN = "b838b13c-f98c-4def-93f0-515d4e4f4ee1"
KSUID = re.compile(r"^[A-Za-z0-9]{27}$")
FIXED_IDS = [
    "2WL3qFTEFM0qMY8xjRbt1LIKCzM", "2WL3wwFhpZ6blJNIoh747bDEFNv", "2WL3ydEEk37IzREoWRhuAdolFCE",
    "2WL3zxCY9e5vm2VP1ZfYMb53WPF", "2WL44QP7vrKxKKBZdTtUQoB2bWl", "2WL45YuHOLATvC3GspEu0oSioux",
    "2WL4GEeFVxXG9S57nRlefBwwKxp", "2WL4JXrfauCaQnSFbAujoImSKwo", "2WL4JtCiOe7l2TT4szwPjNJah3z",
    "2WL4LuyNMtoGAsJQIpTxZLl8e3e", "2WL4MOuSeCTODDAScFG7KIq9a5r", "2WL4QcKGjNHvHFQeKgYbapZJGHK",
    "2WL4W9RgbuLLByXdR77H8vjKSDd", "2WL4cPfBRuPKa44JxhyXYf2kr1E", "2WL4ibGoigirgbH4yQwqbPaJXyQ",
    "2WL4khXn32dOOj4bB4bi8Tkllrq", "2WL4mvx6eBva8dcIK60VEGIfcgZ", "2WL4pcpmKxYYblm3PSKVEqcmEPX",
    "2WL4vHFZzInmaYwq6HRNDqTX8dH", "2WL4xcWKvz4F32g0htBEl8DINzn", "2WL50w41YaZXcyFCNT346LY8rlz",
    "2WL54x0XQjCbWeE5lN0DKQZcokU", "2WL5TWl7F7PondWbZ1vctlEtOZ3", "2WL5eDefrbW31uw1il84WdF8ndH",
    "2WL5eYSWGzCHlGmzNxuqVusPxDg", "2WL5f8j4XVxUPgd3OOqXVYvVFIW", "2WL5qbEa7TzSWZXU2IAOCCrLXVL",
    "2bBBpsiMl2rnQt99qm6JLZ6w1vq", "2n7C5wdJ9JSOSeCJTyd50GvtZeR"]


class Client:
    def __init__(self, herald):
        self.herald = herald
        self.context = ssl.create_default_context(cafile=herald.cert)

    def call(self, method, path, body=None, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.herald.port, context=self.context, timeout=30)
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        conn.request(method, "/comms" + path, body=data, headers=dict(headers or {}))
        response = conn.getresponse()
        raw = response.read()
        result = (response.status, {k.lower(): v for k, v in response.getheaders()}, raw)
        conn.close()
        return result


def error(code, status, title, detail, source=None):
    item = {"code": code, "links": ABOUT, "status": str(status), "title": title, "detail": detail}
    if source:
        item["source"] = source
    return item


def expect_error(response, status, item):
    got_status, headers, raw = response
    assert got_status == status, (got_status, raw)
    errors = json.loads(raw)["errors"]
    assert len(errors) == 1, errors
    got = dict(errors[0])
    ident = got.pop("id")
    assert ident.startswith(headers["x-correlation-id"]) and ident.endswith(".0"), (ident, headers)
    assert got == item, (got, item)
    assert headers["x-content-type-options"] == "nosniff", headers
    assert headers["cache-control"] == "no-cache, no-store, must-revalidate", headers
    return headers


def message(plan=PLAN, **attributes):
    body = {"routingPlanId": plan, "messageReference": "ref-1", "recipient": {"nhsNumber": "9990548609"},
            "personalisation": {"body": "hello"}}
    body.update(attributes)
    return {"data": {"type": "Message", "attributes": body}}


def batch(plan=PLAN, messages=None):
    return {"data": {"type": "MessageBatch", "attributes": {
        "routingPlanId": plan, "messageBatchReference": "batch-ref",
        "messages": messages or [{"messageReference": "m-1", "recipient": {"nhsNumber": "9990548609"}},
                                 {"messageReference": "m-2", "recipient": {"nhsNumber": "9990548609"}}]}}}


JSON = {"Content-Type": "application/json"}
TIMEOUT_504 = error("CM_TIMEOUT", 504, "Unable to call service",
                    "The downstream service has not responded within the configured timeout period.")


def test_sandbox_answers_as_nhss_public_sandbox():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        herald.rewrite_config("[nhs]\nsandbox = true")
        herald.start()
        c = Client(herald)

        # Prefer triggers on any path and method, before content negotiation and routing.
        expect_error(c.call("GET", "", headers={"Prefer": "code=408"}), 408, error(
            "CM_TIMEOUT", 408, "Request timeout",
            "The service was unable to receive your request within the timeout period."))
        expect_error(c.call("GET", "", headers={"Prefer": "code=503"}), 503, error(
            "CM_SERVICE_UNAVAILABLE", 503, "The service is currently unavailable",
            "The service is currently not able to process this request, try again later."))
        expect_error(c.call("GET", "", headers={"Prefer": "code=504"}), 504, TIMEOUT_504)
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            expect_error(c.call(method, "", headers={"Prefer": "code=500"}), 500, error(
                "CM_INTERNAL_SERVER_ERROR", 500, "Error processing request",
                "There was an internal error whilst processing this request."))
            headers = expect_error(c.call(method, "", headers={**JSON, "Prefer": "code=429"}), 429, error(
                "CM_QUOTA", 429, "Too many requests",
                "You have made too many requests. Re-send the request after the time (in seconds) specified "
                "`Retry-After` header."))
            assert headers["retry-after"] == "5", headers
        denied = error("CM_DENIED", 401, "Access denied", "Access token missing, invalid or expired, or calling "
                       "application not configured for this operation.", {"header": "Authorization"})
        for path in ("/v1/message-batches", "/v1/messages", "/v1/api/send", "/v1/messages/1234"):
            expect_error(c.call("PUT", path, headers={"Authorization": "Bearer InvalidMockToken"}), 401, denied)
            expect_error(c.call("POST", path, headers={"Prefer": "code=401"}), 401, denied)
            expect_error(c.call("GET", path, headers={"Authorization": "Bearer ClientNotRecognised"}), 403, error(
                "CM_FORBIDDEN", 403, "Forbidden", "Client not recognised or not yet onboarded.",
                {"header": "Authorization"}))
        ban = error("CM_SERVICE_BAN", 403, "Service ban in effect", "A service ban is in effect on your account.",
                    {"header": "Authorization"})
        expect_error(c.call("POST", "/v1/message-batches", batch(), {**JSON, "Prefer": "code=403.1"}), 403, ban)
        expect_error(c.call("POST", "/v1/message-batches", batch(), {**JSON, "Authorization": "banned"}), 403, ban)
        too_early = error("CM_RETRY_TOO_EARLY", 425, "Retried too early",
                          "You have retried this request too early, the previous request is still being processed. "
                          "Re-send the request after the time (in seconds) specified `Retry-After` header.")
        assert expect_error(c.call("POST", "/v1/messages", message(), {**JSON, "Prefer": "code=425"}), 425,
                            too_early)["retry-after"] == "300"
        expect_error(c.call("POST", "", headers={"Prefer": "code=422_message"}), 422, error(
            "CM_DUPLICATE_REQUEST", 422, "Duplicate message request", "Request exists with identical messageReference",
            {"pointer": "/data/attributes/messageReference"}))
        expect_error(c.call("POST", "", headers={"Prefer": "code=422_batch"}), 422, error(
            "CM_DUPLICATE_REQUEST", 422, "Duplicate batch request",
            "Request exists with identical messageBatchReference",
            {"pointer": "/data/attributes/messageBatchReference"}))
        # An unknown Prefer value is ignored.
        expect_error(c.call("GET", "/v1/ignore/i-dont-exist", headers={"Prefer": "code=404"}), 404, error(
            "CM_NOT_FOUND", 404, "Resource not found", "The resource at the requested URI was not found."))
        expect_error(c.call("GET", "//v1/messages", headers={"Prefer": "code=502"}), 405, error(
            "CM_NOT_ALLOWED", 405, "Method not allowed", "The method at the requested URI was not allowed."))

        # Content negotiation before routing.
        headers = expect_error(c.call("GET", "/v1/api/send", headers={"Accept": "xyz/abc"}), 406, error(
            "CM_NOT_ACCEPTABLE", 406, "Not acceptable",
            "This service can only generate application/vnd.api+json or application/json.", {"header": "Accept"}))
        assert headers["content-type"] == "application/vnd.api+json", headers
        expect_error(c.call("PUT", "/v1/api/send", b"{}", {"Content-Type": "xyz/abc"}), 415, error(
            "CM_UNSUPPORTED_MEDIA", 415, "Unsupported media",
            "Invalid content-type, this API only supports application/vnd.api+json or application/json.",
            {"header": "Content-Type"}))

        # A message and a batch: 201, nothing stored, no token.
        status, headers, raw = c.call("POST", "/v1/messages", message(originator={"odsCode": "X26"}), JSON)
        assert status == 201, raw
        created = json.loads(raw)["data"]
        assert KSUID.match(created["id"]) and headers["location"] == "/v1/messages/" + created["id"], (created, headers)
        assert created["attributes"]["routingPlan"] == {
            "id": PLAN, "name": "routing-plan-name", "version": "ztoe2qRAM8M8vS0bqajhyEBcvXacrGPp",
            "createdDate": "2022-01-01T00:00:00.000Z"}, created
        assert created["attributes"]["messageStatus"] == "created", created
        assert created["links"]["self"].endswith("/comms/v1/messages/" + created["id"]), created
        assert headers["x-correlation-id"].startswith("rrt"), headers
        status, _, raw = c.call("POST", "/v1/message-batches", batch("00000000-0000-0000-0000-000000000002"), JSON)
        assert status == 201, raw
        made = json.loads(raw)["data"]
        assert made["type"] == "MessageBatch" and made["attributes"]["routingPlan"]["version"] == "1", made
        assert [m["messageReference"] for m in made["attributes"]["messages"]] == ["m-1", "m-2"], made
        assert all(KSUID.match(m["id"]) for m in made["attributes"]["messages"]), made
        status, _, _ = c.call("GET", "/v1/messages/" + created["id"])
        assert status == 404, "the sandbox keeps nothing"

        # The special routing plans.
        no_plan = error("CM_NO_SUCH_ROUTING_PLAN", 404, "No such routing plan",
                        "The routing plan specified either does not exist or is not in a usable state.",
                        {"pointer": "/data/attributes/routingPlanId"})
        expect_error(c.call("POST", "/v1/messages", message("00000000-0000-0000-0000-000000000004"), JSON), 404,
                     no_plan)
        missing = error("CM_MISSING_ROUTING_PLAN_TEMPLATE", 500, "Templates missing",
                        "The templates required to use the routing plan were not found.",
                        {"pointer": "/data/attributes/routingPlanId"})
        for plan in ("c8857ccf-06ec-483f-9b3a-7fc732d9ad48", "aeb16ab8-cb9c-4d23-92e9-87c78119175c"):
            expect_error(c.call("POST", "/v1/messages", message(plan), JSON), 500, missing)
        status, _, body = c.call("POST", "/v1/messages", message("a3a4e55d-7a21-45a6-9286-8eb595c872a8"), JSON)
        duplicated = json.loads(body)["errors"][0]
        assert status == 500 and duplicated["code"] == "CM_ROUTING_PLAN_DUPLICATE_TEMPLATES", body
        assert duplicated["meta"]["duplicateTemplates"][0] == {"name": "EMAIL_TEMPLATE", "type": "EMAIL"}, body
        assert [t["type"] for t in duplicated["meta"]["duplicateTemplates"]] == [
            "EMAIL", "SMS", "LETTER", "LETTER_PDF", "NHSAPP"], body
        expect_error(c.call("POST", "/v1/message-batches", batch("4ead415a-c033-4b39-9b05-326ac237a3be"), JSON), 400,
                     error("CM_INVALID_VALUE", 400, "Invalid value",
                           "The property at the specified location does not allow this value.",
                           {"pointer": "/data/attributes/routingPlanId"}))
        assert c.call("POST", "/v1/message-batches", batch("d895ade5-0029-4fc3-9fb5-86e1e5370854"), JSON)[0] == 425

        # The client's permissions, named by its Authorization header.
        expect_error(c.call("POST", "/v1/messages", message(), {**JSON, "Authorization": "noDefaultOds"}), 400, error(
            "CM_ODS_CODE_REQUIRED", 400, "Originator odsCode must be provided",
            "An originator with odsCode must be provided, as your account does not have a default ODS code.",
            {"pointer": "/data/attributes/messages"}))
        expect_error(c.call("POST", "/v1/messages", message(originator={"odsCode": "X26"}),
                            {**JSON, "Authorization": "noOdsChange"}), 400, error(
            "CM_CANNOT_SET_ODS_CODE", 400, "Cannot set ODS code",
            "Your account is not permitted to set originator ODS codes.", {"pointer": "/data/attributes/messages"}))
        details = {"nhsNumber": "9990548609", "contactDetails": {"sms": "07777777777"}}
        override = {**JSON, "Authorization": "notAllowedContactDetailOverride"}
        cannot = error("CM_CANNOT_SET_CONTACT_DETAILS", 400, "Cannot set contact details",
                       "Client is not allowed to provide alternative contact details.",
                       {"pointer": "/data/attributes/recipient/contactDetails"})
        expect_error(c.call("POST", "/v1/messages", message(recipient=details), override), 400, cannot)
        cannot["source"] = {"pointer": "/data/attributes/messages/0/recipient/contactDetails"}
        expect_error(c.call("POST", "/v1/message-batches", batch(messages=[
            {"messageReference": "m-1", "recipient": details}]), override), 400, cannot)

        # The fixed messages.
        for ident in FIXED_IDS:
            status, headers, raw = c.call("GET", "/v1/messages/" + ident, headers={"Accept": "*/*"})
            assert status == 200, (ident, raw)
            data = json.loads(raw)["data"]
            attrs = data["attributes"]
            assert data["id"] == ident and data["type"] == "Message", data
            assert attrs["routingPlan"]["name"] == "routing-plan-name" and attrs["messageReference"], attrs
            assert attrs["metadata"][0]["source"] == "pds" and attrs["metadata"][0]["queriedAt"], attrs
            if attrs["messageStatus"] in ("sending", "delivered"):
                for channel in attrs["channels"]:
                    assert channel["cascadeOrder"] > 0 and channel["routingPlan"]["type"] in ("original", "override")
        failed = json.loads(c.call("GET", "/v1/messages/2WL4mvx6eBva8dcIK60VEGIfcgZ")[2])["data"]["attributes"]
        assert failed["messageFailureReasonCode"] == "MFR_PDSV_0110", failed
        assert failed["messageStatusDescription"] == "Failed reason: Patient has exit code", failed
        overridden = json.loads(c.call("GET", "/v1/messages/2bBBpsiMl2rnQt99qm6JLZ6w1vq")[2])["data"]["attributes"]
        assert overridden["channels"][0]["routingPlan"] == {
            "id": "9ba00d23-cd6f-4aca-8688-00abc85a7980", "version": "5", "type": "override"}, overridden
        expect_error(c.call("GET", "/v1/messages/blank"), 404, error(
            "CM_NOT_FOUND", 404, "Resource not found", "The resource at the requested URI was not found."))

        # The NHS App accounts report.
        for page in range(1, 9):
            status, _, raw = c.call("GET", "/channels/nhsapp/accounts?ods-organisation-code=T00001&page=%d" % page)
            assert status == 200, raw
            body = json.loads(raw)
            assert body["data"]["id"] == "T00001" and len(body["data"]["attributes"]["accounts"]) == 10, body
            assert body["links"]["self"].endswith("?ods-organisation-code=T00001&page=%d" % page), body
            assert ("next" in body["links"]) == (page < 8), body
        status, _, raw = c.call("GET", "/channels/nhsapp/accounts?ods-organisation-code=x26")
        assert status == 200 and json.loads(raw)["data"]["id"] == "X26", raw
        report_missing = error("CM_NOT_FOUND", 404, "Resource not found", "Report not found")
        expect_error(c.call("GET", "/channels/nhsapp/accounts?ods-organisation-code=T00404"), 404, report_missing)
        expect_error(c.call("GET", "/channels/nhsapp/accounts?ods-organisation-code=X26&page=10"), 404, report_missing)
        expect_error(c.call("GET", "/channels/nhsapp/accounts?ods-organisation-code=T00001&page=-1"), 400, error(
            "CM_INVALID_REQUEST", 400, "Invalid Request", "page must be a positive non-zero integer"))
        expect_error(c.call("GET", "/channels/nhsapp/accounts?ods-organisation-code=T00502"), 502, error(
            "CM_BAD_GATEWAY", 502, "Unable to call service", "A downstream service is not responding."))
        assert c.call("GET", "/channels/nhsapp/accounts?ods-organisation-code=T00429")[0] == 429

        # The sandbox's own paths.
        status, _, raw = c.call("GET", "/_timeout?sleep=50")
        assert status == 200 and json.loads(raw) == {}, raw
        expect_error(c.call("GET", "/_timeout_504"), 504, TIMEOUT_504)
        expect_error(c.call("GET", "/_timeout_408"), 504, TIMEOUT_504)
        assert c.call("GET", "/_invalid_certificate")[0] == 503

        # CORS, as NHS's gateway.
        status, headers, _ = c.call("OPTIONS", "/v1/messages", headers={
            "Origin": "https://gp.example", "Access-Control-Request-Method": "POST"})
        assert status == 200 and headers["access-control-allow-origin"] == "https://gp.example", headers
        headers = c.call("GET", "/v1/messages/blank", headers={"Origin": "https://gp.example"})[1]
        assert headers["access-control-expose-headers"] == "x-correlation-id", headers


if __name__ == "__main__":
    run_tests([test_sandbox_answers_as_nhss_public_sandbox])
