#!/usr/bin/python3
"""The code chain end to end (docs/releases.md), with the real binary:

- commit signatures: a temporary repository with commits signed by an allowed key, by a key not in
  the allowed-signers file, and not signed at all; signed and unsigned tags;
- a release signed from a binary (`herald release assemble`), verified, promoted to staging,
  accepted on a running staging instance (`herald acceptance run`), promoted to live and deployed
  by a host polling the live channel (`herald deploy --watch`), the deployment in the audit log;
- the attacks: a flipped byte in the artifact, metadata signed over another artifact, a provenance
  for another commit, a replayed older release, expired metadata, a staging record for another
  digest, an unsigned commit in the range, a key not in the allowed list;
- `herald release build` as a short run: two clean builds of two of Herald's libraries from a
  signed commit, byte-identical, then refused when a commit makes the build unreproducible.
  (`make release` builds the whole binary and package the same way.)
Usage: test_release.py /path/to/herald
"""
import base64
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import Herald, SmtpSink, Workspace, clock_env, for_herald, run_tests  # noqa: E402

HERALD = os.path.abspath(sys.argv[1])
SOURCE = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
PASSPHRASE = "release key passphrase for tests"
STAGING_PASSPHRASE = "staging key passphrase for tests"
GIT_ENV = {"GIT_AUTHOR_NAME": "Alice", "GIT_AUTHOR_EMAIL": "alice@example.org", "GIT_COMMITTER_NAME": "Alice",
           "GIT_COMMITTER_EMAIL": "alice@example.org", "GIT_AUTHOR_DATE": "2026-11-30T12:00:00Z",
           "GIT_COMMITTER_DATE": "2026-11-30T12:00:00Z", "GIT_CONFIG_GLOBAL": "/dev/null",
           "GIT_CONFIG_NOSYSTEM": "1"}


def herald(*args, env=None, check=True):
    e = dict(os.environ, HERALD_RELEASE_KEY_PASSPHRASE=PASSPHRASE, HERALD_STAGING_KEY_PASSPHRASE=STAGING_PASSPHRASE)
    e = for_herald(dict(e, **(env or {})))
    out = subprocess.run([HERALD] + list(args), env=e, capture_output=True, text=True, timeout=1800)
    if check and out.returncode != 0:
        raise AssertionError("herald %s failed (%d): %s %s" % (" ".join(args), out.returncode, out.stdout, out.stderr))
    return out


def refused(out, words):
    assert out.returncode != 0, (out.stdout, out.stderr)
    assert words in out.stderr, (words, out.stderr)


