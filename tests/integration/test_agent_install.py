"""The push agent beyond the basics: the one-line installer the hub serves
(files, modes, idempotence, uninstall, refusal of bad arguments), the agent
reading its config.yaml, reporting services / containers / pending updates
through stand-in systemctl, docker and apt-get, and its spool: created when
missing, never blocked by a heartbeat the hub refuses for good, and kept
under its byte cap while the hub is away."""
import hashlib
import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, free_port, spool_entries  # noqa: E402

BUILD = os.environ.get("HLC_BUILD_DIR", "build")
AGENT = os.path.join(BUILD, "agent-lite", "homelabcmd-agent")

SYSTEMCTL = r"""#!/bin/sh
# stand-in: systemctl show -p PROPS -- unit...; state in $HLC_STATE/<unit>
[ "$1" = show ] || exit 1
shift 3
[ "$1" = -- ] && shift
for u in "$@"; do
  s=$(cat "$HLC_STATE/$u" 2>/dev/null || echo missing)
  case "$s" in
    active) printf 'Id=%s.service\nLoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nMemoryCurrent=1048576\nCPUUsageNSec=5000\n\n' "$u" ;;
    missing) printf 'Id=%s.service\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nMainPID=0\nMemoryCurrent=[not set]\nCPUUsageNSec=[not set]\n\n' "$u" ;;
    *) printf 'Id=%s.service\nLoadState=loaded\nActiveState=%s\nSubState=dead\nMainPID=0\nMemoryCurrent=[not set]\nCPUUsageNSec=[not set]\n\n' "$u" "$s" ;;
  esac
done
"""
DOCKER = r"""#!/bin/sh
[ "$1" = ps ] || exit 1
echo '{"ID":"a1b2c3","Names":"web","Image":"nginx:1.25","State":"running","Status":"Up 2 hours"}'
echo '{"ID":"d4e5f6","Names":"backup","Image":"restic:0.16","State":"exited","Status":"Exited (1) 5 minutes ago"}'
"""
APT_GET = r"""#!/bin/sh
echo "$*" >> "$HLC_STATE/apt.log"
echo "Reading package lists..."
echo "Inst openssl [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])"
echo "Inst curl [7.88.1-10] (7.88.1-10+deb12u4 Debian:12.5/stable [amd64])"
echo "Conf openssl (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])"
"""


def write_exec(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)


