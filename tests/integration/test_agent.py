"""Agent heartbeat ingest against the real hub: a valid heartbeat
auto-registers a workstation and lands in `latest` and history; re-sent
(spooled) heartbeats are stored once, out-of-order ones keep their original
timestamps; a corpus of malformed heartbeats each gets a clear 4xx naming
the problem and stores nothing."""
import datetime
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, spool_entries  # noqa: E402

GIB = 1 << 30


def iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def heartbeat(sid="laptop", t=None, jiffies=(1000, 800), **extra):
    t = int(time.time()) - 5 if t is None else t
    hb = {
        "server_id": sid, "timestamp": iso(t), "hostname": "laptop.lan",
        "metrics": {"cpu_cores": 4, "cpu_total_jiffies": jiffies[0],
                    "cpu_idle_jiffies": jiffies[1], "memory_total_bytes": 8 * GIB,
                    "memory_available_bytes": 6 * GIB, "swap_total_bytes": GIB,
                    "swap_free_bytes": GIB, "load_1m": 0.5, "load_5m": 0.25,
                    "load_15m": 0.125, "uptime_seconds": 3600},
        "os_info": {"id": "debian", "distribution": "Debian GNU/Linux 12 (bookworm)",
                    "version": "12", "kernel": "6.1.0-13-amd64", "architecture": "x86_64"},
        "filesystems": [{"mount": "/", "device": "/dev/nvme0n1p2", "fstype": "ext4",
                         "total_bytes": 100 * GIB, "used_bytes": 40 * GIB,
                         "avail_bytes": 55 * GIB}],
        "network": [{"name": "wlan0", "rx_bytes": 1000, "tx_bytes": 500}],
        "services": [{"name": "ssh.service", "active_state": "active", "sub_state": "running",
                      "pid": 812, "memory_bytes": 4 << 20, "cpu_usage_ns": 12345}],
        "containers": [{"id": "abc123", "name": "web", "image": "nginx:1.25",
                        "state": "running", "status": "Up 3 hours"}],
        "temperatures": [{"zone": "x86_pkg_temp", "celsius": 48.0}],
        "reboot_required": False, "updates_available": 3, "security_updates": 1,
    }
    hb.update(extra)
    return hb


class HeartbeatTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()

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

    def stored(self, sid):
        db = sqlite3.connect(os.path.join(self.hub.data_dir, "homelabcmd.db"), timeout=10)
        try:
            return [r[0] for r in db.execute(
                "SELECT timestamp FROM metrics WHERE server_id=? ORDER BY timestamp", (sid,))]
        finally:
            db.close()

    def test_heartbeat_registers_workstation_and_lands(self):
        t = int(time.time()) - 10
        r = self.hub.post("/api/v1/agents/heartbeat", heartbeat(t=t))
        self.assertEqual(r.status, 200, r)
        self.assertIs(r.json["received"], True)
        self.assertEqual(r.json["pending_commands"], [])
        self.assertTrue(r.json["server_time"].endswith("Z") or "+" in r.json["server_time"])
        m = self.hub.get("/api/v1/servers/laptop").json
        self.assertEqual(m["machine_type"], "workstation")
        self.assertEqual(m["status"], "online")
        latest = self.hub.get("/api/v1/metrics/laptop/latest").json
        self.assertEqual(latest["source"], "agent")
        self.assertEqual(latest["memory_total_bytes"], 8 * GIB)
        self.assertEqual(latest["memory_used_bytes"], 2 * GIB)
        self.assertAlmostEqual(latest["memory_percent"], 25.0, places=3)
        self.assertAlmostEqual(latest["disk_percent"], 100 * 40 / 95, places=1)  # used/(used+avail)
        self.assertEqual(latest["filesystems"][0]["total_bytes"], 100 * GIB)
        self.assertEqual(latest["load_1m"], 0.5)
        self.assertEqual(latest["cpu_temp_c"], 48.0)
        self.assertEqual(latest["updates_available"], 3)
        self.assertEqual(latest["os"]["kernel"], "6.1.0-13-amd64")
        self.assertIsNone(latest["cpu_percent"])
        # A second heartbeat derives cpu_percent from the counters: 100 of 200 busy.
        r = self.hub.post("/api/v1/agents/heartbeat", heartbeat(t=t + 5, jiffies=(1200, 900)))
        self.assertEqual(r.status, 200, r)
        latest = self.hub.get("/api/v1/metrics/laptop/latest").json
        self.assertAlmostEqual(latest["cpu_percent"], 50.0, places=3)
        ctr = self.hub.get("/api/v1/servers/laptop/containers").json["containers"]
        self.assertEqual([c["name"] for c in ctr], ["web"])
        self.assertEqual(self.stored("laptop"), [t, t + 5])

    def test_v1_heartbeat_from_the_trd_stores_everything(self):
        # The TRD's §4 "Agent heartbeat" request, every field as written there.
        path = os.path.join(os.path.dirname(__file__), "../fixtures/heartbeat/trd_v1.json")
        with open(path) as f:
            text = f.read()
        t = int(time.time()) - 120
        r = self.hub.post("/api/v1/agents/heartbeat",
                          raw=text.replace("TIMESTAMP", iso(t)).encode(),
                          headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r)
        sid = "omv-mediaserver"
        latest = self.hub.get(f"/api/v1/metrics/{sid}/latest").json
        self.assertEqual(latest["cpu_percent"], 23.5)
        self.assertEqual(latest["disk_percent"], 85.0)
        fs = latest["filesystems"]
        self.assertEqual([(f["mount"], f["total_bytes"], f["used_bytes"]) for f in fs],
                         [("/", 2000 * GIB, 1700 * GIB)])
        self.assertEqual([(n["name"], n["rx_bytes"], n["tx_bytes"]) for n in latest["network"]],
                         [("total", 123456789012, 9876543210)])
        db = sqlite3.connect(os.path.join(self.hub.data_dir, "homelabcmd.db"), timeout=10)
        try:
            row = db.execute(
                "SELECT cpu_percent, disk_percent, disk_used_bytes, disk_total_bytes,"
                " network_rx_bytes, network_tx_bytes FROM metrics WHERE server_id=?",
                (sid,)).fetchone()
        finally:
            db.close()
        self.assertEqual(row, (23.5, 85.0, 1700 * GIB, 2000 * GIB, 123456789012, 9876543210))
        svcs = {v["service_name"]: v for v in
                self.hub.get(f"/api/v1/servers/{sid}/services").json["services"]}
        self.assertEqual(svcs["plex"]["cpu_percent"], 12.5)
        self.assertEqual(svcs["plex"]["status"], "running")
        self.assertIsNone(svcs["sonarr"]["cpu_percent"])
        # 85 % of the disk: the v1 agent raises the disk warning like any machine.
        al = self.hub.get(f"/api/v1/alerts?server_id={sid}&status=active").json["alerts"]
        self.assertIn(("disk_warning", "/"), [(a["type"], a["subject"]) for a in al])
        # The next heartbeat keeps its own cpu_percent and derives a network rate.
        hb = json.loads(text.replace("TIMESTAMP", iso(t + 60)))
        hb["metrics"]["cpu_percent"] = 7.0
        hb["metrics"]["network_rx_bytes"] += 6000
        r = self.hub.post("/api/v1/agents/heartbeat", hb)
        self.assertEqual(r.status, 200, r)
        latest = self.hub.get(f"/api/v1/metrics/{sid}/latest").json
        self.assertEqual(latest["cpu_percent"], 7.0)
        self.assertEqual(latest["network_rx_bps"], 100.0)

    def test_declared_server_type_and_existing_machine_kept(self):
        r = self.hub.post("/api/v1/agents/heartbeat", heartbeat("rack1", machine_type="server"))
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.hub.get("/api/v1/servers/rack1").json["machine_type"], "server")
        self.hub.put("/api/v1/servers/rack1", {"display_name": "Rack one"})
        r = self.hub.post("/api/v1/agents/heartbeat",
                          heartbeat("rack1", t=int(time.time()) - 1, machine_type="workstation"))
        self.assertEqual(r.status, 200, r)
        m = self.hub.get("/api/v1/servers/rack1").json
        self.assertEqual((m["machine_type"], m["display_name"]), ("server", "Rack one"))

    def test_resent_spool_stored_once_in_order(self):
        now = int(time.time())
        ts = [now - 300 + 10 * i for i in range(10)]
        # The newest arrives first (live), then the spool, then the spool again.
        order = [ts[-1]] + ts + ts[:5]
        for i, t in enumerate(order):
            jif = (1000 + 100 * ts.index(t), 800 + 50 * ts.index(t))
            r = self.hub.post("/api/v1/agents/heartbeat", heartbeat("roamer", t=t, jiffies=jif))
            self.assertEqual(r.status, 200, (i, r))
        self.assertEqual(self.stored("roamer"), ts)
        latest = self.hub.get("/api/v1/metrics/roamer/latest").json
        self.assertEqual(latest["timestamp"], iso(ts[-1]))

    def test_auth_required(self):
        assert_error(self, self.hub.post("/api/v1/agents/heartbeat", heartbeat(), key=None), 401)
        assert_error(self, self.hub.post("/api/v1/agents/heartbeat", heartbeat(), key="wrong"),
                     401)
        self.assertEqual(self.hub.get("/api/v1/servers").json["total"], 0)

    def test_malformed_corpus_refused_nothing_stored(self):
        def hb(**kw):
            return heartbeat("bad", **kw)

        def without(key):
            h = hb()
            del h[key]
            return h

        def metrics(**kw):
            h = hb()
            h["metrics"].update(kw)
            return h

        big = hb(filesystems=[dict(heartbeat()["filesystems"][0], mount=f"/m{i}")
                              for i in range(65)])
        cases = [
            (without("server_id"), 422, "server_id"),
            (without("timestamp"), 422, "timestamp"),
            (without("metrics"), 422, "metrics"),
            (hb(server_id="Bad Id"), 422, "server_id"),
            (hb(server_id=42), 422, "server_id"),
            (hb(server_id="a" * 64), 422, "server_id"),
            (hb(timestamp="yesterday"), 422, "timestamp"),
            (hb(timestamp=iso(int(time.time()) + 3600)), 422, "timestamp"),
            (hb(machine_type="toaster"), 422, "machine_type"),
            (hb(metrics="fast"), 422, "metrics"),
            (metrics(cpu_percent=101), 422, "metrics.cpu_percent"),
            (metrics(load_1m=-1), 422, "metrics.load_1m"),
            (metrics(memory_total_bytes="8G"), 422, "metrics.memory_total_bytes"),
            (metrics(memory_available_bytes=9 * GIB), 422, "metrics.memory_available_bytes"),
            (metrics(cpu_idle_jiffies=5000), 422, "metrics.cpu_idle_jiffies"),
            (metrics(uptime_seconds=1.5), 422, "metrics.uptime_seconds"),
            (metrics(surprise=1), 422, "metrics.surprise"),
            (hb(surprise=1), 422, "surprise"),
            (hb(filesystems={"mount": "/"}), 422, "filesystems"),
            (big, 422, "filesystems"),
            (hb(filesystems=[{"mount": "/", "total_bytes": -1, "used_bytes": 0,
                              "avail_bytes": 0}]), 422, "filesystems[0].total_bytes"),
            (hb(network=[{"name": "eth0\u0001", "rx_bytes": 0, "tx_bytes": 0}]), 422,
             "network[0].name"),
            (hb(services=[{"name": "x", "status": "sleepy"}]), 422, "services[0].status"),
            (hb(containers=[{"id": "a", "name": "b"}]), 422, "containers[0].state"),
            (hb(temperatures=[{"zone": "cpu", "celsius": 1e9}]), 422,
             "temperatures[0].celsius"),
            (hb(reboot_required="yes"), 422, "reboot_required"),
            (hb(updates_available=1, security_updates=2), 422, "security_updates"),
            ([hb()], 422, None),
        ]
        for body, status, field in cases:
            assert_error(self, self.hub.post("/api/v1/agents/heartbeat", body), status,
                         None, field)
        raw_cases = [
            (b"", 400), (b"{", 400), (b"not json", 400),
            (b'{"server_id":"bad","timestamp":"\xff\xfe"}', 400),
            (b"[" * 50 + b"]" * 50, 400),
            (json.dumps(hb(os_info={"id": {"a": {"b": {"c": 1}}}})).encode(), 400),
            (b'{"server_id":"bad","server_id":"bad"}', 400),
            (json.dumps(hb(hostname="x" * 300000)).encode(), 413),
        ]
        for raw, status in raw_cases:
            r = self.hub.post("/api/v1/agents/heartbeat", raw=raw,
                              headers={"Content-Type": "application/json"})
            assert_error(self, r, status)
        self.assertEqual(self.hub.get("/api/v1/servers").json["total"], 0)
        self.assertEqual(self.stored("bad"), [])