def git(repo, *args, env=None):
    out = subprocess.run(["git", "-C", repo] + list(args), env=dict(os.environ, **GIT_ENV, **(env or {})),
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, (args, out.stdout, out.stderr)
    return out.stdout.strip()


def ssh_key(directory, name):
    path = os.path.join(directory, name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", path], check=True)
    return path


class SignedRepo:
    """A git repository whose commits are signed (or not) with SSH keys; allowed_signers trusts
    only alice's."""

    def __init__(self, directory):
        self.dir = os.path.join(directory, "repo")
        os.makedirs(self.dir)
        self.alice = ssh_key(directory, "alice")
        self.mallory = ssh_key(directory, "mallory")
        self.allowed = os.path.join(directory, "allowed_signers")
        with open(self.allowed, "w") as f:
            f.write("alice@example.org namespaces=\"git\" %s\n" % open(self.alice + ".pub").read().strip())
        git(self.dir, "init", "-q", "-b", "main")
        git(self.dir, "config", "gpg.format", "ssh")

    def commit(self, message, key=None, files=None):
        for name, text in (files or {message.replace(" ", "_") + ".txt": message}).items():
            path = os.path.join(self.dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "a") as f:
                f.write(text)
        git(self.dir, "add", "-A")
        sign = ["-c", "user.signingkey=" + key, "commit", "-S"] if key else ["commit", "--no-gpg-sign"]
        git(self.dir, *sign, "-q", "-m", message)
        return git(self.dir, "rev-parse", "HEAD")

    def tag(self, name, key=None):
        if key:
            git(self.dir, "-c", "user.signingkey=" + key, "tag", "-s", "-m", name, name)
        else:
            git(self.dir, "tag", "-a", "-m", name, name)


def test_commit_signatures():
    with Workspace() as ws:
        repo = SignedRepo(ws.dir)
        first = repo.commit("first", repo.alice)
        second = repo.commit("second", repo.alice)
        ok = herald("release", "verify-commits", "--repo", repo.dir, "--allowed-signers", repo.allowed)
        assert "2 commits signed by allowed signers" in ok.stdout, ok.stdout
        assert "signed by alice@example.org" in ok.stderr, ok.stderr
        # A signed tag on the commit: checked too.
        repo.tag("v1", repo.alice)
        herald("release", "verify-commits", "--repo", repo.dir, "--allowed-signers", repo.allowed, "--tag", "v1")
        # An unsigned commit in the range.
        unsigned = repo.commit("unsigned")
        refused(herald("release", "verify-commits", "--repo", repo.dir, "--allowed-signers", repo.allowed,
                       check=False), "commit %s is not signed" % unsigned)
        # Only the range after the last release counts: from `second`, the unsigned one is in it.
        refused(herald("release", "verify-commits", "--repo", repo.dir, "--allowed-signers", repo.allowed,
                       "--since", second, check=False), "is not signed")
        # A commit signed by a key not in the allowed list.
        git(repo.dir, "reset", "-q", "--hard", second)
        stranger = repo.commit("mallory's", repo.mallory)
        out = herald("release", "verify-commits", "--repo", repo.dir, "--allowed-signers", repo.allowed,
                     check=False)
        refused(out, "commit %s is signed by a key that is not in the allowed signers" % stranger)
        git(repo.dir, "reset", "-q", "--hard", second)
        # An unsigned tag, and a signed tag on another commit.
        repo.tag("v2-unsigned")
        refused(herald("release", "verify-commits", "--repo", repo.dir, "--allowed-signers", repo.allowed,
                       "--tag", "v2-unsigned", check=False), "tag v2-unsigned is not signed")
        refused(herald("release", "verify-commits", "--repo", repo.dir, "--allowed-signers", repo.allowed,
                       "--commit", first, "--tag", "v1", check=False), "does not point at")


class Keys:
    """A release key and a staging key, and a trust file naming both."""

    def __init__(self, directory):
        self.dir = directory
        self.release = os.path.join(directory, "release.key")
        self.staging = os.path.join(directory, "staging.key")
        herald("release", "keygen", "--out", self.release, "--public-out", self.release + ".pub")
        herald("release", "keygen", "--out", self.staging, "--public-out", self.staging + ".pub",
               "--passphrase-env", "HERALD_STAGING_KEY_PASSPHRASE")
        assert oct(os.stat(self.release).st_mode & 0o777) == "0o600"
        self.trust = self.trust_file("trust.toml", [("release", "release.key.pub"), ("staging", "staging.key.pub")])

    def trust_file(self, name, entries):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            for role, file in entries:
                f.write('[[key]]\nrole = "%s"\npublic_key_file = "%s"\n\n' % (role, file))
        return path

    def assemble(self, out, version, commit="1" * 40, binary=HERALD, *extra):
        return herald("release", "assemble", "--binary", binary, "--version", version, "--commit", commit,
                      "--repository", SOURCE, "--package-lock", os.path.join(SOURCE, "ui", "package-lock.json"),
                      "--key", self.release, "--out", out, *extra)


def envelope_payload(path):
    return json.loads(base64.b64decode(json.load(open(path))["payload"]))


def test_release_documents_sbom_and_provenance():
    with Workspace() as ws:
        keys = Keys(ws.dir)
        release = os.path.join(ws.dir, "rel")
        keys.assemble(release, "0.15.0")
        for name in ("herald", "sbom.spdx.json", "provenance.dsse.json", "release.dsse.json"):
            assert os.path.exists(os.path.join(release, name)), name
        # Readable by whoever installs from it, whatever the umask of the machine that signed it.
        assert oct(os.stat(os.path.join(release, "herald")).st_mode & 0o777) == "0o755"
        assert oct(os.stat(os.path.join(release, "sbom.spdx.json")).st_mode & 0o777) == "0o644"
        sbom = json.load(open(os.path.join(release, "sbom.spdx.json")))
        assert sbom["spdxVersion"] == "SPDX-2.3", sbom["spdxVersion"]
        purls = [r["referenceLocator"] for p in sbom["packages"] for r in p.get("externalRefs", [])]
        # The Debian libraries it is linked with, at their installed versions, and the UI's npm packages.
        ssl = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libssl3"], capture_output=True,
                             text=True).stdout
        assert any(p.startswith("pkg:deb/debian/libssl3@" + ssl) for p in purls), purls
        assert any(p.startswith("pkg:deb/debian/libsqlite3-0@") for p in purls), purls
        assert any(p.startswith("pkg:npm/nhsuk-frontend@") for p in purls), purls
        statement = envelope_payload(os.path.join(release, "provenance.dsse.json"))
        assert statement["_type"] == "https://in-toto.io/Statement/v1"
        assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
        digests = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
        binary = subprocess.run(["sha256sum", HERALD], capture_output=True, text=True).stdout.split()[0]
        assert digests["herald"] == binary, digests
        assert "sbom.spdx.json" in digests
        metadata = envelope_payload(os.path.join(release, "release.dsse.json"))
        assert metadata["version"] == "0.15.0" and metadata["commit"] == "1" * 40
        out = herald("release", "verify", release, "--trust", keys.trust)
        assert "verifies for staging" in out.stdout, out.stdout
        # The key file is refused without its passphrase, and an unencrypted key is refused.
        refused(herald("release", "assemble", "--binary", HERALD, "--version", "0.15.1", "--commit", "1" * 40,
                       "--key", keys.release, "--out", os.path.join(ws.dir, "x"),
                       env={"HERALD_RELEASE_KEY_PASSPHRASE": "not the passphrase"}, check=False),
                "wrong passphrase")
        plain = os.path.join(ws.dir, "plain.key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", plain], check=True)
        os.chmod(plain, 0o600)
        refused(herald("release", "assemble", "--binary", HERALD, "--version", "0.15.1", "--commit", "1" * 40,
                       "--key", plain, "--out", os.path.join(ws.dir, "y"), check=False), "not encrypted")
        # OpenSSL's own tools read Herald's key file with the passphrase (a standard format).
        pub = subprocess.run(["openssl", "pkey", "-in", keys.release, "-passin", "pass:" + PASSPHRASE, "-pubout"],
                             capture_output=True, text=True)
        assert pub.stdout == open(keys.release + ".pub").read(), pub.stderr


