#!/usr/bin/python3
"""End to end: an NHS Notify client written with a standard npm JWT library against herald serve.

Registers a client the way an operator would (`herald nhs keygen`, `herald nhs client create`),
then runs nhs_client.js, which knows only the URL, API key, kid and private key file.
Usage: test_nhs_client.py /path/to/herald
"""
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
        herald.start()
        env = dict(os.environ, NODE_EXTRA_CA_CERTS=herald.cert, HERALD_URL="https://127.0.0.1:%d" % herald.port,
                   NHS_API_KEY=api_key, NHS_KID="e2e-key-1", NHS_PRIVATE_KEY_FILE=private_key)
        result = subprocess.run(["node", os.path.join(HERE, "nhs_client.js")], env=env, cwd=HERE, timeout=120)
        assert result.returncode == 0, "nhs_client.js failed"
        # The email the message became, as the relay received it: to the address on record.
        mails = [m for m in sink.messages() if "ada.e2e@example.org" in str(m)]
        assert len(mails) == 1, sink.messages()
        assert "Your appointment" in str(mails[0])
        assert not any("charles@example.org" in str(m) for m in sink.messages()), "a deceased recipient was emailed"


if __name__ == "__main__":
    run_tests([test_nhs_client_gets_a_token_and_calls_the_api])
