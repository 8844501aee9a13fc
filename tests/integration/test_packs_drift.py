"""Pack assignment and scheduled drift detection end to end on a real sshd
machine: packs assigned per machine and per tag with where each came from,
bad lists refused, a file changed by hand is config_drift on the next
scheduled run (one alert however many runs see it, naming the item, the diff
in the compliance record), resolved once the machine is compliant again; a
pack never complied with is config_noncompliant once; an unreachable
workstation is skipped without an alert; removal stops checking and its
cleanup removes only what still has the pack's content."""
import os
import pwd
import shutil
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, free_port  # noqa: E402
import packtargets  # noqa: E402
import sshd  # noqa: E402
from test_packs_apply import SUDO  # noqa: E402


def write(path, data, mode=0o644):
    with open(path, "w") as f:
        f.write(data)
    os.chmod(path, mode)


class PacksDriftTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.started = time.monotonic()
        cls.hub = Hub()
        packs = os.path.join(cls.hub.data_dir, "packs")
        os.makedirs(packs)
        cls.t = t = tempfile.mkdtemp(prefix="hlc-drift-target-")
        os.chmod(t, 0o755)
        u = pwd.getpwnam(sshd.USER)
        os.chown(t, u.pw_uid, u.pw_gid)  # the machine's user may remove its files
        write(os.path.join(packs, "drifty.yaml"),
              f"name: drifty\nfiles:\n  - {{path: {t}/a.conf, content: \"a=1\\n\"}}\n"
              f"  - {{path: {t}/b.conf, content: \"b=1\\n\"}}\n"
              "packages:\n  present: [git]\n")
        write(os.path.join(packs, "never.yaml"),
              f"name: never\nfiles:\n  - {{path: {t}/never.conf, content: \"x\\n\"}}\n")
        write(os.path.join(packs, "devpack.yaml"),
              "name: devpack\nservices:\n  running: [ssh]\npackages:\n  present: [git]\n")
        cls.hub.start()
        pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(1, pub, first_ip=200).start()
        cls.m = m = cls.fleet.machines[0]
        packtargets.install(m)
        packtargets.set_packages(m, [("git", "ii", "1:2.39.5-0+deb12u1")])
        m.set_unit("ssh", "active")
        r = cls.hub.post("/api/v1/servers", {
            "server_id": "box", "hostname": m.host, "ssh_port": m.port,
            "ssh_user": sshd.USER, "tags": ["dev"]})
        assert r.status == 201, r
        # A workstation that is asleep: nothing listens on its port.
        r = cls.hub.post("/api/v1/servers", {
            "server_id": "laptop", "hostname": "127.0.0.1", "ssh_port": free_port(),
            "machine_type": "workstation", "ssh_user": sshd.USER})
        assert r.status == 201, r
        cls.write_target()

    @classmethod
    def write_target(cls):
        for name, text in (("a.conf", "a=1\n"), ("b.conf", "b=1\n")):
            p = os.path.join(cls.t, name)
            write(p, text)
            u = pwd.getpwnam(sshd.USER)
            os.chown(p, u.pw_uid, u.pw_gid)

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        shutil.rmtree(cls.t, ignore_errors=True)
        print(f"test_packs_drift: {time.monotonic() - cls.started:.1f} s", file=sys.stderr)
        assert code == 0, f"hub exit {code}\n{log[-3000:]}"
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]

    def alerts(self, server, type_):
        r = self.hub.get(f"/api/v1/alerts?server_id={server}&type={type_}&limit=100")
        self.assertEqual(r.status, 200, r)
        return r.json["alerts"]

    def run_drift(self):
        r = self.hub.post("/api/v1/packs/drift/run")
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_1_bad_lists(self):
        h = self.hub
        assert_error(self, h.put("/api/v1/servers/box/packs", {"packs": ["nosuch"]}), 422,
                     field="packs")
        assert_error(self, h.put("/api/v1/servers/box/packs", {"packs": "drifty"}), 422,
                     field="packs")
        assert_error(self, h.put("/api/v1/servers/box/packs", {"packs": ["Bad!"]}), 422,
                     field="packs")
        assert_error(self, h.put("/api/v1/servers/box/packs", {"packs": ["drifty", "drifty"]}),
                     422, field="packs")
        assert_error(self, h.put("/api/v1/servers/box/packs",
                                 {"packs": [f"p{i}" for i in range(33)]}), 422, field="packs")
        assert_error(self, h.put("/api/v1/servers/box/packs", {"packs": [], "x": 1}), 422)
        assert_error(self, h.put("/api/v1/servers/box/packs",
                                 {"packs": [], "drift_interval_hours": 0}), 422,
                     field="drift_interval_hours")
        assert_error(self, h.put("/api/v1/servers/nobox/packs", {"packs": []}), 404)
        assert_error(self, h.get("/api/v1/servers/nobox/packs"), 404)
        assert_error(self, h.put("/api/v1/packs/assignments/tags/bad%20tag", {"packs": []}), 404)
        assert_error(self, h.put("/api/v1/config", {"packs": {"drift_severity": "urgent"}}), 422,
                     field="packs.drift_severity")
        assert_error(self, h.delete("/api/v1/servers/box/packs/drifty?cleanup=maybe"), 400,
                     field="cleanup")

    def test_2_assign_drift_resolve(self):
        h = self.hub
        # Nothing assigned: the schedule checks nothing.
        self.assertEqual(self.run_drift()["checks"], 0)
        r = h.put("/api/v1/servers/box/packs", {"packs": ["drifty", "never"],
                                                 "drift_interval_hours": 6})
        self.assertEqual(r.status, 200, r)
        r = h.put("/api/v1/packs/assignments/tags/dev", {"packs": ["devpack"]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"tag": "dev", "packs": ["devpack"]})
        self.assertEqual(h.get("/api/v1/packs/assignments").json, {"tags": {"dev": ["devpack"]}})
        h.put("/api/v1/servers/laptop/packs", {"packs": ["never"]})
        g = h.get("/api/v1/servers/box/packs").json
        self.assertEqual(g["packs"], ["drifty", "never"])
        self.assertEqual(g["effective"], [
            {"name": "devpack", "sources": ["tag:dev"]},
            {"name": "drifty", "sources": ["machine"]},
            {"name": "never", "sources": ["machine"]}])
        self.assertEqual((g["drift_interval_hours"], g["effective_drift_interval_hours"]), (6, 6))
        self.assertIsNone(g["last_drift_check"])
        self.assertEqual(h.get("/api/v1/servers/laptop/packs").json[
            "effective_drift_interval_hours"], 24)

        out = self.run_drift()
        # box: 3 packs checked; laptop: unreachable, tried, no alert
        self.assertEqual((out["checks"], out["compliant"], out["not_compliant"],
                          out["unreachable"]), (4, 2, 1, 1), out)
        self.assertIsNotNone(h.get("/api/v1/servers/box/packs").json["last_drift_check"])
        # the schedule's own round: box is not due for 6 h; the laptop, never
        # reached, is tried again
        r = h.post("/api/v1/packs/drift/run?due=true")
        self.assertEqual((r.json["machines"], r.json["checks"], r.json["unreachable"]), (1, 1, 1),
                         r.json)
        assert_error(self, h.post("/api/v1/packs/drift/run?due=soon"), 400, field="due")
        self.assertIsNone(h.get("/api/v1/servers/laptop/packs").json["last_drift_check"])
        self.assertEqual(self.alerts("laptop", "config_noncompliant"), [])
        nc = self.alerts("box", "config_noncompliant")
        self.assertEqual(len(nc), 1)
        self.assertEqual((nc[0]["subject"], nc[0]["severity"], nc[0]["status"]),
                         ("pack:never", "medium", "open"))
        self.assertIn(f"{self.t}/never.conf (missing)", nc[0]["message"])
        self.assertEqual(self.alerts("box", "config_drift"), [])

        # A file changed by hand: drift on the next run, alerted once.
        h.put("/api/v1/config", {"packs": {"drift_severity": "high"}})
        write(os.path.join(self.t, "a.conf"), "a=2\n")
        for _ in range(2):
            out = self.run_drift()
            self.assertEqual(out["not_compliant"], 2, out)
        d = self.alerts("box", "config_drift")
        self.assertEqual(len(d), 1, d)
        self.assertEqual((d[0]["subject"], d[0]["severity"], d[0]["status"]),
                         ("pack:drifty", "high", "open"))
        self.assertTrue(d[0]["message"].startswith(
            f"1 of 3 items differs: file {self.t}/a.conf (content)."), d[0]["message"])
        self.assertNotIn("b.conf", d[0]["message"])
        self.assertIn("/api/v1/servers/box/compliance", d[0]["message"])
        self.assertEqual(len(self.alerts("box", "config_noncompliant")), 1)
        # the diff is in the stored check the alert points at
        c = h.get("/api/v1/servers/box/compliance").json
        item = [x for x in c["latest"] if x["pack"] == "drifty"][0]["items"][0]
        self.assertEqual(item["diff"], f"--- {self.t}/a.conf (machine)\n+++ {self.t}/a.conf "
                         "(pack)\n@@ -1 +1 @@\n-a=2\n+a=1\n")

        # The alert offers the pack's apply as its fix, waiting for approval;
        # approving it applies the pack, and the apply's re-check resolves it.
        rem = d[0]["auto_remediation"]
        self.assertEqual((rem["available"], rem["action_type"], rem["status"]),
                         (True, "apply_pack", "pending"), rem)
        act = h.get(f"/api/v1/actions/{rem['action_id']}").json
        self.assertEqual((act["target"], act["alert_id"]), ("drifty", d[0]["alert_id"]))
        write(os.path.join(self.m.dir, "bin", "sudo"), SUDO, 0o755)
        r = h.post(f"/api/v1/actions/{rem['action_id']}/approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["apply"]["changes"],
                          r.json["apply"]["compliant"]), ("completed", 1, True), r.json)
        with open(os.path.join(self.t, "a.conf")) as f:
            self.assertEqual(f.read(), "a=1\n")
        d = self.alerts("box", "config_drift")
        self.assertEqual([(a["status"], a["auto_resolved"]) for a in d], [("resolved", True)])
        # Compliant again by hand counts as well (any stored check does).
        write(os.path.join(self.t, "a.conf"), "a=3\n")
        self.run_drift()
        write(os.path.join(self.t, "a.conf"), "a=1\n")
        r = h.post("/api/v1/servers/box/compliance/check", {"pack": "drifty"})
        self.assertTrue(r.json["compliant"], r.json)
        d = self.alerts("box", "config_drift")
        self.assertEqual([(a["status"], a["auto_resolved"]) for a in d],
                         [("resolved", True), ("resolved", True)])
        self.run_drift()
        self.assertEqual(len(self.alerts("box", "config_drift")), 2)
        # never complied, still not: still the one alert
        self.assertEqual(len(self.alerts("box", "config_noncompliant")), 1)

    def test_3_remove_and_cleanup(self):
        h = self.hub
        # a pack from a tag cannot be removed from the machine itself
        assert_error(self, h.delete("/api/v1/servers/box/packs/devpack"), 422, field="name")
        assert_error(self, h.delete("/api/v1/servers/box/packs/nosuch"), 404)
        assert_error(self, h.delete("/api/v1/servers/nobox/packs/drifty"), 404)
        r = h.delete("/api/v1/servers/box/packs/never")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"server_id": "box", "pack": "never", "removed": True,
                                  "cleanup": None})
        # its config_noncompliant alert goes with it
        nc = self.alerts("box", "config_noncompliant")
        self.assertEqual([(a["status"], a["auto_resolved"]) for a in nc], [("resolved", True)])
        write(os.path.join(self.t, "b.conf"), "b=changed by hand\n")
        r = h.delete("/api/v1/servers/box/packs/drifty?cleanup=true")
        self.assertEqual(r.status, 200, r)
        cl = r.json["cleanup"]
        t = self.t
        self.assertEqual(cl["files"], [{"path": f"{t}/a.conf", "outcome": "removed"},
                                       {"path": f"{t}/b.conf", "outcome": "changed"}])
        # git is still required by devpack (tag dev)
        self.assertEqual(cl["packages"], [{"name": "git", "outcome": "kept"}])
        self.assertEqual((cl["removed"], cl["left"]), (1, 1))
        self.assertFalse(os.path.exists(os.path.join(t, "a.conf")))
        with open(os.path.join(t, "b.conf")) as f:
            self.assertEqual(f.read(), "b=changed by hand\n")
        # only devpack is left to check
        out = self.run_drift()
        self.assertEqual((out["checks"], out["compliant"]), (2, 1), out)  # + laptop
        self.assertEqual(h.get("/api/v1/servers/box/packs").json["packs"], [])
        h.put("/api/v1/packs/assignments/tags/dev", {"packs": []})
        self.assertEqual(h.get("/api/v1/packs/assignments").json, {"tags": {}})
        self.assertEqual(h.get("/api/v1/servers/box/packs").json["effective"], [])


if __name__ == "__main__":
    unittest.main()