def tamper_copy(source, target):
    shutil.copytree(source, target)
    return target


def test_attacks_on_a_release_are_refused():
    with Workspace() as ws:
        keys = Keys(ws.dir)
        good = os.path.join(ws.dir, "good")
        keys.assemble(good, "0.15.0")
        verify = lambda d, *a: herald("release", "verify", d, "--trust", keys.trust, *a, check=False)
        # A flipped byte in the artifact.
        flipped = tamper_copy(good, os.path.join(ws.dir, "flipped"))
        with open(os.path.join(flipped, "herald"), "r+b") as f:
            f.seek(4096)
            b = f.read(1)
            f.seek(4096)
            f.write(bytes([b[0] ^ 1]))
        refused(verify(flipped), "herald is not the file that was signed")
        # A valid signature over another artifact: another release's metadata, same key.
        other = os.path.join(ws.dir, "other")
        small = os.path.join(ws.dir, "small-binary")
        shutil.copyfile("/bin/true", small)
        keys.assemble(other, "0.15.0", "1" * 40, small)
        swapped = tamper_copy(good, os.path.join(ws.dir, "swapped"))
        shutil.copyfile(os.path.join(other, "release.dsse.json"), os.path.join(swapped, "release.dsse.json"))
        refused(verify(swapped), "is not the file that was signed")
        # A provenance for another commit (validly signed, listed by validly signed metadata).
        elsewhere = os.path.join(ws.dir, "elsewhere")
        keys.assemble(elsewhere, "0.15.0", "2" * 40)
        mixed = tamper_copy(good, os.path.join(ws.dir, "mixed"))
        shutil.copyfile(os.path.join(elsewhere, "provenance.dsse.json"), os.path.join(mixed, "provenance.dsse.json"))
        refused(verify(mixed), "provenance.dsse.json is not the file that was signed")
        # A key not in the trust file: a release signed by a stranger.
        stranger_dir = os.path.join(ws.dir, "stranger")
        os.makedirs(stranger_dir)
        stranger = Keys(stranger_dir)
        foreign = os.path.join(ws.dir, "foreign")
        stranger.assemble(foreign, "0.15.0")
        refused(verify(foreign), "which is not a trusted release key")
        # The staging key cannot sign releases.
        staging_as_release = keys.trust_file("swapped-roles.toml", [("staging", "release.key.pub"),
                                                                   ("release", "staging.key.pub")])
        refused(herald("release", "verify", good, "--trust", staging_as_release, check=False),
                "trusted as a staging key, not a release key")
        # Expired metadata: a release signed on 1 June, valid for one day, checked an hour later and
        # two days later (each herald process on a clock the test sets).
        short = os.path.join(ws.dir, "short")

        def at(moment, *args):
            env, _ = clock_env(moment, dict(os.environ, HERALD_RELEASE_KEY_PASSPHRASE=PASSPHRASE))
            return subprocess.run([HERALD] + list(args), env=env, capture_output=True, text=True, timeout=300)
        made = at("2026-06-01 12:00:00", "release", "assemble", "--binary", HERALD, "--version", "0.15.0", "--commit",
                  "1" * 40, "--key", keys.release, "--out", short, "--valid-days", "1")
        assert made.returncode == 0, made.stderr
        assert at("2026-06-01 13:00:00", "release", "verify", short, "--trust", keys.trust).returncode == 0
        refused(at("2026-06-03 12:00:00", "release", "verify", short, "--trust", keys.trust), "metadata expired")
        # Live needs a staging record.
        refused(verify(good, "--stage", "live"), "must pass staging before live")


