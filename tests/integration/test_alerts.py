"""Alerts and notifications end to end: the real hub, samples from agent
heartbeats and from real sshd machines, and a local HTTP receiver standing in
for Slack / a webhook / ntfy that can be told to fail.

What is checked: a breach raises exactly one alert and one message with the
right colour and fields; no duplicates while it lasts; auto-resolve when it
clears; acknowledge/resolve; 500 x3 then 200 -> delivered once; 429 with
Retry-After honoured; undelivered messages survive a hub kill and go out once
after restart; a silent workstation raises nothing while a silent server is
alerted offline; a critical service stopped on a target queues a restart,
and with auto-approve on the unit runs again and a remediation message is
sent; the test endpoint; costs."""
import json
import os
import shutil
import sys
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, wait_for  # noqa: E402
import sshd  # noqa: E402
from test_agent import heartbeat, GIB  # noqa: E402
from test_executor import SUDO  # noqa: E402
from test_events import open_stream  # noqa: E402


class Receiver:
    """A local HTTP receiver. `script` is a list of (status, headers) answered
    in order, then 200 for ever. Every request is recorded."""

    def __init__(self):
        self.lock = threading.Lock()
        self.requests = []
        self.script = []
        rec = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with rec.lock:
                    status, hdrs = rec.script.pop(0) if rec.script else (200, {})
                    rec.requests.append({"t": time.time(), "path": self.path,
                                         "headers": dict(self.headers), "body": body,
                                         "status": status})
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def delivered(self, path=None):
        """Requests answered 2xx, decoded as JSON where they are JSON."""
        with self.lock:
            out = []
            for r in self.requests:
                if 200 <= r["status"] < 300 and (path is None or r["path"] == path):
                    try:
                        out.append(json.loads(r["body"]))
                    except ValueError:
                        out.append(r["body"].decode())
            return out

    def all(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def clear(self):
        with self.lock:
            self.requests.clear()
            self.script.clear()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def slack_alerts(recv, title_part):
    return [m for m in recv.delivered("/slack") if title_part in m["attachments"][0]["title"]]


def check_clean(hub):
    code = hub.stop()
    log = hub.log()
    hub.cleanup()
    assert code == 0, f"hub exit {code}\n{log[-3000:]}"
    assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]


class SlackHubBase(unittest.TestCase):
    """A hub whose Slack channel is the local receiver, fed by heartbeats in
    which only the disk varies (test_alert_rules.py builds on it too)."""

    @classmethod
    def setUpClass(cls):
        cls.recv = Receiver()
        cls.hub = Hub(env={"SLACK_WEBHOOK_URL": cls.recv.url("/slack")}).start()

    @classmethod
    def tearDownClass(cls):
        check_clean(cls.hub)
        cls.recv.close()

    def setUp(self):
        self.recv.clear()

    def send(self, sid, used_gib, t=None, **kw):
        """A heartbeat whose only condition is the disk: used_gib of 95 GiB."""
        hb = heartbeat(sid, t=t, **kw)
        hb["updates_available"] = hb["security_updates"] = 0  # only the disk varies here
        fs = hb["filesystems"][0]
        fs["used_bytes"] = used_gib * GIB
        fs["avail_bytes"] = (95 - used_gib) * GIB
        r = self.hub.post("/api/v1/agents/heartbeat", hb)
        self.assertEqual(r.status, 200, r)


