#!/usr/bin/python3
"""Packaging: the Debian package that `make deb` builds, checked and installed for real.

- lintian --fail-on error passes (its warnings are printed);
- the package's fields, conffile, maintainer scripts, files and their modes (dpkg-deb -I/-c), the
  man page, bash completion, changelog, copyright and the packaged configuration;
- the systemd units: the hardening settings of both unit files, `systemd-analyze security
  --offline=true` of herald.service and the herald@api, herald@worker and herald@admin instances
  at 2.0 or better (each score is printed), and `systemd-analyze verify` of each in the installed
  copy below;
- installed in a throw-away copy of this machine: private mount and PID namespaces (unshare)
  holding an overlay whose lower layer is / and whose upper layer is a temporary directory,
  chrooted into. There `dpkg -i` runs postinst: the herald user and group, /var/lib/herald (0700
  herald:herald), /etc/herald/herald.toml (0640 root:herald), the keyring, TLS certificate and
  databases made by `herald init` as herald, herald.service enabled; the packaged configuration
  holds every setting `herald init --data-dir` writes, its paths absolute.
  systemd is not PID 1 here (a container), so starting a unit is exercised by running the unit's
  ExecStart= command line as its User= (runuser -u herald) in the installed copy, and the unit
  files themselves only by systemd-analyze verify and security. herald.service's command answers
  HTTPS on the API and admin ports, reloads on SIGHUP (ExecReload=) keeping an open connection,
  and exits 0 on SIGTERM (KillSignal=) within TimeoutStopSec=; the three instances' commands run
  side by side on the shared configuration and data, herald@worker on neither HTTPS port. Under
  strace, the first command makes only system calls the units' SystemCallFilter= allows (the
  units answer others with EPERM). As root without HERALD_ALLOW_ROOT, herald refuses to serve.
  Installing again (as an upgrade does) keeps the edited configuration and the keys; `dpkg -r`
  keeps the configuration, data and user, and `dpkg -P` deletes them.
Nothing is left on the host: the overlay's upper directory is deleted, and the mounts and any
process left running vanish with the namespaces. Needs root (as `make test` runs); no network.
Usage: test_package.py [herald_<version>_amd64.deb]  (default: the newest build/deb/herald_*.deb)
"""
import glob
import grp
import http.client
import os
import pwd
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from harness import run_tests  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
UNITS = ["herald.service", "herald@api.service", "herald@worker.service", "herald@admin.service"]
MAX_EXPOSURE = 2.0
CONFIG = "/etc/herald/herald.toml"
SERVE = ["/usr/bin/herald", "--config", CONFIG, "serve"]  # herald.service's ExecStart=
INSIDE = "--inside"  # this script, re-run inside the namespaces (see install_in_a_copy)


def package_path():
    args = [a for a in sys.argv[1:] if not a.startswith("-")]
    if args:
        path = os.path.abspath(args[0])
    else:
        found = glob.glob(os.path.join(ROOT, "build", "deb", "herald_*.deb"))
        if not found:
            sys.exit("FAIL: no package in %s/build/deb: run `make deb` first" % ROOT)
        path = max(found, key=os.path.getmtime)
    if not os.path.isfile(path):
        sys.exit("FAIL: no package at %s: run `make deb` first" % path)
    return path


def run(cmd, check=True, **kwargs):
    done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)
    if check and done.returncode != 0:
        raise AssertionError("%s exited %d:\n%s" % (" ".join(cmd), done.returncode, done.stdout))
    return done


# --- the package as a file ---------------------------------------------------------------------

def test_lintian():
    done = run(["lintian", "--fail-on", "error", "--display-info", DEB], check=False)
    tags = [line for line in done.stdout.splitlines() if re.match(r"^[EWIXPO]: ", line)]
    print("lintian reports %d tag(s):" % len(tags))
    for line in tags:
        print("  " + line)
    assert done.returncode == 0, "lintian --fail-on error failed:\n" + done.stdout
    assert not [t for t in tags if t.startswith("E: ")], "lintian errors"