def test_promotion_acceptance_and_deployment():
    with Workspace() as ws:
        keys = Keys(ws.dir)
        sink = ws.track(SmtpSink(ws.dir))
        staging = ws.track(Herald(HERALD, ws.dir, sink.port, name="staging"))
        staging.start()
        service_id, api_key = staging.create_service()
        template_id = staging.create_template(service_id, "Acceptance", "Hello from staging")
        channels = os.path.join(ws.dir, "channels")
        release = os.path.join(ws.dir, "rel-0.15.0")
        keys.assemble(release, "0.15.0")
        refused(herald("promote", release, "--to", "live", "--channels", channels, "--trust", keys.trust,
                       check=False), "must pass staging before live")
        out = herald("promote", release, "--to", "staging", "--channels", channels, "--trust", keys.trust)
        assert "promoted 0.15.0 to staging" in out.stdout
        staged = os.path.join(channels, "staging", "0.15.0")
        acceptance = ["acceptance", "run", "--release", staged, "--api-url", "https://127.0.0.1:%d" % staging.port,
                      "--ops-url", "https://127.0.0.1:%d" % staging.metrics_port, "--ca-file", staging.cert,
                      "--template-id", template_id, "--email-address", "acceptance@example.org", "--node", "staging-1", "--trust", keys.trust,
                      "--key", keys.staging]
        out = herald(*acceptance, env={"HERALD_ACCEPTANCE_API_KEY": api_key})
        assert "passed staging acceptance on staging-1" in out.stdout, (out.stdout, out.stderr)
        record = envelope_payload(os.path.join(staged, "acceptance.dsse.json"))
        assert record["passed"] and {c["name"] for c in record["checks"]} >= {"runs_release", "send_email", "delivered"}
        binary = subprocess.run(["sha256sum", HERALD], capture_output=True, text=True).stdout.split()[0]
        assert record["binary_sha256"] == binary
        herald("promote", staged, "--to", "live", "--channels", channels, "--trust", keys.trust)

        # A host polls the live channel and installs what verifies; audited in its own log.
        host = ws.track(Herald(HERALD, ws.dir, sink.port, name="host"))
        install = os.path.join(ws.dir, "opt-herald")
        deploy = ["--config", host.config, "deploy", "--watch", os.path.join(channels, "live"), "--install-dir",
                  install, "--trust", keys.trust, "--rounds", "1"]
        out = herald(*deploy)
        assert "deployed 0.15.0 (live" in out.stdout, (out.stdout, out.stderr)
        assert subprocess.run(["cmp", os.path.join(install, "herald"), HERALD]).returncode == 0
        state = json.load(open(os.path.join(install, "deployed.json")))
        assert state["version"] == "0.15.0" and state["binary_sha256"] == binary
        audit = host.run_cli("audit", "export")
        deployed = [json.loads(l) for l in audit.splitlines() if '"release.deployed"' in l]
        assert deployed and deployed[0]["objects"]["version"] == "0.15.0", audit[-2000:]
        # Polling again installs nothing new.
        out = herald(*deploy)
        assert "deployed" not in out.stdout

        # A staging record for another digest does not carry a different binary to live.
        other_binary = os.path.join(ws.dir, "other-binary")
        shutil.copyfile(HERALD, other_binary)
        with open(other_binary, "ab") as f:
            f.write(b"\0")
        second = os.path.join(ws.dir, "rel-0.16.0")
        keys.assemble(second, "0.16.0", "1" * 40, other_binary)
        shutil.copyfile(os.path.join(staged, "acceptance.dsse.json"), os.path.join(second, "acceptance.dsse.json"))
        refused(herald("promote", second, "--to", "live", "--channels", channels, "--trust", keys.trust,
                       check=False), "the release has not passed staging")
        # Acceptance on a staging node that runs another binary fails, and is recorded as failed.
        out = herald(*[a if a != staged else second for a in acceptance], env={"HERALD_ACCEPTANCE_API_KEY": api_key},
                     check=False)
        refused(out, "failed staging acceptance")
        assert not envelope_payload(os.path.join(second, "acceptance.dsse.json"))["passed"]

        # A replayed older release is never installed over a newer one.
        older = os.path.join(ws.dir, "rel-0.14.9")
        keys.assemble(older, "0.14.9")
        refused(herald("--config", host.config, "deploy", older, "--stage", "staging", "--install-dir", install,
                       "--trust", keys.trust, check=False), "no rollback")
        # Nor the same version with another binary.
        same = os.path.join(ws.dir, "rel-0.15.0-again")
        keys.assemble(same, "0.15.0", "1" * 40, other_binary)
        refused(herald("deploy", same, "--stage", "staging", "--install-dir", install, "--trust", keys.trust,
                       check=False), "a version is never replaced")
        audit = host.run_cli("audit", "export")
        assert '"release.deploy_refused"' in audit and "no rollback" in audit
        assert json.load(open(os.path.join(install, "deployed.json")))["version"] == "0.15.0"


