#!/usr/bin/python3
"""Integration: GOV.UK's per-minute rate limit and daily limits, with the exact 429 errors.

Covers: the token bucket per key type (normal keys shown as LIVE; test keys have their own),
checked before the body is even parsed; the daily limit per channel, with test keys counted
apart; limits set per service with `herald service set`.
Usage: test_limits.py /path/to/herald
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, noon_yesterday, run_tests  # noqa: E402

HERALD = sys.argv[1]


def setup(ws, *settings):
    sink = ws.track(SmtpSink(ws.dir))
    # Daily limits count per UTC day: the test sets a clock that no midnight falls within.
    herald = ws.track(Herald(HERALD, ws.dir, sink.port, clock=noon_yesterday()))
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


TRIAL = ("Can\u2019t send to this recipient when service is in trial mode \u2013 see "
         "https://www.notifications.service.gov.uk/trial-mode")
TEAM_ONLY = "Can\u2019t send to this recipient using a team-only API key"


def test_trial_mode_team_keys_guest_list_and_going_live():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        service_id, key = herald.create_service("Trial clinic", live=False)
        team_key = herald.run_cli("key", "create", "--service", service_id, "--type", "team", "--name", "team")
        test_key = herald.run_cli("key", "create", "--service", service_id, "--type", "test", "--name", "test")
        template_id = herald.create_template(service_id, "Hi", "Hello")
        sms_template = herald.create_template(service_id, None, "Hello", name="Text", type="sms")
        herald.run_cli("service", "add-to-guest-list", "--service", service_id, "--recipient", "guest@example.com")
        herald.run_cli("service", "add-to-guest-list", "--service", service_id, "--recipient", "07700 900123")
        code, _, err = herald.run_cli("service", "add-to-guest-list", "--service", service_id, "--recipient", "nope",
                                      check=False)
        assert code != 0, err
        herald.start()

        def sms(k, number):
            return herald.request("POST", "/v2/notifications/sms", key=k,
                                  body={"phone_number": number, "template_id": sms_template})

        assert send(herald, key, template_id) == (400, error(400, "BadRequestError", TRIAL))
        assert send(herald, key, template_id, to="Guest@Example.com")[0] == 201, "the guest list, case-insensitively"
        assert send(herald, team_key, template_id) == (400, error(400, "BadRequestError", TEAM_ONLY))
        assert send(herald, team_key, template_id, to="guest@example.com")[0] == 201
        assert send(herald, test_key, template_id)[0] == 201, "test keys send to anyone"
        assert sms(team_key, "+44 7700 900123")[0] == 201, "numbers compared once normalised"
        assert sms(team_key, "07700 900456") == (400, error(400, "BadRequestError", TEAM_ONLY))
        assert sms(key, "07700 900456") == (400, error(400, "BadRequestError", TRIAL))
        # GOV.UK's trial-mode daily limit: 50 a day (2 emails sent so far with live/team keys).
        for _ in range(48):
            assert send(herald, key, template_id, to="guest@example.com")[0] == 201
        assert send(herald, key, template_id, to="guest@example.com") == (
            429, error(429, "TooManyRequestsError", "Exceeded send limits (email: 50) for today"))

        herald.run_cli("service", "go-live", "--service", service_id)
        herald.run_cli("service", "set", "--service", service_id, "--email-limit", "1000")
        time.sleep(5.5)  # the API's service cache
        assert send(herald, key, template_id)[0] == 201, "live: anyone"
        assert send(herald, team_key, template_id) == (400, error(400, "BadRequestError", TEAM_ONLY)), \
            "team keys stay team-only"


if __name__ == "__main__":
    run_tests([test_trial_mode_team_keys_guest_list_and_going_live,
               test_rate_limit_per_key_type_before_the_body_is_read,
               test_daily_limit_per_channel_with_test_keys_apart])
