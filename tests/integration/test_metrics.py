"""Metrics and live-state API against the real hub binary: history, latest,
summary, services merged with live state, containers, `latest` in the
machine JSON, and input validation; then the same endpoints fed by real polls
of OpenSSH machines on 127.0.0.x (sshd.py), checked against what this machine
(the target) reports itself."""
import datetime
import glob
import os
import shutil
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error  # noqa: E402
import sshd  # noqa: E402

SERIES = ["cpu_percent", "memory_percent", "disk_percent", "load_1m", "load_5m", "load_15m",
          "network_rx_bps", "network_tx_bps", "cpu_temp_c"]


def machine(sid, mtype="server", services=()):
    return {"server_id": sid, "hostname": "127.0.0.1", "machine_type": mtype,
            "expected_services": [{"name": n, "critical": c} for n, c in services]}


class MetricsApiTest(unittest.TestCase):
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

    def test_history_validation(self):
        self.assertEqual(self.hub.post("/api/v1/servers", machine("nas")).status, 201)
        for q, field in (("range=2h", "range"), ("range=", "range"), ("range=24H", "range"),
                         ("points=0", "points"), ("points=1001", "points"),
                         ("points=abc", "points"), ("points=-5", "points"),
                         ("points=10.5", "points"), ("range=7d&points=99999999999999999999",
                                                     "points")):
            assert_error(self, self.hub.get(f"/api/v1/metrics/nas?{q}"), 422,
                         "VALIDATION_ERROR", field)
        assert_error(self, self.hub.get("/api/v1/metrics/ghost"), 404, "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/metrics/BAD..id"), 404, "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/metrics/nas", key=None), 401)

    def test_history_shape_without_data(self):
        self.hub.post("/api/v1/servers", machine("nas"))
        for rng, span, unit in (("1h", 3600, 60), ("6h", 6 * 3600, 60),
                                ("24h", 86400, 60), ("7d", 7 * 86400, 60),
                                ("30d", 30 * 86400, 60), ("1y", 365 * 86400, 3600)):
            for points in (1, 7, 300, 1000):
                r = self.hub.get(f"/api/v1/metrics/nas?range={rng}&points={points}")
                self.assertEqual(r.status, 200, r)
                h = r.json
                self.assertEqual((h["server_id"], h["range"]), ("nas", rng))
                b = h["bucket_seconds"]
                # whole minutes (hours for 1y), and N buckets cover the range
                self.assertEqual(b % unit, 0)
                self.assertGreaterEqual(b * points, span)
                self.assertLess(b, -(-span // points) + unit)
                self.assertEqual(h["timestamps"], [])
                self.assertEqual(sorted(h["series"]), sorted(SERIES))
                for s in SERIES:
                    self.assertEqual(h["series"][s], {"avg": [], "min": [], "max": []})
        self.assertEqual(self.hub.get("/api/v1/metrics/nas").json["range"], "24h")
        self.assertEqual(self.hub.get("/api/v1/metrics/nas").json["bucket_seconds"], 300)

    def test_filesystem_history_validation_and_shape(self):
        self.assertEqual(self.hub.post("/api/v1/servers", machine("nas")).status, 201)
        for q, field in (("range=2h", "range"), ("range=", "range"), ("range=1Y", "range"),
                         ("points=0", "points"), ("points=1001", "points"),
                         ("points=x", "points")):
            assert_error(self, self.hub.get(f"/api/v1/metrics/nas/filesystems?{q}"), 422,
                         "VALIDATION_ERROR", field)
        assert_error(self, self.hub.get("/api/v1/metrics/ghost/filesystems"), 404, "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/metrics/BAD..id/filesystems"), 404,
                     "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/metrics/nas/filesystems", key=None), 401)
        # the same buckets as the metrics history, for every range
        for rng in ("1h", "6h", "24h", "7d", "30d", "1y"):
            for points in (1, 60, 1000):
                q = f"range={rng}&points={points}"
                fs = self.hub.get(f"/api/v1/metrics/nas/filesystems?{q}")
                self.assertEqual(fs.status, 200, fs)
                h = self.hub.get(f"/api/v1/metrics/nas?{q}").json
                self.assertEqual(fs.json, {"server_id": "nas", "range": rng,
                                           "bucket_seconds": h["bucket_seconds"],
                                           "filesystems": [], "truncated": False})
        self.assertEqual(self.hub.get("/api/v1/metrics/nas/filesystems").json["range"], "24h")

    def test_temperature_history(self):
        self.assertEqual(self.hub.post("/api/v1/servers", machine("nas")).status, 201)
        for q, field in (("range=2h", "range"), ("range=", "range"), ("range=1Y", "range"),
                         ("points=0", "points"), ("points=1001", "points"),
                         ("points=x", "points")):
            assert_error(self, self.hub.get(f"/api/v1/metrics/nas/temperatures?{q}"), 422,
                         "VALIDATION_ERROR", field)
        assert_error(self, self.hub.get("/api/v1/metrics/ghost/temperatures"), 404, "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/metrics/BAD..id/temperatures"), 404,
                     "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/metrics/nas/temperatures", key=None), 401)
        # no samples: the same buckets as the metrics history, no zones
        for rng in ("1h", "1y"):
            t = self.hub.get(f"/api/v1/metrics/nas/temperatures?range={rng}&points=60")
            h = self.hub.get(f"/api/v1/metrics/nas?range={rng}&points=60").json
            self.assertEqual(t.json, {"server_id": "nas", "range": rng,
                                      "bucket_seconds": h["bucket_seconds"],
                                      "temperatures": [], "truncated": False})
        # three agent samples a minute apart, two zones (acpitz listed twice)
        now = int(time.time()) // 60 * 60 - 180
        for k in range(3):
            ts = datetime.datetime.fromtimestamp(now + 60 * k, datetime.timezone.utc)
            r = self.hub.post("/api/v1/agents/heartbeat", {
                "server_id": "nas", "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "hostname": "nas.lan", "metrics": {"uptime_seconds": 3600},
                "temperatures": [{"zone": "x86_pkg_temp", "celsius": 50.0 + k},
                                 {"zone": "acpitz", "celsius": 30.5},
                                 {"zone": "acpitz", "celsius": 99.0}]})
            self.assertEqual(r.status, 200, r)
        t = self.hub.get("/api/v1/metrics/nas/temperatures?range=1h&points=60").json
        self.assertEqual((t["bucket_seconds"], t["truncated"]), (60, False))
        self.assertEqual([z["zone"] for z in t["temperatures"]], ["acpitz", "x86_pkg_temp"])
        acpi, pkg = t["temperatures"]
        self.assertEqual(pkg["series"], [{"t": now + 60 * k, "celsius": 50.0 + k}
                                         for k in range(3)])
        self.assertEqual([p["celsius"] for p in acpi["series"]], [30.5] * 3)
        # one-hour buckets from the hourly sums agree with the samples
        y = self.hub.get("/api/v1/metrics/nas/temperatures?range=1y&points=1000").json
        pts = [p for z in y["temperatures"] if z["zone"] == "x86_pkg_temp" for p in z["series"]]
        self.assertTrue(pts, y)
        self.assertTrue(all(50.0 <= p["celsius"] <= 52.0 for p in pts), pts)

    def test_sparklines_one_request_for_the_fleet(self):
        gib = 1024 ** 3
        self.hub.post("/api/v1/servers", machine("nas"))
        self.hub.post("/api/v1/servers", machine("idle"))
        now = int(time.time())
        for k, t in enumerate((now - 1800, now - 1200, now - 30)):
            ts = datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            r = self.hub.post("/api/v1/agents/heartbeat", {
                "server_id": "nas", "timestamp": ts, "hostname": "nas.lan",
                "metrics": {"cpu_cores": 4, "cpu_total_jiffies": 1000 + 100 * k,
                            "cpu_idle_jiffies": 800 + 50 * k, "memory_total_bytes": 8 * gib,
                            "memory_available_bytes": (6 - k) * gib, "uptime_seconds": 3600}})
            self.assertEqual(r.status, 200, r)
        r = self.hub.get("/api/v1/metrics/sparklines?points=60")
        self.assertEqual(r.status, 200, r)
        d = r.json
        self.assertEqual((d["range"], d["bucket_seconds"], d["points"]), ("1h", 60, 60))
        self.assertEqual(d["from"] % 60, 0)
        self.assertGreater(d["from"], now - 3600 - 60)
        self.assertNotIn("idle", d["servers"])  # no samples, no line
        s = d["servers"]["nas"]
        self.assertEqual(len(s["i"]), 3)
        self.assertEqual(s["i"], sorted(s["i"]))
        self.assertTrue(all(0 <= i < 60 for i in s["i"]))
        self.assertEqual(s["i"][2] - s["i"][0], (now - 30) // 60 - (now - 1800) // 60)
        self.assertEqual([round(m) for m in s["mem"]], [25, 38, 50])
        self.assertEqual(len(s["cpu"]), 3)
        for q in ("points=1", "points=121", "points=x"):
            assert_error(self, self.hub.get(f"/api/v1/metrics/sparklines?{q}"), 422,
                         "VALIDATION_ERROR", "points")
        assert_error(self, self.hub.get("/api/v1/metrics/sparklines", key=None), 401)

    def test_latest_before_any_sample(self):
        self.hub.post("/api/v1/servers", machine("nas"))
        assert_error(self, self.hub.get("/api/v1/metrics/nas/latest"), 404, "NO_DATA",
                     "server_id")
        assert_error(self, self.hub.get("/api/v1/metrics/ghost/latest"), 404, "NOT_FOUND")
        r = self.hub.get("/api/v1/servers/nas")
        self.assertEqual(r.status, 200)
        self.assertIn("latest", r.json)
        self.assertIsNone(r.json["latest"])
        servers = self.hub.get("/api/v1/servers").json["servers"]
        self.assertEqual([(m["server_id"], m["latest"]) for m in servers], [("nas", None)])

    def test_summary_counts(self):
        s = self.hub.get("/api/v1/metrics/summary").json
        self.assertEqual((s["total"], s["online"], s["offline"], s["unknown"]), (0, 0, 0, 0))
        self.assertIsNone(s["avg_cpu_percent"])
        self.hub.post("/api/v1/servers", machine("nas"))
        self.hub.post("/api/v1/servers", machine("pi"))
        self.hub.post("/api/v1/servers", machine("laptop", "workstation"))
        s = self.hub.get("/api/v1/metrics/summary").json
        self.assertEqual((s["total"], s["online"], s["offline"], s["unknown"]), (3, 0, 0, 3))
        self.assertEqual(s["servers"], {"total": 2, "online": 0, "offline": 0, "unknown": 2})
        self.assertEqual(s["workstations"],
                         {"total": 1, "online": 0, "offline": 0, "unknown": 1})
        self.assertIsNone(s["avg_memory_percent"])
        self.assertIsNone(s["max_disk_percent"])

    def test_services_and_containers_before_any_poll(self):
        self.hub.post("/api/v1/servers",
                      machine("nas", services=[("plex", True), ("smbd", False)]))
        r = self.hub.get("/api/v1/servers/nas/services")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["server_id"], "nas")
        got = [(s["service_name"], s["name"], s["critical"], s["status"], s["active_state"],
                s["pid"], s["checked_at"]) for s in r.json["services"]]
        self.assertEqual(got, [("plex", "plex", True, "unknown", None, None, None),
                               ("smbd", "smbd", False, "unknown", None, None, None)])
        for key in ("sub_state", "memory_bytes", "cpu_usage_ns"):
            self.assertIn(key, r.json["services"][0])
        r = self.hub.get("/api/v1/servers/nas/containers")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"server_id": "nas", "containers": []})
        assert_error(self, self.hub.get("/api/v1/servers/ghost/containers"), 404, "NOT_FOUND")
        assert_error(self, self.hub.get("/api/v1/servers/ghost/services"), 404, "NOT_FOUND")


