"""Machines that are not Debian on x86 with OpenSSH: what a homelab also runs.

- Dropbear (Debian's dropbear-bin, the SSH server of OpenWrt and many NAS and
  router firmwares) instead of OpenSSH: key exchange, host key pinning (a new
  key is refused and alerted), one pooled session reused across polls, and a
  command (a service restart through sudo -n) all work.
- A busybox machine: OpenSSH chrooted (ChrootDirectory) into a root whose only
  programs are busybox applets (no GNU coreutils, no timeout(1), no systemd,
  no /sys, so no temperatures), with its own /proc, its root a read-only
  mount point and an Alpine os-release,
  as on Alpine or OpenWrt. Every section such a machine can give is
  collected and is exactly the kernel's truth.

Both run on loopback (127.0.0.x) and are ended by PID; the chroot's mounts
are undone at the end.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from hlc import Hub
import sshd
from test_poller import meminfo_total

DROPBEAR = shutil.which("dropbear") or "/usr/sbin/dropbear"
DROPBEARKEY = shutil.which("dropbearkey") or "/usr/bin/dropbearkey"
BUSYBOX = shutil.which("busybox") or "/bin/busybox"

SUDO = r"""#!/bin/sh
# sudo stand-in (see test_executor.py): insists on -n, logs, runs the rest.
echo "$$ sudo $*" >> "$HLC_MACHINE/commands.log"
[ "$1" = "-n" ] || { echo "sudo: a password is required" >&2; exit 1; }
shift
exec "$@"
"""

# Dropbear has no SetEnv: a forced command in authorized_keys gives the
# session the machine's PATH (its stand-ins first), as the OpenSSH machines'
# SetEnv does, then runs what was asked in the login shell's place.
GATE = r"""#!/bin/sh
PATH=%(bin)s:/usr/bin:/bin; HLC_MACHINE=%(dir)s; export PATH HLC_MACHINE
printf '%%s\n' "$SSH_ORIGINAL_COMMAND" >> "$HLC_MACHINE/exec.log"
eval "$SSH_ORIGINAL_COMMAND"
"""


def wait_port(host, port, proc, what):
    deadline = time.time() + 10
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on {host}:{port}")


def children(pid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(d))
            except OSError:
                pass
    return out


class DropbearTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sshd.ensure_users()
        cls.hub = Hub().start()
        cls.pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.base = tempfile.mkdtemp(prefix="hlc-dropbear-")
        os.chmod(cls.base, 0o755)
        # The machine's directory, stand-ins and state as for an OpenSSH
        # machine; dropbear serves it instead of sshd.
        cls.m = sshd.Machine(cls.base, 0, [cls.pub], ip=sshd.loopback_ip(90), name="router")
        bin_dir = os.path.join(cls.m.dir, "bin")
        with open(os.path.join(bin_dir, "sudo"), "w") as f:
            f.write(SUDO)
        gate = os.path.join(bin_dir, "dropbear-gate")
        with open(gate, "w") as f:
            f.write(GATE % {"bin": bin_dir, "dir": cls.m.dir})
        for p in ("sudo", "dropbear-gate"):
            os.chmod(os.path.join(bin_dir, p), 0o755)
        cls.host_key = os.path.join(cls.base, "dropbear_ed25519_host_key")
        cls.install_keys(f'command="{gate}",no-pty,no-port-forwarding {cls.pub}')
        cls.new_host_key()
        cls.port = sshd.free_port(cls.m.host)
        cls.proc = None
        cls.start_dropbear()
        cls.m.set_unit("dnsmasq", "inactive")
        r = cls.hub.post("/api/v1/servers", {
            "server_id": "router", "hostname": cls.m.host, "ssh_port": cls.port,
            "ssh_user": sshd.USER, "machine_type": "workstation",
            "expected_services": [{"name": "dnsmasq", "critical": False}]})
        assert r.status == 201, r

    @classmethod
    def install_keys(cls, line):
        home = pwd.getpwnam(sshd.USER).pw_dir
        uid = pwd.getpwnam(sshd.USER).pw_uid
        ssh_dir = os.path.join(home, ".ssh")
        os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
        path = os.path.join(ssh_dir, "authorized_keys")
        with open(path, "w") as f:
            f.write(line + "\n")
        for p, mode in ((ssh_dir, 0o700), (path, 0o600)):
            os.chown(p, uid, -1)
            os.chmod(p, mode)
        cls.authorized_keys = path

    @classmethod
    def new_host_key(cls):
        if os.path.exists(cls.host_key):
            os.unlink(cls.host_key)
        subprocess.run([DROPBEARKEY, "-t", "ed25519", "-f", cls.host_key], check=True,
                       capture_output=True)

    @classmethod
    def start_dropbear(cls):
        cls.log = open(os.path.join(cls.base, "dropbear.log"), "ab")
        # -F foreground, -E log to stderr, -s no passwords, -j/-k no forwarding.
        cls.proc = subprocess.Popen(
            [DROPBEAR, "-F", "-E", "-s", "-j", "-k", "-p", f"{cls.m.host}:{cls.port}",
             "-r", cls.host_key, "-P", os.path.join(cls.base, "dropbear.pid")],
            stdout=cls.log, stderr=cls.log)
        wait_port(cls.m.host, cls.port, cls.proc, "dropbear")

    @classmethod
    def stop_dropbear(cls):
        if cls.proc and cls.proc.poll() is None:
            for pid in children(cls.proc.pid):
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            cls.proc.terminate()
            cls.proc.wait(timeout=10)
        cls.log.close()

    @classmethod
    def tearDownClass(cls):
        cls.stop_dropbear()
        try:
            os.unlink(cls.authorized_keys)
        except OSError:
            pass
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.base, ignore_errors=True)
        assert code == 0, log[-3000:]

    def test_1_polls_over_one_pooled_session(self):
        for _ in range(4):
            r = self.hub.post("/api/v1/servers/router/poll")
            self.assertEqual(r.status, 200, r.json)
        latest = self.hub.get("/api/v1/metrics/router/latest").json
        self.assertEqual(latest["memory_total_bytes"], meminfo_total())
        self.assertTrue(latest["filesystems"])
        self.assertEqual(latest["os"]["kernel"], os.uname().release)
        svc = {s["service_name"]: s["status"] for s in
               self.hub.get("/api/v1/servers/router/services").json["services"]}
        self.assertEqual(svc, {"dnsmasq": "stopped"})
        # dropbear forks one process per connection: four polls, one session
        self.assertEqual(len(children(self.proc.pid)), 1)
        with open(os.path.join(self.m.dir, "exec.log")) as f:
            execs = f.read().splitlines()
        self.assertGreaterEqual(len(execs), 4)
        self.assertTrue(all(e.startswith("exec sh -s --") for e in execs), execs)

    def test_2_restart_runs_through_dropbear(self):
        r = self.hub.post("/api/v1/servers/router/services/dnsmasq/restart")
        self.assertEqual(r.status, 200, r.json)
        self.assertEqual(r.json["status"], "completed", r.json)
        self.assertEqual(r.json["exit_code"], 0)
        self.assertEqual(self.m.unit_state("dnsmasq"), "active")
        self.assertIn("sudo -n systemctl restart dnsmasq", self.m.command_log())

    def test_3_changed_host_key_is_refused_and_alerted(self):
        type(self).stop_dropbear()
        type(self).new_host_key()
        type(self).start_dropbear()
        r = self.hub.post("/api/v1/servers/router/poll")
        self.assertNotEqual(r.status, 200)
        alerts = self.hub.get("/api/v1/alerts?server_id=router").json["alerts"]
        self.assertIn("host_key_changed", [a["type"] for a in alerts])
        n = len(self.m.exec_log())
        self.assertEqual(self.hub.post("/api/v1/servers/router/poll").status, r.status)
        self.assertEqual(len(self.m.exec_log()), n)  # nothing ran on the new key


class BusyboxTest(unittest.TestCase):
    """OpenSSH chrooted into a busybox-only root."""

    @classmethod
    def setUpClass(cls):
        sshd.ensure_users()
        # ChrootDirectory wants every component root-owned and not writable by
        # others, so not under /tmp.
        parent = "/var/lib/homelabcmd-tests"
        os.makedirs(parent, mode=0o755, exist_ok=True)
        cls.root = tempfile.mkdtemp(prefix="busybox-", dir=parent)
        os.chmod(cls.root, 0o755)
        cls.proc_mounted = False
        cls.make_root(cls.root)
        cls.hub = Hub().start()
        pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.base = tempfile.mkdtemp(prefix="hlc-bb-")
        os.chmod(cls.base, 0o755)
        cls.m = sshd.Machine(cls.base, 0, [pub], ip=sshd.loopback_ip(91), name="alpine")
        cls.m.extra_config = f"ChrootDirectory {cls.root}\nForceCommand none\n"
        cls.m.start()
        r = cls.hub.post("/api/v1/servers", {
            "server_id": "alpine", "hostname": cls.m.host, "ssh_port": cls.m.port,
            "ssh_user": sshd.USER, "machine_type": "workstation",
            "expected_services": [{"name": "crond", "critical": False}]})
        assert r.status == 201, r

    @classmethod
    def make_root(cls, root):
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "dev", "etc", "tmp"):
            os.makedirs(os.path.join(root, d), mode=0o755, exist_ok=True)
        os.chmod(os.path.join(root, "tmp"), 0o1777)
        shutil.copy2(BUSYBOX, os.path.join(root, "bin", "busybox"))
        # its shared libraries, at the paths the loader looks for them
        out = subprocess.run(["ldd", BUSYBOX], capture_output=True, text=True).stdout
        for line in out.splitlines():
            parts = line.split()
            path = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
            if path.startswith("/"):
                dst = os.path.join(root, path.lstrip("/"))
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(os.path.realpath(path), dst)
        applets = subprocess.run([BUSYBOX, "--list"], capture_output=True, text=True,
                                 check=True).stdout.split()
        for a in applets:
            if a in ("busybox", "timeout"):  # a router's busybox often has no timeout
                continue
            link = os.path.join(root, "bin", a)
            if not os.path.lexists(link):
                os.symlink("busybox", link)
        os.mknod(os.path.join(root, "dev", "null"), 0o666 | 0o020000, os.makedev(1, 3))
        os.chmod(os.path.join(root, "dev", "null"), 0o666)
        with open(os.path.join(root, "etc", "os-release"), "w") as f:
            f.write('NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n'
                    'PRETTY_NAME="Alpine Linux v3.20"\n')
        # The root bound onto itself is a mount point, as a machine's / is: a
        # chrooted process sees only the mounts below its root in /proc/mounts.
        subprocess.run(["mount", "--bind", root, root], check=True)
        cls.proc_mounted = True
        subprocess.run(["mount", "-t", "proc", "proc", os.path.join(root, "proc")], check=True)
        # and read-only, as an OpenWrt squashfs or a NAS firmware root is
        subprocess.run(["mount", "-o", "remount,bind,ro", root], check=True)

    @classmethod
    def tearDownClass(cls):
        cls.m.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        if cls.proc_mounted:
            subprocess.run(["umount", "-l", os.path.join(cls.root, "proc")], check=False)
            subprocess.run(["umount", "-l", cls.root], check=False)
        shutil.rmtree(cls.root, ignore_errors=True)
        shutil.rmtree(cls.base, ignore_errors=True)
        assert code == 0, log[-3000:]

    def test_every_section_busybox_can_give(self):
        r = self.hub.post("/api/v1/servers/alpine/poll")
        self.assertEqual(r.status, 200, r.json)
        # Samples are one per second per machine: a second poll within the same
        # second is a duplicate, not a rate.
        time.sleep(1.1)
        self.assertEqual(self.hub.post("/api/v1/servers/alpine/poll").status, 200)
        latest = self.hub.get("/api/v1/metrics/alpine/latest").json
        self.assertEqual(latest["memory_total_bytes"], meminfo_total())
        self.assertEqual(latest["os"]["kernel"], os.uname().release)
        self.assertEqual(latest["os"]["architecture"], os.uname().machine)
        self.assertEqual(latest["cpu_cores"], os.cpu_count())
        self.assertIsNotNone(latest["load_1m"])
        self.assertIsNotNone(latest["uptime_seconds"])
        self.assertIsNotNone(latest["cpu_percent"])  # two polls: a rate
        with open("/proc/net/dev") as f:
            ifaces = {l.split(":")[0].strip() for l in f.read().splitlines()[2:]}
        names = [n["name"] for n in latest["network"]]
        self.assertTrue(names and set(names) <= ifaces, (names, ifaces))
        root_fs = [fs for fs in latest["filesystems"] if fs["mount"] == "/"]
        self.assertEqual(len(root_fs), 1, latest["filesystems"])
        st = os.statvfs(self.root)
        self.assertEqual(root_fs[0]["total_bytes"], st.f_blocks * st.f_frsize)
        self.assertTrue(st.f_flag & os.ST_RDONLY)  # nothing the collector needs to write
        self.assertEqual(latest.get("temperatures") or [], [])  # no /sys here
        m = self.hub.get("/api/v1/servers/alpine").json
        self.assertEqual(m["os_distribution"], "Alpine Linux v3.20")
        # no systemctl on the machine: the unit's state is not guessed
        svc = {s["service_name"]: s["status"] for s in
               self.hub.get("/api/v1/servers/alpine/services").json["services"]}
        self.assertNotIn(svc.get("crond"), ("running", "stopped", "failed"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
