"""Checks Herald's responses against its own OpenAPI documents (docs/openapi/*.yaml).

For a request's method and concrete path it finds the document (the GOV.UK Notify one for
/v2/..., the NHS Notify one for /oauth2/token and the NHS prefix), the operation whose path
template matches (a literal segment beats a {parameter}), the response for the status (or its
`default`), and validates the JSON body against that response's schema with jsonschema's Draft
2020-12 validator, `$ref`s to `#/components/...` inlined. A path under an API that no operation
matches (an unknown path, or a known one with another method) must be an error shaped as the
document's `x-herald-unmatched-response` says, and a 429 an operation does not list as
`x-herald-blocked-response` says (intrusion prevention refuses a blocked address on any path).

Every checked operation is remembered with its statuses (`seen()`), so a suite can assert that
it covered a whole document (`coverage_gaps()`).

Needs PyYAML and jsonschema (Debian: python3-yaml, python3-jsonschema); they are imported only
when the first response is checked.

    check_response("GET", "/v2/notifications/<id>", 200, body)          # raises AssertionError
    check_response("POST", "/nhs/v1/messages", 201, body, nhs_prefix="/nhs")
"""
import copy
import os
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
DOCS = os.path.normpath(os.path.join(HERE, "..", "..", "docs", "openapi"))
GOVUK = "govuk-notify-v2.yaml"
NHS = "nhs-notify-v1.yaml"
# The NHS prefix as the NHS document writes its paths; a Herald configured with another
# `[nhs] prefix` is mapped onto it.
DOCUMENTED_NHS_PREFIX = "/comms"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Operations whose responses Herald is known to get wrong against the document, and which would
# otherwise block every suite: {(document, METHOD, path template): "why"}. A mismatch on one of
# these is printed, not raised. Keep it empty; an entry is a bug to fix in Herald.
KNOWN_HERALD_DEVIATIONS = {}

_lock = threading.Lock()
_documents = {}
_validators = {}
_seen = {}  # (document, METHOD, template) -> set of statuses


def _yaml():
    import yaml
    return yaml


def _validator_class():
    from jsonschema import Draft202012Validator
    return Draft202012Validator