AGENT = os.path.join(os.environ.get("HLC_BUILD_DIR", "build"), "agent-lite", "homelabcmd-agent")


def slurp(path):
    with open(path) as f:
        return f.read()


def meminfo_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


class RealAgentTest(unittest.TestCase):
    """The real homelabcmd-agent posting to the real hub at a 1 s interval."""

    def test_once_prints_heartbeat_and_live_agent_lands(self):
        out = subprocess.run([AGENT, "--config", "/dev/null", "--once", "--id", "probe"], capture_output=True,
                             timeout=60, check=True).stdout
        hb = json.loads(out)
        self.assertEqual(hb["server_id"], "probe")
        self.assertEqual(hb["metrics"]["memory_total_bytes"], meminfo_total())
        with Hub() as hub:
            log = os.path.join(hub.data_dir, "agent.log")
            with open(log, "wb") as lf:
                proc = subprocess.Popen([AGENT, "--config", "/dev/null", "--hub", hub.url, "--key", hub.api_key,
                                         "--id", "this-box", "--interval", "1"],
                                        stdout=lf, stderr=subprocess.STDOUT)
            try:
                deadline = time.time() + 30
                latest = None
                while time.time() < deadline:
                    r = hub.get("/api/v1/metrics/this-box/latest")
                    if r.status == 200 and r.json.get("cpu_percent") is not None:
                        latest = r.json
                        break
                    time.sleep(0.3)
                self.assertIsNotNone(latest, slurp(log))
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=20)
            self.assertEqual(code, 0, slurp(log))
            agent_log = slurp(log)
            self.assertNotIn("AddressSanitizer", agent_log)
            m = hub.get("/api/v1/servers/this-box").json
            self.assertEqual(m["machine_type"], "workstation")
            self.assertEqual(latest["source"], "agent")
            self.assertEqual(latest["memory_total_bytes"], meminfo_total())
            st = os.statvfs("/")
            root = [f for f in latest["filesystems"] if f["mount"] == "/"]
            if root:  # a container may mount / from an overlay, which is not reported
                self.assertEqual(root[0]["total_bytes"], st.f_blocks * st.f_frsize)
            self.assertEqual(latest["os"]["kernel"], os.uname().release)
            self.assertTrue(0 <= latest["cpu_percent"] <= 100)

    def test_spool_while_hub_down_then_uploaded_once_in_order(self):
        import hlc
        with Hub() as hub:
            spool = os.path.join(hub.data_dir, "spool")
            os.mkdir(spool)
            log = os.path.join(hub.data_dir, "agent.log")
            with open(log, "wb") as lf:
                proc = subprocess.Popen([AGENT, "--config", "/dev/null", "--hub", hub.url, "--key", hub.api_key,
                                         "--id", "roamer", "--interval", "1",
                                         "--spool-dir", spool],
                                        stdout=lf, stderr=subprocess.STDOUT)
            try:
                db = os.path.join(hub.data_dir, "homelabcmd.db")

                def stored():
                    c = sqlite3.connect(db, timeout=10)
                    try:
                        return [r[0] for r in c.execute(
                            "SELECT timestamp FROM metrics WHERE server_id='roamer' "
                            "ORDER BY timestamp")]
                    finally:
                        c.close()

                deadline = time.time() + 30
                while time.time() < deadline and len(stored()) < 2:
                    time.sleep(0.2)
                self.assertGreaterEqual(len(stored()), 2, slurp(log))
                port = hub.port
                self.assertEqual(hub.stop(), 0)
                down_from = int(time.time())
                time.sleep(5)
                spooled = spool_entries(spool)
                self.assertGreaterEqual(len(spooled), 3, slurp(log))
                down_to = int(time.time())
                with open(hub.log_path, "ab") as hl:
                    hub.proc = subprocess.Popen(
                        [hlc.HUB_BIN, "serve", "--listen", f"127.0.0.1:{port}", *hub.args],
                        env=hub.env(), stdout=hl, stderr=subprocess.STDOUT)
                hub.port = port
                hub.wait_ready()
                deadline = time.time() + 30
                while time.time() < deadline and (spool_entries(spool) or
                                                  stored()[-1] <= down_to):
                    time.sleep(0.2)
                self.assertEqual(spool_entries(spool), [], slurp(log))
                ts = stored()
                gap = [t for t in ts if down_from < t < down_to]
                self.assertGreaterEqual(len(gap), down_to - down_from - 2, (ts, slurp(log)))
                spooled_ts = [int(n.split(".")[0]) for n in spooled]
                for t in spooled_ts:
                    self.assertIn(t, ts)
                self.assertEqual(len(ts), len(set(ts)))
                latest = hub.get("/api/v1/metrics/roamer/latest").json
                self.assertEqual(latest["timestamp"], iso(ts[-1]))
            finally:
                proc.send_signal(signal.SIGTERM)
                code = proc.wait(timeout=20)
            self.assertEqual(code, 0, slurp(log))


if __name__ == "__main__":
    unittest.main()