def test_fields_and_contents():
    info = run(["dpkg-deb", "-I", DEB]).stdout
    fields = dict(re.findall(r"^ (Package|Version|Architecture|Depends|Section|Maintainer): (.*)$", info, re.M))
    assert fields.get("Package") == "herald", info
    assert fields.get("Architecture") == "amd64", info
    assert re.fullmatch(r"\d+\.\d+\.\d+", fields.get("Version", "")), info
    assert os.path.basename(DEB) == "herald_%s_amd64.deb" % fields["Version"], DEB
    for dependency in ["adduser", "init-system-helpers", "libc6", "libssl3", "libsqlite3-0"]:
        assert re.search(r"(^|, )%s( |,|$)" % re.escape(dependency), fields["Depends"]), fields["Depends"]
    for script in ["postinst", "prerm", "postrm", "conffiles"]:
        assert re.search(r"^\s+\d+ bytes,\s+\d+ lines\s+\*?\s+%s\b" % script, info, re.M), (script, info)
    conffiles = run(["dpkg-deb", "--info", DEB, "conffiles"]).stdout.split()
    assert conffiles == [CONFIG], conffiles

    listing = {}
    for line in run(["dpkg-deb", "-c", DEB]).stdout.splitlines():
        mode, owner, _size, _date, _time, path = line.split(None, 5)
        listing[path.lstrip(".")] = (mode, owner)
    expected = {
        "/usr/bin/herald": "-rwxr-xr-x",
        CONFIG: "-rw-r-----",  # postinst gives it to group herald
        "/lib/systemd/system/herald.service": "-rw-r--r--",
        "/lib/systemd/system/herald@.service": "-rw-r--r--",
        "/usr/share/man/man1/herald.1.gz": "-rw-r--r--",
        "/usr/share/bash-completion/completions/herald": "-rw-r--r--",
        "/usr/share/doc/herald/copyright": "-rw-r--r--",
        "/usr/share/doc/herald/changelog.gz": "-rw-r--r--",
    }
    for path, mode in expected.items():
        assert path in listing, "%s missing from the package" % path
        assert listing[path] == (mode, "root/root"), (path, listing[path])
    for path, (mode, owner) in listing.items():
        assert owner == "root/root", (path, owner)
        assert "w" not in mode[5:], "group- or world-writable: %s %s" % (mode, path)

    with tempfile.TemporaryDirectory() as tmp:
        run(["dpkg-deb", "-x", DEB, tmp])
        completion = open(os.path.join(tmp, "usr/share/bash-completion/completions/herald")).read()
        assert "complete -F" in completion and " herald" in completion, completion[:200]
        for command in ["serve", "init", "keys", "audit", "backup"]:
            assert re.search(r"\b%s\b" % command, completion), command
        man = run(["sh", "-c", "zcat %s/usr/share/man/man1/herald.1.gz" % tmp]).stdout
        for section in ["NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "FILES", "ENVIRONMENT", "SIGNALS",
                        "EXIT STATUS", "SEE ALSO"]:
            assert re.search(r"^\.SH \"?%s\"?$" % section, man, re.M), "man page lacks " + section
        for word in ["HERALD_CONFIG", "HERALD_ALLOW_ROOT", "HERALD_SMTP_PASSWORD", "SIGHUP", "SIGTERM"]:
            assert word in man, word
        assert "@HERALD" not in man, "unfilled placeholder in the man page"
        rendered = subprocess.run(["man", "--warnings", "-l", os.path.join(tmp, "usr/share/man/man1/herald.1.gz")],
                                  capture_output=True, text=True, env=dict(os.environ, MANWIDTH="80"))
        assert rendered.returncode == 0 and rendered.stderr == "", "man: " + rendered.stderr
        assert "deletes /var/lib/herald" in " ".join(rendered.stdout.split()), "no purge note in the man page"
        changelog = run(["sh", "-c", "zcat %s/usr/share/doc/herald/changelog.gz" % tmp]).stdout
        assert changelog.startswith("herald (%s) " % fields["Version"]), changelog
        assert run(["dpkg-parsechangelog", "-l", "-", "-S", "Version"], input=changelog).stdout.strip() \
            == fields["Version"]
        copyright_text = open(os.path.join(tmp, "usr/share/doc/herald/copyright")).read()
        assert copyright_text.startswith("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/"), \
            copyright_text[:100]
        assert "Proprietary — all rights reserved" in copyright_text
        # The packaged configuration names only absolute paths, into /var/lib/herald.
        config = open(os.path.join(tmp, CONFIG.lstrip("/"))).read()
        paths = re.findall(r'^(?:certificate|private_key|path|keyring|store|checkpoints) = "([^"]*)"', config, re.M)
        assert len(paths) == 6 and all(p.startswith("/var/lib/herald/") for p in paths), paths
        assert re.search(r'^listen = "127\.0\.0\.1"$', config, re.M) and \
            re.search(r'^address = "127\.0\.0\.1"$', config, re.M), config