def slurp(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def wait_for(pred, timeout=30, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class Agent:
    """A real agent process, stopped by PID."""

    def __init__(self, args, env=None, log=None):
        self.log = log or tempfile.mktemp(prefix="hlc-agent-", suffix=".log")
        e = {k: v for k, v in os.environ.items() if not k.startswith("HOMELABCMD_AGENT_")}
        e.update(env or {})
        with open(self.log, "wb") as lf:
            self.proc = subprocess.Popen([AGENT, *args], env=e, stdout=lf,
                                         stderr=subprocess.STDOUT)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=20)
        out = slurp(self.log)
        assert "AddressSanitizer" not in out and "runtime error" not in out, out
        return code, out


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        cls.tmp = tempfile.mkdtemp(prefix="hlc-install-")

    @classmethod
    def tearDownClass(cls):
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, log[-3000:]
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]

    def install(self, *args, check=True):
        cmd = (f"curl -fsS {self.hub.url}/agent/install.sh | sh -s -- " +
               " ".join(f"'{a}'" for a in args))
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=120)
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def test_served_files(self):
        r = self.hub.request("GET", "/agent/install.sh", key=None)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/x-shellscript"))
        with open(os.path.join(os.path.dirname(__file__), "../../deploy/agent-install.sh"),
                  "rb") as f:
            self.assertEqual(r.raw, f.read())
        r = self.hub.request("GET", "/agent/homelabcmd-agent", key=None)
        self.assertEqual(r.status, 200)
        with open(AGENT, "rb") as f:
            self.assertEqual(r.raw, f.read())
        self.assertEqual(r.headers["X-Checksum-Sha256"], hashlib.sha256(r.raw).hexdigest())
        self.assertEqual(r.headers["X-HomelabCmd-Arch"], os.uname().machine)
        # a path climbing out of /agent/ reaches nothing without the key
        r = self.hub.request("GET", "/agent/../api/v1/servers", key=None)
        self.assertIn(r.status, (401, 404))
        self.assertNotIn(b"servers", r.raw)

    def test_install_reinstall_uninstall(self):
        root = os.path.join(self.tmp, "root")
        r = self.install("--root", root, "--hub", self.hub.url, "--key", self.hub.api_key,
                         "--id", "den-pc")
        self.assertIn("installed under", r.stdout)
        binp = os.path.join(root, "usr/local/bin/homelabcmd-agent")
        conf = os.path.join(root, "etc/homelabcmd-agent/config.yaml")
        unit = os.path.join(root, "etc/systemd/system/homelabcmd-agent.service")
        with open(binp, "rb") as a, open(AGENT, "rb") as b:
            self.assertEqual(a.read(), b.read())
        self.assertTrue(os.stat(binp).st_mode & stat.S_IXUSR)
        self.assertEqual(stat.S_IMODE(os.stat(conf).st_mode), 0o600)
        self.assertEqual(stat.S_IMODE(os.stat(os.path.dirname(conf)).st_mode), 0o700)
        text = slurp(conf)
        self.assertIn(f'hub_url: "{self.hub.url}"', text)
        self.assertIn(f'api_key: "{self.hub.api_key}"', text)
        self.assertIn('server_id: "den-pc"', text)
        u = slurp(unit)
        self.assertIn("ExecStart=/usr/local/bin/homelabcmd-agent --config "
                      "/etc/homelabcmd-agent/config.yaml", u)
        self.assertIn("WantedBy=multi-user.target", u)
        # the operator adds services; a re-install with a new key keeps them, once each
        with open(conf, "a") as f:
            f.write("services:\n  - ssh\n")
        self.install("--root", root, "--hub", self.hub.url + "/", "--key", "other-key-123",
                     "--id", "den-pc", "--interval", "30")
        text = slurp(conf)
        self.assertEqual(text.count("api_key:"), 1, text)
        self.assertIn('api_key: "other-key-123"', text)
        self.assertIn("interval: 30", text)
        self.assertIn("services:\n  - ssh", text)
        self.assertEqual(text.count("hub_url:"), 1)
        # the installed agent runs from that config and reports to the hub
        with open(conf, "w") as f:
            f.write(text.replace("other-key-123", self.hub.api_key).replace("interval: 30",
                                                                              "interval: 1"))
        a = Agent(["--config", conf, "--spool-dir", os.path.join(self.tmp, "spool")])
        try:
            ok = wait_for(lambda: self.hub.get("/api/v1/servers/den-pc").status == 200)
            self.assertTrue(ok, slurp(a.log))
        finally:
            code, out = a.stop()
        self.assertEqual(code, 0, out)
        # uninstall removes everything it wrote
        r = self.install("--root", root, "--uninstall")
        for p in (binp, conf, unit, os.path.join(root, "var/lib/homelabcmd-agent")):
            self.assertFalse(os.path.exists(p), p)

    def test_bad_arguments_install_nothing(self):
        root = os.path.join(self.tmp, "bad")
        cases = [(["--hub", "ftp://x", "--key", "k"], "--hub must be"),
                 (["--hub", self.hub.url, "--key", "k;reboot"], "--key holds"),
                 (["--hub", self.hub.url, "--key", "k", "--id", "Bad Id"], "--id must be"),
                 (["--hub", self.hub.url, "--key", "k", "--type", "toaster"], "--type"),
                 (["--hub", self.hub.url, "--key", "k", "--interval", "1"], "--interval"),
                 (["--hub", self.hub.url], "--key is required"),
                 (["--hub", f"http://127.0.0.1:{free_port()}", "--key", "k"], "could not download"),
                 (["--wat"], "unknown option")]
        for args, msg in cases:
            r = self.install("--root", root, *args, check=False)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(msg, r.stderr, (args, r.stderr))
            self.assertFalse(os.path.exists(os.path.join(root, "etc/homelabcmd-agent/config.yaml")),
                             args)


