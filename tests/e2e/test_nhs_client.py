#!/usr/bin/python3
"""End to end: an NHS Notify client written with a standard npm JWT library against herald serve.

Registers a client the way an operator would (`herald nhs keygen`, `herald nhs client create`),
then runs nhs_client.js, which knows only the URL, API key, kid and private key file.
Usage: test_nhs_client.py /path/to/herald
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tools"))
from harness import Herald, SmtpSink, Workspace, run_tests  # noqa: E402

HERALD = sys.argv[1]


def test_nhs_client_gets_a_token_and_calls_the_api():
    with Workspace() as ws:
        sink = ws.track(SmtpSink(ws.dir))
        herald = ws.track(Herald(HERALD, ws.dir, sink.port))
        service_id, _ = herald.create_service("NHS client service")
        private_key = os.path.join(ws.dir, "client-key.pem")
        jwks = herald.run_cli("nhs", "keygen", "--kid", "e2e-key-1", "--private-key-out", private_key, config=False)
        assert oct(os.stat(private_key).st_mode & 0o777) == "0o600"
        jwks_file = os.path.join(ws.dir, "client-jwks.json")
        with open(jwks_file, "w") as f:
            f.write(jwks)
        api_key = herald.run_cli("nhs", "client", "create", "--service", service_id, "--name", "GP system",
                                 "--jwks", jwks_file, "--default-ods", "A12345").strip()
        assert len(api_key) == 32 and api_key.isalnum(), api_key
        listed = herald.run_cli("nhs", "client", "list")
        assert "GP system" in listed and api_key not in listed, listed
        # The trust's own records for NHS-number lookups (an air-gapped master patient index).
        records = os.path.join(ws.dir, "patients.csv")
        with open(records, "w") as f:
            f.write("nhs_number,given_name,family_name,email,mobile,deceased\n"
                    "9990548609,Ada,Lovelace,ada.e2e@example.org,07700900123,\n"
                    "9434765919,Charles,Babbage,charles@example.org,07700900456,formal\n")
        imported = herald.run_cli("demographics", "import", "--file", records)
        assert "imported 2" in imported, imported
        plan_id = create_routing_plan(herald, ws, service_id, listed.split()[0])
        herald.start()
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=herald.cert, HERALD_URL="https://127.0.0.1:%d" % herald.port,
                   NHS_API_KEY=api_key, NHS_KID="e2e-key-1", NHS_PRIVATE_KEY_FILE=private_key, NHS_PLAN_ID=plan_id)
        result = subprocess.run(["node", os.path.join(HERE, "nhs_client.js")], env=env, cwd=HERE, timeout=120)
        assert result.returncode == 0, "nhs_client.js failed"
        # The email the message became, as the relay received it: to the address on record.
        free_text = [m for m in mails_to(sink, "ada.e2e@example.org") if "Subject: Your appointment" in m]
        assert len(free_text) == 1, sink.messages()
        assert "See you on Monday." in free_text[0], free_text[0]
        assert not any("charles@example.org" in str(m) for m in sink.messages()), "a deceased recipient was emailed"
        # The message on the operator's plan: the service's template filled from the request and the record.
        planned = [m for m in mails_to(sink, "ada.e2e@example.org") if "Appointment for Ada Lovelace" in m]
        assert len(planned) == 1, mails_to(sink, "ada.e2e@example.org")
        assert "Dear Ada, come on Tuesday." in planned[0], planned[0]


def mails_to(sink, address):
    return [str(m) for m in sink.messages() if address in str(m)]


def create_routing_plan(herald, ws, service_id, client_id):
    """An operator's plan from the service's own email template, checked when saved."""
    template_id = herald.create_template(service_id, "Appointment for ((fullName))",
                                         "Dear ((firstName)), come on ((when)).", name="NHS appointment")
    sms_template = herald.create_template(service_id, None, "Hello ((firstName))", name="NHS text", type="sms")
    path = os.path.join(ws.dir, "plan.json")
    with open(path, "w") as f:
        json.dump({"name": "Appointments", "channels": [
            {"type": "email", "template": sms_template, "timeLimitHours": 72}]}, f)
    code, out, err = herald.run_cli("plan", "create", "--client", client_id, "--file", path, check=False)
    assert code != 0 and "is an SMS template, not an email one" in err, (code, out, err)
    with open(path, "w") as f:
        json.dump({"name": "Appointments", "channels": [
            {"type": "email", "template": template_id, "timeLimitHours": 72}]}, f)
    saved = herald.run_cli("plan", "create", "--client", client_id, "--file", path)
    plan_id = saved.split()[0]
    assert "version 1" in saved and "Appointments" in saved and "email (72 h)" in saved, saved
    listed = herald.run_cli("plan", "list", "--client", client_id)
    assert plan_id in listed and "Free text: email" in listed, listed
    shown = json.loads(herald.run_cli("plan", "show", "--plan", plan_id))
    assert shown["channels"][0]["templateVersion"] == 1, shown
    return plan_id


if __name__ == "__main__":
    run_tests([test_nhs_client_gets_a_token_and_calls_the_api])
