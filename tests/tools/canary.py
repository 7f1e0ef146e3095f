"""Canary scan (SC-24, docs/security-controls.md): looks for the canary values in every form they
could take in a file: raw, lower and upper case, E.164 for the phone number, base64 (at every
alignment), hex, URL-encoded and UTF-16. Returns the hits; an empty list means clean."""
import base64
import binascii
import urllib.parse

CANARY_EMAIL = "canary.7f3a@example.org"
CANARY_PERSONALISATION = "ZQX-CANARY-41c9"
CANARY_PHONE = "07700 900123"
CANARY_PHONE_E164 = "+447700900123"
CANARY_PHONE_DIGITS = "447700900123"  # E.164 without '+': what SMS providers are given
CANARY_NHS_NUMBER = "9434765919"
CANARY_ADDRESS_LINE = "8 Canary Mews Qx7"  # a letter's address line (printed upper case on the PDF)
CANARY_FILE = "FILE-CANARY-83d1"  # inside a file sent by email (and its filename)
CANARIES = [CANARY_EMAIL, CANARY_PERSONALISATION, CANARY_PHONE, CANARY_PHONE_E164, CANARY_PHONE_DIGITS,
            CANARY_NHS_NUMBER, CANARY_ADDRESS_LINE, CANARY_FILE]


def _base64_forms(value):
    """The stable middle of value's base64 encoding at each of the three byte alignments."""
    forms = []
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + value)
        # Drop characters that mix in neighbouring bytes: 4 leading chars when shifted, and the tail.
        start = 4 if shift else 0
        usable = (len(value) + shift) // 3 * 4
        core = encoded[start:usable]
        if len(core) >= 8:
            forms.append(core)
            forms.append(core.replace(b"+", b"-").replace(b"/", b"_"))
    return forms


def encodings(value):
    raw = value.encode()
    forms = {raw, raw.lower(), raw.upper(),
             binascii.hexlify(raw), binascii.hexlify(raw).upper(),
             urllib.parse.quote(value, safe="").encode(), urllib.parse.quote_plus(value).encode(),
             value.encode("utf-16-le"), value.encode("utf-16-be")}
    forms.update(_base64_forms(raw))
    return [f for f in forms if f]


def scan_bytes(data, label):
    hits = []
    for canary in CANARIES:
        for form in encodings(canary):
            if form in data:
                hits.append("%s: canary %r found as %r" % (label, canary, form[:40]))
                break
    return hits


def scan_files(paths):
    hits = []
    for path in paths:
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            # A running server's temporary file (PostgreSQL's pg_internal.init, a rotated WAL
            # segment) removed between listing the directory and reading it: gone from disk.
            continue
        hits += scan_bytes(data, path)
    return hits
