#!/usr/bin/env python3
"""Layering and citation check for Herald's source tree (standard library only).

    check_layers.py REPO_ROOT     check the tree; exit 0 when clean, 1 on any violation
    check_layers.py --self-test   build small temporary trees and prove the check fails on them

The rules are not written here. They are read from docs/architecture.md, between marker
comments, so that the document and the check cannot drift apart:

  check_layers:layers       table: folder under src/ -> the folders it may include
  check_layers:third-party  table: header prefix -> the only folders that may include it
  check_layers:allow        list: `src/file` -> `header` entries that break a rule today

and the security-control ids that comments may cite come from the table in
docs/security-controls.md. Checks:

1. every quoted include in src/**/*.{h,cc} names a file under src/ and crosses only an edge the
   layers table allows (a folder may always include itself; sub-folders such as store/sqlite/
   are layers of their own and are allowed only where the table names them);
2. third-party headers (Boost.Beast/Asio, sqlite3.h, libpq-fe.h, OpenSSL, ...) appear only in
   the folders the third-party table names;
3. every folder under src/ that holds sources is in the layers table;
4. every allow-list entry still matches an include (a fixed violation must leave the list);
5. comments in src/ and tests/ cite no document outside the repository, and every SC-nn id they
   cite is defined in docs/security-controls.md;
6. error statuses are chosen only in errors modules: outside files named errors.cc, no code in
   src/ calls error_response( with a number, or builds a Response{ with a 4xx or 5xx number
   (comments and string literals are not read).
"""

import io
import os
import re
import shutil
import sys
import tempfile
import tokenize
from dataclasses import dataclass, field

ARCHITECTURE_DOC = os.path.join("docs", "architecture.md")
CONTROLS_DOC = os.path.join("docs", "security-controls.md")
SOURCE_EXTENSIONS = (".h", ".cc")
# Files whose comments are checked for citations, by how their comments are written.
C_LIKE_COMMENTS = (".h", ".cc", ".js")
HASH_COMMENTS = (".sh", ".cmake", ".txt")
PYTHON_COMMENTS = (".py",)
SKIPPED_DIRS = {"node_modules", "__pycache__", ".git"}
# Documents that live outside the repository; a comment may not send the reader to them.
OUTSIDE_DOCS = re.compile(
    r"govuk-notify-v2\.md|nhs-notify-v1\.md|ARCHITECTURE\.md|STYLE\.md|SECURITY-CONTROLS\.md")
CONTROL_ID = re.compile(r"\bSC-(\d+)\b")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
BACKTICKED = re.compile(r"`([^`]+)`")
ERRORS_MODULE = "errors.cc"
ERROR_STATUS = re.compile(r"\berror_response\s*\(\s*[-+]?\d|\bResponse\s*\{\s*[45]\d\d\b")
ALLOW_ENTRY = re.compile(r"^\s*[-*]\s*`([^`]+)`\s*->\s*`([^`]+)`")
CONTROL_ROW = re.compile(r"^\|\s*(SC-\d+)\s*\|")


class RulesError(Exception):
    """The documents that hold the rules are missing or malformed."""


@dataclass
class Rules:
    # layer ("store/sqlite") -> layers it may include; "*" means any.
    layers: dict = field(default_factory=dict)
    # header prefix ("openssl/") -> folders under src/ ("crypto", "net") where it may appear.
    third_party: dict = field(default_factory=dict)
    # (from-file relative to the root, included header as written) -> reason
    allow: dict = field(default_factory=dict)
    # "SC-24", ... as defined in docs/security-controls.md
    controls: set = field(default_factory=set)


def _norm_folder(name):
    return name.strip().strip("/")


def _section(text, name, doc):
    """The lines between <!-- check_layers:NAME begin --> and <!-- check_layers:NAME end -->."""
    begin = re.search(r"<!--\s*check_layers:%s\s+begin\s*-->" % re.escape(name), text)
    end = re.search(r"<!--\s*check_layers:%s\s+end\s*-->" % re.escape(name), text)
    if not begin or not end or end.start() < begin.end():
        raise RulesError("%s: no check_layers:%s begin/end markers" % (doc, name))
    return text[begin.end():end.start()].splitlines()


def _table_rows(lines):
    """Cells of the body rows of the first markdown table in `lines` (header and rule skipped)."""
    rows = [l.strip() for l in lines if l.strip().startswith("|")]
    body = []
    for row in rows[1:]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if all(set(c) <= set("-: ") for c in cells):
            continue
        body.append(cells)
    return body