def iso(ts):
    return datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def target_facts():
    """What this machine says about itself, as the collector should see it."""
    with open("/proc/meminfo") as f:
        mem = {l.split(":")[0]: int(l.split()[1]) * 1024 for l in f if l.split()[-1] == "kB"}
    with open("/proc/stat") as f:
        btime = int([l for l in f if l.startswith("btime")][0].split()[1])
    with open("/proc/net/dev") as f:
        ifaces = {l.split(":")[0].strip() for l in f.readlines()[2:]} - {"lo"}
    osr = {}
    with open("/etc/os-release") as f:
        for line in f:
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                osr[k] = v.strip('"')
    st = os.statvfs("/")
    u = os.uname()
    return {"mem_total": mem["MemTotal"], "swap_total": mem["SwapTotal"], "btime": btime,
            "ifaces": ifaces, "pretty": osr.get("PRETTY_NAME"), "version": osr.get("VERSION_ID"),
            "root_size": st.f_blocks * st.f_frsize, "kernel": u.release, "arch": u.machine,
            "hostname": u.nodename, "cpus": os.sysconf("SC_NPROCESSORS_ONLN")}


class MetricsFromPollsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(2, pub, first_ip=40)
        cls.fleet.machines[0].set_thermal(sshd.THERMAL_FIXTURE)  # t0 has sensor zones
        cls.fleet.start()
        # Scheduled polls far apart, so the polls below are the ones that count.
        r = cls.hub.put("/api/v1/config", {"polling": {"poll_interval_seconds": 86400}})
        assert r.status == 200, r
        # The targets' state is set before they are registered: the scheduler
        # polls a new machine within 2 s, and that poll (which also asks for
        # updates) must see the same state as the tests' own polls.
        m0, m1 = cls.fleet.machines
        m0.set_unit("plex", "active")
        m0.set_unit("sonarr", "failed")
        m0.set_container("web", "running")
        m0.set_container("db", "exited")
        m0.set_updates(["bash", "tzdata"], security=["openssl"])
        os.unlink(os.path.join(m1.dir, "bin", "docker"))  # this machine has no Docker
        for i, m in enumerate(cls.fleet.machines):
            r = cls.hub.post("/api/v1/servers", {
                "server_id": f"t{i}", "hostname": m.host, "ssh_port": m.port,
                "ssh_user": sshd.USER, "machine_type": "server" if i == 0 else "workstation",
                "expected_services": [{"name": "plex", "critical": True},
                                      {"name": "sonarr", "critical": False},
                                      {"name": "ghost-unit", "critical": False}]})
            assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        assert "ERROR: AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]
        assert code == 0, log[-3000:]

    def poll(self, sid):
        time.sleep(1.1)  # samples are unique per second
        r = self.hub.post(f"/api/v1/servers/{sid}/poll")
        self.assertEqual(r.status, 200, r)
        return r.json

    def test_polls_feed_latest_history_summary_services_containers(self):
        m = self.fleet.machines[0]
        facts = target_facts()
        first = self.poll("t0")
        second = self.poll("t0")
        self.assertGreater(iso(second["timestamp"]), iso(first["timestamp"]))

        # latest: exactly what the target says about itself
        latest = self.hub.get("/api/v1/metrics/t0/latest")
        self.assertEqual(latest.status, 200, latest)
        l = latest.json
        self.assertEqual(l["timestamp"], second["timestamp"])
        self.assertEqual(l["source"], "ssh")
        self.assertEqual(l["memory_total_bytes"], facts["mem_total"])
        self.assertEqual(l["swap_total_bytes"], facts["swap_total"])
        self.assertTrue(0 < l["memory_used_bytes"] < l["memory_total_bytes"])
        self.assertAlmostEqual(l["memory_percent"],
                               100 * l["memory_used_bytes"] / l["memory_total_bytes"], delta=0.01)
        root = [f for f in l["filesystems"] if f["mount"] == "/"]
        self.assertEqual(len(root), 1, l["filesystems"])
        self.assertEqual(root[0]["total_bytes"], facts["root_size"])
        self.assertEqual(l["disk_percent"], root[0]["percent"])
        self.assertFalse([f for f in l["filesystems"] if f["fstype"] in ("tmpfs", "devtmpfs")])
        self.assertEqual({n["name"] for n in l["network"]}, facts["ifaces"])
        self.assertIsNotNone(l["cpu_percent"])  # derived from the two polls' counters
        self.assertTrue(0 <= l["cpu_percent"] <= 100)
        self.assertIsNotNone(l["network_rx_bps"])
        self.assertEqual(l["cpu_cores"], facts["cpus"])
        self.assertEqual(iso(l["boot_time"]), facts["btime"])
        self.assertGreater(l["uptime_seconds"], 0)
        self.assertEqual(l["os"], {"hostname": facts["hostname"], "distribution": facts["pretty"],
                                   "version": facts["version"], "kernel": facts["kernel"],
                                   "architecture": facts["arch"]})
        self.assertIs(l["reboot_required"], os.path.exists("/var/run/reboot-required"))
        # asked on the machine's first poll only; the count stays afterwards
        self.assertEqual((l["updates_available"], l["security_updates"]), (3, 1))
        self.assertEqual((first["updates_available"], first["security_updates"]), (3, 1))

        # the machine carries the same latest and its OS fields
        mach = self.hub.get("/api/v1/servers/t0").json
        self.assertEqual(mach["latest"], l)
        self.assertEqual((mach["kernel"], mach["architecture"], mach["os_distribution"],
                          mach["os_version"]),
                         (facts["kernel"], facts["arch"], facts["pretty"], facts["version"]))
        self.assertEqual(mach["status"], "online")
        listed = {x["server_id"]: x for x in self.hub.get("/api/v1/servers").json["servers"]}
        self.assertEqual(listed["t0"]["latest"], l)

        # services: expected ones merged with the state systemctl reported
        svcs = self.hub.get("/api/v1/servers/t0/services").json["services"]
        by = {x["service_name"]: x for x in svcs}
        self.assertEqual(sorted(by), ["ghost-unit", "plex", "sonarr"])
        self.assertEqual((by["plex"]["status"], by["plex"]["active_state"],
                          by["plex"]["sub_state"], by["plex"]["pid"],
                          by["plex"]["memory_bytes"], by["plex"]["cpu_usage_ns"]),
                         ("running", "active", "running", 4242, 52428800, 1500000000))
        self.assertTrue(by["plex"]["critical"])
        self.assertEqual((by["sonarr"]["status"], by["sonarr"]["active_state"]),
                         ("failed", "failed"))
        self.assertIsNone(by["sonarr"]["memory_bytes"])
        self.assertEqual((by["ghost-unit"]["status"], by["ghost-unit"]["load_state"]),
                         ("stopped", "not-found"))
        for x in svcs:  # unchanged rows, yet checked at the last poll
            self.assertEqual(x["checked_at"], second["timestamp"])

        conts = {c["name"]: c for c in
                 self.hub.get("/api/v1/servers/t0/containers").json["containers"]}
        self.assertEqual({k: v["state"] for k, v in conts.items()},
                         {"web": "running", "db": "exited"})
        self.assertEqual(conts["web"]["image"], "example/web:latest")
        self.assertEqual(conts["web"]["status"], "Up 2 hours")

        # a change on the target shows at the next poll
        m.set_container("web", "exited")
        m.set_unit("sonarr", "active")
        third = self.poll("t0")
        conts = {c["name"]: c for c in
                 self.hub.get("/api/v1/servers/t0/containers").json["containers"]}
        self.assertEqual(conts["web"]["state"], "exited")
        self.assertEqual(conts["web"]["checked_at"], third["timestamp"])
        by = {x["service_name"]: x for x in
              self.hub.get("/api/v1/servers/t0/services").json["services"]}
        self.assertEqual(by["sonarr"]["status"], "running")

        # history: the polls land in epoch-aligned buckets with avg/min/max
        h = self.hub.get("/api/v1/metrics/t0?range=24h&points=10").json
        self.assertEqual(h["bucket_seconds"], 8640)
        self.assertGreaterEqual(len(h["timestamps"]), 1)
        self.assertLessEqual(len(h["timestamps"]), 10)
        self.assertTrue(all(t % 8640 == 0 for t in h["timestamps"]))
        last = iso(third["timestamp"])
        self.assertEqual(h["timestamps"][-1], int(last) // 8640 * 8640)
        mem = h["series"]["memory_percent"]
        self.assertLessEqual(mem["min"][-1], third["memory_percent"])
        self.assertGreaterEqual(mem["max"][-1], third["memory_percent"])
        self.assertTrue(mem["min"][-1] <= mem["avg"][-1] <= mem["max"][-1])
        self.assertIsNotNone(h["series"]["cpu_percent"]["max"][-1])
        # The real disk changes between polls, so the bucket's max is at least
        # the last poll's value and its min at most.
        disk = h["series"]["disk_percent"]
        self.assertGreaterEqual(disk["max"][-1], third["disk_percent"])
        self.assertLessEqual(disk["min"][-1], third["disk_percent"])
        y = self.hub.get("/api/v1/metrics/t0?range=1y&points=365").json
        self.assertEqual(y["bucket_seconds"], 86400)
        self.assertEqual(y["timestamps"][-1], int(last) // 86400 * 86400)
        self.assertGreaterEqual(y["series"]["disk_percent"]["max"][-1], third["disk_percent"])
        self.assertLessEqual(y["series"]["disk_percent"]["min"][-1], third["disk_percent"])
        # load 1, 5 and 15 minutes, from the samples and the hourly rollups alike
        for hist in (h, y):
            for k in ("load_1m", "load_5m", "load_15m"):
                s = hist["series"][k]
                self.assertIsNotNone(s["avg"][-1], k)
                self.assertTrue(s["min"][-1] <= s["avg"][-1] <= s["max"][-1], k)
        self.assertLessEqual(h["series"]["load_5m"]["min"][-1], third["load_5m"])
        self.assertGreaterEqual(h["series"]["load_15m"]["max"][-1], third["load_15m"])

        # each filesystem's history: every mount the polls reported, in the
        # same epoch-aligned buckets, its last bucket holding the last poll
        for rng, points, bucket in (("1h", 60, 60), ("24h", 10, 8640), ("1y", 365, 86400)):
            fs = self.hub.get(f"/api/v1/metrics/t0/filesystems?range={rng}&points={points}").json
            self.assertEqual((fs["range"], fs["bucket_seconds"], fs["truncated"]),
                             (rng, bucket, False))
            mounts = [x["mount"] for x in fs["filesystems"]]
            self.assertEqual(mounts, sorted(f["mount"] for f in l["filesystems"]))
            root = fs["filesystems"][mounts.index("/")]["series"]
            self.assertEqual(root[-1]["t"], int(last) // bucket * bucket)
            self.assertTrue(all(p["t"] % bucket == 0 for p in root))
            # the real disk moves a little between polls: the bucket's average
            # is near the last poll's figure
            self.assertAlmostEqual(root[-1]["used_percent"], third["disk_percent"], delta=1.0)

        # summary: online machines' averages
        s = self.hub.get("/api/v1/metrics/summary").json
        self.assertGreaterEqual(s["online"], 1)
        self.assertEqual(s["servers"]["total"], 1)
        self.assertEqual(s["workstations"]["total"], 1)
        self.assertIsNotNone(s["avg_memory_percent"])
        self.assertGreaterEqual(s["max_disk_percent"], third["disk_percent"])

    def test_machine_without_docker_or_sensors_reports_no_section(self):
        l = self.poll("t1")
        self.assertEqual(self.hub.get("/api/v1/servers/t1/containers").json["containers"], [])
        self.assertEqual(l["memory_total_bytes"], target_facts()["mem_total"])
        # sensors as the machine exposes them (none on this VM: no section)
        sensors = glob.glob("/sys/class/thermal/thermal_zone*/temp") + \
            glob.glob("/sys/class/hwmon/hwmon*/temp*_input")
        self.assertEqual(len(l["temperatures"]), len(sensors))
        self.assertEqual(l["cpu_temp_c"] is None, not sensors)
        self.assertIsNone(self.hub.get("/api/v1/servers/t1").json["last_error"])


    def test_sensor_zones_polled_into_temperature_history(self):
        m = self.fleet.machines[0]
        l = self.poll("t0")
        # the zones as the collector read them from the machine's sysfs
        self.assertEqual(sorted((t["zone"], t["celsius"]) for t in l["temperatures"]),
                         sorted((z, v / 1000) for z, v in sshd.THERMAL_FIXTURE))
        self.assertEqual(l["cpu_temp_c"], 47.5)
        warmer = os.path.join(m.dir, "thermal", "thermal_zone0", "temp")
        with open(warmer, "w") as f:
            f.write("60000\n")
        try:
            self.poll("t0")
        finally:
            with open(warmer, "w") as f:
                f.write("47500\n")
        t = self.hub.get("/api/v1/metrics/t0/temperatures?range=1h&points=60").json
        zones = {z["zone"]: z["series"] for z in t["temperatures"]}
        self.assertEqual(sorted(zones), ["acpitz", "x86_pkg_temp"])  # acpitz twice: one line
        self.assertTrue(all(p["celsius"] == 31.0 for p in zones["acpitz"]), zones)
        pkg = [p["celsius"] for p in zones["x86_pkg_temp"]]
        self.assertGreater(max(pkg), 47.5)  # the warmer reading is in (alone or averaged)
        self.assertLessEqual(max(pkg), 60.0)
        # t1 has no zones: no series
        self.assertEqual(
            self.hub.get("/api/v1/metrics/t1/temperatures?range=1h").json["temperatures"], [])

if __name__ == "__main__":
    unittest.main(verbosity=2)
