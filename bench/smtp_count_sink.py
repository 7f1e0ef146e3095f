#!/usr/bin/python3
"""An SMTP sink for the delivery benchmark: accepts every message on loopback, keeps none, and
counts them. tests/tools/smtp_sink.py (aiosmtpd, a file per message) is the relay stand-in for
tests; it spends far more per message than Herald does, so it cannot show Herald's rate.

Speaks just enough RFC 5321 for a client that behaves: EHLO (offering PIPELINING, 8BITMIME,
SMTPUTF8), MAIL, RCPT, DATA, RSET, NOOP, QUIT; commands may be pipelined. Every 200 ms it writes
"<messages> <unix time>" to --count-file, so the benchmark can read a rate over any window.
"""
import argparse
import asyncio
import os
import signal
import sys
import time

REPLIES = {b"MAIL": b"250 2.1.0 OK\r\n", b"RCPT": b"250 2.1.5 OK\r\n", b"RSET": b"250 2.0.0 OK\r\n",
           b"NOOP": b"250 2.0.0 OK\r\n"}
EHLO = b"250-localhost\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 SIZE 36700160\r\n"


class Counter:
    messages = 0


class Session(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.buffer = b""
        self.in_data = False
        transport.write(b"220 localhost ESMTP bench sink\r\n")

    def data_received(self, data):
        self.buffer += data
        out = []
        while True:
            if self.in_data:
                end = self.buffer.find(b"\r\n.\r\n")
                if end < 0:
                    # Keep only what could still be the start of the terminator.
                    self.buffer = self.buffer[-4:]
                    break
                self.buffer = self.buffer[end + 5:]
                self.in_data = False
                Counter.messages += 1
                out.append(b"250 2.0.0 accepted\r\n")
                continue
            eol = self.buffer.find(b"\r\n")
            if eol < 0:
                break
            line, self.buffer = self.buffer[:eol], self.buffer[eol + 2:]
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                out.append(EHLO)
            elif verb == b"DATA":
                self.in_data = True
                self.buffer = b"\r\n" + self.buffer  # the terminator may follow an empty body
                out.append(b"354 go ahead\r\n")
            elif verb == b"QUIT":
                out.append(b"221 bye\r\n")
                self.transport.write(b"".join(out))
                self.transport.close()
                return
            else:
                out.append(REPLIES.get(verb, b"502 5.5.2 not implemented\r\n"))
        if out:
            self.transport.write(b"".join(out))


async def report(path):
    while True:
        with open(path + ".tmp", "w") as f:
            f.write("%d %.3f\n" % (Counter.messages, time.time()))
        os.rename(path + ".tmp", path)
        await asyncio.sleep(0.2)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--count-file", required=True)
    args = parser.parse_args()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Session, host="127.0.0.1", port=0)
    with open(args.port_file + ".tmp", "w") as f:
        f.write("%d\n" % server.sockets[0].getsockname()[1])
    os.rename(args.port_file + ".tmp", args.port_file)
    reporter = asyncio.ensure_future(report(args.count_file))
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    reporter.cancel()
    server.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