def load_rules(architecture_text, controls_text):
    doc = ARCHITECTURE_DOC
    rules = Rules()
    for cells in _table_rows(_section(architecture_text, "layers", doc)):
        if len(cells) < 2:
            raise RulesError("%s: layers row with fewer than two cells: %r" % (doc, cells))
        sources = [_norm_folder(s) for s in BACKTICKED.findall(cells[0])]
        targets = [_norm_folder(t) for t in BACKTICKED.findall(cells[1])]
        if not sources:
            raise RulesError("%s: layers row names no `folder/`: %r" % (doc, cells))
        for source in sources:
            rules.layers[source] = set(targets)
    for cells in _table_rows(_section(architecture_text, "third-party", doc)):
        prefixes = [p.strip("<>\"") for p in BACKTICKED.findall(cells[0])]
        folders = [_norm_folder(f) for f in BACKTICKED.findall(cells[1])] if len(cells) > 1 else []
        if not prefixes or not folders:
            raise RulesError("%s: third-party row needs a `<header>` and `folder/`: %r" % (doc, cells))
        for prefix in prefixes:
            rules.third_party[prefix] = folders
    for line in _section(architecture_text, "allow", doc):
        match = ALLOW_ENTRY.match(line)
        if match:
            header = match.group(2).strip().strip("<>\"")
            rules.allow[(match.group(1).strip(), header)] = line[match.end():].strip(" :—-")
    for line in controls_text.splitlines():
        match = CONTROL_ROW.match(line.strip())
        if match:
            rules.controls.add(match.group(1))
    if not rules.layers:
        raise RulesError("%s: the layers table is empty" % doc)
    if not rules.controls:
        raise RulesError("%s: no | SC-nn | rows" % CONTROLS_DOC)
    return rules


def read_rules(root):
    try:
        with open(os.path.join(root, ARCHITECTURE_DOC), encoding="utf-8") as f:
            architecture = f.read()
        with open(os.path.join(root, CONTROLS_DOC), encoding="utf-8") as f:
            controls = f.read()
    except OSError as e:
        raise RulesError(str(e))
    return load_rules(architecture, controls)


def layer_of(path_in_src, layers):
    """The layer of a path relative to src/ ("store/sqlite/x.cc" -> "store/sqlite"), or None."""
    parts = path_in_src.split("/")
    if len(parts) < 2:
        return None  # a file directly under src/ belongs to no layer
    if len(parts) >= 3 and "/".join(parts[:2]) in layers:
        return "/".join(parts[:2])
    if len(parts) >= 3 and any(l.startswith(parts[0] + "/") for l in layers):
        # The folder has sub-layers in the table, but not this one.
        return None
    return parts[0] if parts[0] in layers else None


def _walk(top, extensions):
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.endswith(extensions):
                yield os.path.join(directory, name)


def _rel(root, path):
    return os.path.relpath(path, root).replace(os.sep, "/")


def _in_folder(path_in_src, folder):
    return path_in_src == folder or path_in_src.startswith(folder + "/")


def check_includes(root, rules):
    """Problems with includes under src/, as "file:line: message" strings."""
    problems, used_allowances = [], set()
    src = os.path.join(root, "src")
    unknown_folders = set()
    for path in _walk(src, SOURCE_EXTENSIONS):
        rel = _rel(root, path)
        in_src = _rel(src, path)
        source_layer = layer_of(in_src, rules.layers)
        if source_layer is None:
            folder = os.path.dirname(in_src) or "."
            if folder not in unknown_folders:
                unknown_folders.add(folder)
                problems.append("%s: folder src/%s/ is not in the layers table of %s; add a row "
                                "saying what it may include" % (rel, folder, ARCHITECTURE_DOC))
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = f.readlines()
        for number, line in enumerate(lines, 1):
            match = INCLUDE.match(line)
            if not match:
                continue
            quote, header = match.groups()
            where = "%s:%d" % (rel, number)
            key = (rel, header)
            for prefix, folders in rules.third_party.items():
                if header.startswith(prefix) and not any(_in_folder(in_src, f) for f in folders):
                    if key in rules.allow:
                        used_allowances.add(key)
                    else:
                        problems.append("%s: #include %s%s%s: headers starting %r are allowed "
                                        "only under %s" % (where, quote, header,
                                                           ">" if quote == "<" else '"', prefix,
                                                           ", ".join("src/%s/" % f for f in folders)))
            if quote != '"':
                continue
            if not os.path.isfile(os.path.join(src, header)):
                if not any(header.startswith(p) for p in rules.third_party):
                    problems.append('%s: #include "%s" names no file under src/ (includes are '
                                    "rooted at src/)" % (where, header))
                continue
            target_layer = layer_of(header, rules.layers)
            allowed = rules.layers.get(source_layer, set())
            if target_layer == source_layer or "*" in allowed or target_layer in allowed:
                continue
            if key in rules.allow:
                used_allowances.add(key)
                continue
            problems.append('%s: #include "%s": %s/ may not include %s/ (it may include: %s)'
                            % (where, header, source_layer, target_layer or "?",
                               ", ".join("%s/" % l for l in sorted(allowed)) or "nothing"))
    for key in sorted(set(rules.allow) - used_allowances):
        problems.append("%s: allow-list entry `%s` -> `%s` matches no include any more; remove it "
                        "from %s" % (key[0], key[0], key[1], ARCHITECTURE_DOC))
    return problems