class Document:
    """One OpenAPI document: its operations by path template, and its components."""

    def __init__(self, name):
        self.name = name
        with open(os.path.join(DOCS, name), encoding="utf-8") as f:
            self.spec = _yaml().safe_load(f)
        self.templates = []  # (segments, template), most literal segments first
        for template in self.spec.get("paths", {}):
            segments = template.strip("/").split("/")
            self.templates.append((segments, template))
        self.templates.sort(key=lambda t: -sum(1 for s in t[0] if not s.startswith("{")))

    def operations(self):
        """Every (METHOD, template) the document has."""
        out = []
        for template, item in self.spec.get("paths", {}).items():
            for method in METHODS:
                if method in item:
                    out.append((method.upper(), template))
        return out

    def resolve(self, node):
        """A `$ref` object's target (local references only), else the node itself."""
        seen = 0
        while isinstance(node, dict) and "$ref" in node:
            ref = node["$ref"]
            assert ref.startswith("#/"), "%s: only local references are supported: %s" % (self.name, ref)
            target = self.spec
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            node = target
            seen += 1
            assert seen < 20, "%s: reference loop at %s" % (self.name, ref)
        return node

    def inline(self, schema, depth=0):
        """The schema with every `$ref` replaced by a copy of its target (siblings kept beside
        it through allOf), ready for a validator that knows nothing of the document."""
        assert depth < 64, "%s: schema nested too deeply (a recursive $ref?)" % self.name
        if isinstance(schema, list):
            return [self.inline(item, depth + 1) for item in schema]
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            target = self.inline(copy.deepcopy(self.resolve({"$ref": schema["$ref"]})), depth + 1)
            siblings = {k: self.inline(v, depth + 1) for k, v in schema.items() if k != "$ref"}
            return dict(siblings, allOf=[target]) if siblings else target
        return {k: self.inline(v, depth + 1) for k, v in schema.items()}

    def operation(self, method, path):
        """(template, operation) for a concrete path, or None when no template has the method."""
        segments = path.strip("/").split("/")
        for pattern, template in self.templates:
            if len(pattern) != len(segments):
                continue
            if all(p == s or (p.startswith("{") and p.endswith("}") and s) for p, s in zip(pattern, segments)):
                operation = self.spec["paths"][template].get(method.lower())
                if operation is not None:
                    return template, operation
        return None

    def response(self, operation, status):
        """The response object for a status: its own, its range (4XX), or `default`."""
        responses = operation.get("responses", {})
        for key in (str(status), "%dXX" % (status // 100), "default"):
            if key in responses:
                return key, self.resolve(responses[key])
        return None, None


def document(name):
    with _lock:
        if name not in _documents:
            _documents[name] = Document(name)
        return _documents[name]


def route(path, nhs_prefix=DOCUMENTED_NHS_PREFIX):
    """(document name, path as the document writes it) for a request path, or None when the
    path is not under either API."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    if path == "/v2" or path.startswith("/v2/"):
        return GOVUK, path
    if path == "/oauth2/token":
        return NHS, path
    if nhs_prefix and (path == nhs_prefix or path.startswith(nhs_prefix + "/")):
        return NHS, DOCUMENTED_NHS_PREFIX + path[len(nhs_prefix):]
    return None


def _json_media(content):
    for media in content:
        if media == "application/json" or media.endswith("+json"):
            return media
    return None


def _validator(doc, key, schema):
    with _lock:
        if key not in _validators:
            cls = _validator_class()
            inlined = doc.inline(schema)
            cls.check_schema(inlined)
            _validators[key] = cls(inlined)
        return _validators[key]


def _problem(doc, where, error):
    location = "/" + "/".join(str(p) for p in error.absolute_path)
    return "%s %s: %s at %s (schema %s)" % (
        doc.name, where, error.message[:500], location, "/".join(str(p) for p in error.absolute_schema_path))


def check_response(method, path, status, body, nhs_prefix=DOCUMENTED_NHS_PREFIX):
    """Raises AssertionError (with the path, status and validation error) when a response does
    not match its document; returns (document, template) of the operation it matched, (document,
    None) for a documented error outside any operation, or None for a path under neither API.
    `body` is the parsed JSON, or bytes when the body was not JSON."""
    method = method.upper()
    if method == "OPTIONS":
        return None  # CORS preflights: the gateway's machinery, not an operation
    routed = route(path, nhs_prefix)
    if routed is None:
        return None
    name, documented_path = routed
    doc = document(name)
    where = "%s %s -> %d" % (method, path, status)
    found = doc.operation(method, documented_path.split("?", 1)[0])
    if found is None:
        # No operation: the router's answer for unknown paths and methods, an error.
        if status < 400:
            raise AssertionError("%s %s: %s is not a documented operation" % (doc.name, where, method))
        response = doc.resolve({"$ref": doc.spec["x-herald-unmatched-response"]})
        template, key = None, "x-herald-unmatched-response"
    else:
        template, operation = found
        key, response = doc.response(operation, status)
        if response is None and status == 429 and "x-herald-blocked-response" in doc.spec:
            # A blocked source address is refused on any path, before routing.
            key, response = "x-herald-blocked-response", doc.resolve({"$ref": doc.spec["x-herald-blocked-response"]})
        with _lock:
            _seen.setdefault((name, method, template), set()).add(status)
        if response is None:
            return _fail(doc, method, template, "%s %s: status %d is not documented for %s %s" % (
                doc.name, where, status, method, template))
    content = response.get("content") or {}
    if method == "HEAD":
        return name, template  # no body to check
    if not content:
        if body not in (None, b"", ""):
            return _fail(doc, method, template, ("%s %s: a body where the document has none: %r" % (
                doc.name, where, body))[:500])
        return name, template
    media = _json_media(content)
    if media is None:
        # A binary answer (a letter's PDF): not JSON.
        if not isinstance(body, bytes):
            return _fail(doc, method, template, "%s %s: JSON where the document says %s" % (
                doc.name, where, ", ".join(content)))
        if "application/pdf" in content and not body.startswith(b"%PDF-"):
            return _fail(doc, method, template, "%s %s: not a PDF: %r" % (doc.name, where, body[:40]))
        return name, template
    if isinstance(body, (bytes, str)):
        return _fail(doc, method, template, "%s %s: not JSON: %r" % (doc.name, where, body[:200]))
    schema = content[media].get("schema")
    if schema is None:
        return name, template
    validator = _validator(doc, (name, method, template, key, media), schema)
    errors = sorted(validator.iter_errors(body), key=lambda e: (len(list(e.absolute_path)), e.message))
    if errors:
        from jsonschema.exceptions import best_match
        error = best_match(errors)
        return _fail(doc, method, template, _problem(doc, where, error) + "; body: " + _short(body))
    return name, template


def _short(body):
    import json
    text = json.dumps(body)
    return text if len(text) <= 1500 else text[:1500] + "..."


def _fail(doc, method, template, message):
    if template is not None and (doc.name, method, template) in KNOWN_HERALD_DEVIATIONS:
        import sys
        print("openapi_check: known deviation (%s): %s" % (
            KNOWN_HERALD_DEVIATIONS[(doc.name, method, template)], message), file=sys.stderr)
        return doc.name, template
    raise AssertionError(message)


def seen():
    """{(document, METHOD, template): statuses} of every operation checked so far."""
    with _lock:
        return {k: set(v) for k, v in _seen.items()}


def coverage_gaps(names=(GOVUK, NHS)):
    """What the responses checked so far did not cover, as readable lines: operations never
    seen, operations documenting a 2xx never seen with one, and operations documenting a
    4xx/5xx never seen with an error."""
    gaps = []
    statuses = seen()
    for name in names:
        doc = document(name)
        for method, template in doc.operations():
            got = statuses.get((name, method, template))
            if not got:
                gaps.append("%s %s %s: never exercised" % (name, method, template))
                continue
            documented = doc.spec["paths"][template][method.lower()].get("responses", {})
            codes = [k for k in documented if k != "default"]
            if any(c.startswith("2") for c in codes) and not any(200 <= s < 300 for s in got):
                gaps.append("%s %s %s: no success seen (saw %s)" % (name, method, template, sorted(got)))
            if any(c[0] in "45" for c in codes) and not any(s >= 400 for s in got):
                gaps.append("%s %s %s: no error seen (saw %s)" % (name, method, template, sorted(got)))
    return gaps
