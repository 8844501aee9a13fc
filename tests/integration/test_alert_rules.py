"""Alert rules end to end on a real hub fed by agent heartbeats, with the
local Slack stand-in of test_alerts.py as the notification peer.

Per-machine thresholds: a NAS whose disk warning is overridden to 90 % raises
nothing at 85 % while a Pi on the global 80 % does, the override shows as
the threshold of the alert it does raise, partial PUTs and null removals,
validation (422 in the TRD form, nothing half-written), and a global change
that would break a machine's override is refused.

Mute rules: a muted machine's alert is recorded (marked muted) but sends no
message, neither raised nor resolved, while another machine's does; a muted
critical service down still queues its restart; after
the rule is removed, or after it expires by itself, messages flow again;
creating and removing rules leave audit rows; bad bodies get 422."""
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import assert_error  # noqa: E402
from test_agent import heartbeat  # noqa: E402
from test_alerts import SlackHubBase, wait_for  # noqa: E402

# every override key at its global default
DEFAULTS = {"disk_warning_percent": 80, "disk_critical_percent": 90,
            "memory_warning_percent": 85, "memory_critical_percent": 95,
            "cpu_warning_percent": 90, "cpu_critical_percent": 98,
            "cpu_sustained_samples": 3}


class RulesBase(SlackHubBase):
    """The Slack hub of test_alerts.py, with what these tests ask of it."""

    def active(self, sid):
        r = self.hub.get(f"/api/v1/alerts?server_id={sid}&status=active")
        return r.json["alerts"]

    def messages(self, sid, title_part):
        """Slack messages about machine sid whose title holds title_part."""
        out = []
        for m in self.recv.delivered("/slack"):
            att = m["attachments"][0]
            fields = {f["title"]: f["value"] for f in att["fields"]}
            if fields.get("Server") == sid and title_part in att["title"]:
                out.append(m)
        return out


class ThresholdOverrideTest(RulesBase):
    def test_nas_override_raises_nothing_at_85_while_pi_does(self):
        now = int(time.time())
        for sid in ("nas1", "pi1"):
            self.send(sid, 40, t=now - 30)                       # 42 %: fine anywhere
        r = self.hub.get("/api/v1/servers/nas1/thresholds")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["thresholds"], DEFAULTS)
        self.assertEqual(set(r.json["source"].values()), {"global"})
        self.assertEqual(r.json["overrides"], {})
        r = self.hub.put("/api/v1/servers/nas1/thresholds", {"disk_warning_percent": 90,
                                                             "disk_critical_percent": 95})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["overrides"], {"disk_warning_percent": 90,
                                               "disk_critical_percent": 95})
        self.assertEqual(r.json["thresholds"]["disk_warning_percent"], 90)
        self.assertEqual(r.json["source"]["disk_warning_percent"], "server")
        self.assertEqual(r.json["source"]["memory_warning_percent"], "global")
        # the Pi keeps the global values
        pi = self.hub.get("/api/v1/servers/pi1/thresholds").json
        self.assertEqual(pi["thresholds"]["disk_warning_percent"], 80)

        for sid in ("nas1", "pi1"):
            self.send(sid, 81, t=now - 20)                       # 85.3 %
        self.assertEqual(self.active("nas1"), [])
        pi_al = self.active("pi1")
        self.assertEqual([(a["type"], a["threshold_value"]) for a in pi_al],
                         [("disk_warning", 80)])
        # past its own warning the NAS is alerted, at its own threshold
        self.send("nas1", 87, t=now - 10)                        # 91.6 %
        nas_al = self.active("nas1")
        self.assertEqual([(a["type"], a["threshold_value"]) for a in nas_al],
                         [("disk_warning", 90)])
        # null removes an override: back to global, the 91.6 % is critical now
        r = self.hub.put("/api/v1/servers/nas1/thresholds", {"disk_warning_percent": None,
                                                             "disk_critical_percent": None})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["overrides"], {})
        self.assertEqual(set(r.json["source"].values()), {"global"})
        self.send("nas1", 87, t=now - 5)
        self.assertEqual([(a["type"], a["threshold_value"]) for a in self.active("nas1")],
                         [("disk_critical", 90)])

    def test_validation_and_nothing_half_written(self):
        self.send("val1", 10)
        put = lambda b: self.hub.put("/api/v1/servers/val1/thresholds", b)  # noqa: E731
        self.assertEqual(put({"memory_warning_percent": 90}).status, 200)
        # warning must stay below critical, against the global value too
        d = assert_error(self, put({"disk_warning_percent": 92}), 422, "VALIDATION_ERROR",
                         "disk_warning_percent")
        self.assertIn("must be lower than disk critical (90%, global)", d["message"])
        assert_error(self, put({"cpu_critical_percent": 101}), 422, "VALIDATION_ERROR",
                     "cpu_critical_percent")
        assert_error(self, put({"cpu_sustained_samples": 0}), 422, "VALIDATION_ERROR",
                     "cpu_sustained_samples")
        assert_error(self, put({"disk_warning_percent": "85"}), 422, "VALIDATION_ERROR",
                     "disk_warning_percent")
        assert_error(self, put({"server_offline_seconds": 60}), 422, "VALIDATION_ERROR",
                     "server_offline_seconds")
        assert_error(self, put({"bogus": 1}), 422, "VALIDATION_ERROR", "bogus")
        assert_error(self, put([1]), 422)
        # one bad key: the good one beside it is not saved either
        assert_error(self, put({"memory_warning_percent": None, "disk_critical_percent": 5}),
                     422, "VALIDATION_ERROR", "disk_critical_percent")
        got = self.hub.get("/api/v1/servers/val1/thresholds").json
        self.assertEqual(got["overrides"], {"memory_warning_percent": 90})
        assert_error(self, self.hub.get("/api/v1/servers/nope/thresholds"), 404, "NOT_FOUND")
        assert_error(self, self.hub.put("/api/v1/servers/nope/thresholds",
                                        {"disk_warning_percent": 50}), 404, "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/servers/Bad..Id/thresholds"), 404)
        # a global change that would put val1's memory warning (90) at or
        # above the critical is refused, naming the machine
        d = assert_error(self, self.hub.put("/api/v1/config/thresholds",
                                            {"memory_critical_percent": 88}),
                         422, "VALIDATION_ERROR", "thresholds.memory_critical_percent")
        self.assertIn("val1", d["message"])
        glob = self.hub.get("/api/v1/config/thresholds").json
        self.assertEqual(glob["memory_critical_percent"], 95)
        # deleting the machine removes its overrides with it
        self.assertEqual(self.hub.delete("/api/v1/servers/val1").status, 204)
        self.send("val1", 10)
        got = self.hub.get("/api/v1/servers/val1/thresholds").json
        self.assertEqual(got["overrides"], {})