class AlertHeartbeatTest(SlackHubBase):
    """Alerts from agent heartbeats, notifications to the local receiver."""

    def alerts(self, sid, **q):
        qs = "&".join(f"{k}={v}" for k, v in dict(server_id=sid, **q).items())
        return self.hub.get(f"/api/v1/alerts?{qs}").json["alerts"]

    def test_disk_breach_one_alert_one_message_then_auto_resolve(self):
        now = int(time.time())
        self.send("disk1", 40, t=now - 60)                      # 42 %: fine
        self.assertEqual(self.alerts("disk1"), [])
        self.send("disk1", 80, t=now - 50)                      # 84 %: warning
        self.send("disk1", 81, t=now - 40)                      # still: no duplicate
        self.send("disk1", 82, t=now - 30)
        al = self.alerts("disk1", status="active")
        self.assertEqual(len(al), 1, al)
        a = al[0]
        self.assertEqual((a["type"], a["severity"], a["subject"], a["status"]),
                         ("disk_warning", "medium", "/", "open"))
        self.assertAlmostEqual(a["metric_value"], 84.2, delta=0.2)
        self.assertEqual(a["threshold_value"], 80)
        self.assertFalse(a["auto_remediation"]["available"])
        # medium is off by default (notify_on_medium=false): nothing sent
        time.sleep(0.5)
        self.assertEqual(slack_alerts(self.recv, "Disk"), [])
        # critical: the warning resolves itself, a critical (high) opens and is sent once
        self.send("disk1", 90, t=now - 20)                      # 94.7 %
        msgs = wait_for(lambda: slack_alerts(self.recv, "Disk almost full"))
        self.assertEqual(len(msgs), 1, msgs)
        att = msgs[0]["attachments"][0]
        self.assertEqual(att["color"], "#ff6d00")               # high = orange
        self.assertIn("HIGH", att["title"])
        fields = {f["title"]: f["value"] for f in att["fields"]}
        self.assertEqual(fields["Server"], "disk1")
        self.assertEqual(fields["Severity"], "high")
        self.assertEqual(fields["Threshold"], "90")
        self.assertIn("Time", fields)
        self.assertIn("/ is 94.7% full", att["text"])
        active = self.alerts("disk1", status="active")
        self.assertEqual([x["type"] for x in active], ["disk_critical"])
        old = self.hub.get(f"/api/v1/alerts/{a['alert_id']}").json
        self.assertEqual(old["status"], "resolved")
        self.assertTrue(old["auto_resolved"])
        # drops below the warning: resolves automatically, a green resolution message
        self.send("disk1", 30, t=now - 10)
        self.assertEqual(self.alerts("disk1", status="active"), [])
        res = wait_for(lambda: slack_alerts(self.recv, "RESOLVED"))
        self.assertEqual(len(res), 1)
        self.assertEqual(res[0]["attachments"][0]["color"], "good")
        time.sleep(0.3)
        self.assertEqual(len(slack_alerts(self.recv, "Disk almost full")), 1)

    def test_cpu_must_be_sustained_and_memory_alerts(self):
        now = int(time.time())
        # 4 cores at USER_HZ 100 tick 2000 jiffies in 5 s: samples 5 s apart
        total, idle = 10_000, 8_000
        self.send("cpu1", 10, t=now - 60, jiffies=(total, idle))
        # a spike: one sample at 97 % raises nothing (3 samples in a row needed)
        total += 2000
        idle += 60
        self.send("cpu1", 10, t=now - 55, jiffies=(total, idle))
        total += 2000
        idle += 1800                                    # back to 10 %
        self.send("cpu1", 10, t=now - 50, jiffies=(total, idle))
        self.assertEqual(self.alerts("cpu1", type="cpu_warning"), [])
        for k in range(3):                               # sustained 95 %
            total += 2000
            idle += 100
            self.send("cpu1", 10, t=now - 45 + k * 5, jiffies=(total, idle))
            got = self.alerts("cpu1", type="cpu_warning")
            self.assertEqual(len(got), 1 if k == 2 else 0, (k, got))
        self.assertEqual(got[0]["severity"], "medium")
        self.assertAlmostEqual(got[0]["metric_value"], 95.0, delta=0.1)
        total += 2000
        idle += 1600
        self.send("cpu1", 10, t=now - 30, jiffies=(total, idle))
        self.assertEqual(self.alerts("cpu1", status="active", type="cpu_warning"), [])
        # memory: 87.5 % used -> warning (medium); 97 % -> critical (high)
        hb = heartbeat("mem1", t=now - 20)
        hb["updates_available"] = hb["security_updates"] = 0
        hb["metrics"]["memory_available_bytes"] = GIB          # of 8 GiB
        self.assertEqual(self.hub.post("/api/v1/agents/heartbeat", hb).status, 200)
        m = self.alerts("mem1", status="active")
        self.assertEqual([(a["type"], a["severity"]) for a in m], [("memory_warning", "medium")])
        hb = heartbeat("mem1", t=now - 10)
        hb["updates_available"] = hb["security_updates"] = 0
        hb["metrics"]["memory_available_bytes"] = GIB // 4
        self.assertEqual(self.hub.post("/api/v1/agents/heartbeat", hb).status, 200)
        m = self.alerts("mem1", status="active")
        self.assertEqual([(a["type"], a["severity"]) for a in m], [("memory_critical", "high")])
        self.assertIn("Memory is 96.9% used", m[0]["message"])

    def test_thresholds_from_config_apply_at_once(self):
        now = int(time.time())
        self.send("thr1", 50, t=now - 30)                       # 52.6 %: below 80
        self.assertEqual(self.alerts("thr1"), [])
        r = self.hub.put("/api/v1/config/thresholds", {"disk_warning_percent": 50})
        self.assertEqual(r.status, 200, r)
        try:
            self.send("thr1", 50, t=now - 20)
            a = self.alerts("thr1", status="active")
            self.assertEqual([(x["type"], x["threshold_value"]) for x in a],
                             [("disk_warning", 50)])
        finally:
            self.hub.put("/api/v1/config/thresholds", {"disk_warning_percent": 80})

    def test_acknowledge_and_resolve(self):
        now = int(time.time())
        self.send("ack1", 90, t=now - 30)
        a = self.alerts("ack1", status="open")[0]
        r = self.hub.post(f"/api/v1/alerts/{a['alert_id']}/acknowledge")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["status"], "acknowledged")
        self.assertIsNotNone(r.json["acknowledged_at"])
        # still breached: no new alert while acknowledged
        self.send("ack1", 91, t=now - 20)
        self.assertEqual(len(self.alerts("ack1", status="active")), 1)
        r = self.hub.post(f"/api/v1/alerts/{a['alert_id']}/resolve")
        self.assertEqual(r.json["status"], "resolved")
        self.assertFalse(r.json["auto_resolved"])
        assert_error(self, self.hub.post(f"/api/v1/alerts/{a['alert_id']}/resolve"), 409)
        assert_error(self, self.hub.post(f"/api/v1/alerts/{a['alert_id']}/acknowledge"), 409)
        assert_error(self, self.hub.get("/api/v1/alerts/00000000-0000-4000-8000-000000000000"),
                     404)
        assert_error(self, self.hub.get("/api/v1/alerts/not-a-uuid"), 404)
        assert_error(self, self.hub.get("/api/v1/alerts?status=bogus"), 422, field="status")
        assert_error(self, self.hub.get("/api/v1/alerts?severity=urgent"), 422, field="severity")
        assert_error(self, self.hub.get("/api/v1/alerts?limit=0"), 422, field="limit")

    def test_retries_500_three_times_then_delivers_once(self):
        self.recv.script = [(500, {}), (500, {}), (500, {})]
        now = int(time.time())
        self.send("retry1", 90, t=now - 30)
        msgs = wait_for(lambda: slack_alerts(self.recv, "Disk almost full"), timeout=30)
        self.assertEqual(len(msgs), 1)
        tries = [r for r in self.recv.all("/slack") if b"Disk almost full" in r["body"]]
        self.assertEqual([r["status"] for r in tries], [500, 500, 500, 200])
        time.sleep(2.5)
        self.assertEqual(len(slack_alerts(self.recv, "Disk almost full")), 1)

    def test_429_retry_after_is_honoured(self):
        self.recv.script = [(429, {"Retry-After": "3"})]
        now = int(time.time())
        self.send("rate1", 90, t=now - 30)
        msgs = wait_for(lambda: slack_alerts(self.recv, "Disk almost full"), timeout=30)
        self.assertEqual(len(msgs), 1)
        tries = [r for r in self.recv.all("/slack") if b"Disk almost full" in r["body"]]
        self.assertEqual([r["status"] for r in tries], [429, 200])
        self.assertGreaterEqual(tries[1]["t"] - tries[0]["t"], 2.9)

    def test_test_endpoint_and_channel_settings(self):
        r = self.hub.post("/api/v1/notifications/test")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["results"], [{"channel": "slack", "ok": True, "status": 200,
                                              "error": None}])
        m = wait_for(lambda: [x for x in self.recv.delivered("/slack")
                              if "test notification" in x["text"]])
        self.assertEqual(len(m), 1)
        cfg = self.hub.get("/api/v1/config").json["notifications"]
        self.assertEqual(cfg["slack_webhook_source"], "env")
        self.assertEqual(cfg["slack_webhook_url"], "http://127.0.0.1:%d/…"
                         % self.recv.server.server_address[1])
        assert_error(self, self.hub.put("/api/v1/config", {"notifications": {
            "webhook_url": "ftp://x"}}), 422, field="notifications.webhook_url")
        assert_error(self, self.hub.put("/api/v1/config", {"notifications": {
            "ntfy_url": "http://a b"}}), 422, field="notifications.ntfy_url")
        # a generic webhook and ntfy, sealed; the URLs never come back whole
        r = self.hub.put("/api/v1/config", {"notifications": {
            "webhook_url": self.recv.url("/hook?token=s3cret"), "ntfy_url": self.recv.url("/ntfy")}})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("s3cret", r.raw.decode())
        self.recv.clear()
        r = self.hub.post("/api/v1/notifications/test")
        self.assertEqual(sorted(x["channel"] for x in r.json["results"]),
                         ["ntfy", "slack", "webhook"])
        self.assertTrue(all(x["ok"] for x in r.json["results"]), r.json)
        hook = self.recv.all("/hook?token=s3cret")[0]
        self.assertEqual(json.loads(hook["body"])["kind"], "test")
        ntfy = self.recv.all("/ntfy")[0]
        self.assertIn("test notification", ntfy["headers"]["Title"])
        self.assertIn(b"notifications from your hub work", ntfy["body"])
        # a raised alert goes to all three, each once, with an idempotency key
        self.recv.clear()
        self.send("multi1", 90, t=int(time.time()) - 30)
        wait_for(lambda: len(self.recv.all()) >= 3)
        time.sleep(0.5)
        paths = sorted(r["path"] for r in self.recv.all())
        self.assertEqual(paths, ["/hook?token=s3cret", "/ntfy", "/slack"])
        hook = self.recv.all("/hook?token=s3cret")[0]
        self.assertTrue(hook["headers"]["Idempotency-Key"].startswith("hlc-"))
        ev = json.loads(hook["body"])
        self.assertEqual((ev["kind"], ev["type"], ev["server_id"]),
                         ("alert_raised", "disk_critical", "multi1"))
        self.assertEqual(self.recv.all("/ntfy")[0]["headers"]["Priority"], "4")
        r = self.hub.put("/api/v1/config", {"notifications": {"webhook_url": "", "ntfy_url": ""}})
        self.assertIsNone(r.json["notifications"]["webhook_url"])

    def test_silent_workstation_raises_nothing_silent_server_does(self):
        self.hub.put("/api/v1/config/thresholds", {"server_offline_seconds": 30})
        stream = open_stream(self.hub)  # an open dashboard
        self.addCleanup(stream.close)
        now = int(time.time())
        self.send("ws-quiet", 10, t=now - 1, machine_type="workstation")
        self.send("srv-quiet", 10, t=now - 1, machine_type="server")
        off = wait_for(lambda: self.alerts("srv-quiet", type="server_offline"), timeout=60, step=1)
        self.assertEqual(len(off), 1, off)
        # No sample comes with an offline alert: the sweep tells the stream itself.
        got = stream.wait_for('"kind":"alert","id":"srv-quiet"}', 2.0)
        self.assertIn("event: alert", got)
        self.assertNotIn('"kind":"alert","id":"ws-quiet"', got)
        self.assertEqual(off[0]["severity"], "critical")
        self.assertEqual(self.alerts("ws-quiet"), [])
        ws = self.hub.get("/api/v1/servers/ws-quiet").json
        self.assertEqual(ws["machine_type"], "workstation")
        # the server reports again: resolved automatically
        self.send("srv-quiet", 10, t=int(time.time()))
        a = self.hub.get(f"/api/v1/alerts/{off[0]['alert_id']}").json
        self.assertEqual(a["status"], "resolved")
        self.assertTrue(a["auto_resolved"])
        self.hub.put("/api/v1/config/thresholds", {"server_offline_seconds": 180})