# Every unit has these, and the same hardening as the others (only what it runs and its allow
# list may differ).
HARDENING = {
    "Type": "simple", "User": "herald", "Group": "herald", "ExecReload": "/bin/kill -HUP $MAINPID",
    "KillSignal": "SIGTERM", "TimeoutStopSec": "30", "Restart": "on-failure", "NoNewPrivileges": "yes",
    "CapabilityBoundingSet": "", "AmbientCapabilities": "", "ProtectSystem": "strict",
    "ReadWritePaths": "/var/lib/herald", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "PrivateUsers": "yes", "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes", "ProtectClock": "yes", "ProtectHostname": "yes",
    "ProtectProc": "invisible", "ProcSubset": "pid", "RestrictNamespaces": "yes", "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes", "LockPersonality": "yes", "MemoryDenyWriteExecute": "yes", "RemoveIPC": "yes",
    "SystemCallArchitectures": "native", "SystemCallFilter": ["@system-service", "~@privileged @resources"],
    "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX", "IPAddressDeny": "any", "UMask": "0077",
    "DevicePolicy": "closed", "KeyringMode": "private", "LimitCORE": "0", "StateDirectory": "herald",
    "StateDirectoryMode": "0700", "ConfigurationDirectory": "herald",
}


def service_section(path):
    settings = {}
    section = None
    for line in open(path):
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return {k: v[0] if len(v) == 1 else v for k, v in settings.items()}


def test_units():
    with tempfile.TemporaryDirectory() as tmp:
        run(["dpkg-deb", "-x", DEB, tmp])
        units = os.path.join(tmp, "lib/systemd/system")
        all_roles = service_section(os.path.join(units, "herald.service"))
        template = service_section(os.path.join(units, "herald@.service"))
        for name, settings in [("herald.service", all_roles), ("herald@.service", template)]:
            wrong = {k: settings.get(k) for k, v in HARDENING.items() if settings.get(k) != v}
            assert not wrong, "%s: %s" % (name, wrong)
        assert all_roles["ExecStart"] == " ".join(SERVE), all_roles["ExecStart"]
        assert template["ExecStart"] == " ".join(SERVE) + " --role %i", template["ExecStart"]
        differ = sorted(k for k in set(all_roles) | set(template)
                        if all_roles.get(k) != template.get(k) and k != "ExecStart")
        assert not differ, "herald.service and herald@.service differ in %s" % differ
        failures = []
        for unit in UNITS:
            out = run(["systemd-analyze", "security", "--offline=true", "--root=" + tmp, "--no-pager", unit]).stdout
            found = re.search(r"Overall exposure level for %s: ([0-9.]+) (\w+)" % re.escape(unit), out)
            assert found, out
            score = float(found.group(1))
            print("systemd-analyze security %-22s %.1f %s" % (unit, score, found.group(2)))
            if score > MAX_EXPOSURE:
                failures.append("%s scores %.1f (> %.1f):\n%s" % (unit, score, MAX_EXPOSURE, out))
        assert not failures, "\n".join(failures)


# --- the package installed -----------------------------------------------------------------------

def install_in_a_copy():
    """Runs this script again with INSIDE in new mount and PID namespaces; its overlay, chroot and
    processes die with it, and the upper directory is deleted here."""
    before = host_state()
    tmp = tempfile.mkdtemp(prefix="herald-package-test.")
    try:
        # A PID namespace too: when the script inside ends, however it ends, the kernel kills every
        # process left in it (a server a failed step left running).
        done = subprocess.run(["unshare", "--mount", "--propagation", "private", "--pid", "--fork",
                               "--kill-child", "--",
                               sys.executable, os.path.abspath(__file__), INSIDE, tmp, DEB], timeout=600)
        assert done.returncode == 0, "the install in a copy of this machine failed (exit %d)" % done.returncode
    finally:
        shutil.rmtree(tmp)
    assert host_state() == before, "the host changed: %s -> %s" % (before, host_state())