class MuteTest(RulesBase):
    def mute(self, body):
        r = self.hub.post("/api/v1/alert-mutes", body)
        self.assertEqual(r.status, 201, r)
        return r.json

    def audit(self, kind):
        rows = self.hub.get(f"/api/v1/audit?action_type={kind}").json
        return rows["entries"] if isinstance(rows, dict) else rows

    def test_muted_machine_sends_nothing_until_unmuted(self):
        now = int(time.time())
        for sid in ("mute1", "loud1"):
            self.send(sid, 30, t=now - 40)
        rule = self.mute({"server_id": "mute1", "alert_type": "disk_critical",
                          "reason": "disk swap on Saturday"})
        self.assertEqual((rule["server_id"], rule["alert_type"], rule["until"], rule["reason"]),
                         ("mute1", "disk_critical", None, "disk swap on Saturday"))
        self.assertIn(rule["id"], [m["id"] for m in
                                   self.hub.get("/api/v1/alert-mutes").json["mutes"]])
        # both breach; only the unmuted machine's message goes out
        for sid in ("mute1", "loud1"):
            self.send(sid, 90, t=now - 30)                       # 94.7 %: high
        self.assertTrue(wait_for(lambda: self.messages("loud1", "Disk almost full")))
        muted = self.active("mute1")
        self.assertEqual([(a["type"], a["muted"]) for a in muted], [("disk_critical", True)])
        self.assertFalse(self.active("loud1")[0]["muted"])
        # the resolution of a muted alert is as quiet
        for sid in ("mute1", "loud1"):
            self.send(sid, 30, t=now - 20)
        self.assertTrue(wait_for(lambda: self.messages("loud1", "RESOLVED")))
        time.sleep(0.5)
        self.assertEqual(self.messages("mute1", ""), [])
        old = self.hub.get(f"/api/v1/alerts/{muted[0]['alert_id']}").json
        self.assertEqual((old["status"], old["muted"]), ("resolved", True))
        # unmuted: the next breach is announced
        self.assertEqual(self.hub.delete(f"/api/v1/alert-mutes/{rule['id']}").status, 204)
        self.assertEqual(self.hub.get("/api/v1/alert-mutes").json["mutes"], [])
        self.send("mute1", 90, t=now - 10)
        self.assertTrue(wait_for(lambda: self.messages("mute1", "Disk almost full")))
        self.assertFalse(self.active("mute1")[0]["muted"])
        # audit rows for both
        made = [e for e in self.audit("alert_mute") if e["server_id"] == "mute1"]
        self.assertEqual(len(made), 1, made)
        self.assertIn("disk swap on Saturday", made[0]["command"])
        self.assertEqual(made[0]["target"], "disk_critical")
        gone = [e for e in self.audit("alert_unmute") if e["server_id"] == "mute1"]
        self.assertEqual(len(gone), 1, gone)
        self.send("mute1", 30, t=now - 5)

    def test_snooze_expires_by_itself(self):
        now = int(time.time())
        self.send("snz1", 30, t=now - 40)
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3))
        rule = self.mute({"server_id": "snz1", "until": until})  # every alert type
        self.assertEqual(rule["alert_type"], None)
        self.send("snz1", 90, t=now - 30)
        self.assertTrue(self.active("snz1")[0]["muted"])
        time.sleep(0.5)
        self.assertEqual(self.messages("snz1", ""), [])
        self.send("snz1", 30, t=now - 20)
        # past `until` the rule no longer applies nor is listed
        wait_for(lambda: time.time() > rule_time(until) + 1, timeout=6)
        self.assertNotIn(rule["id"], [m["id"] for m in
                                      self.hub.get("/api/v1/alert-mutes").json["mutes"]])
        self.send("snz1", 90, t=now - 10)
        self.assertTrue(wait_for(lambda: self.messages("snz1", "Disk almost full")))
        self.assertFalse(self.active("snz1")[0]["muted"])
        self.send("snz1", 30, t=now - 5)

    def test_muted_critical_service_still_queues_its_restart(self):
        """Muting is about noise: the fix an alert asks for is still queued."""
        now = int(time.time())
        svc = lambda state: [{"name": "plex.service", "active_state": state,  # noqa: E731
                              "sub_state": "running" if state == "active" else "dead",
                              "pid": 0, "memory_bytes": 0, "cpu_usage_ns": 0}]
        hb = heartbeat("svc1", t=now - 30, services=svc("active"))
        hb["updates_available"] = hb["security_updates"] = 0
        self.assertEqual(self.hub.post("/api/v1/agents/heartbeat", hb).status, 200)
        r = self.hub.put("/api/v1/servers/svc1/services",
                         {"services": [{"name": "plex.service", "critical": True}]})
        self.assertEqual(r.status, 200, r)
        rule = self.mute({"server_id": "svc1", "alert_type": "service_down"})
        hb = heartbeat("svc1", t=now - 20, services=svc("inactive"))
        hb["updates_available"] = hb["security_updates"] = 0
        self.assertEqual(self.hub.post("/api/v1/agents/heartbeat", hb).status, 200)
        al = self.active("svc1")
        self.assertEqual([(a["type"], a["severity"], a["muted"]) for a in al],
                         [("service_down", "high", True)])
        rem = al[0]["auto_remediation"]
        self.assertTrue(rem["available"], al[0])
        act = self.hub.get(f"/api/v1/actions/{rem['action_id']}").json
        self.assertEqual((act["action_type"], act["target"], act["status"]),
                         ("restart_service", "plex.service", "pending"))
        time.sleep(0.5)
        self.assertEqual(self.messages("svc1", ""), [])
        self.hub.post(f"/api/v1/actions/{rem['action_id']}/reject")
        self.assertEqual(self.hub.delete(f"/api/v1/alert-mutes/{rule['id']}").status, 204)

    def test_all_machines_rule_and_validation(self):
        now = int(time.time())
        self.send("any1", 30, t=now - 40)
        rule = self.mute({"alert_type": "disk_critical", "duration_minutes": 60})
        self.assertIsNone(rule["server_id"])
        self.assertIsNotNone(rule["until"])
        self.send("any1", 90, t=now - 30)
        self.assertTrue(self.active("any1")[0]["muted"])
        time.sleep(0.5)
        self.assertEqual(self.messages("any1", ""), [])
        self.assertEqual(self.hub.delete(f"/api/v1/alert-mutes/{rule['id']}").status, 204)
        self.send("any1", 30, t=now - 20)

        post = lambda b: self.hub.post("/api/v1/alert-mutes", b)  # noqa: E731
        past = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
        assert_error(self, post({"until": past}), 422, "VALIDATION_ERROR", "until")
        assert_error(self, post({"until": "tomorrow"}), 422, "VALIDATION_ERROR", "until")
        assert_error(self, post({"duration_minutes": 0}), 422, "VALIDATION_ERROR",
                     "duration_minutes")
        assert_error(self, post({"duration_minutes": 60, "until": past}), 422,
                     "VALIDATION_ERROR", "until")
        assert_error(self, post({"server_id": "nope"}), 422, "VALIDATION_ERROR", "server_id")
        assert_error(self, post({"alert_type": "Disk!"}), 422, "VALIDATION_ERROR", "alert_type")
        assert_error(self, post({"reason": "x" * 201}), 422, "VALIDATION_ERROR", "reason")
        assert_error(self, post({"colour": "red"}), 422, "VALIDATION_ERROR")
        assert_error(self, self.hub.delete("/api/v1/alert-mutes/999999"), 404, "NOT_FOUND")
        assert_error(self, self.hub.delete("/api/v1/alert-mutes/abc"), 404, "NOT_FOUND")
        self.assertEqual(self.hub.get("/api/v1/alert-mutes").json["mutes"], [])


def rule_time(iso):
    import calendar
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


if __name__ == "__main__":
    unittest.main()