class OutboxRestartTest(unittest.TestCase):
    def test_undelivered_survive_kill_and_go_out_once(self):
        recv = Receiver()
        hub = Hub(env={"SLACK_WEBHOOK_URL": recv.url("/slack")})
        try:
            hub.start()
            # The receiver fails everything: messages stay pending.
            recv.script = [(503, {})] * 1000
            now = int(time.time())
            for i in range(3):
                hb = heartbeat(f"kill{i}", t=now - 30)
                hb["filesystems"][0]["used_bytes"] = 90 * GIB
                hb["filesystems"][0]["avail_bytes"] = 5 * GIB
                self.assertEqual(hub.post("/api/v1/agents/heartbeat", hb).status, 200)
            wait_for(lambda: len(recv.all()) >= 3)
            hub.kill9()
            self.assertEqual(recv.delivered(), [])
            recv.clear()                                # now it answers 200
            hub.start()
            msgs = wait_for(lambda: len(recv.delivered("/slack")) >= 3 and recv.delivered("/slack"),
                            timeout=30)
            time.sleep(2)
            servers = sorted(f["value"] for m in recv.delivered("/slack")
                             for f in m["attachments"][0]["fields"] if f["title"] == "Server")
            self.assertEqual(servers, ["kill0", "kill1", "kill2"], msgs)
            stats = hub.get("/api/v1/system/stats").json
            self.assertIn("outbox", stats)
            self.assertEqual(stats["outbox"]["pending"], 0)
            self.assertEqual(stats["outbox"]["delivered"], 3)
        finally:
            check_clean(hub)
            recv.close()


