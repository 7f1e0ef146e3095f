#!/usr/bin/env python3
"""clang-tidy over src/ with the repository's .clang-tidy (standard library only).

    check_tidy.py REPO_ROOT BUILD_DIR [--all] [--jobs N]   exit 0 when clean, 1 on a finding
    check_tidy.py --self-test                                prove the checks are errors

BUILD_DIR holds the compile_commands.json CMake writes (CMAKE_EXPORT_COMPILE_COMMANDS). By default
only the translation units under src/ changed since check_format.py's BASE_COMMIT are checked:
changed or new .cc files, and for a changed header its own .cc (or, lacking one, a .cc that
includes it). Parsing one of Herald's files takes clang-tidy several seconds, so the whole of src/
(--all) takes far longer than a test run should; the same base rule as the clang-format check
keeps the two in step. Without git (a source tarball) it is skipped, exit status 77, unless --all.

.clang-tidy names the checks and makes every one of them an error. The compile commands are
GCC's: clang is told to ignore the GCC-only warning flags among them.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_format  # noqa: E402  (the base commit and the changed-lines rule)

EXTRA_ARGS = ["--extra-arg=-Wno-unknown-warning-option"]
DIAGNOSTIC = re.compile(r"^(/[^:]+):(\d+):(\d+): (warning|error): (.*)$")


def _clang_tidy():
    return check_format.find_tool("CLANG_TIDY", "clang-tidy")


def _compiled_sources(root, build_dir):
    """Absolute paths of the src/ files in BUILD_DIR's compile_commands.json."""
    path = os.path.join(build_dir, "compile_commands.json")
    if not os.path.isfile(path):
        raise FileNotFoundError("%s not found: configure %s with -DCMAKE_EXPORT_COMPILE_COMMANDS=ON" % (path, build_dir))
    with open(path, encoding="utf-8") as f:
        entries = json.load(f)
    src = os.path.join(os.path.realpath(root), "src") + os.sep
    files = set()
    for entry in entries:
        name = os.path.realpath(os.path.join(entry.get("directory", ""), entry["file"]))
        if name.startswith(src) and os.path.isfile(name):
            files.add(name)
    return sorted(files)


def _changed_units(root, sources):
    """The translation units among SOURCES that the changes since the base touch."""
    real_root = os.path.realpath(root)
    changed = [os.path.join(real_root, p) for p in check_format.changed_ranges(root, check_format.BASE_COMMIT)
               if p.startswith("src/")]
    known = set(sources)
    units = set()
    for path in changed:
        if path in known:
            units.add(path)
        elif path.endswith(".h"):
            sibling = path[:-2] + ".cc"
            if sibling in known:
                units.add(sibling)
                continue
            include = '"%s"' % os.path.relpath(path, os.path.join(real_root, "src"))
            for source in sources:
                with open(source, encoding="utf-8", errors="replace") as f:
                    if include in f.read():
                        units.add(source)
                        break
    return sorted(units)


def _tidy(clang_tidy, build_dir, root, source):
    header_filter = "^" + re.escape(os.path.join(os.path.realpath(root), "src") + os.sep)
    run = subprocess.run([clang_tidy, "-p", build_dir, "--quiet", "--header-filter=" + header_filter, *EXTRA_ARGS,
                          source], capture_output=True, text=True, check=False)
    return source, run.returncode, run.stdout + run.stderr


