#!/usr/bin/env python3
"""clang-format check of the C++ lines changed since a fixed base commit (standard library only).

    check_format.py REPO_ROOT [--base REV]   check; exit 0 when clean, 1 on a badly formatted line
    check_format.py --self-test              build small temporary git repositories and prove the
                                             check passes and fails where it should

The style is the repository's .clang-format. Only lines changed since BASE_COMMIT are checked, so
that code written before the style file existed is not failed for its old formatting until someone
edits it: the lines that differ between BASE_COMMIT and the working tree (commits made since, and
uncommitted edits), and every line of a new .cc/.h file git does not yet track (unless ignored).
Each file is passed to `clang-format --dry-run --Werror --lines=A:B ...` with its changed ranges,
as clang-format-diff does; clang-format may widen a range to the whole statement it touches.

The base is a commit rather than "the previous commit" or a branch so that the answer is the same
on a developer's checkout and on CI's fresh clone (which has the full history but no upstream
branch to compare with). Move BASE_COMMIT forward only after formatting what lies before it.
When the base is not in the history (a shallow clone) only uncommitted edits are checked, with a
warning. Without git or outside a git checkout (a source tarball) the check is skipped: exit
status 77, which tests/CMakeLists.txt declares as SKIP_RETURN_CODE.

To fix what it reports: clang-format -i --lines=A:B FILE (the ranges are printed), or
git diff -U0 BASE_COMMIT -- FILE | clang-format-diff -p1 -i.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

# Moved to the commit that formatted (and clang-tidied) every line changed in issue 16, session 2:
# lines unchanged since then are not checked.
BASE_COMMIT = "371d85b35dbaf3f4f28c8648ec5eacea89df70eb"
SKIP = 77
MAX_REPORT_LINES = 12  # of clang-format's report per file: 3 lines per misformatted spot
SOURCE_EXTENSIONS = (".cc", ".h")
SKIPPED_PARTS = {"build", "node_modules", "third_party"}
HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@")


class Skip(Exception):
    """The check cannot run here (no git, not a checkout); not a failure."""


def _git(root, *args):
    return subprocess.run(["git", "-C", root, "-c", "core.quotePath=false", *args],
                          capture_output=True, text=True, check=False)


def _wanted(path):
    parts = path.split("/")
    return path.endswith(SOURCE_EXTENSIONS) and not SKIPPED_PARTS.intersection(parts[:-1])


def find_tool(env_var, name):
    """The tool named by $ENV_VAR, else NAME or NAME-14 (Debian 12's LLVM) on PATH; None if absent."""
    for candidate in (os.environ.get(env_var), name, name + "-14"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def _clang_format():
    return find_tool("CLANG_FORMAT", "clang-format")


def _resolve_base(root, base):
    """The commit to compare with; HEAD (uncommitted edits only) when BASE is not in the history."""
    if _git(root, "cat-file", "-e", base + "^{commit}").returncode == 0:
        return base
    print("check_format: warning: base %s is not in this clone's history (shallow?); "
          "checking uncommitted edits only" % base[:12])
    return "HEAD"


def changed_ranges(root, base):
    """{path relative to root: [(first, last), ...]} of the lines changed since BASE, 1-based."""
    if shutil.which("git") is None:
        raise Skip("git is not installed")
    top = _git(root, "rev-parse", "--show-toplevel")
    if top.returncode != 0:
        raise Skip("%s is not a git checkout: %s" % (root, " ".join(top.stderr.split())))
    if os.path.realpath(top.stdout.strip()) != os.path.realpath(root):
        raise Skip("%s is inside the git checkout %s, not one itself" % (root, top.stdout.strip()))
    if _git(root, "rev-parse", "--verify", "-q", "HEAD").returncode != 0:
        raise Skip("the checkout has no commits")
    base = _resolve_base(root, base)
    diff = _git(root, "diff", "-U0", "-M", "--no-color", "--no-ext-diff", "--src-prefix=a/",
                "--dst-prefix=b/", "--diff-filter=d", base, "--")
    if diff.returncode != 0:
        raise RuntimeError("git diff %s failed: %s" % (base, diff.stderr.strip()))
    ranges = {}
    path = None
    for line in diff.stdout.splitlines():
        if line.startswith("+++ "):
            name = line[4:]
            path = name[2:] if name.startswith("b/") else None
            if path is not None and not _wanted(path):
                path = None
            continue
        match = HUNK.match(line)
        if match and path is not None:
            first = int(match.group(1))
            count = 1 if match.group(2) is None else int(match.group(2))
            # A pure deletion (count 0) checks the line it left behind, as clang-format-diff does.
            last = first + max(count, 1) - 1
            ranges.setdefault(path, []).append((max(first, 1), max(last, 1)))
    untracked = _git(root, "ls-files", "-z", "--others", "--exclude-standard")
    if untracked.returncode != 0:
        raise RuntimeError("git ls-files failed: %s" % untracked.stderr.strip())
    for path in filter(None, untracked.stdout.split("\0")):
        if _wanted(path):
            ranges[path] = [(1, 1 << 30)]
    return ranges


def check(root, base, clang_format):
    """Problems found in the changed lines, as printable strings; empty when clean."""
    problems = []
    for path, spans in sorted(changed_ranges(root, base).items()):
        full = os.path.join(root, path)
        if not os.path.isfile(full):
            continue
        with open(full, "rb") as f:
            count = f.read().count(b"\n") + 1
        spans = [(a, min(b, count)) for a, b in spans if a <= count]
        if not spans:
            continue
        lines = ["--lines=%d:%d" % span for span in spans]
        run = subprocess.run([clang_format, "--dry-run", "--Werror", "--style=file", *lines, path],
                             cwd=root, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            shown = ",".join("%d:%d" % span for span in spans)
            report = (run.stderr or run.stdout).rstrip().splitlines()
            if len(report) > MAX_REPORT_LINES:
                report = report[:MAX_REPORT_LINES] + ["  ... and more in %s" % path]
            problems.append("%s (changed lines %s)\n%s" % (path, shown, "\n".join(report)))
    return problems


def run(root, base):
    clang_format = _clang_format()
    if clang_format is None:
        print("check_format: clang-format not found (Debian: apt-get install clang-format, or make deps)")
        return 1
    try:
        problems = check(root, base, clang_format)
    except Skip as why:
        print("check_format: skipped: %s" % why)
        return SKIP
    for problem in problems:
        print(problem)
    if problems:
        print("check_format: %d file(s) with badly formatted changed lines; fix with "
              "clang-format -i --lines=A:B FILE (style: .clang-format)" % len(problems))
        return 1
    print("check_format: changed lines since %s are clang-formatted" % base[:12])
    return 0


def self_test():
    """Temporary repositories with the real .clang-format: prove pass, fail and skip."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    clang_format = _clang_format()
    if clang_format is None or shutil.which("git") is None:
        print("self-test: needs clang-format and git")
        return 1
    failures = 0

    def expect(name, ok):
        nonlocal failures
        print("self-test: %-60s %s" % (name, "ok" if ok else "FAILED"))
        failures += 0 if ok else 1

    def git(repo, *args):
        done = subprocess.run(["git", "-C", repo, "-c", "user.name=self-test", "-c", "user.email=self-test@invalid",
                               "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null", *args],
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError("git %s: %s" % (" ".join(args), done.stderr))
        return done.stdout.strip()

    def write(repo, rel, text):
        os.makedirs(os.path.dirname(os.path.join(repo, rel)), exist_ok=True)
        with open(os.path.join(repo, rel), "w", encoding="utf-8") as f:
            f.write(text)

    def status(repo, base):
        devnull = open(os.devnull, "w")
        saved, sys.stdout = sys.stdout, devnull
        try:
            return run(repo, base)
        finally:
            sys.stdout = saved
            devnull.close()

    old = "int  old_style( int x ) { return x+1; }\n\nint other() {\n  int y = 2;\n  return y;\n}\n"
    good = "int added(int x) { return x * 2; }\n"
    bad = "int   added( int x ){return x*2;}\n"
    with tempfile.TemporaryDirectory(prefix="check_format.") as scratch:
        repo = os.path.join(scratch, "repo")
        os.makedirs(repo)
        git(repo, "init", "-q")
        shutil.copy(os.path.join(here, ".clang-format"), os.path.join(repo, ".clang-format"))
        write(repo, ".gitignore", "build/\n")
        write(repo, "src/old.cc", old)  # badly formatted, but older than the base
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "base")
        base = git(repo, "rev-parse", "HEAD")

        expect("no change since the base passes", status(repo, base) == 0)
        write(repo, "src/old.cc", old + "\n" + good)
        expect("a well formatted line added to an old file passes", status(repo, base) == 0)
        write(repo, "src/old.cc", old + "\n" + bad)
        expect("a badly formatted uncommitted line fails", status(repo, base) == 1)
        git(repo, "commit", "-q", "-am", "bad line")
        expect("a badly formatted line committed after the base fails", status(repo, base) == 1)
        expect("...and passes with that commit as the base", status(repo, git(repo, "rev-parse", "HEAD")) == 0)
        write(repo, "src/old.cc", old.replace("return y;", "return  y;"))
        expect("a badly formatted line in an edited old function fails", status(repo, base) == 1)
        write(repo, "src/old.cc", old)
        write(repo, "src/new.h", bad)
        expect("a badly formatted untracked new file fails", status(repo, base) == 1)
        os.remove(os.path.join(repo, "src/new.h"))
        write(repo, "build/gen.cc", bad)
        write(repo, "notes/readme.txt", bad)
        expect("ignored and non-C++ files are not checked", status(repo, base) == 0)
        expect("a base missing from the history checks uncommitted edits",
               status(repo, "0" * 40) == 0)
        write(repo, "src/old.cc", old + "\n" + bad + bad.replace("added", "more"))
        expect("...and still fails on them", status(repo, "0" * 40) == 1)

        tarball = os.path.join(scratch, "tarball")
        shutil.copytree(repo, tarball, ignore=shutil.ignore_patterns(".git"))
        expect("a tree without .git is skipped (exit %d)" % SKIP, status(tarball, base) == SKIP)
        # The whole program, as CTest runs it.
        program = subprocess.run([sys.executable, os.path.abspath(__file__), repo, "--base", base],
                                 capture_output=True, text=True, check=False)
        expect("the program exits 1 and names the file",
               program.returncode == 1 and "src/old.cc" in program.stdout)
    print("self-test: %s" % ("passed" if failures == 0 else "%d FAILED" % failures))
    return 0 if failures == 0 else 1


def main(argv):
    if len(argv) == 2 and argv[1] == "--self-test":
        return self_test()
    args = argv[1:]
    base = BASE_COMMIT
    if len(args) == 3 and args[1] == "--base":
        base = args[2]
        args = args[:1]
    if len(args) != 1 or args[0].startswith("-"):
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    return run(os.path.abspath(args[0]), base)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
