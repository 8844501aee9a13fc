"""Metrics and live-state API against the real hub binary: history, latest,
summary, services merged with live state, containers, `latest` in the
machine JSON, and input validation."""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error  # noqa: E402

SERIES = ["cpu_percent", "memory_percent", "disk_percent", "load_1m", "network_rx_bps",
          "network_tx_bps", "cpu_temp_c"]


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
        for rng, span, unit in (("24h", 86400, 60), ("7d", 7 * 86400, 60),
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