def run(root, build_dir, all_files, jobs):
    clang_tidy = _clang_tidy()
    if clang_tidy is None:
        print("check_tidy: clang-tidy not found (Debian: apt-get install clang-tidy, or make deps)")
        return 1
    if not os.path.isfile(os.path.join(root, ".clang-tidy")):
        print("check_tidy: %s has no .clang-tidy" % root)
        return 1
    try:
        sources = _compiled_sources(root, build_dir)
    except (OSError, ValueError, KeyError) as why:
        print("check_tidy: %s" % why)
        return 1
    what = "all %d files" % len(sources)
    if not all_files:
        try:
            sources = _changed_units(root, sources)
            what = "%d file(s) changed since %s" % (len(sources), check_format.BASE_COMMIT[:12])
        except check_format.Skip as why:
            print("check_tidy: skipped: cannot tell what changed (%s); --all checks every file" % why)
            return check_format.SKIP
    print("check_tidy: %s under src/" % what, flush=True)
    failed = []
    seen = set()
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        for source, status, output in pool.map(lambda s: _tidy(clang_tidy, build_dir, root, s), sources):
            rel = os.path.relpath(source, os.path.realpath(root))
            if status != 0:
                failed.append(rel)
            # A header's findings come back from every unit that includes it: print each once.
            lines, keep = [], True
            for line in output.splitlines():
                match = DIAGNOSTIC.match(line)
                if match:
                    key = match.group(1, 2, 3, 5)
                    keep = key not in seen
                    seen.add(key)
                elif re.match(r"^\d+ (warnings?|errors?)( and \d+ errors?)? generated\.$", line) or \
                        line.startswith("Suppressed ") or line.startswith("Use -header-filter"):
                    continue
                if keep:
                    lines.append(line)
            print("check_tidy: %s %s" % (rel, "FAILED" if status != 0 else "ok"), flush=True)
            if lines and status != 0:
                print("\n".join(lines), flush=True)
    if failed:
        print("check_tidy: %d file(s) with findings: %s" % (len(failed), " ".join(failed)))
        return 1
    return 0


def self_test():
    """A file with a use after move must fail under the repository's .clang-tidy; a clean one pass."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    clang_tidy = _clang_tidy()
    if clang_tidy is None:
        print("self-test: needs clang-tidy")
        return 1
    failures = 0
    cases = [
        ("a clean file passes", 0,
         "#include <string>\n#include <utility>\nstd::string f(std::string s) {\n"
         "  std::string t = std::move(s);\n  return t;\n}\n"),
        ("a use after move fails", 1,
         "#include <string>\n#include <utility>\nstd::size_t f(std::string s) {\n"
         "  std::string t = std::move(s);\n  return s.size() + t.size();\n}\n"),
        ("a missing override fails", 1,
         "struct A {\n  virtual ~A() = default;\n  virtual int f() { return 1; }\n};\n"
         "struct B : A {\n  virtual int f() { return 2; }\n};\n"),
    ]
    with tempfile.TemporaryDirectory(prefix="check_tidy.") as scratch:
        shutil.copy(os.path.join(here, ".clang-tidy"), os.path.join(scratch, ".clang-tidy"))
        for index, (name, wanted, text) in enumerate(cases):
            source = os.path.join(scratch, "case%d.cc" % index)
            with open(source, "w", encoding="utf-8") as f:
                f.write(text)
            done = subprocess.run([clang_tidy, "--quiet", source, "--", "-std=c++20"],
                                  capture_output=True, text=True, check=False)
            ok = (done.returncode != 0) == (wanted != 0)
            if not ok:
                print(done.stdout + done.stderr)
            print("self-test: %-45s %s" % (name, "ok" if ok else "FAILED"))
            failures += 0 if ok else 1
    print("self-test: %s" % ("passed" if failures == 0 else "%d FAILED" % failures))
    return 0 if failures == 0 else 1


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    args = argv[1:]
    all_files = "--all" in args
    args = [a for a in args if a != "--all"]
    jobs = 2
    if "--jobs" in args:
        at = args.index("--jobs")
        try:
            jobs = int(args[at + 1])
        except (IndexError, ValueError):
            jobs = 0
        del args[at:at + 2]
    if len(args) != 2 or any(a.startswith("-") for a in args) or jobs < 1:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return run(os.path.abspath(args[0]), os.path.abspath(args[1]), all_files, jobs)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