class CostsTest(unittest.TestCase):
    def test_costs_api(self):
        with Hub() as hub:
            r = hub.post("/api/v1/servers", {"server_id": "nas", "hostname": "nas.lan",
                                             "tdp_watts": 65})
            self.assertEqual(r.status, 201, r)
            c = hub.get("/api/v1/costs").json
            self.assertEqual((c["currency"], c["electricity_rate_kwh"]), ("GBP", 0.24))
            nas = [s for s in c["servers"] if s["server_id"] == "nas"][0]
            # PRD wireframe: 65 W at 0.24 -> 0.37 / 11.23 / 134.78
            self.assertEqual((nas["daily"], nas["monthly"], nas["yearly"]), (0.37, 11.23, 134.78))
            self.assertEqual(nas["hours_per_day"], 24)
            self.assertEqual(nas["month_to_date"], 0)   # never seen up
            # a workstation up for the samples it sent
            now = int(time.time())
            for k in range(5):
                hb = heartbeat("desk", t=now - 300 + k * 60, machine_type="workstation",
                               jiffies=(1000 + k * 100, 800 + k * 50))
                self.assertEqual(hub.post("/api/v1/agents/heartbeat", hb).status, 200)
            hub.put("/api/v1/costs/config", {"tdp_watts": {"desk": 120}})
            d = hub.get("/api/v1/costs/desk").json
            self.assertEqual(d["tdp_watts"], 120)
            self.assertEqual(d["hours_per_day"], round(5 * 60 / 3600, 2))
            self.assertAlmostEqual(d["daily"], round(120 * (5 * 60 / 3600) / 1000 * 0.24, 2))
            self.assertGreater(d["month_to_date"] + 1, 0)
            r = hub.put("/api/v1/costs/config", {"electricity_rate_kwh": 0.30, "currency": "EUR"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["currency"], "EUR")
            nas = [s for s in r.json["servers"] if s["server_id"] == "nas"][0]
            self.assertEqual(nas["daily"], round(65 * 24 / 1000 * 0.30, 2))
            fleet = r.json["fleet"]
            self.assertAlmostEqual(fleet["daily"], sum(s["daily"] for s in r.json["servers"]),
                                   delta=0.02)
            assert_error(self, hub.put("/api/v1/costs/config", {"electricity_rate_kwh": -1}), 422)
            assert_error(self, hub.put("/api/v1/costs/config", {"tdp_watts": {"ghost": 5}}), 422,
                         field="tdp_watts.ghost")
            assert_error(self, hub.put("/api/v1/costs/config", {"tdp_watts": {"nas": 1e9}}), 422,
                         field="tdp_watts.nas")
            assert_error(self, hub.put("/api/v1/costs/config", {"colour": 1}), 422, field="colour")
            assert_error(self, hub.get("/api/v1/costs/ghost"), 404)


class RemediationSshTest(unittest.TestCase):
    """A critical service stopped on a real sshd target."""

    @classmethod
    def setUpClass(cls):
        cls.recv = Receiver()
        cls.hub = Hub(env={"SLACK_WEBHOOK_URL": cls.recv.url("/slack")}).start()
        pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(1, pub, first_ip=70).start()
        cls.m = cls.fleet.machines[0]
        p = os.path.join(cls.m.dir, "bin", "sudo")
        with open(p, "w") as f:
            f.write(SUDO)
        os.chmod(p, 0o755)
        r = cls.hub.post("/api/v1/servers", {
            "server_id": "media", "hostname": cls.m.host, "ssh_port": cls.m.port,
            "ssh_user": sshd.USER, "expected_services": [
                {"name": "plex", "critical": True}, {"name": "samba", "critical": False}]})
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        check_clean(cls.hub)
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        cls.recv.close()

    def poll(self):
        r = self.hub.post("/api/v1/servers/media/poll")
        self.assertEqual(r.status, 200, r)

    def test_host_key_change_raises_critical_until_accepted(self):
        self.m.set_unit("plex", "active")
        self.m.set_unit("samba", "active")
        self.poll()
        stream = open_stream(self.hub)  # an open dashboard
        self.addCleanup(stream.close)
        self.m.stop()               # a reinstalled machine: new key, new connections
        self.m.regen_host_key()
        self.m.start()
        # (a scheduled poll may have met the stopped sshd and be backing off)
        r = wait_for(lambda: (lambda x: x if x.status == 409 else None)(
            self.hub.post("/api/v1/servers/media/poll")), timeout=20, step=0.5)
        self.assertIsNotNone(r)
        self.assertEqual(r.status, 409, r)
        al = self.hub.get("/api/v1/alerts?server_id=media&type=host_key_changed"
                          "&status=active").json["alerts"]
        self.assertEqual(len(al), 1, al)
        self.assertEqual(al[0]["severity"], "critical")
        self.assertIn("SHA256:", al[0]["message"])
        # no sample comes with it: the stream is told directly, once
        got = stream.wait_for('"kind":"alert","id":"media"}', 2.0)
        self.assertIn("event: alert", got)
        msg = wait_for(lambda: slack_alerts(self.recv, "SSH host key changed"))
        self.assertEqual(msg[0]["attachments"][0]["color"], "#d50000")
        self.assertEqual(self.hub.post("/api/v1/servers/media/poll").status, 409)
        self.assertEqual(len(self.hub.get("/api/v1/alerts?server_id=media&type=host_key_changed")
                             .json["alerts"]), 1)               # still one, not one per refusal
        self.assertNotIn('"kind":"alert"', stream.text(0.3))      # and no second event
        self.assertEqual(self.hub.post("/api/v1/servers/media/host-key/accept").status, 200)
        self.poll()
        a = self.hub.get(f"/api/v1/alerts/{al[0]['alert_id']}").json
        self.assertEqual(a["status"], "resolved")
        self.assertTrue(a["auto_resolved"])

    def test_critical_service_down_pending_then_auto_approved(self):
        self.m.set_unit("plex", "active")
        self.m.set_unit("samba", "active")
        self.poll()
        # pending: no auto-approve
        self.hub.put("/api/v1/config", {"remediation": {"auto_approve_enabled": False}})
        self.m.set_unit("plex", "inactive")
        self.m.set_unit("samba", "inactive")
        self.poll()
        al = self.hub.get("/api/v1/alerts?server_id=media&status=active").json["alerts"]
        by = {a["subject"]: a for a in al}
        self.assertEqual(by["plex"]["severity"], "high")
        self.assertEqual(by["samba"]["severity"], "medium")
        self.assertFalse(by["samba"]["auto_remediation"]["available"])
        rem = by["plex"]["auto_remediation"]
        self.assertTrue(rem["available"])
        self.assertEqual(rem["status"], "pending")
        act = self.hub.get(f"/api/v1/actions/{rem['action_id']}").json
        self.assertEqual((act["action_type"], act["target"], act["alert_id"]),
                         ("restart_service", "plex", by["plex"]["alert_id"]))
        msg = wait_for(lambda: slack_alerts(self.recv, "Service stopped: plex"))
        self.assertEqual(len(msg), 1)
        self.assertIn("Remediation queued", msg[0]["attachments"][0]["text"])
        self.assertIn("pending approval", msg[0]["attachments"][0]["text"])
        self.assertEqual(self.m.unit_state("plex"), "inactive")   # nothing ran
        # operator rejects; the alert stays; resolve it by hand, then auto-approve on
        self.hub.post(f"/api/v1/actions/{rem['action_id']}/reject")
        self.hub.post(f"/api/v1/alerts/{by['plex']['alert_id']}/resolve")
        self.hub.put("/api/v1/config", {"remediation": {
            "auto_approve_enabled": True, "auto_approve_actions": ["restart_service"]}})
        self.recv.clear()
        stream = open_stream(self.hub)  # an open dashboard
        self.addCleanup(stream.close)
        self.poll()   # plex still down: a new alert, restart runs at once
        self.assertTrue(wait_for(lambda: self.m.unit_state("plex") == "active", timeout=20))
        # the finished action is told on the bus: the stream hears it as such
        self.assertIn("event: action", stream.wait_for('"kind":"action","id":"media"}', 10.0))
        done = wait_for(lambda: [m for m in self.recv.delivered("/slack")
                                 if "Remediation completed" in m["attachments"][0]["title"]])
        self.assertEqual(len(done), 1, self.recv.delivered("/slack"))
        self.assertEqual(done[0]["attachments"][0]["color"], "#2979ff")
        # the re-poll after the action sees plex running: its alert resolves itself
        def plex_open():
            return [a for a in self.hub.get("/api/v1/alerts?server_id=media&status=active")
                    .json["alerts"] if a["subject"] == "plex"]
        self.assertTrue(wait_for(lambda: not plex_open(), timeout=20))
        hist = self.hub.get("/api/v1/alerts?server_id=media&type=service_down").json["alerts"]
        newest = [a for a in hist if a["subject"] == "plex"][0]
        self.assertTrue(newest["auto_resolved"])
        self.assertEqual(newest["auto_remediation"]["status"], "completed")
        audit = self.hub.get("/api/v1/audit?server_id=media").json["entries"]
        self.assertEqual([e["trigger"] for e in audit if e["target"] == "plex"], ["auto_approve"])


if __name__ == "__main__":
    unittest.main()