class AgentReportsTest(unittest.TestCase):
    """Services, containers and updates through stand-ins, from config.yaml."""

    def test_services_containers_updates_land(self):
        tmp = tempfile.mkdtemp(prefix="hlc-agent-")
        try:
            bindir, state = os.path.join(tmp, "bin"), os.path.join(tmp, "state")
            os.mkdir(bindir)
            os.mkdir(state)
            write_exec(os.path.join(bindir, "systemctl"), SYSTEMCTL)
            write_exec(os.path.join(bindir, "docker"), DOCKER)
            write_exec(os.path.join(bindir, "apt-get"), APT_GET)
            with open(os.path.join(state, "nginx"), "w") as f:
                f.write("active")
            with open(os.path.join(state, "plex"), "w") as f:
                f.write("inactive")
            with Hub() as hub:
                conf = os.path.join(tmp, "config.yaml")
                with open(conf, "w") as f:
                    f.write(f'hub_url: "{hub.url}"\napi_key: "{hub.api_key}"\n'
                            f"server_id: desk\ninterval: 1\nservices:\n  - nginx\n  - plex\n"
                            f"  - ghost\ndocker: auto\nupdates_check_hours: 6\n")
                env = {"PATH": bindir + ":" + os.environ["PATH"], "HLC_STATE": state}
                once = subprocess.run([AGENT, "--config", conf, "--once"], env=env,
                                      capture_output=True, text=True, timeout=60)
                hb = json.loads(once.stdout)
                self.assertEqual([(s["name"], s["status"]) for s in hb["services"]],
                                 [("nginx", "running"), ("plex", "stopped"), ("ghost", "stopped")])
                self.assertEqual(hb["services"][0]["pid"], 4242)
                self.assertEqual((hb["updates_available"], hb["security_updates"]), (2, 1))
                a = Agent(["--config", conf], env=env)
                try:
                    def states():
                        r = hub.get("/api/v1/servers/desk/services")
                        return r.status == 200 and {s["service_name"]: s["status"]
                                                    for s in r.json["services"]}
                    self.assertEqual(wait_for(states),
                                     {"nginx": "running", "plex": "stopped", "ghost": "stopped"},
                                     slurp(a.log))
                    ks = hub.get("/api/v1/servers/desk/containers").json["containers"]
                    self.assertEqual(sorted((k["name"], k["state"]) for k in ks),
                                     [("backup", "exited"), ("web", "running")])
                    latest = hub.get("/api/v1/metrics/desk/latest").json
                    self.assertEqual((latest["updates_available"], latest["security_updates"]),
                                     (2, 1))
                    # plex starts: the next heartbeat says so
                    with open(os.path.join(state, "plex"), "w") as f:
                        f.write("active")
                    self.assertTrue(wait_for(lambda: (states() or {}).get("plex") == "running"))
                    types = {x["type"] for x in
                             hub.get("/api/v1/alerts?server_id=desk").json["alerts"]}
                    self.assertTrue({"service_down", "container_down", "security_updates"} <= types,
                                    types)
                finally:
                    code, out = a.stop()
                self.assertEqual(code, 0, out)
                # apt-get ran once per agent process (every 6 hours), not per heartbeat:
                # once for --once, once for the running agent's first heartbeat
                self.assertEqual(slurp(os.path.join(state, "apt.log")).splitlines(),
                                 ["-s -o Debug::NoLocking=1 upgrade"] * 2)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class SpoolTest(unittest.TestCase):
    def test_missing_dir_created_and_byte_cap_kept(self):
        tmp = tempfile.mkdtemp(prefix="hlc-spool-")
        try:
            spool = os.path.join(tmp, "a", "b", "spool")   # does not exist
            dead = f"http://127.0.0.1:{free_port()}"       # nothing listens
            a = Agent(["--config", "/dev/null", "--hub", dead, "--key", "k", "--id", "away",
                       "--interval", "1", "--spool-dir", spool, "--spool-max-bytes", "4096"])
            try:
                self.assertTrue(wait_for(lambda: os.path.isdir(spool) and
                                         len(spool_entries(spool)) >= 2, timeout=20), slurp(a.log))
                self.assertEqual(stat.S_IMODE(os.stat(spool).st_mode), 0o700)
                time.sleep(5)
                sizes = []
                for n in spool_entries(spool):
                    try:
                        sizes.append(os.path.getsize(os.path.join(spool, n)))
                    except FileNotFoundError:
                        pass    # the oldest, dropped by the agent since the listing
                files, size, one = sizes, sum(sizes), max(sizes)
                self.assertLessEqual(size, 4096 + one, (len(files), size))
                self.assertLess(len(files), 7)
            finally:
                code, out = a.stop()
            self.assertEqual(code, 0, out)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_refused_heartbeat_does_not_block_the_spool(self):
        tmp = tempfile.mkdtemp(prefix="hlc-spool-")
        try:
            spool = os.path.join(tmp, "spool")
            os.mkdir(spool, 0o700)
            with Hub() as hub:
                good = json.loads(subprocess.run(
                    [AGENT, "--config", "/dev/null", "--once", "--id", "stuck"],
                    capture_output=True, text=True, timeout=60, check=True).stdout)
                t0 = int(time.time()) - 120
                good["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t0))
                with open(os.path.join(spool, "%020d.json" % (t0 - 10)), "w") as f:
                    f.write('{"server_id": "stuck", "broken": ')      # 400: never storable
                with open(os.path.join(spool, "%020d.json" % t0), "w") as f:
                    json.dump(good, f)
                a = Agent(["--config", "/dev/null", "--hub", hub.url, "--key", hub.api_key,
                           "--id", "stuck", "--interval", "1", "--spool-dir", spool])
                try:
                    self.assertTrue(wait_for(lambda: spool_entries(spool) == [], timeout=30),
                                    slurp(a.log))
                finally:
                    code, out = a.stop()
                self.assertEqual(code, 0, out)
                self.assertIn("dropping spooled", out)
                db = sqlite3.connect(os.path.join(hub.data_dir, "homelabcmd.db"), timeout=10)
                try:
                    got = [r[0] for r in db.execute(
                        "SELECT timestamp FROM metrics WHERE server_id='stuck' AND timestamp=?",
                        (t0,))]
                finally:
                    db.close()
                self.assertEqual(got, [t0])   # the good one behind the refused one was stored
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
