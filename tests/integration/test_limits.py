#!/usr/bin/python3
"""Integration: GOV.UK's per-minute rate limit and daily limits, with the exact 429 errors.

Covers: the token bucket per key type (normal keys shown as LIVE; test keys have their own),
checked before the body is even parsed; the daily limit per channel, with test keys counted
apart; limits set per service with `herald service set`.
Usage: test_limits.py /path/to/herald
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402

HERALD = sys.argv[1]


def setup(ws, *settings):
    sink = ws.track(SmtpSink(ws.dir))
    herald = ws.track(Herald(HERALD, ws.dir, sink.port))
    service_id, key = herald.create_service("Clinic")
    herald.run_cli("service", "set", "--service", service_id, *settings)
    template_id = herald.create_template(service_id, "Hi", "Hello")
    test_key = herald.run_cli("key", "create", "--service", service_id, "--type", "test", "--name", "t")
    herald.start()
    return herald, key, test_key, template_id


def send(herald, key, template_id, to="a@example.com"):
    return herald.request("POST", "/v2/notifications/email", key=key,
                          body={"email_address": to, "template_id": template_id})


def error(status, name, message):
    return {"status_code": status, "errors": [{"error": name, "message": message}]}


def test_rate_limit_per_key_type_before_the_body_is_read():
    with Workspace() as ws:
        # 3 a minute: a bucket of ceil(3/3) + 1 = 2, refilled at one per 20 s.
        herald, key, test_key, template_id = setup(ws, "--rate-limit", "3")
        assert send(herald, key, template_id)[0] == 201
        status, body = herald.request("POST", "/v2/notifications/email", key=key, body=b"{not json")
        assert status == 400, "a malformed request still takes a token"
        assert send(herald, key, template_id) == (
            429, error(429, "RateLimitError", "Exceeded rate limit for key type LIVE of 3 requests per 60 seconds"))
        status, body = herald.request("POST", "/v2/notifications/email", key=key, body=b"{not json")
        assert status == 429, "checked before the body"
        assert herald.request("GET", "/v2/notifications", key=key)[0] == 200, "reads are not rate limited"
        assert send(herald, test_key, template_id)[0] == 201, "test keys have their own bucket"
        assert send(herald, test_key, template_id)[0] == 201
        assert send(herald, test_key, template_id) == (
            429, error(429, "RateLimitError", "Exceeded rate limit for key type TEST of 3 requests per 60 seconds"))


def test_daily_limit_per_channel_with_test_keys_apart():
    with Workspace() as ws:
        herald, key, test_key, template_id = setup(ws, "--email-limit", "2")
        assert send(herald, key, template_id)[0] == 201
        assert send(herald, key, template_id)[0] == 201
        assert send(herald, key, template_id) == (
            429, error(429, "TooManyRequestsError", "Exceeded send limits (email: 2) for today"))
        assert send(herald, test_key, template_id)[0] == 201, "test keys are counted apart"
        assert send(herald, test_key, template_id)[0] == 201
        assert send(herald, test_key, template_id)[0] == 429
        # The counter is in the store: a restart does not reset it.
        herald.stop()
        herald.start()
        assert send(herald, key, template_id)[0] == 429


if __name__ == "__main__":
    run_tests([test_rate_limit_per_key_type_before_the_body_is_read,
               test_daily_limit_per_channel_with_test_keys_apart])