def _c_like_comments(text):
    """(line, comment text) for // and /* */ comments, skipping string and char literals."""
    out, i, line, n = [], 0, 1, len(text)
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append((line, text[i:end]))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            for offset, part in enumerate(text[i:end].split("\n")):
                out.append((line + offset, part))
            line += text.count("\n", i, end)
            i = end
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_paren = text.find("(", i + 2)
            delimiter = text[i + 2:open_paren] if open_paren >= 0 else ""
            end = text.find(")" + delimiter + '"', open_paren + 1) if open_paren >= 0 else -1
            end = n if end < 0 else end + len(delimiter) + 2
            line += text.count("\n", i, end)
            i = end
        elif c in "\"'`":
            j = i + 1
            while j < n and text[j] != c:
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n" and c != "`":
                    break  # an unterminated literal (or a lone apostrophe) ends at the line
                j += 1
            line += text.count("\n", i, min(j, n))
            i = j + 1 if j < n and text[j] == c else j
        else:
            i += 1
    return out


def _python_comments(text):
    """(line, text) for # comments and docstrings (strings that are a whole statement)."""
    out = []
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return _hash_comments(text)
    statement_start = True
    for token in tokens:
        if token.type == tokenize.COMMENT:
            out.append((token.start[0], token.string))
        elif token.type == tokenize.STRING and statement_start:
            for offset, part in enumerate(token.string.split("\n")):
                out.append((token.start[0] + offset, part))
        if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.INDENT, tokenize.DEDENT):
            statement_start = True
        elif token.type not in (tokenize.COMMENT, tokenize.ENCODING):
            statement_start = False
    return out


def _hash_comments(text):
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if "#" in line:
            out.append((number, line[line.index("#"):]))
    return out


def comments_of(path, text):
    if path.endswith(C_LIKE_COMMENTS):
        return _c_like_comments(text)
    if path.endswith(PYTHON_COMMENTS):
        return _python_comments(text)
    return _hash_comments(text)


def check_citations(root, rules):
    """Comments in src/ and tests/ that cite an outside document or an undefined SC id."""
    problems = []
    this_script = os.path.realpath(__file__)
    extensions = C_LIKE_COMMENTS + HASH_COMMENTS + PYTHON_COMMENTS
    for top in ("src", "tests"):
        for path in _walk(os.path.join(root, top), extensions):
            if os.path.realpath(path) == this_script:
                continue  # it names the outside documents in order to refuse them
            if path.endswith(".txt") and os.path.basename(path) != "CMakeLists.txt":
                continue
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
            rel = _rel(root, path)
            for number, comment in comments_of(path, text):
                for match in OUTSIDE_DOCS.finditer(comment):
                    problems.append("%s:%d: comment cites %s, a document outside the repository; "
                                    "say it in the comment or cite a file under docs/"
                                    % (rel, number, match.group(0)))
                for match in CONTROL_ID.finditer(comment):
                    if match.group(0) not in rules.controls:
                        problems.append("%s:%d: comment cites %s, which %s does not define"
                                        % (rel, number, match.group(0), CONTROLS_DOC))
    return problems


def _code_only(text):
    """`text` with comments and string and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)

    def blank(part):
        out.append("".join(ch if ch == "\n" else " " for ch in part))

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
        elif c == "R" and text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            open_paren = text.find("(", i + 2)
            delimiter = text[i + 2:open_paren] if open_paren >= 0 else ""
            end = text.find(")" + delimiter + '"', open_paren + 1) if open_paren >= 0 else -1
            end = n if end < 0 else end + len(delimiter) + 2
        elif c == '"' or (c == "'" and not (i > 0 and text[i - 1].isalnum())):  # not 1'000
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            end = min(j + 1, n) if j < n and text[j] == c else j
        else:
            out.append(c)
            i += 1
            continue
        blank(text[i:end])
        i = end
    return "".join(out)


def check_error_statuses(root):
    """Code outside errors.cc files that picks an error's HTTP status itself."""
    problems = []
    for path in _walk(os.path.join(root, "src"), SOURCE_EXTENSIONS):
        if os.path.basename(path) == ERRORS_MODULE:
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            code = _code_only(f.read())
        for match in ERROR_STATUS.finditer(code):
            number = code.count("\n", 0, match.start()) + 1
            problems.append("%s:%d: %s...: picks an error status outside an errors module; add a "
                            "named function to the API's errors.cc (%s, \"Conventions\": errors)"
                            % (_rel(root, path), number, " ".join(match.group(0).split()), ARCHITECTURE_DOC))
    return problems


def check(root, rules):
    return check_includes(root, rules) + check_citations(root, rules) + check_error_statuses(root)


def run(root):
    try:
        rules = read_rules(root)
    except RulesError as e:
        print("check_layers: %s" % e, file=sys.stderr)
        return 2
    problems = check(root, rules)
    for problem in problems:
        print(problem)
    if problems:
        print("check_layers: %d problem(s); the rules are in %s and %s"
              % (len(problems), ARCHITECTURE_DOC, CONTROLS_DOC), file=sys.stderr)
        return 1
    print("check_layers: ok (%d layers, %d allowed exceptions, %d control ids)"
          % (len(rules.layers), len(rules.allow), len(rules.controls)))
    return 0


# ---- self-test --------------------------------------------------------------------------------

def _write(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def _clean_tree(root):
    """A tiny tree that obeys the repository's real table."""
    _write(root, "src/core/result.h", "#pragma once\n// Result<T>.\n")
    _write(root, "src/net/http.h", '#pragma once\n#include "core/result.h"\n')
    _write(root, "src/net/server.cc", '#include "net/http.h"\n#include <boost/asio.hpp>\n')
    _write(root, "src/store/store.h", '#pragma once\n#include "core/result.h"\n')
    _write(root, "src/store/sqlite/db.cc", '#include "store/store.h"\n#include <sqlite3.h>\n')
    _write(root, "src/domain/notifications.h",
           '#pragma once\n// Encrypted at rest (SC-24).\n#include "store/store.h"\n')
    _write(root, "src/domain/notifications.cc",
           '#include "domain/notifications.h"\nconst char* k = "// STYLE.md in a string";\n')
    _write(root, "tests/domain/notifications_test.cc",
           '// See docs/architecture.md.\n#include "domain/notifications.h"\n')
    _write(root, "tests/tools/helper.py", '"""Canary scan (SC-24)."""\nURL = "SC-99 in a string"\n')
    _write(root, "src/api/govuk_v2/errors.cc",
           '#include "net/http.h"\nauto a = error_response(400, "BadRequestError", "x");\n'
           "auto b = net::Response{404, \"application/json\", \"\", {}};\n")
    _write(root, "src/api/govuk_v2/handlers.cc",
           '#include "net/http.h"\n// Not error_response(400, ...) by hand.\n'
           'const char* s = "error_response(404"; auto c = bad_request("x");\n'
           "auto d = net::Response{201, \"application/json\", \"{}\", {}}; int e = 1'000;\n")


def _self_test_cases():
    """(name, extra files, text every problem list must contain)."""
    return [
        ("domain includes net", {"src/domain/bad.cc": '#include "net/http.h"\n'},
         "domain/ may not include net/"),
        ("domain includes a store backend", {"src/domain/bad.cc": '#include "store/sqlite/db.h"\n',
                                             "src/store/sqlite/db.h": "#pragma once\n"},
         "domain/ may not include store/sqlite/"),
        ("Boost.Beast outside net", {"src/api/bad.cc": "#include <boost/beast/http.hpp>\n"},
         "'boost/beast' are allowed only under src/net/"),
        ("sqlite3.h outside its backend", {"src/store/bad.cc": "#include <sqlite3.h>\n"},
         "'sqlite3.h' are allowed only under src/store/sqlite/"),
        ("libpq outside its backend", {"src/cli/bad.cc": "#include <libpq-fe.h>\n"},
         "'libpq-fe.h' are allowed only under src/store/postgres/"),
        ("OpenSSL in domain", {"src/domain/bad.cc": "#include <openssl/evp.h>\n"},
         "'openssl/' are allowed only under"),
        ("folder missing from the table", {"src/gadgets/x.cc": '#include "core/result.h"\n'},
         "is not in the layers table"),
        ("include not rooted at src/", {"src/domain/bad.cc": '#include "result.h"\n'},
         "names no file under src/"),
        ("outside document in a C++ comment", {"src/core/bad.h": "// As STYLE.md rule 7 says.\n"},
         "cites STYLE.md"),
        ("outside document in a Python docstring",
         {"tests/tools/bad.py": '"""Responses as api/govuk-notify-v2.md says."""\n'},
         "cites govuk-notify-v2.md"),
        ("outside document in a JS comment",
         {"tests/e2e/bad.js": "/* see\n   SECURITY-CONTROLS.md */\nconst a = 1;\n"},
         "cites SECURITY-CONTROLS.md"),
        ("undefined control id", {"src/core/bad.h": "// Hardened (SC-99).\n"},
         "cites SC-99"),
        ("error_response(405, ...) in router.cc",
         {"src/api/router.cc": 'auto r = error_response(405, "MethodNotAllowed", "x");\n'},
         "picks an error status outside an errors module"),
        ("Response{403, ...} in a handler",
         {"src/api/providers/receipts.cc": 'auto r = net::Response{ 403, "application/json", "{}", {}};\n'},
         "picks an error status outside an errors module"),
        ("error_response(\\n 500) in errors.h",
         {"src/api/govuk_v2/errors.h": "inline auto f() { return error_response(\n    500, \"x\", \"y\"); }\n"},
         "picks an error status outside an errors module"),
    ]


def self_test():
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    real = read_rules(here)
    real.allow = {}  # the tiny trees hold none of today's exceptions
    failures = 0

    def expect(name, ok):
        nonlocal failures
        print("self-test: %-45s %s" % (name, "ok" if ok else "FAILED"))
        failures += 0 if ok else 1

    with tempfile.TemporaryDirectory(prefix="check_layers.") as scratch:
        clean = os.path.join(scratch, "clean")
        _clean_tree(clean)
        problems = check(clean, real)
        for problem in problems:
            print("  unexpected: %s" % problem)
        expect("a clean tree passes", not problems)
        for index, (name, files, wanted) in enumerate(_self_test_cases()):
            tree = os.path.join(scratch, "case%d" % index)
            shutil.copytree(clean, tree)
            for rel, text in files.items():
                _write(tree, rel, text)
            problems = check(tree, real)
            hit = any(wanted in p for p in problems)
            if not hit:
                print("  wanted %r in: %r" % (wanted, problems))
            expect(name + " fails", hit)
        # The allow-list: an entry lets one violation through, and goes stale once it is fixed.
        allowed = Rules(real.layers, real.third_party,
                        {("src/domain/bad.cc", "net/http.h"): "reason"}, real.controls)
        tree = os.path.join(scratch, "allowed")
        shutil.copytree(clean, tree)
        _write(tree, "src/domain/bad.cc", '#include "net/http.h"\n')
        expect("an allow-listed edge passes", not check(tree, allowed))
        os.remove(os.path.join(tree, "src/domain/bad.cc"))
        expect("a stale allow-list entry fails",
               any("matches no include" in p for p in check(tree, allowed)))
        # The whole program, as CI runs it: exit status 1 on a violation.
        tree = os.path.join(scratch, "program")
        shutil.copytree(clean, tree)
        for doc in (ARCHITECTURE_DOC, CONTROLS_DOC):
            os.makedirs(os.path.join(tree, "docs"), exist_ok=True)
            with open(os.path.join(here, doc), encoding="utf-8") as f:
                text = f.read()
            if doc == ARCHITECTURE_DOC:  # the tiny tree holds none of today's exceptions
                text = re.sub(r"(<!--\s*check_layers:allow begin\s*-->).*?(<!--\s*check_layers:allow end\s*-->)",
                              r"\1\n\2", text, flags=re.S)
            _write(tree, doc, text)
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = io.StringIO()
        try:
            clean_status = run(tree)
            _write(tree, "src/domain/bad.cc", '#include "net/http.h"\n')
            bad_status = run(tree)
        finally:
            sys.stdout, sys.stderr = saved
        expect("run() exits 0 on a clean tree", clean_status == 0)
        expect("run() exits 1 on domain -> net", bad_status == 1)
    print("self-test: %s" % ("passed" if failures == 0 else "%d FAILED" % failures))
    return 0 if failures == 0 else 1


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return run(os.path.abspath(argv[1]))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
