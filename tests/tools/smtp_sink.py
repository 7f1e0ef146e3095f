#!/usr/bin/python3
"""A local SMTP relay stand-in on loopback, built on Debian's python3-aiosmtpd.

Modes: accept (store every message as DIR/<n>.eml), reject (550 to every RCPT),
tempfail (451 to every RCPT), mixed (550 to recipients whose local part starts with
"reject", accept the rest). With --tls-cert/--tls-key it offers STARTTLS; with --pipelining
it offers PIPELINING (RFC 2920) and notes in each message's .json whether the client had
already sent DATA when RCPT was answered, and the client's port (one per connection).
Binds port 0 when asked and writes the real port to --port-file, so tests never collide.
Used by `make run` (the demo's visible mailbox) and by the integration tests.
"""
import argparse
import asyncio
import email
import json
import email.policy
import os
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP


class Handler:
    def __init__(self, maildir, mode, quiet, pipelining, delay_ms=0):
        self.maildir = maildir
        self.delay_ms = delay_ms
        self.mode = mode
        self.quiet = quiet
        self.pipelining = pipelining
        self.count = len([n for n in os.listdir(maildir) if n.endswith(".eml")])

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.pipelining:
            responses.insert(len(responses) - 1, "250-PIPELINING")
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        # What the client sent before reading this reply is still buffered: pipelined DATA.
        envelope.pipelined = b"DATA" in bytes(server._reader._buffer)
        if self.mode == "reject" or (self.mode == "mixed" and address.lower().startswith("reject")):
            return "550 5.1.1 Mailbox unavailable"
        if self.mode == "tempfail":
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay_ms:  # a slow relay: senders hold their claims longer (multi-node tests)
            await asyncio.sleep(self.delay_ms / 1000.0)
        self.count += 1
        name = os.path.join(self.maildir, "%06d.eml" % self.count)
        tmp = name + ".tmp"
        with open(tmp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(tmp, name)
        meta = {"tls": session.ssl is not None, "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos, "client_port": session.peer[1],
                "helo": getattr(session, "host_name", None),
                "pipelined": getattr(envelope, "pipelined", False)}
        with open(name + ".json.tmp", "w") as f:
            json.dump(meta, f)
        os.rename(name + ".json.tmp", name[:-4] + ".json")
        if not self.quiet:
            msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            print("smtp-sink: saved %s  subject: %s  tls: %s" % (
                name, msg["subject"], session.ssl is not None), flush=True)
        return "250 2.0.0 Message accepted"


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--maildir", required=True)
    parser.add_argument("--mode", choices=["accept", "reject", "tempfail", "mixed"], default="accept")
    parser.add_argument("--pipelining", action="store_true")
    parser.add_argument("--delay-ms", type=int, default=0, help="wait this long before accepting each message")
    parser.add_argument("--port-file")
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if args.host not in ("127.0.0.1", "::1", "localhost"):
        sys.exit("smtp_sink listens on loopback only")
    os.makedirs(args.maildir, exist_ok=True)
    tls = None
    if args.tls_cert:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(args.tls_cert, args.tls_key)
    handler = Handler(args.maildir, args.mode, args.quiet, args.pipelining, args.delay_ms)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="localhost", tls_context=tls, require_starttls=False),
        host=args.host, port=args.port)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write("%d\n" % port)
        os.rename(args.port_file + ".tmp", args.port_file)
    if not args.quiet:
        print("smtp-sink: listening on %s:%d, mode %s, saving to %s" % (
            args.host, port, args.mode, args.maildir), flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    asyncio.run(main())
