"""The push agent beyond the basics: the one-line installer the hub serves
(files, modes, idempotence, uninstall, refusal of bad arguments), the agent
reading its config.yaml, reporting services / containers / pending updates
through stand-in systemctl, docker and apt-get, and its spool: created when
missing, never blocked by a heartbeat the hub refuses for good, and kept
under its byte cap while the hub is away."""
import hashlib
import json
import re
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
from hlc import Hub, free_port, spool_entries, wait_for  # noqa: E402

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

    def install(self, *args, check=True, token=None, env=None, script=None):
        """The one-liner; the enrollment token only in the environment. A new
        session: no terminal to ask on, as under a pipe from cron or CI."""
        src = f"cat '{script}'" if script else f"curl -fsS {self.hub.url}/agent/install.sh"
        cmd = f"{src} | sh -s -- " + " ".join(f"'{a}'" for a in args)
        e = {k: v for k, v in os.environ.items() if not k.startswith("HOMELABCMD_")}
        if token:
            e["HOMELABCMD_ENROLLMENT_TOKEN"] = token
        e.update(env or {})
        r = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=120, env=e,
                           start_new_session=True)
        if check:
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return r

    def enrollment_token(self, **body):
        r = self.hub.post("/api/v1/agents/enrollment-tokens", body)
        self.assertEqual(r.status, 201, r)
        return r.json["token"]

    def served_script(self, name, transform=lambda t: t):
        """The installer as the hub serves it, changed by transform, in a file."""
        r = self.hub.request("GET", "/agent/install.sh", key=None)
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(transform(r.raw.decode()))
        return path

    def test_served_files(self):
        r = self.hub.request("GET", "/agent/install.sh", key=None)
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/x-shellscript"))
        # The script is the repository's, with the served binary's SHA-256 written in.
        with open(os.path.join(os.path.dirname(__file__), "../../deploy/agent-install.sh"),
                  "rb") as f:
            src = f.read()
        with open(AGENT, "rb") as f:
            want = hashlib.sha256(f.read()).hexdigest()
        self.assertIn(b"AGENT_SHA256=@HLC_AGENT_SHA256@\n", src)
        self.assertEqual(r.raw, src.replace(b"@HLC_AGENT_SHA256@", want.encode()))
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
        tok = self.enrollment_token()
        r = self.install("--root", root, "--hub", self.hub.url, "--id", "den-pc", token=tok)
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
        self.assertIn('server_id: "den-pc"', text)
        # Enrolled: the one-time token is gone, the machine's own token is there,
        # and neither the admin key nor the enrollment token was written anywhere.
        self.assertNotIn("enrollment_token", text)
        self.assertNotIn(tok, text)
        self.assertNotIn(self.hub.api_key, text)
        self.assertNotIn("api_key", text)
        agent_tok = [ln.split('"')[1] for ln in text.splitlines() if ln.startswith("agent_token:")]
        self.assertEqual(len(agent_tok), 1, text)
        self.assertTrue(agent_tok[0].startswith("hlca_"))
        toks = self.hub.get("/api/v1/servers/den-pc/agent-tokens").json["agent_tokens"]
        self.assertEqual(len(toks), 1)
        # The same enrollment token again: spent, nothing installed over it.
        r = self.install("--root", os.path.join(self.tmp, "again"), "--hub", self.hub.url,
                         "--id", "den-pc2", token=tok, check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("already used", r.stderr)
        u = slurp(unit)
        self.assertIn("ExecStart=/usr/local/bin/homelabcmd-agent --config "
                      "/etc/homelabcmd-agent/config.yaml", u)
        self.assertIn("WantedBy=multi-user.target", u)
        # the operator adds services; a re-install (no new token: the agent token
        # stays) keeps them, once each
        with open(conf, "a") as f:
            f.write("services:\n  - ssh\n")
        self.install("--root", root, "--hub", self.hub.url + "/", "--id", "den-pc",
                     "--interval", "30")
        text = slurp(conf)
        self.assertEqual(text.count("agent_token:"), 1, text)
        self.assertIn(f'agent_token: "{agent_tok[0]}"', text)
        self.assertIn("interval: 30", text)
        self.assertIn("services:\n  - ssh", text)
        self.assertEqual(text.count("hub_url:"), 1)
        # the installed agent runs from that config and reports to the hub
        with open(conf, "w") as f:
            f.write(text.replace("interval: 30", "interval: 1"))
        a = Agent(["--config", conf, "--spool-dir", os.path.join(self.tmp, "spool")])
        try:
            ok = wait_for(lambda: self.hub.get("/api/v1/servers/den-pc").json.get("agent_auth")
                          == "agent_token")
            self.assertTrue(ok, slurp(a.log))
        finally:
            code, out = a.stop()
        self.assertEqual(code, 0, out)
        toks = self.hub.get("/api/v1/servers/den-pc/agent-tokens").json["agent_tokens"]
        self.assertIsNotNone(toks[0]["last_used_at"])
        # uninstall removes everything it wrote
        r = self.install("--root", root, "--uninstall")
        for p in (binp, conf, unit, os.path.join(root, "var/lib/homelabcmd-agent")):
            self.assertFalse(os.path.exists(p), p)

    def test_bad_arguments_install_nothing(self):
        root = os.path.join(self.tmp, "bad")
        tok = "hlce_" + "C" * 43  # well-formed; each case fails before it is used
        cases = [(["--hub", "ftp://x"], "--hub must be"),
                 (["--hub", self.hub.url, "--key", self.hub.api_key], "--key is gone"),
                 (["--hub", self.hub.url, "--id", "Bad Id"], "--id must be"),
                 (["--hub", self.hub.url, "--type", "toaster"], "--type"),
                 (["--hub", self.hub.url, "--interval", "1"], "--interval"),
                 (["--hub", f"http://127.0.0.1:{free_port()}"], "could not download"),
                 (["--hub", self.hub.url, "--token-file", "/nonexistent"], "--token-file"),
                 (["--wat"], "unknown option")]
        for args, msg in cases:
            r = self.install("--root", root, *args, check=False, token=tok)
            self.assertNotEqual(r.returncode, 0, args)
            self.assertIn(msg, r.stderr, (args, r.stderr))
            self.assertFalse(os.path.exists(os.path.join(root, "etc/homelabcmd-agent/config.yaml")),
                             args)
        for env, msg in [({}, "an enrollment token is required"),
                         ({"HOMELABCMD_ENROLLMENT_TOKEN": self.hub.api_key},
                          "not an enrollment token"),
                         ({"HOMELABCMD_ENROLLMENT_TOKEN": "hlce_x'; reboot #"},
                          "not an enrollment token")]:
            r = self.install("--root", root, "--hub", self.hub.url, check=False, env=env)
            self.assertNotEqual(r.returncode, 0, env)
            self.assertIn(msg, r.stderr, (env, r.stderr))
            self.assertFalse(os.path.exists(os.path.join(root, "etc/homelabcmd-agent/config.yaml")))

    def test_checksum_in_the_script_fails_closed(self):
        root = os.path.join(self.tmp, "sum")
        tok = self.enrollment_token()
        conf = os.path.join(root, "etc/homelabcmd-agent/config.yaml")
        binp = os.path.join(root, "usr/local/bin/homelabcmd-agent")
        # A binary that is not the one the script names (a tampered download, or
        # a script from elsewhere): refused, nothing installed, token not spent.
        wrong = self.served_script("wrong.sh", lambda t: re.sub(
            r"AGENT_SHA256=[0-9a-f]{64}", "AGENT_SHA256=" + "0" * 64, t))
        unsigned = self.served_script("unsigned.sh", lambda t: re.sub(
            r"AGENT_SHA256=[0-9a-f]{64}", "AGENT_SHA256=@HLC_AGENT_SHA256@", t))
        # No sha256sum on the machine: refused too (PATH without it).
        nosum = os.path.join(self.tmp, "nosum-bin")
        os.makedirs(nosum, exist_ok=True)
        for d in ("/usr/bin", "/bin", "/usr/sbin", "/sbin"):
            for n in os.listdir(d):
                if n != "sha256sum" and not os.path.lexists(os.path.join(nosum, n)):
                    os.symlink(os.path.join(d, n), os.path.join(nosum, n))
        for script, env, msg in [(wrong, {}, "checksum does not match"),
                                 (unsigned, {}, "carries no checksum"),
                                 (None, {"PATH": nosum}, "sha256sum is needed")]:
            r = self.install("--root", root, "--hub", self.hub.url, "--id", "sum-pc", token=tok,
                             env=env, script=script, check=False)
            self.assertNotEqual(r.returncode, 0, msg)
            self.assertIn(msg, r.stderr, (msg, r.stderr))
            self.assertFalse(os.path.exists(binp), msg)
            self.assertFalse(os.path.exists(conf), msg)
        # The untouched script with the same token still installs: it was never spent.
        self.install("--root", root, "--hub", self.hub.url, "--id", "sum-pc", token=tok)
        self.assertIn("agent_token:", slurp(conf))

    def test_token_from_a_file_never_in_the_process_list(self):
        root = os.path.join(self.tmp, "tokfile")
        tok = self.enrollment_token(server_id="file-pc")
        path = os.path.join(self.tmp, "enroll.token")
        with open(path, "w") as f:
            f.write(tok + "\n")
        # Every command the installer runs, with its arguments, is logged by
        # wrappers in front of PATH: the token must appear in none of them.
        spy = os.path.join(self.tmp, "spy-bin")
        log = os.path.join(self.tmp, "spy.log")
        os.makedirs(spy, exist_ok=True)
        for n in ("curl", "grep", "head", "tr", "cp", "mv", "chmod", "mkdir", "sed", "cut",
                  "uname", "sha256sum", "mktemp", "rm", "id", "hostname", "cat", "tail"):
            real = shutil.which(n)
            if real:
                write_exec(os.path.join(spy, n),
                           f'#!/bin/sh\nprintf "%s\\n" "{n} $*" >> {log}\nexec {real} "$@"\n')
        self.install("--root", root, "--hub", self.hub.url, "--id", "file-pc", "--token-file", path,
                     env={"PATH": spy + ":" + os.environ["PATH"]})
        self.assertIn("curl", slurp(log))
        self.assertNotIn(tok, slurp(log))
        self.assertNotIn(tok[5:], slurp(log))
        self.assertEqual(self.hub.get("/api/v1/servers/file-pc").status, 200)


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