def host_state():
    def exists(check):
        try:
            check()
            return True
        except KeyError:
            return False
    return {"user": exists(lambda: pwd.getpwnam("herald")), "group": exists(lambda: grp.getgrnam("herald")),
            "/var/lib/herald": os.path.exists("/var/lib/herald"), "/etc/herald": os.path.exists("/etc/herald"),
            "/usr/bin/herald": os.path.exists("/usr/bin/herald")}


def inside(tmp, deb):
    """In the private namespaces: the overlay, the chroot, then every step of the install."""
    merged = os.path.join(tmp, "m")
    for d in ["u", "w", "m"]:
        os.mkdir(os.path.join(tmp, d))
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    "lowerdir=/,upperdir=%s/u,workdir=%s/w" % (tmp, tmp), merged], check=True)
    # /proc of this PID namespace; /dev and /sys the host's.
    subprocess.run(["mount", "-t", "proc", "proc", os.path.join(merged, "proc")], check=True)
    for fs in ["dev", "sys"]:
        subprocess.run(["mount", "--rbind", "/" + fs, os.path.join(merged, fs)], check=True)
    # The copy's own /tmp (the host's holds the overlay's layers), and the package in it.
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=1777", "tmpfs", os.path.join(merged, "tmp")], check=True)
    shutil.copy(deb, os.path.join(merged, "tmp", "herald.deb"))
    os.chroot(merged)
    os.chdir("/")
    os.environ.pop("HERALD_ALLOW_ROOT", None)
    os.environ.pop("HERALD_CONFIG", None)
    # The man-db trigger would index every manual page of the machine: not the point here.
    if os.path.exists("/var/lib/man-db/auto-update"):
        os.remove("/var/lib/man-db/auto-update")
    assert not os.path.exists("/run/systemd/system"), "systemd runs here?"
    steps = [installed, config_as_init_writes, units_verify, serves, roles_side_by_side, syscalls_allowed, refuses_root, reinstalled,
             removed, purged]
    for step in steps:
        started = time.time()
        step()
        print("  ok %s (%.1fs)" % (step.__name__, time.time() - started), flush=True)


