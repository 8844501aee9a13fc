"""Applying config packs end to end on real sshd machines (non-root SSH user,
sudo -n through the logging stand-in): the dry run plans exactly the failing
items and changes nothing; the real apply is a pending apply_pack action until
approved, then writes files atomically and drives the apt-get / systemctl /
sysctl / timedatectl stand-ins so their state changes as the real CLIs' would,
reports each item, and re-checks (compliant); a second apply changes nothing;
a package that fails to install skips its unit; the SSH session killed
mid-apply fails the action with a reason and leaves every file old or new."""
import json
import os
import pwd
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error  # noqa: E402
import packtargets  # noqa: E402
import sshd  # noqa: E402
from test_sudoers import matching, rules  # noqa: E402

# The logging sudo stand-in of test_executor.py: -n only, then the command as
# the same user (the real sudo would reach the host's own tools).
SUDO = r"""#!/bin/sh
echo "$$ sudo $*" >> "$HLC_MACHINE/commands.log"
if [ "$1" != "-n" ]; then echo "sudo: a password is required" >&2; exit 1; fi
shift
# a full disk: state/fsize caps the size of files the command writes (ulimit -f)
[ -f "$HLC_MACHINE/state/fsize" ] && ulimit -f "$(cat "$HLC_MACHINE/state/fsize")"
exec "$@"
"""


def pack_text(t, name="web"):
    return f"""name: {name}
files:
  - {{path: {t}/app.conf, content: "port=8080\\nworkers=4\\n", mode: "0640"}}
  - {{path: {t}/same.conf, content: "ok\\n", mode: "0644"}}
  - {{path: {t}/old.conf, absent: true}}
packages:
  present: [nginx, htop, brokenpkg]
  absent: [telnet]
services:
  enabled: [nginx, brokenpkg]
  running: [cron]
settings:
  sysctl: {{vm.swappiness: "10", net.core.somaxconn: "4096"}}
  timezone: Europe/London
  lines:
    - {{path: {t}/environment, line: "EDITOR=vim", match: "^EDITOR="}}
"""


def write(path, data, mode=0o644, owner=None):
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)
    if owner:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def read(path):
    with open(path) as f:
        return f.read()


class PacksApplyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        sshd.ensure_users()
        cls.user = pwd.getpwnam(sshd.USER)
        cls.sysctl_dir = tempfile.mkdtemp(prefix="hlc-apply-sysctl-")
        os.chown(cls.sysctl_dir, cls.user.pw_uid, cls.user.pw_gid)
        cls.hub = Hub(env={"HOMELABCMD_SYSCTL_DIR": cls.sysctl_dir})
        cls.packs_dir = os.path.join(cls.hub.data_dir, "packs")
        os.makedirs(cls.packs_dir)
        cls.targets = []
        for i in range(2):
            t = tempfile.mkdtemp(prefix=f"hlc-apply-target{i}-")
            os.chmod(t, 0o755)
            os.chown(t, cls.user.pw_uid, cls.user.pw_gid)
            cls.targets.append(t)
        write(os.path.join(cls.packs_dir, "web.yaml"), pack_text(cls.targets[0]))
        write(os.path.join(cls.packs_dir, "web2.yaml"), pack_text(cls.targets[1], "web2"))
        cls.hub.start()
        pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(2, pub, first_ip=140).start()
        for i, m in enumerate(cls.fleet.machines):
            packtargets.install(m)
            p = os.path.join(m.dir, "bin", "sudo")
            write(p, SUDO, 0o755)
            r = cls.hub.post("/api/v1/servers", {
                "server_id": f"app{i}", "hostname": m.host, "ssh_port": m.port,
                "ssh_user": sshd.USER})
            assert r.status == 201, r
            cls.set_machine(m, cls.targets[i])

    @classmethod
    def set_machine(cls, m, t):
        u = cls.user
        write(os.path.join(t, "app.conf"), "port=80\n", 0o644, u)
        write(os.path.join(t, "same.conf"), "ok\n", 0o644, u)
        write(os.path.join(t, "old.conf"), "stale\n", 0o644, u)
        write(os.path.join(t, "environment"), "PATH=/bin\nEDITOR=nano\n", 0o644, u)
        packtargets.set_packages(m, [("htop", "ii", "3.2.2-2"), ("telnet", "ii", "0.17-1")])
        with open(os.path.join(m.dir, "state", "uninstallable"), "w") as f:
            f.write("brokenpkg\n")
        m.set_unit("cron", "inactive")
        m.set_unit("nginx", "inactive")
        m.set_unit("brokenpkg", "inactive")
        m.set_enabled("nginx", "disabled")
        m.set_enabled("brokenpkg", "disabled")
        packtargets.set_sysctl(m, "vm.swappiness", "60")
        packtargets.set_sysctl(m, "net.core.somaxconn", "4096")
        packtargets.set_timezone(m, "Etc/UTC")
        for d in ("state", "."):
            os.system(f"chown -R {u.pw_uid}:{u.pw_gid} {os.path.join(m.dir, d)}")

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        for t in cls.targets + [cls.sysctl_dir]:
            shutil.rmtree(t, ignore_errors=True)
        assert code == 0, f"hub exit {code}\n{log[-3000:]}"
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]

    def apply(self, server, pack, dry):
        return self.hub.post(f"/api/v1/servers/{server}/packs/{pack}/apply", {"dry_run": dry})

    def test_1_plan_apply_approve_then_nothing(self):
        m, t = self.fleet.machines[0], self.targets[0]
        r = self.apply("app0", "web", True)
        self.assertEqual(r.status, 200, r)
        plan = r.json
        self.assertTrue(plan["dry_run"])
        self.assertFalse(plan["compliant"])
        got = sorted((s["target"].replace(t, ""), s["step"]) for s in plan["plan"])
        self.assertEqual(got, sorted([
            ("/app.conf", "write_file"), ("/old.conf", "remove_file"),
            ("nginx", "install"), ("brokenpkg", "install"), ("telnet", "remove"),
            ("nginx", "enable"), ("brokenpkg", "enable"), ("cron", "start"),
            ("vm.swappiness", "set_sysctl"), ("timezone", "set_timezone"),
            ("/environment", "edit_line")]))
        self.assertEqual(plan["changes"], 11)
        by = {(s["target"], s["step"]): s for s in plan["plan"]}
        self.assertEqual(by[("brokenpkg", "enable")]["depends_on"], "brokenpkg")
        self.assertIn("+workers=4", by[(f"{t}/app.conf", "write_file")]["diff"])
        # the dry run changed nothing
        self.assertEqual(read(os.path.join(t, "app.conf")), "port=80\n")
        self.assertNotIn("apt-get install", "\n".join(m.command_log()))

        # for real: pending until approved (auto-approve is off by default)
        r = self.apply("app0", "web", False)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["status"], "pending")
        aid = r.json["action_id"]
        self.assertEqual(read(os.path.join(t, "app.conf")), "port=80\n")
        r = self.hub.post(f"/api/v1/actions/{aid}/approve")
        self.assertEqual(r.status, 200, r)
        a = r.json
        self.assertEqual(a["action_type"], "apply_pack")
        self.assertEqual(a["status"], "failed")  # brokenpkg cannot install
        ap = a["apply"]
        out = {(i["target"].replace(t, ""), i["step"]): i for i in ap["items"]}
        self.assertEqual(out[("brokenpkg", "install")]["outcome"], "failed")
        self.assertEqual(out[("brokenpkg", "install")]["exit_code"], 100)
        self.assertEqual(out[("brokenpkg", "install")]["stderr"],
                         "E: Unable to locate package brokenpkg")
        self.assertEqual(out[("brokenpkg", "enable")]["outcome"], "skipped")
        self.assertIn("brokenpkg", out[("brokenpkg", "enable")]["stderr"])
        for k, i in out.items():
            if k[0] != "brokenpkg":
                self.assertEqual(i["outcome"], "applied", (k, i))
        self.assertEqual(ap["changes"], 9)
        self.assertEqual(ap["failed"], 1)
        self.assertEqual(ap["skipped"], 1)
        self.assertEqual(out[("/app.conf", "write_file")]["previous"], "port=80\n")
        prev = self.hub.get("/api/v1/servers/app0/packs/web/previous")
        self.assertEqual(prev.status, 200, prev)
        kept = {f["path"].replace(t, ""): f["content"] for f in prev.json["files"]}
        self.assertEqual(kept, {"/app.conf": "port=80\n"})  # the line edit's file was not fetched
        assert_error(self, self.hub.get("/api/v1/servers/ghost/packs/web/previous"), 404)
        self.assertFalse(ap["compliant"])
        self.assertEqual(ap["counts"]["fail"], 2)
        # the machine changed as the real CLIs would have changed it
        self.assertEqual(read(os.path.join(t, "app.conf")), "port=8080\nworkers=4\n")
        self.assertEqual(os.stat(os.path.join(t, "app.conf")).st_mode & 0o7777, 0o640)
        self.assertFalse(os.path.exists(os.path.join(t, "old.conf")))
        self.assertEqual(read(os.path.join(t, "environment")), "PATH=/bin\nEDITOR=vim\n")
        pk = read(os.path.join(m.dir, "state", "packages"))
        self.assertIn("nginx ii ", pk)
        self.assertIn("telnet rc ", pk)
        self.assertEqual(m.unit_state("nginx"), "active")
        self.assertEqual(m.unit_state("cron"), "active")
        self.assertEqual(read(os.path.join(m.dir, "state", "enabled", "nginx")), "enabled\n")
        self.assertEqual(read(os.path.join(m.dir, "state", "sysctl", "vm.swappiness")), "10\n")
        self.assertEqual(read(os.path.join(m.dir, "state", "timezone")), "Europe/London\n")
        dropin = read(os.path.join(self.sysctl_dir, "90-homelabcmd-web.conf"))
        self.assertIn("vm.swappiness = 10\n", dropin)
        self.assertIn("net.core.somaxconn = 4096\n", dropin)
        log = "\n".join(m.command_log())
        for want in ("sudo -n apt-get install -y --no-install-recommends nginx",
                     "sudo -n apt-get remove -y telnet",
                     "sudo -n systemctl enable --now nginx", "sudo -n systemctl start cron",
                     f"sudo -n sysctl -p {self.sysctl_dir}/90-homelabcmd-web.conf",
                     "sudo -n timedatectl set-timezone Europe/London"):
            self.assertIn(want, log)
        self.assertNotIn("enable --now brokenpkg", log)
        # deploy/sudoers.homelabcmd allows every sudo call the apply made, each
        # by exactly one rule, and nothing wider of the same shape
        table = rules()
        calls = [l[len("sudo -n "):].split(" ") for l in m.command_log()
                 if l.startswith("sudo -n ")]
        self.assertGreaterEqual(len({c[0] for c in calls}), 10, calls)
        for argv in calls:
            self.assertEqual(len(matching(table, argv)), 1, argv)
        tmp = f"{t}/.hlc-apply.AbC123"
        for bad in (["mv", "-fT", f"{t}/app.conf", "/etc/shadow"], ["rm", "-rf", "/"],
                    ["chmod", "4755", tmp], ["cat", "/etc/../etc/shadow"], ["cat", "etc/x"],
                    ["dd", "of=/etc/shadow", "oflag=nofollow", "conv=fsync", "status=none"],
                    ["dd", f"of={tmp}", "conv=fsync", "status=none"],
                    ["apt-get", "install", "-y", "--no-install-recommends", "a;reboot"],
                    ["apt-get", "install", "-y", "nginx"], ["systemctl", "mask", "nginx"],
                    ["sysctl", "-w", "kernel.x=1"], ["timedatectl", "set-ntp", "false"],
                    ["chown", "root:root", "/etc/shadow"], ["mktemp", "/etc/x.XXXXXX"],
                    ["grep", "-Fxq", "-e", "x", "../a"], ["sha256sum", "/etc/../shadow"]):
            self.assertEqual(matching(table, bad), [], bad)
        self.assertEqual([f for f in os.listdir(t) if "hlc-apply" in f], [])
        # audited: the action's output names every item and its command
        audit = self.hub.get("/api/v1/audit?limit=5").json["entries"]
        row = [e for e in audit if e.get("action_id") == aid]
        self.assertEqual(len(row), 1, audit)
        self.assertIn("apt-get install -y --no-install-recommends nginx", row[0]["stdout"])

        # brokenpkg dropped from the machine's reach: make it installable, apply
        # again (auto-approved now): only the two left change, then nothing.
        os.unlink(os.path.join(m.dir, "state", "uninstallable"))
        self.hub.put("/api/v1/config", {"remediation": {
            "auto_approve_enabled": True, "auto_approve_actions": ["apply_pack"]}})
        try:
            r = self.apply("app0", "web", False)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["status"], "completed", r.json)
            self.assertEqual(r.json["changes"], 2)
            self.assertTrue(r.json["compliant"])
            before = os.stat(os.path.join(t, "app.conf")).st_ino
            n = len(m.command_log())
            r = self.apply("app0", "web", False)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["status"], "completed")
            self.assertEqual(r.json["changes"], 0)
            self.assertEqual(r.json["items"], [])
            self.assertTrue(r.json["compliant"])
            self.assertEqual(os.stat(os.path.join(t, "app.conf")).st_ino, before)
            self.assertFalse(any("sudo" in l for l in m.command_log()[n:]))
        finally:
            self.hub.put("/api/v1/config", {"remediation": {
                "auto_approve_enabled": False, "auto_approve_actions": []}})
        c = self.hub.get("/api/v1/servers/app0/compliance").json
        web = [x for x in c["latest"] if x["pack"] == "web"]
        self.assertTrue(web[0]["compliant"])

    def test_2_session_dies_mid_apply(self):
        m, t = self.fleet.machines[1], self.targets[1]
        with open(os.path.join(m.dir, "state", "slow_install"), "w") as f:
            f.write("30\n")
        self.hub.put("/api/v1/config", {"remediation": {
            "auto_approve_enabled": True, "auto_approve_actions": ["apply_pack"]}})
        res = {}

        def run():
            res["r"] = self.apply("app1", "web2", False)
        th = threading.Thread(target=run)
        th.start()
        try:
            deadline = time.time() + 20
            while time.time() < deadline and not any(
                    "apt-get install" in l for l in m.command_log()):
                time.sleep(0.05)
            self.assertTrue(any("apt-get install" in l for l in m.command_log()))
            m.stop()  # sshd and every process of the session, by PID
            th.join(40)
        finally:
            self.hub.put("/api/v1/config", {"remediation": {
                "auto_approve_enabled": False, "auto_approve_actions": []}})
        r = res["r"]
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "failed")
        self.assertIn("SSH session broke", r.json["failure_reason"])
        # every file old or new, none partial, no temp copy left
        self.assertIn(read(os.path.join(t, "app.conf")), ("port=80\n", "port=8080\nworkers=4\n"))
        self.assertIn(read(os.path.join(t, "environment")),
                      ("PATH=/bin\nEDITOR=nano\n", "PATH=/bin\nEDITOR=vim\n"))
        self.assertEqual([f for f in os.listdir(t) if "hlc-apply" in f], [])
        a = self.hub.get(f"/api/v1/actions/{r.json['action_id']}").json
        self.assertEqual(a["status"], "failed")

    def test_4_disk_full_and_symlink(self):
        """On app0 (compliant after test 1): a write that fails leaves the old
        file whole; a symlink planted at a target is refused, not followed."""
        m, t = self.fleet.machines[0], self.targets[0]
        app = os.path.join(t, "app.conf")
        write(app, "port=81\n", 0o640, self.user)
        with open(os.path.join(m.dir, "state", "fsize"), "w") as f:
            f.write("0\n")
        self.hub.put("/api/v1/config", {"remediation": {
            "auto_approve_enabled": True, "auto_approve_actions": ["apply_pack"]}})
        try:
            r = self.apply("app0", "web", False)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["status"], "failed")
            (item,) = r.json["items"]
            self.assertEqual((item["step"], item["outcome"]), ("write_file", "failed"), item)
            self.assertNotEqual(item["exit_code"], 0)
            self.assertEqual(read(app), "port=81\n")
            self.assertEqual([f for f in os.listdir(t) if "hlc-apply" in f], [])
            os.unlink(os.path.join(m.dir, "state", "fsize"))
            victim = os.path.join(t, "victim")
            write(victim, "precious\n", 0o600, self.user)
            os.unlink(app)
            os.symlink(victim, app)
            r = self.apply("app0", "web", False)
            self.assertEqual(r.json["status"], "failed", r.json)
            (item,) = r.json["items"]
            self.assertEqual((item["step"], item["outcome"]), ("refuse", "failed"), item)
            self.assertEqual(read(victim), "precious\n")
            self.assertTrue(os.path.islink(app))
        finally:
            self.hub.put("/api/v1/config", {"remediation": {
                "auto_approve_enabled": False, "auto_approve_actions": []}})

    def test_3_refusals(self):
        assert_error(self, self.hub.post("/api/v1/servers/app0/packs/web/apply", {}), 422)
        assert_error(self, self.apply("app0", "web", "yes"), 422)
        assert_error(self, self.hub.post("/api/v1/servers/app0/packs/web/apply",
                                         {"dry_run": True, "x": 1}), 422)
        assert_error(self, self.apply("app0", "nosuch", True), 404)
        assert_error(self, self.apply("app0", "Bad;name", True), 404)
        assert_error(self, self.apply("ghost", "web", False), 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
