"""Config packs end to end: operator packs loaded (and refused) from
DATA_DIR/packs, compliance checks over SSH on real sshd machines whose files,
packages (dpkg-query stand-in), units, sysctl values and timezone the test
sets, every item's verdict and every diff line asserted, results stored with
history, the fleet matrix, and hostile input refused before any machine."""
import json
import os
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


def lab_pack(t):
    return f"""name: lab
description: the integration test's pack
files:
  - {{path: {t}/app.conf, content: "a=1\\nb=2\\n", mode: "0644", owner: root}}
  - {{path: {t}/same.conf, content: "ok\\n", mode: "0644", owner: root, group: root}}
  - {{path: {t}/new.conf, content: "new\\n"}}
  - {{path: {t}/old.conf, absent: true}}
  - {{path: {t}/bin.dat, content: "x\\n"}}
  - {{path: {t}/big.log, content: "x\\n"}}
  - {{path: {t}/nonl.conf, content: "end\\n"}}
  - {{path: {t}/secret.conf, content: "s\\n"}}
  - {{path: {t}/mode.conf, mode: "0600"}}
packages:
  present: [git, htop]
  absent: [telnet, nis]
services:
  enabled: [ssh]
  running: [ssh, cron]
settings:
  sysctl: {{vm.swappiness: "10", net.core.somaxconn: "4096", kernel.nosuch: "1"}}
  timezone: Europe/London
  lines:
    - {{path: {t}/environment, line: "EDITOR=vim", match: "^EDITOR="}}
    - {{path: {t}/environment, line: "PATH=/usr/bin:/bin"}}
"""


# (kind, check, target suffix, status, mismatch) in the pack's item order.
EXPECTED = [
    ("file", "present", "/app.conf", "fail", ["content"]),
    ("file", "present", "/same.conf", "pass", []),
    ("file", "present", "/new.conf", "fail", ["missing"]),
    ("file", "absent", "/old.conf", "fail", ["present"]),
    ("file", "present", "/bin.dat", "fail", ["content"]),
    ("file", "present", "/big.log", "fail", ["content"]),
    ("file", "present", "/nonl.conf", "fail", ["content"]),
    ("file", "present", "/secret.conf", "error", []),
    ("file", "present", "/mode.conf", "fail", ["mode"]),
    ("package", "installed", "git", "pass", []),
    ("package", "installed", "htop", "fail", ["missing"]),
    ("package", "removed", "telnet", "fail", ["present"]),
    ("package", "removed", "nis", "pass", []),
    ("service", "enabled", "ssh", "pass", []),
    ("service", "running", "ssh", "pass", []),
    ("service", "running", "cron", "fail", ["state"]),
    ("setting", "sysctl", "vm.swappiness", "fail", ["state"]),
    ("setting", "sysctl", "net.core.somaxconn", "pass", []),
    ("setting", "sysctl", "kernel.nosuch", "error", []),
    ("setting", "timezone", "timezone", "fail", ["state"]),
    ("setting", "line", "/environment", "fail", ["state"]),
    ("setting", "line", "/environment", "pass", []),
]


def write(path, data, mode=0o644):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


class PacksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub()
        cls.packs_dir = os.path.join(cls.hub.data_dir, "packs")
        os.makedirs(cls.packs_dir)
        # The machines' files, in a folder of their own (all machines share
        # this host's filesystem; the pack names absolute paths).
        cls.t = tempfile.mkdtemp(prefix="hlc-packs-target-")
        os.chmod(cls.t, 0o755)
        write(os.path.join(cls.packs_dir, "lab.yaml"), lab_pack(cls.t))
        write(os.path.join(cls.packs_dir, "lab-child.yml"),
              "name: lab-child\nextends: [lab]\nsettings:\n  timezone: Etc/UTC\n")
        cls.hub.start()
        pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(2, pub, first_ip=120).start()
        for i, m in enumerate(cls.fleet.machines):
            packtargets.install(m)
            r = cls.hub.post("/api/v1/servers", {
                "server_id": f"box{i}", "hostname": m.host, "ssh_port": m.port,
                "ssh_user": sshd.USER})
            assert r.status == 201, r
        cls.m = cls.fleet.machines[0]
        cls.set_machine(cls.m, cls.t)

    @staticmethod
    def set_machine(m, t):
        write(os.path.join(t, "app.conf"), "a=1\nb=3\n")
        write(os.path.join(t, "same.conf"), "ok\n")
        write(os.path.join(t, "old.conf"), "stale\n")
        write(os.path.join(t, "bin.dat"), b"\x7fELF\x00\x01\x02\x03")
        write(os.path.join(t, "big.log"), "y" * (100 * 1024))
        write(os.path.join(t, "nonl.conf"), "end")
        write(os.path.join(t, "secret.conf"), "s\n", 0o600)
        write(os.path.join(t, "mode.conf"), "m\n", 0o644)
        write(os.path.join(t, "environment"), "PATH=/usr/bin:/bin\nEDITOR=nano\n")
        packtargets.set_packages(m, [("git", "ii", "1:2.39.5-0+deb12u1"),
                                     ("telnet", "ii", "0.17+2.4-2+deb12u1"),
                                     ("nis", "rc", "4.17")])
        m.set_unit("ssh", "active")
        m.set_enabled("ssh", "enabled")
        m.set_unit("cron", "inactive")
        packtargets.set_sysctl(m, "vm.swappiness", "60")
        packtargets.set_sysctl(m, "net.core.somaxconn", "4096")
        packtargets.set_timezone(m, "Etc/UTC")

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        shutil.rmtree(cls.t, ignore_errors=True)
        assert code == 0, f"hub exit {code}\n{log[-3000:]}"
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]

    def check(self, server, pack):
        return self.hub.post(f"/api/v1/servers/{server}/compliance/check", {"pack": pack})

    def test_check_every_item_and_diff(self):
        r = self.check("box0", "lab")
        self.assertEqual(r.status, 200, r)
        res = r.json
        self.assertEqual(res["server_id"], "box0")
        self.assertEqual(res["pack"], "lab")
        self.assertFalse(res["compliant"])
        items = res["items"]
        got = [(i["kind"], i["check"], i["target"].replace(self.t, ""), i["status"],
                i["mismatch"]) for i in items]
        self.assertEqual(got, EXPECTED)
        by = {i["target"].replace(self.t, ""): i for i in items if i["kind"] == "file"}
        t = self.t
        self.assertEqual(by["/app.conf"]["diff"],
                         f"--- {t}/app.conf (machine)\n+++ {t}/app.conf (pack)\n"
                         "@@ -1,2 +1,2 @@\n a=1\n-b=3\n+b=2\n")
        self.assertEqual(by["/new.conf"]["diff"],
                         f"--- /dev/null\n+++ {t}/new.conf (pack)\n@@ -0,0 +1 @@\n+new\n")
        self.assertEqual(by["/nonl.conf"]["diff"],
                         f"--- {t}/nonl.conf (machine)\n+++ {t}/nonl.conf (pack)\n"
                         "@@ -1 +1 @@\n-end\n\\ No newline at end of file\n+end\n")
        self.assertEqual(by["/bin.dat"]["diff"], f"Binary file {t}/bin.dat differs (not shown)\n")
        self.assertEqual(by["/big.log"]["diff"],
                         f"File {t}/big.log is larger than 64 KiB on the machine (not diffed)\n")
        self.assertIsNone(by["/same.conf"]["diff"])
        self.assertIsNone(by["/old.conf"]["diff"])
        self.assertIn("could not be read", by["/secret.conf"]["reason"])
        self.assertEqual(by["/mode.conf"]["expected"], "present, mode 0600")
        self.assertEqual(by["/mode.conf"]["actual"], "present, mode 0644")
        pk = {i["target"]: i for i in items if i["kind"] == "package"}
        self.assertEqual(pk["git"]["actual"], "installed 1:2.39.5-0+deb12u1")
        self.assertEqual(pk["htop"]["actual"], "not installed")
        self.assertEqual(pk["telnet"]["actual"], "installed 0.17+2.4-2+deb12u1")
        self.assertEqual(pk["nis"]["actual"], "removed, config files remain")
        st = {i["target"]: i for i in items if i["kind"] == "setting"}
        self.assertEqual((st["vm.swappiness"]["expected"], st["vm.swappiness"]["actual"]),
                         ("10", "60"))
        self.assertEqual((st["timezone"]["expected"], st["timezone"]["actual"]),
                         ("Europe/London", "Etc/UTC"))
        self.assertIn("no such sysctl", st["kernel.nosuch"]["reason"])
        line = items[20]
        self.assertEqual(line["expected"], "EDITOR=vim")
        self.assertEqual(line["actual"], "line absent; lines matching: EDITOR=nano")
        self.assertEqual(res["counts"], {"pass": 7, "fail": 13, "error": 2})
        # One exec for the whole pack, and nothing changed on the machine.
        execs = [l for l in self.m.exec_log() if l == "sh -s"]
        self.assertGreaterEqual(len(execs), 1)
        with open(os.path.join(self.t, "app.conf")) as f:
            self.assertEqual(f.read(), "a=1\nb=3\n")

        # stored, with history
        r2 = self.check("box0", "lab")
        self.assertEqual(r2.status, 200)
        c = self.hub.get("/api/v1/servers/box0/compliance").json
        lab = [x for x in c["latest"] if x["pack"] == "lab"]
        self.assertEqual(len(lab), 1)
        self.assertEqual(lab[0]["counts"], {"pass": 7, "fail": 13, "error": 2})
        self.assertEqual([i["status"] for i in lab[0]["items"]], [e[3] for e in EXPECTED])
        self.assertEqual(lab[0]["items"][0]["diff"], by["/app.conf"]["diff"])
        self.assertGreaterEqual(len([h for h in c["history"] if h["pack"] == "lab"]), 2)

    def test_fix_then_compliant_and_fleet(self):
        t = os.path.join(self.t, "ok")
        os.makedirs(t, exist_ok=True)
        write(os.path.join(t, "motd"), "hello\n")
        write(os.path.join(self.packs_dir, "ok.yaml"),
              f"name: ok\nfiles:\n  - {{path: {t}/motd, content: \"hello\\n\", mode: \"0644\"}}\n"
              "services:\n  running: [ssh]\n")
        self.hub.post("/api/v1/packs/reload")
        r = self.check("box0", "ok")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.json["compliant"], r.json)
        self.assertEqual(r.json["counts"], {"pass": 2, "fail": 0, "error": 0})
        f = self.hub.get("/api/v1/compliance").json
        self.assertIn("ok", f["packs"])
        rows = {s["server_id"]: s for s in f["servers"]}
        self.assertEqual(rows["box0"]["packs"]["ok"]["status"], "compliant")
        self.assertEqual(rows["box1"]["packs"]["ok"]["status"], "never_checked")
        self.assertIsNone(rows["box1"]["packs"]["ok"]["checked_at"])

    def test_parallel_checks(self):
        out = {}

        def run(sid):
            out[sid] = self.check(sid, "lab-child")
        th = [threading.Thread(target=run, args=(f"box{i}",)) for i in range(2)]
        for x in th:
            x.start()
        for x in th:
            x.join()
        for sid in ("box0", "box1"):
            self.assertEqual(out[sid].status, 200, out[sid])
            self.assertEqual(len(out[sid].json["items"]), len(EXPECTED))
        # lab-child's timezone replaced lab's: Etc/UTC passes on box0
        tz = [i for i in out["box0"].json["items"] if i["target"] == "timezone"][0]
        self.assertEqual((tz["status"], tz["expected"], tz["origin"]),
                         ("pass", "Etc/UTC", "lab-child"))

    def test_list_get_and_refused_files(self):
        bad = os.path.join(self.packs_dir, "evil.yaml")
        write(bad, "name: evil\nfiles:\n  - path: \"/etc/x;touch /tmp/pwned\"\n")
        write(os.path.join(self.packs_dir, "cyc-a.yaml"), "name: cyc-a\nextends: [cyc-b]\n")
        write(os.path.join(self.packs_dir, "cyc-b.yaml"), "name: cyc-b\nextends: [cyc-a]\n")
        write(os.path.join(self.packs_dir, "dup.yaml"), "name: base\n")
        l = self.hub.post("/api/v1/packs/reload").json
        names = {p["name"]: p for p in l["packs"]}
        for n in ("base", "developer-lite", "developer-max"):
            self.assertEqual(names[n]["source"], "builtin")
        self.assertEqual(names["lab"]["source"], "user")
        self.assertEqual(names["lab-child"]["extends"], ["lab"])
        self.assertNotIn("evil", names)
        self.assertNotIn("cyc-a", names)
        errs = {e["file"]: e for e in l["errors"]}
        self.assertEqual((errs["evil.yaml"]["line"], errs["evil.yaml"]["column"]), (3, 11))
        self.assertIn("must be absolute", errs["evil.yaml"]["message"])
        # the cycle is reported where it closes (file, line, column of the entry)
        cyc = [e for e in l["errors"] if "cycle" in e["message"]]
        self.assertEqual(len(cyc), 1, l["errors"])
        self.assertIn(cyc[0]["file"], ("cyc-a.yaml", "cyc-b.yaml"))
        self.assertEqual((cyc[0]["line"], cyc[0]["column"]), (2, 11))
        self.assertIn("already used", errs["dup.yaml"]["message"])
        # The hostile pack never reached a machine.
        for m in self.fleet.machines:
            self.assertFalse(any("pwned" in x for x in m.exec_log()))
        self.assertFalse(os.path.exists("/tmp/pwned"))
        # Fixed on disk: picked up without a restart or a reload call (mtime).
        time.sleep(0.05)
        write(bad, "name: evil\ndescription: fixed\n")
        os.utime(bad, (time.time() + 5, time.time() + 5))
        time.sleep(1.2)
        l = self.hub.get("/api/v1/packs").json
        self.assertIn("evil", [p["name"] for p in l["packs"]])
        for f in ("evil.yaml", "cyc-a.yaml", "cyc-b.yaml", "dup.yaml"):
            os.unlink(os.path.join(self.packs_dir, f))
        self.hub.post("/api/v1/packs/reload")
        # resolved, extends flattened
        g = self.hub.get("/api/v1/packs/developer-max").json
        origins = {i["origin"] for i in g["items"]}
        self.assertEqual(origins, {"base", "developer-lite", "developer-max"})
        w = [i for i in g["items"] if i["target"] == "fs.inotify.max_user_watches"]
        self.assertEqual([(x["value"], x["origin"]) for x in w], [("1048576", "developer-max")])
        assert_error(self, self.hub.get("/api/v1/packs/nosuch"), 404, "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/packs/..%2Fetc"), 404)

    def test_bad_requests(self):
        n = len(self.m.exec_log())
        assert_error(self, self.check("box0", "nosuch"), 422, field="pack")
        assert_error(self, self.check("box0", "Bad;Name"), 422, field="pack")
        assert_error(self, self.hub.post("/api/v1/servers/box0/compliance/check", {"pack": 5}),
                     422, field="pack")
        assert_error(self, self.hub.post("/api/v1/servers/box0/compliance/check", {}), 422,
                     field="pack")
        assert_error(self, self.hub.post("/api/v1/servers/box0/compliance/check",
                                         {"pack": "lab", "x": 1}), 422)
        assert_error(self, self.hub.post("/api/v1/servers/box0/compliance/check",
                                         raw=b"{not json"), 400)
        assert_error(self, self.check("nosuch", "lab"), 404)
        assert_error(self, self.hub.get("/api/v1/servers/nosuch/compliance"), 404)
        self.assertEqual(len(self.m.exec_log()), n)

    def test_z_machine_down(self):
        """Last: the stopped machine's session is in its reconnect backoff afterwards."""
        m = self.fleet.machines[1]
        m.stop()
        try:
            r = self.check("box1", "lab")
            self.assertEqual(r.status, 409, r)
        finally:
            m.start()


if __name__ == "__main__":
    unittest.main(verbosity=2)