def installed():
    done = run(["dpkg", "-i", "/tmp/herald.deb"], check=False)
    print(done.stdout.rstrip())
    assert done.returncode == 0, "dpkg -i failed"
    user = pwd.getpwnam("herald")
    group = grp.getgrnam("herald")
    assert user.pw_gid == group.gr_gid and user.pw_dir == "/var/lib/herald", user
    assert user.pw_shell == "/usr/sbin/nologin" and user.pw_uid < 1000, user
    expect_mode("/var/lib/herald", 0o700, "herald", "herald", stat.S_ISDIR)
    expect_mode("/etc/herald", 0o755, "root", "root", stat.S_ISDIR)
    expect_mode(CONFIG, 0o640, "root", "herald")
    # What `herald init` made, as the herald user.
    expect_mode("/var/lib/herald/keyring", 0o600, "herald", "herald")
    expect_mode("/var/lib/herald/tls/cert.pem", None, "herald", "herald")
    expect_mode("/var/lib/herald/tls/key.pem", 0o600, "herald", "herald")
    for db in ["herald.db", "keys.db"]:
        expect_mode("/var/lib/herald/" + db, 0o600, "herald", "herald")
        assert open("/var/lib/herald/" + db, "rb").read(16) == b"SQLite format 3\x00", db
    assert run(["dpkg-query", "-W", "-f", "${Conffiles}", "herald"]).stdout.split()[0] == CONFIG
    status = run(["dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "herald"]).stdout.strip()
    assert status == "ii", status
    # Enabled as Debian services are, for when systemd runs (here it does not, so not started).
    wants = "/etc/systemd/system/multi-user.target.wants/herald.service"
    assert os.readlink(wants) == "/lib/systemd/system/herald.service", wants
    man = run(["man", "-w", "herald"]).stdout.strip()
    assert man == "/usr/share/man/man1/herald.1.gz", man


def config_keys(path):
    def flatten(table, prefix=""):
        for key, value in table.items():
            yield from flatten(value, prefix + key + ".") if isinstance(value, dict) else [(prefix + key, value)]
    return dict(flatten(tomllib.load(open(path, "rb"))))


def config_as_init_writes():
    """The packaged configuration has every setting `herald init --data-dir` writes, the same but
    for the paths (absolute, into /var/lib/herald) and the SMTP relay (the host's MTA on 25)."""
    run(["runuser", "-u", "herald", "--", "/usr/bin/herald", "init", "--data-dir", "/tmp/fresh"], cwd="/tmp")
    fresh, packaged = config_keys("/tmp/fresh/herald.toml"), config_keys(CONFIG)
    assert fresh.keys() == packaged.keys(), "settings only in init's: %s; only in the package's: %s" % (
        sorted(fresh.keys() - packaged.keys()), sorted(packaged.keys() - fresh.keys()))
    differ = {k: (fresh[k], packaged[k]) for k in fresh if fresh[k] != packaged[k]}
    paths = {k: v for k, v in differ.items() if v[1] == "/var/lib/herald/%s" % v[0]}
    assert set(paths) == {"server.certificate", "server.private_key", "store.path", "keys.keyring", "keys.store",
                          "audit.checkpoints"}, paths
    others = {k: v for k, v in differ.items() if k not in paths}
    assert others == {"smtp.port": (2525, 25)}, others
    shutil.rmtree("/tmp/fresh")


def expect_mode(path, mode, owner, group, kind=stat.S_ISREG):
    st = os.stat(path)
    assert kind(st.st_mode), "%s: wrong file type" % path
    got = (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name)
    want = (stat.S_IMODE(st.st_mode) if mode is None else mode, owner, group)
    assert got == want, "%s: %s, expected %s" % (path, fmt(got), fmt(want))


def fmt(t):
    return "%o %s:%s" % t


def units_verify():
    for unit in UNITS:
        done = run(["systemd-analyze", "verify", unit], check=False)
        assert done.returncode == 0 and done.stdout.strip() == "", \
            "systemd-analyze verify %s:\n%s" % (unit, done.stdout)


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


PACKAGED_CONFIG = []


def use_free_ports():
    """Points every listener of the installed configuration (each `port` but the SMTP relay's) at a
    free port; returns the API's and the admin UI's."""
    if not PACKAGED_CONFIG:
        PACKAGED_CONFIG.append(open(CONFIG).read())
    lines = PACKAGED_CONFIG[0].splitlines(keepends=True)
    listeners = []
    section = None
    for i, line in enumerate(lines):
        if line.startswith("["):
            section = line.strip()
        elif re.match(r"^port = \d+$", line.strip()) and section != "[smtp]":
            listeners.append((i, section))
    ports = free_ports(len(listeners))
    chosen = {}
    for (i, section), port in zip(listeners, ports):
        lines[i] = "port = %d\n" % port
        chosen[section] = port
    assert "[server]" in chosen and "[admin]" in chosen, chosen
    with open(CONFIG, "w") as f:  # keeps the file's mode and owner
        f.write("".join(lines))
    return chosen["[server]"], chosen["[admin]"]


def unverified():
    """A TLS client context that takes init's self-signed certificate."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def answers(port):
    """Any HTTP answer over TLS from the port."""
    try:
        with urllib.request.urlopen("https://127.0.0.1:%d/" % port, context=unverified(), timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


def child_of(pid, timeout=10):
    """The herald process that runuser (or strace) started, which signals must reach (strace also
    starts short-lived children of its own, and runuser's child is herald once it has exec'd)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            children = open("/proc/%d/task/%d/children" % (pid, pid)).read().split()
        except FileNotFoundError:
            children = []
        for child in children:
            try:
                if os.readlink("/proc/%s/exe" % child) == "/usr/bin/herald":
                    return int(child)
            except FileNotFoundError:
                pass
        time.sleep(0.05)
    raise AssertionError("no herald process under %d" % pid)


def serve_start_reload_stop(prefix, log_path):
    """Starts `prefix + SERVE` (as herald), waits for both listeners, sends SIGHUP, checks that it
    reloaded and still answers, sends SIGTERM, and returns the exit status."""
    api, admin = use_free_ports()
    with open(log_path, "w") as log:
        proc = subprocess.Popen(prefix + SERVE, stdout=log, stderr=subprocess.STDOUT, cwd="/")
    herald = None
    try:
        herald = child_of(proc.pid)
        deadline = time.time() + 60
        while not (answers(api) and answers(admin)):
            assert proc.poll() is None, "serve exited %s:\n%s" % (proc.returncode, open(log_path).read())
            assert time.time() < deadline, "no HTTPS answer on %d and %d:\n%s" % (api, admin, open(log_path).read())
            time.sleep(0.2)
        assert open("/proc/%d/status" % herald).read().count("\nUid:\t%d\t" % pwd.getpwnam("herald").pw_uid) == 1, \
            "serve does not run as herald"
        # A connection open across the reload is kept: a second request on it is answered.
        kept = http.client.HTTPSConnection("127.0.0.1", api, timeout=10, context=unverified())
        kept.request("GET", "/")
        kept.getresponse().read()
        sock = kept.sock
        assert sock is not None, "Herald closed the connection after one request"
        os.kill(herald, signal.SIGHUP)  # ExecReload=
        deadline = time.time() + 30
        while "serve.reloaded" not in open(log_path).read():
            assert proc.poll() is None, "SIGHUP stopped serve:\n" + open(log_path).read()
            assert time.time() < deadline, "no serve.reloaded after SIGHUP:\n" + open(log_path).read()
            time.sleep(0.1)
        kept.request("GET", "/")
        kept.getresponse().read()  # raises when the connection was dropped
        assert kept.sock is sock, "connection dropped on SIGHUP"
        kept.close()
        assert answers(api) and answers(admin), "no answer after SIGHUP"
        os.kill(herald, signal.SIGTERM)  # KillSignal=
        status = proc.wait(timeout=30)  # TimeoutStopSec=
    finally:
        stop([proc], [herald])
    return status, api


def stop(procs, heralds):
    """Kills what a failed step left running: herald itself first, then runuser or strace."""
    for pid in heralds:
        if pid is not None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


def serves():
    status, port = serve_start_reload_stop(["runuser", "-u", "herald", "--"], "/tmp/serve.log")
    log = open("/tmp/serve.log").read()
    assert status == 0, "serve exited %d after SIGTERM:\n%s" % (status, log)
    assert "serve.stopping" in log, log
    print("  serve answered HTTPS on 127.0.0.1:%d, reloaded on SIGHUP, exited 0 on SIGTERM" % port)


def listening_ports(pid):
    """The TCP ports the process listens on (its socket inodes against /proc/net/tcp{,6})."""
    inodes = set()
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    ports = set()
    for table in ["/proc/net/tcp", "/proc/net/tcp6"]:
        for line in open(table).readlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def roles_side_by_side():
    """herald@api, herald@worker and herald@admin's ExecStart lines, as herald, at once: each
    serves its part on the shared configuration and data, the worker on neither HTTPS port, and
    each exits 0 on SIGTERM."""
    api, admin = use_free_ports()
    procs, logs, pids = {}, {}, {}
    try:
        for role in ["worker", "api", "admin"]:  # the worker first, so that no other holds the ports
            logs[role] = "/tmp/serve-%s.log" % role
            with open(logs[role], "w") as log:
                procs[role] = subprocess.Popen(["runuser", "-u", "herald", "--"] + SERVE + ["--role", role],
                                               stdout=log, stderr=subprocess.STDOUT, cwd="/")
        for role, proc in procs.items():
            pids[role] = child_of(proc.pid)
        def all_running():
            for role, proc in procs.items():
                assert proc.poll() is None, "herald@%s exited %s:\n%s" % (role, proc.returncode,
                                                                         open(logs[role]).read())
        deadline = time.time() + 60
        while not (answers(api) and answers(admin)):
            all_running()
            assert time.time() < deadline, "no HTTPS answer on %d and %d" % (api, admin)
            time.sleep(0.2)
        time.sleep(1)  # every role has started by now, or failed to
        all_running()
        assert api in listening_ports(pids["api"]) and admin not in listening_ports(pids["api"])
        assert admin in listening_ports(pids["admin"]) and api not in listening_ports(pids["admin"])
        worker_ports = listening_ports(pids["worker"])
        assert api not in worker_ports and admin not in worker_ports, worker_ports
        print("  herald@worker listens on %s" % (sorted(worker_ports) or "no port"))
        for role, pid in pids.items():
            os.kill(pid, signal.SIGTERM)
        for role, proc in procs.items():
            status = proc.wait(timeout=30)
            assert status == 0, "herald@%s exited %d on SIGTERM:\n%s" % (role, status, open(logs[role]).read())
    finally:
        stop(procs.values(), pids.values())


def syscall_group(name, cache={}):
    """The system calls of a systemd-analyze syscall-filter group, its nested groups expanded."""
    if name not in cache:
        out = run(["systemd-analyze", "syscall-filter", name]).stdout
        calls = set()
        for line in out.splitlines()[1:]:
            word = line.strip()
            if not word or word.startswith("#"):
                continue
            calls |= syscall_group(word) if word.startswith("@") else {word}
        cache[name] = calls
    return cache[name]


def unit_syscall_filter():
    """The allow list and the deny list of herald.service's SystemCallFilter= lines."""
    allowed, denied = set(), set()
    for line in open("/lib/systemd/system/herald.service"):
        if line.startswith("SystemCallFilter="):
            value = line.split("=", 1)[1].strip()
            target = denied if value.startswith("~") else allowed
            for word in value.lstrip("~").split():
                target |= syscall_group(word) if word.startswith("@") else {word}
    assert allowed and denied, "no SystemCallFilter= in herald.service"
    return allowed - denied


def syscalls_allowed():
    allowed = unit_syscall_filter()
    trace = "/tmp/serve.strace"
    status, _ = serve_start_reload_stop(["strace", "-f", "-qq", "-o", trace, "-u", "herald"], "/tmp/serve-strace.log")
    assert status == 0, "serve under strace exited %d:\n%s" % (status, open("/tmp/serve-strace.log").read())
    used = set()
    for line in open(trace):
        found = re.match(r"^\d+\s+(?:<\.\.\. )?([a-z_0-9]+)[( ]", line)
        if found and not line.split(None, 1)[1].startswith(("+++", "---")):
            used.add(found.group(1))
    # The first execve is strace's exec of herald, which systemd makes before its filter applies.
    assert len(used) > 20, sorted(used)
    refused = sorted(used - allowed - {"execve"})
    print("  serve made %d distinct system calls: %s" % (len(used), " ".join(sorted(used))))
    assert not refused, "system calls the units refuse (EPERM): %s" % refused
    assert "prlimit64" in used, "RLIMIT_CORE is not set through prlimit64 any more?"


def refuses_root():
    done = run(SERVE, check=False, cwd="/", timeout=30)
    assert done.returncode != 0, "serve ran as root:\n" + done.stdout
    assert "root" in done.stdout, done.stdout


def reinstalled():
    """The same package again, as an upgrade runs: prerm upgrade, postinst configure VERSION. The
    edited configuration, the keys and the data stay."""
    kept = {path: open(path, "rb").read() for path in [CONFIG, "/var/lib/herald/keyring",
                                                        "/var/lib/herald/tls/key.pem"]}
    done = run(["dpkg", "-i", "/tmp/herald.deb"], check=False)
    print(done.stdout.rstrip())
    assert done.returncode == 0, "dpkg -i again failed"
    for path, content in kept.items():
        assert open(path, "rb").read() == content, path + " changed"
    expect_mode(CONFIG, 0o640, "root", "herald")
    expect_mode("/var/lib/herald", 0o700, "herald", "herald", stat.S_ISDIR)


def removed():
    done = run(["dpkg", "-r", "herald"], check=False)
    print(done.stdout.rstrip())
    assert done.returncode == 0, "dpkg -r failed"
    assert not os.path.exists("/usr/bin/herald") and not os.path.exists("/lib/systemd/system/herald.service")
    # Kept until purge: the configuration, the data and keys, the user.
    for path in [CONFIG, "/var/lib/herald/keyring", "/var/lib/herald/herald.db"]:
        assert os.path.exists(path), path
    pwd.getpwnam("herald")


def purged():
    done = run(["dpkg", "-P", "herald"], check=False)
    print(done.stdout.rstrip())
    assert done.returncode == 0, "dpkg -P failed"
    for path in ["/etc/herald", "/var/lib/herald", "/etc/systemd/system/multi-user.target.wants/herald.service"]:
        assert not os.path.lexists(path), path + " left after purge"
    for lookup, name in [(pwd.getpwnam, "user"), (grp.getgrnam, "group")]:
        try:
            lookup("herald")
            raise AssertionError("the herald %s is left after purge" % name)
        except KeyError:
            pass
    assert run(["dpkg-query", "-W", "herald"], check=False).returncode != 0


def test_install_start_stop_remove_purge():
    assert os.geteuid() == 0, "the install test needs root (as make test runs)"
    install_in_a_copy()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == INSIDE:
        inside(sys.argv[2], sys.argv[3])
        sys.exit(0)
    DEB = package_path()
    print("package: " + DEB, flush=True)
    run_tests([test_lintian, test_fields_and_contents, test_units, test_install_start_stop_remove_purge])
