"""A print supplier's SFTP drop for tests: OpenSSH's sshd on 127.0.0.1 at a free port, run as the
current user with keys made for the test (ssh-keygen), public-key login only, internal-sftp.

    drop = SftpDrop(workdir)      # started; drop.config() is Herald's [letters] table
    drop.batches()                # {batch_id: {"manifest": {...}, "files": {name: bytes}}}
    drop.stop(); drop.start()     # the supplier down for a while
"""
import json
import os
import pwd
import socket
import subprocess
import time


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SftpDrop:
    def __init__(self, workdir):
        self.dir = os.path.join(workdir, "sftp")
        self.drop = os.path.join(self.dir, "drop")
        os.makedirs(self.drop, exist_ok=True)
        self.host_key = os.path.join(self.dir, "host_key")
        self.client_key = os.path.join(self.dir, "client_key")
        for key in (self.host_key, self.client_key):
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "herald-test", "-f", key],
                           check=True, stdin=subprocess.DEVNULL)
        with open(self.client_key + ".pub") as src, open(os.path.join(self.dir, "authorized_keys"), "w") as dst:
            dst.write(src.read())
        listed = subprocess.run(["ssh-keygen", "-lf", self.host_key + ".pub", "-E", "sha256"],
                                check=True, capture_output=True, text=True).stdout
        self.fingerprint = listed.split()[1]
        self.user = pwd.getpwuid(os.geteuid()).pw_name
        self.port = _free_port()
        if os.geteuid() == 0:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # sshd's privilege-separation directory
        config = os.path.join(self.dir, "sshd_config")
        with open(config, "w") as f:
            f.write("\n".join([
                "ListenAddress 127.0.0.1", "Port %d" % self.port, "HostKey " + self.host_key,
                "PidFile " + os.path.join(self.dir, "sshd.pid"),
                "AuthorizedKeysFile " + os.path.join(self.dir, "authorized_keys"), "AllowUsers " + self.user,
                "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
                "PermitRootLogin prohibit-password", "StrictModes no", "UsePAM no", "UseDNS no", "PrintMotd no",
                "AllowTcpForwarding no", "X11Forwarding no", "Subsystem sftp internal-sftp", ""]))
        self.sshd_config = config
        self.log_path = os.path.join(self.dir, "sshd.log")
        self.start()

    def start(self):
        """Starts sshd (again, after stop(): same port, keys and drop)."""
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(["/usr/sbin/sshd", "-D", "-e", "-f", self.sshd_config], stdout=self.log,
                                     stderr=self.log)
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.time() > deadline:
                    with open(self.log_path, errors="replace") as f:
                        raise RuntimeError("sshd did not start: " + f.read())
                time.sleep(0.05)

    def config(self):
        """Herald's [letters] configuration for this drop."""
        return ('[letters]\nsupplier = "sftp"\n\n[letters.sftp]\nhost = "127.0.0.1"\nport = %d\nusername = "%s"\n'
                'private_key_file = "%s"\nhost_key_sha256 = "%s"\nremote_dir = "%s"\ntimeout_ms = 5000\n'
                % (self.port, self.user, self.client_key, self.fingerprint, self.drop))

    def batches(self):
        """Complete batches (renamed from .tmp) in the drop, with their files."""
        out = {}
        for name in sorted(os.listdir(self.drop)):
            path = os.path.join(self.drop, name)
            if name.endswith(".tmp") or name == "reports" or not os.path.isdir(path):
                continue
            files = {}
            for f in os.listdir(path):
                with open(os.path.join(path, f), "rb") as data:
                    files[f] = data.read()
            out[name] = {"manifest": json.loads(files.pop("manifest.json")), "files": files}
        return out

    def report(self, name, letters):
        """Leaves a report file as a supplier does: written under another name, then renamed."""
        reports = os.path.join(self.drop, "reports")
        os.makedirs(reports, exist_ok=True)
        path = os.path.join(reports, name)
        with open(path + ".part", "w") as f:
            json.dump({"letters": letters}, f)
        os.rename(path + ".part", path)
        return path

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()
