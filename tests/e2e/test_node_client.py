#!/usr/bin/python3
"""End to end: the official npm notifications-node-client, unchanged, against herald serve.

Sets up a data directory, the SMTP sink and herald serve on 127.0.0.1, then runs
node_client_scenarios.js with the demo certificate trusted through NODE_EXTRA_CA_CERTS, as a
user would. Finally checks the email reached the relay with subject and body rendered.
Usage: test_node_client.py /path/to/herald
"""
import email
import email.policy
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402

HERALD = sys.argv[1]
BODY = "Hello ((name))\r\n\r\nFunctional test help make our world a better place"


def test_node_client_end_to_end():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        service_id, key = herald.create_service("Node client service")
        template_id = herald.create_template(service_id, "Test ((name))", BODY)
        appt_id = herald.create_template(service_id, "Your ((thing))", "On ((date))", name="Appointment",
                                         created_by="one@example.com")
        time.sleep(0.01)
        herald.update_template(service_id, appt_id, body="On ((date)) ((bring id??Bring your ID.)) ((Date))",
                               name="Appointment v2", created_by="two@example.com")
        sms_id = herald.create_template(service_id, None, "Hello ((name))", name="Reminder text", type="sms")
        letter_id = herald.create_template(service_id, "Hello ((name))", "Dear ((name)), see you soon.",
                                           name="Letter", type="letter")
        test_key = herald.run_cli("key", "create", "--service", service_id, "--type", "test", "--name", "test key")
        other_service, other_key = herald.create_service("Other service")
        herald.start()
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=herald.cert,
                   HERALD_URL="https://127.0.0.1:%d" % herald.port, HERALD_API_KEY=key,
                   HERALD_OTHER_API_KEY=other_key, HERALD_SERVICE_ID=service_id,
                   HERALD_TEMPLATE_ID=template_id, HERALD_APPT_TEMPLATE_ID=appt_id,
                   HERALD_SMS_TEMPLATE_ID=sms_id, HERALD_TEST_API_KEY=test_key, HERALD_LETTER_TEMPLATE_ID=letter_id)
        result = subprocess.run(["node", os.path.join(HERE, "node_client_scenarios.js")], env=env,
                                cwd=HERE, timeout=300)
        assert result.returncode == 0, "node scenarios failed"
        delivered = [email.message_from_bytes(raw, policy=email.policy.default) for raw, meta in sink.messages()
                     if meta["rcpt_tos"] == ["someone@example.com"]]
        foo = [m for m in delivered if m["subject"] == "Test Foo"]
        assert foo, "the email did not reach the relay: %s" % [m["subject"] for m in delivered]
        message = foo[0]
        text = message.get_body(("plain",)).get_content()
        assert "Hello Foo" in text and "Functional test help" in text, text


if __name__ == "__main__":
    run_tests([test_node_client_end_to_end])