def source_files():
    """Herald's tracked and untracked (not ignored) files, as they are in the working tree."""
    out = subprocess.run(["git", "-C", SOURCE, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                         capture_output=True, check=True)
    return [f for f in out.stdout.decode().split("\0") if f and os.path.isfile(os.path.join(SOURCE, f))]


def test_reproducible_build_short_run():
    with Workspace() as ws:
        keys = Keys(ws.dir)
        repo = SignedRepo(ws.dir)
        for name in source_files():
            target = os.path.join(repo.dir, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(os.path.join(SOURCE, name), target)
        commit = repo.commit("Herald's source", repo.alice, files={})
        def build(name, targets="herald_core,herald_crypto"):
            return herald("release", "build", "--repo", repo.dir, "--allowed-signers", repo.allowed, "--key",
                          keys.release, "--targets", targets, "--builds", "2", "--third-party",
                          os.path.join(SOURCE, "build", "third_party"), "--work", os.path.join(ws.dir, "work-" + name),
                          "--out", os.path.join(ws.dir, name), check=False)
        out = build("rel")
        assert out.returncode == 0, (out.stdout, out.stderr)
        assert "2 clean builds gave identical files" in out.stderr, out.stderr
        made = sorted(os.listdir(os.path.join(ws.dir, "rel")))
        assert "libherald_core.a" in made and "libherald_crypto.a" in made, made
        statement = envelope_payload(os.path.join(ws.dir, "rel", "provenance.dsse.json"))
        params = statement["predicate"]["buildDefinition"]
        assert params["externalParameters"]["source"]["commit"] == commit
        assert params["internalParameters"]["reproducedBuilds"] == 2
        # A commit that makes the build differ each time (a random value compiled in) is caught.
        repo.commit("not reproducible", repo.alice, files={
            "CMakeLists.txt": '\nstring(RANDOM LENGTH 16 herald_nonce)\n'
                              'target_compile_definitions(herald_core PRIVATE HERALD_NONCE="${herald_nonce}")\n',
            "src/core/hex.cc": '\nextern const char herald_nonce[];\nconst char herald_nonce[] = HERALD_NONCE;\n'})
        refused(build("rel2", "herald_core"), "not reproducible: libherald_core.a is")
        # And an unsigned commit on top stops the build before it starts.
        repo.commit("unsigned change")
        refused(build("rel3"), "is not signed")


if __name__ == "__main__":
    run_tests([test_commit_signatures, test_release_documents_sbom_and_provenance, test_attacks_on_a_release_are_refused,
               test_promotion_acceptance_and_deployment, test_reproducible_build_short_run])
