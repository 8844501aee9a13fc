"""The hub's HTTP API core against the real binary: auth, errors, machines,
services, configuration, persistence, cascade delete, migrations, shutdown."""
import os
import re
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import HUB_BIN, SOURCE_DIR, Hub, assert_error  # noqa: E402

NAS = {
    "server_id": "omv-nas",
    "display_name": "OMV NAS",
    "hostname": "nas.home.lan",
    "ip_address": "192.168.1.20",
    "mac_address": "aa:bb:cc:dd:ee:ff",
    "tdp_watts": 65,
    "location": "Loft rack",
    "tags": ["storage", "omv"],
    "expected_services": [{"name": "plex", "critical": True}, {"name": "smbd", "critical": False}],
}


class ApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # Many wrong keys on purpose: the throttle of repeated 401s is
        # test_hardening's to test.
        cls.hub = Hub(env={"HOMELABCMD_AUTH_FAIL_LIMIT": "1000000"}).start()

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

    # ---- auth ---------------------------------------------------------
    def test_health_needs_no_key_and_reports_database(self):
        r = self.hub.get("/api/v1/system/health", key=None)
        self.assertEqual(r.status, 200)
        self.assertEqual(r.json["status"], "healthy")
        self.assertEqual(r.json["database"], "ok")
        self.assertRegex(r.json["version"], r"^\d+\.\d+\.\d+$")
        self.assertGreaterEqual(r.json["uptime_seconds"], 0)

    def test_every_other_endpoint_needs_the_key(self):
        paths = [("GET", "/api/v1/servers"), ("POST", "/api/v1/servers"),
                 ("GET", "/api/v1/servers/x"), ("PUT", "/api/v1/servers/x"),
                 ("DELETE", "/api/v1/servers/x"), ("GET", "/api/v1/servers/x/services"),
                 ("PUT", "/api/v1/servers/x/services"), ("GET", "/api/v1/config"),
                 ("PUT", "/api/v1/config"), ("GET", "/api/v1/config/thresholds"),
                 ("PUT", "/api/v1/config/thresholds"), ("GET", "/api/v1/system/stats"),
                 ("PUT", "/api/v1/preferences/card-order")]
        for method, path in paths:
            for key in (None, "wrong-key", self.hub.api_key + "x", ""):
                r = self.hub.request(method, path, key=key, body={})
                assert_error(self, r, 401, "UNAUTHORIZED")
        # A wrong key never reaches the handler: nothing was created.
        r = self.hub.post("/api/v1/servers", {"server_id": "sneaky", "hostname": "h"}, key="bad")
        self.assertEqual(r.status, 401)
        self.assertEqual(self.hub.get("/api/v1/servers/sneaky").status, 404)

    # ---- machines -----------------------------------------------------
    def test_register_read_update_delete(self):
        r = self.hub.post("/api/v1/servers", NAS)
        self.assertEqual(r.status, 201, r)
        m = r.json
        self.assertEqual(m["server_id"], "omv-nas")
        self.assertEqual(m["machine_type"], "server")
        self.assertEqual(m["connectivity"], "direct")
        self.assertEqual(m["ssh_port"], 22)
        self.assertEqual(m["status"], "unknown")
        self.assertIsNone(m["last_seen"])
        self.assertEqual(m["tags"], ["storage", "omv"])
        self.assertEqual([(s["name"], s["critical"]) for s in m["expected_services"]],
                         [("plex", True), ("smbd", False)])
        self.assertRegex(m["registered_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

        r = self.hub.put("/api/v1/servers/omv-nas", {"tdp_watts": 80, "machine_type": "workstation",
                                                     "location": None})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["tdp_watts"], 80)
        self.assertEqual(r.json["machine_type"], "workstation")
        self.assertIsNone(r.json["location"])
        self.assertEqual(r.json["hostname"], "nas.home.lan")  # untouched fields stay

        got = self.hub.get("/api/v1/servers/omv-nas").json
        self.assertEqual(got["tdp_watts"], 80)
        lst = self.hub.get("/api/v1/servers").json
        self.assertEqual(lst["total"], 1)
        self.assertEqual(lst["servers"][0]["server_id"], "omv-nas")

        r = self.hub.delete("/api/v1/servers/omv-nas")
        self.assertEqual(r.status, 204)
        assert_error(self, self.hub.get("/api/v1/servers/omv-nas"), 404, "NOT_FOUND")
        assert_error(self, self.hub.delete("/api/v1/servers/omv-nas"), 404, "NOT_FOUND")

    def test_duplicate_is_409(self):
        self.assertEqual(self.hub.post("/api/v1/servers", NAS).status, 201)
        assert_error(self, self.hub.post("/api/v1/servers", NAS), 409, "CONFLICT", "server_id")

    def test_validation_names_the_field(self):
        base = {"server_id": "ok-id", "hostname": "host.lan"}
        cases = [
            ({"hostname": "h"}, "server_id"),
            ({"server_id": "Bad_ID", "hostname": "h"}, "server_id"),
            ({"server_id": "-lead", "hostname": "h"}, "server_id"),
            ({"server_id": "a" * 64, "hostname": "h"}, "server_id"),
            ({"server_id": "x"}, "hostname"),
            ({**base, "hostname": "bad host!"}, "hostname"),
            ({**base, "ip_address": "300.1.1.1"}, "ip_address"),
            ({**base, "mac_address": "zz:bb:cc:dd:ee:ff"}, "mac_address"),
            ({**base, "tdp_watts": -1}, "tdp_watts"),
            ({**base, "tdp_watts": "65"}, "tdp_watts"),
            ({**base, "tdp_watts": 1.5}, "tdp_watts"),
            ({**base, "machine_type": "router"}, "machine_type"),
            ({**base, "connectivity": "carrier-pigeon"}, "connectivity"),
            ({**base, "connectivity": "tailscale"}, "connectivity"),
            ({**base, "ssh_port": 0}, "ssh_port"),
            ({**base, "ssh_port": 70000}, "ssh_port"),
            ({**base, "ssh_user": "root; rm -rf /"}, "ssh_user"),
            ({**base, "tags": "storage"}, "tags"),
            ({**base, "tags": ["ok", "not ok"]}, "tags"),
            ({**base, "tags": [str(i) for i in range(40)]}, "tags"),
            ({**base, "display_name": "x" * 101}, "display_name"),
            ({**base, "display_name": "bad\nname"}, "display_name"),
            ({**base, "location": 5}, "location"),
            ({**base, "poll_interval_seconds": 1}, "poll_interval_seconds"),
            ({**base, "expected_services": [{"name": "plex; reboot"}]},
             "expected_services[0].name"),
            ({**base, "expected_services": [{"name": "a"}, {"name": "a"}]},
             "expected_services[1]"),
            ({**base, "expected_services": [{"name": "a", "critical": "yes"}]},
             "expected_services[0].critical"),
            ({**base, "surprise": 1}, "surprise"),
        ]
        for body, field in cases:
            with self.subTest(field=field, body=str(body)[:80]):
                assert_error(self, self.hub.post("/api/v1/servers", body), 422,
                             "VALIDATION_ERROR", field)
        # Nothing was half-written by any of them.
        self.assertEqual(self.hub.get("/api/v1/servers").json["total"], 0)

    def test_bad_bodies(self):
        assert_error(self, self.hub.post("/api/v1/servers", raw=b"{not json"), 400, "BAD_REQUEST")
        assert_error(self, self.hub.post("/api/v1/servers", raw=b""), 400, "BAD_REQUEST")
        assert_error(self, self.hub.post("/api/v1/servers", raw=b"[1,2]"), 422)
        assert_error(self, self.hub.post("/api/v1/servers",
                                         raw=b'{"server_id":"a","server_id":"b","hostname":"h"}'),
                     400, "BAD_REQUEST")
        assert_error(self, self.hub.post("/api/v1/servers", raw=b"\xff\xfe{}"), 400)
        deep = b"[" * 5000 + b"]" * 5000
        self.assertIn(self.hub.post("/api/v1/servers", raw=deep).status, (400, 422))
        # A declared length past the cap is refused before the body is read.
        with socket.create_connection(("127.0.0.1", self.hub.port)) as s:
            s.sendall(b"POST /api/v1/servers HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                      self.hub.api_key.encode() + b"\r\nContent-Length: 2097152\r\n\r\n")
            reply = s.recv(65536)
        self.assertIn(b" 413 ", reply.split(b"\r\n")[0])
        self.assertIn(b"PAYLOAD_TOO_LARGE", reply)
        self.assertEqual(self.hub.get("/api/v1/servers").json["total"], 0)

    def test_oversized_chunked_body_is_413(self):
        # No Content-Length: the cap is enforced while reading.
        with socket.create_connection(("127.0.0.1", self.hub.port)) as s:
            s.sendall(b"POST /api/v1/servers HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                      self.hub.api_key.encode() +
                      b"\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
            chunk = b"a" * 65536
            for _ in range(20):
                s.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
            s.sendall(b"0\r\n\r\n")
            reply = b""
            while True:
                d = s.recv(65536)
                if not d:
                    break
                reply += d
        self.assertIn(b" 413 ", reply.split(b"\r\n")[0])
        self.assertIn(b"PAYLOAD_TOO_LARGE", reply)

    def test_header_size_cap(self):
        # 8 KB of headers (nginx's usual cap) are read; far past the cap is a clear 431.
        r = self.hub.request("GET", "/api/v1/servers", headers={"X-Pad": "x" * 8000})
        self.assertEqual(r.status, 200)
        with socket.create_connection(("127.0.0.1", self.hub.port)) as s:
            s.sendall(b"GET /api/v1/servers HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"x" * 40000 +
                      b"\r\nConnection: close\r\n\r\n")
            reply = s.recv(65536)
        self.assertIn(b" 431 ", reply.split(b"\r\n")[0])
        self.assertEqual(self.hub.get("/api/v1/system/health").status, 200)

    def test_unknown_routes_and_methods(self):
        assert_error(self, self.hub.get("/api/v1/nope"), 404, "NOT_FOUND")
        assert_error(self, self.hub.request("PATCH", "/api/v1/servers"), 405)
        assert_error(self, self.hub.get("/api/v1/servers/UPPER"), 404, "NOT_FOUND")

    def test_services_get_put(self):
        self.hub.post("/api/v1/servers", NAS)
        r = self.hub.put("/api/v1/servers/omv-nas/services",
                         {"services": [{"name": "docker.service", "critical": True},
                                       {"name": "getty@tty1.service"}]})
        self.assertEqual(r.status, 200, r)
        names = [s["name"] for s in r.json["services"]]
        self.assertEqual(names, ["docker.service", "getty@tty1.service"])
        got = self.hub.get("/api/v1/servers/omv-nas/services").json["services"]
        self.assertEqual(len(got), 2)
        assert_error(self, self.hub.put("/api/v1/servers/omv-nas/services",
                                        {"services": [{"name": "$(reboot)"}]}),
                     422, field="services[0].name")
        self.assertEqual(len(self.hub.get("/api/v1/servers/omv-nas/services").json["services"]), 2)
        assert_error(self, self.hub.put("/api/v1/servers/nope/services", {"services": []}), 404)
        assert_error(self, self.hub.get("/api/v1/servers/nope/services"), 404)

    def test_card_order(self):
        for sid in ("c-one", "a-two", "b-three"):
            self.assertEqual(self.hub.post("/api/v1/servers",
                                           {"server_id": sid, "hostname": "h.lan"}).status, 201)
        r = self.hub.put("/api/v1/preferences/card-order", {"order": ["b-three", "c-one", "a-two"]})
        self.assertEqual(r.status, 200, r)
        ids = [m["server_id"] for m in self.hub.get("/api/v1/servers").json["servers"]]
        self.assertEqual(ids, ["b-three", "c-one", "a-two"])
        assert_error(self, self.hub.put("/api/v1/preferences/card-order", {"order": ["ghost"]}),
                     422, field="order")
        ids = [m["server_id"] for m in self.hub.get("/api/v1/servers").json["servers"]]
        self.assertEqual(ids, ["b-three", "c-one", "a-two"])  # rolled back whole

    # ---- configuration ------------------------------------------------
    def test_config_defaults_and_validation(self):
        c = self.hub.get("/api/v1/config").json
        self.assertEqual(c["thresholds"]["disk_warning_percent"], 80)
        self.assertEqual(c["thresholds"]["disk_critical_percent"], 90)
        self.assertEqual(c["thresholds"]["memory_warning_percent"], 85)
        self.assertEqual(c["thresholds"]["cpu_warning_percent"], 90)
        self.assertEqual(c["thresholds"]["server_offline_seconds"], 180)
        self.assertEqual(c["costs"]["electricity_rate_kwh"], 0.24)
        self.assertEqual(c["costs"]["currency"], "GBP")
        self.assertFalse(c["remediation"]["auto_approve_enabled"])
        self.assertTrue(c["notifications"]["notify_on_critical"])
        self.assertFalse(c["notifications"]["notify_on_low"])

        bad = [
            ({"disk_warning_percent": 95}, "thresholds.disk_warning_percent"),
            ({"disk_warning_percent": 101}, "thresholds.disk_warning_percent"),
            ({"cpu_warning_percent": "90"}, "thresholds.cpu_warning_percent"),
            ({"server_offline_seconds": -5}, "thresholds.server_offline_seconds"),
            ({"server_offline_seconds": 0}, "thresholds.server_offline_seconds"),
            ({"made_up": 1}, "thresholds.made_up"),
        ]
        for body, field in bad:
            with self.subTest(field=field):
                assert_error(self, self.hub.put("/api/v1/config/thresholds", body), 422,
                             "VALIDATION_ERROR", field)
        r = self.hub.put("/api/v1/config/thresholds", {"disk_warning_percent": 70,
                                                       "server_offline_seconds": 60})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["disk_warning_percent"], 70)
        self.assertEqual(r.json["disk_critical_percent"], 90)

        # A PUT touching two sections with one bad value writes neither.
        r = self.hub.put("/api/v1/config", {"costs": {"electricity_rate_kwh": 0.30},
                                            "remediation": {"auto_approve_actions": ["rm_rf"]}})
        assert_error(self, r, 422, field="remediation.auto_approve_actions")
        self.assertEqual(self.hub.get("/api/v1/config").json["costs"]["electricity_rate_kwh"], 0.24)
        r = self.hub.put("/api/v1/config", {"costs": {"electricity_rate_kwh": 0.30},
                                            "remediation": {"auto_approve_enabled": True}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["costs"]["electricity_rate_kwh"], 0.30)
        self.assertTrue(r.json["remediation"]["auto_approve_enabled"])
        assert_error(self, self.hub.put("/api/v1/config", {"nonsense": {}}), 422, field="nonsense")
        # restore for other tests
        self.hub.put("/api/v1/config", {"costs": {"electricity_rate_kwh": 0.24},
                                        "remediation": {"auto_approve_enabled": False},
                                        "thresholds": {"disk_warning_percent": 80,
                                                       "server_offline_seconds": 180}})

    def test_stats(self):
        self.hub.post("/api/v1/servers", NAS)
        s = self.hub.get("/api/v1/system/stats").json
        self.assertEqual(s["database"]["machines"], 1)
        self.assertEqual(s["database"]["expected_services"], 2)
        self.assertGreater(s["requests_served"], 0)
        self.assertGreater(s["database"]["database_bytes"], 0)

    def test_static_page_without_dashboard(self):
        r = self.hub.get("/", key=None)
        self.assertEqual(r.status, 200)
        self.assertIn(b"HomelabCmd", r.raw)
        assert_error(self, self.hub.get("/../../etc/passwd", key=None), 404)


class LifecycleTest(unittest.TestCase):
    def test_persistence_across_restart_and_cascade_delete(self):
        hub = Hub()
        try:
            hub.start()
            self.assertEqual(hub.post("/api/v1/servers", NAS).status, 201)
            hub.put("/api/v1/config/thresholds", {"disk_warning_percent": 77})
            self.assertEqual(hub.stop(), 0)
            self.assertIn("stopped cleanly", hub.log())
            hub.start()
            m = hub.get("/api/v1/servers/omv-nas").json
            self.assertEqual(m["display_name"], "OMV NAS")
            self.assertEqual(len(m["expected_services"]), 2)
            self.assertEqual(hub.get("/api/v1/config/thresholds").json["disk_warning_percent"], 77)
            self.assertEqual(hub.delete("/api/v1/servers/omv-nas").status, 204)
            self.assertEqual(hub.stop(), 0)
            db = sqlite3.connect(os.path.join(hub.data_dir, "homelabcmd.db"))
            self.assertEqual(db.execute("SELECT count(*) FROM expected_services").fetchone()[0], 0)
            self.assertEqual(db.execute("SELECT count(*) FROM servers").fetchone()[0], 0)
            db.close()
        finally:
            hub.cleanup()

    def test_kill9_loses_nothing_committed(self):
        hub = Hub()
        try:
            hub.start()
            for i in range(20):
                self.assertEqual(hub.post("/api/v1/servers",
                                          {"server_id": f"m-{i}", "hostname": "h.lan"}).status, 201)
            hub.kill9()
            hub.start()
            self.assertEqual(hub.get("/api/v1/servers").json["total"], 20)
            self.assertEqual(hub.stop(), 0)
        finally:
            hub.cleanup()

    def test_generated_api_key(self):
        hub = Hub(api_key=None)
        try:
            hub.start(wait=False)
            key_file = os.path.join(hub.data_dir, "api_key")
            hub.api_key = "unknown"
            hub.wait_ready()
            self.assertTrue(os.path.exists(key_file))
            self.assertEqual(stat.S_IMODE(os.stat(key_file).st_mode), 0o600)
            key = open(key_file).read().strip()
            self.assertRegex(key, r"^[0-9a-f]{64}$")
            self.assertNotIn(key, hub.log())  # never printed: only where it is
            self.assertIn(key_file, hub.log())
            self.assertEqual(hub.get("/api/v1/servers").status, 401)
            hub.api_key = key
            self.assertEqual(hub.get("/api/v1/servers").status, 200)
            self.assertEqual(hub.stop(), 0)
            # Second start reuses it and does not print it again.
            open(hub.log_path, "w").close()
            hub.start()
            self.assertEqual(hub.get("/api/v1/servers").status, 200)
            self.assertNotIn(key, hub.log())
            self.assertEqual(hub.stop(), 0)
        finally:
            hub.cleanup()

    def test_sigint_also_stops_cleanly(self):
        import signal
        hub = Hub()
        try:
            hub.start()
            self.assertEqual(hub.stop(sig=signal.SIGINT), 0)
        finally:
            hub.cleanup()

    def test_connection_limits_and_ipv6(self):
        """Connections past the per-address limit are closed unserved; the
        ones within it are served; an IPv6 listen address serves over IPv6."""
        with Hub(env={"HOMELABCMD_PER_IP_LIMIT": "5"}) as hub:
            time.sleep(0.5)  # the readiness probes' connections are closed and counted out
            socks = [socket.create_connection(("127.0.0.1", hub.port)) for _ in range(9)]
            served = 0
            try:
                time.sleep(0.3)
                for s in socks:
                    s.settimeout(2)
                    try:
                        s.sendall(b"GET /api/v1/system/health HTTP/1.1\r\nHost: h\r\n\r\n")
                        served += s.recv(64).startswith(b"HTTP/1.1 200")
                    except OSError:
                        pass
            finally:
                for s in socks:
                    s.close()
            self.assertEqual(served, 5)
            self.assertEqual(hub.get("/api/v1/system/health").status, 200)
        try:
            with socket.socket(socket.AF_INET6) as probe:
                probe.bind(("::1", 0))
                port = probe.getsockname()[1]
        except OSError:
            self.skipTest("no IPv6 loopback here")
        hub = Hub()
        try:
            hub.proc = subprocess.Popen([HUB_BIN, "serve", "--listen", f"[::1]:{port}"],
                                        env=hub.env(), stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
            body = b""
            for _ in range(100):
                try:
                    with socket.create_connection(("::1", port), timeout=2) as c:
                        c.sendall(b"GET /api/v1/system/health HTTP/1.1\r\nHost: h\r\n\r\n")
                        body = c.recv(256)
                    break
                except OSError:
                    time.sleep(0.05)
            self.assertTrue(body.startswith(b"HTTP/1.1 200"), body)
            self.assertEqual(hub.stop(), 0)
        finally:
            hub.stop()
            hub.cleanup()

    def test_upgrade_from_schema_v1_fixture(self):
        latest = int(re.search(r"schema (\d+)",
                               subprocess.check_output([HUB_BIN, "version"], text=True)).group(1))
        d = tempfile.mkdtemp(prefix="hlc-upgrade-")
        db_path = os.path.join(d, "homelabcmd.db")
        with open(os.path.join(SOURCE_DIR, "tests/fixtures/db/schema_v1.sql")) as f:
            db = sqlite3.connect(db_path)
            db.executescript(f.read())
            db.close()
        hub = Hub(data_dir=d)
        try:
            hub.start()
            self.assertEqual(hub.get("/api/v1/system/stats").json["database"]["schema_version"],
                             latest)
            m = hub.get("/api/v1/servers/omv-mediaserver").json
            self.assertEqual(m["display_name"], "OMV MediaServer")
            self.assertEqual(m["tdp_watts"], 65)
            self.assertEqual(sorted(s["name"] for s in m["expected_services"]), ["plex", "sonarr"])
            self.assertEqual(hub.get("/api/v1/servers/dev-laptop").json["machine_type"],
                             "workstation")
            self.assertEqual(hub.get("/api/v1/config/thresholds").json["disk_warning_percent"], 75)
            self.assertEqual(hub.stop(), 0)
            db = sqlite3.connect(db_path)
            self.assertEqual(db.execute("PRAGMA user_version").fetchone()[0], latest)
            db.close()
        finally:
            hub.cleanup()
            import shutil
            shutil.rmtree(d, ignore_errors=True)

    def test_cli(self):
        out = subprocess.run([HUB_BIN, "--help"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 0)
        self.assertIn("serve", out.stdout)
        self.assertIn("HOMELABCMD_DATA_DIR", out.stdout)
        out = subprocess.run([HUB_BIN, "version"], capture_output=True, text=True)
        self.assertRegex(out.stdout, r"^homelabcmd \d+\.\d+\.\d+")
        out = subprocess.run([HUB_BIN, "frobnicate"], capture_output=True, text=True)
        self.assertEqual(out.returncode, 2)
        out = subprocess.run([HUB_BIN, "serve", "--http-threads", "zero"], capture_output=True,
                             text=True)
        self.assertEqual(out.returncode, 2)
        self.assertIn("--http-threads", out.stderr)
        # The port taken: a clear failure, not a hang.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen(1)
            port = s.getsockname()[1]
            d = tempfile.mkdtemp(prefix="hlc-port-")
            out = subprocess.run([HUB_BIN, "serve", "--listen", f"127.0.0.1:{port}",
                                  "--data-dir", d], capture_output=True, text=True, timeout=20,
                                 env={**os.environ, "HOMELABCMD_API_KEY": "k" * 32})
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("cannot listen", out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
