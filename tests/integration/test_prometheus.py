#!/usr/bin/env python3
"""GET /metrics (issue 25): auth by X-API-Key or Bearer (API key or the
read-only scrape token), the text format 0.0.4 checked by the real
`promtool check metrics`, OpenMetrics when Accept asks, and a real Prometheus
server scraping the hub with the scrape token and answering
homelabcmd_machine_up{server_id="..."} == 1 through its HTTP API."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, free_port  # noqa: E402

TOKEN = "scrape-token-0123456789abcdef"


def heartbeat(sid, ts, jiffies=1000000, services=(), containers=None, temperatures=None):
    body = {
        "server_id": sid, "timestamp": ts, "machine_type": "workstation", "hostname": sid + ".lan",
        "metrics": {"cpu_cores": 4, "cpu_total_jiffies": jiffies, "cpu_idle_jiffies": jiffies // 2,
                    "memory_total_bytes": 8 << 30, "memory_available_bytes": 6 << 30,
                    "swap_total_bytes": 1 << 30, "swap_free_bytes": 1 << 30,
                    "load_1m": 0.5, "load_5m": 0.25, "load_15m": 0.125, "uptime_seconds": 7200},
        "os_info": {"id": "debian", "distribution": "Debian GNU/Linux 12 (bookworm)", "version": "12",
                    "kernel": "6.1.0-18-amd64", "architecture": "x86_64"},
        "filesystems": [{"mount": "/", "device": "/dev/sda1", "fstype": "ext4",
                         "total_bytes": 100 << 30, "used_bytes": 40 << 30, "avail_bytes": 55 << 30}],
        "network": [{"name": "eth0", "rx_bytes": 123456, "tx_bytes": 65432}],
        "services": [{"name": n, "status": st, "active_state": "active" if st == "running" else "inactive",
                      "sub_state": "running" if st == "running" else "dead"} for n, st in services],
        "reboot_required": True,
    }
    if containers is not None:
        body["containers"] = containers
    if temperatures is not None:
        body["temperatures"] = temperatures
    return body


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def parse_text(text):
    """{sample name with labels: value} of a 0.0.4 exposition."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


class PrometheusTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        now = int(time.time())
        for i, sid in enumerate(("pm-a", "pm-b")):
            for k in range(2):  # two samples: the second has a CPU ratio
                r = cls.hub.post("/api/v1/agents/heartbeat", heartbeat(
                    sid, iso(now - 10 + k), 1000000 + k * 400,
                    services=[("ssh", "running"), ("plex", "stopped")]))
                assert r.status == 200, r
        r = cls.hub.put("/api/v1/servers/pm-a/services",
                        {"services": [{"name": "ssh", "critical": True},
                                      {"name": "plex", "critical": False}]})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        cls.hub.cleanup()

    def metrics(self, headers):
        return self.hub.get("/metrics", key=None, headers=headers)

    def test_auth(self):
        assert_error(self, self.metrics({}), 401, "UNAUTHORIZED")
        assert_error(self, self.metrics({"Authorization": "Bearer wrong-token-000000000"}), 401)
        assert_error(self, self.metrics({"X-API-Key": "nope"}), 401)
        self.assertEqual(self.metrics({"X-API-Key": self.hub.api_key}).status, 200)
        self.assertEqual(self.metrics({"Authorization": "Bearer " + self.hub.api_key}).status, 200)
        # the scrape token: 422 when malformed, then opens /metrics and nothing else
        for bad in ("short", "has space in it 0123456789", 42):
            r = self.hub.put("/api/v1/config", {"prometheus": {"scrape_token": bad}})
            assert_error(self, r, 422, "VALIDATION_ERROR", "prometheus.scrape_token")
        assert_error(self, self.hub.put("/api/v1/config", {"prometheus": {"x": 1}}), 422)
        self.assertEqual(self.hub.put("/api/v1/config", {"prometheus": {"scrape_token": TOKEN}}).status, 200)
        cfg = self.hub.get("/api/v1/config").json
        self.assertEqual(cfg["prometheus"], {"scrape_token_set": True})
        self.assertNotIn(TOKEN, json.dumps(cfg))
        self.assertEqual(self.metrics({"Authorization": "Bearer " + TOKEN}).status, 200)
        r = self.hub.get("/api/v1/servers", key=TOKEN)
        assert_error(self, r, 401)
        r = self.hub.get("/api/v1/servers", key=None, headers={"Authorization": "Bearer " + TOKEN})
        assert_error(self, r, 401)
        # GET's echo is accepted back unchanged and keeps the token
        self.assertEqual(self.hub.put("/api/v1/config", {"prometheus": cfg["prometheus"]}).status, 200)
        self.assertEqual(self.metrics({"Authorization": "Bearer " + TOKEN}).status, 200)

    def test_text_format_values_and_promtool(self):
        r = self.metrics({"X-API-Key": self.hub.api_key})
        self.assertEqual(r.status, 200)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain; version=0.0.4"))
        text = r.raw.decode()
        res = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        m = parse_text(text)
        self.assertEqual(m['homelabcmd_machine_up{server_id="pm-a",machine_type="workstation"}'], 1)
        self.assertEqual(m['homelabcmd_memory_total_bytes{server_id="pm-a"}'], 8 << 30)
        self.assertEqual(m['homelabcmd_memory_used_bytes{server_id="pm-b"}'], 2 << 30)
        self.assertAlmostEqual(m['homelabcmd_cpu_usage_ratio{server_id="pm-a"}'], 0.5, places=2)
        fs = 'server_id="pm-a",mountpoint="/",device="/dev/sda1",fstype="ext4"'
        self.assertEqual(m["homelabcmd_filesystem_size_bytes{%s}" % fs], 100 << 30)
        self.assertEqual(m["homelabcmd_filesystem_avail_bytes{%s}" % fs], 55 << 30)
        self.assertEqual(m['homelabcmd_network_receive_bytes_total{server_id="pm-a",device="eth0"}'], 123456)
        self.assertEqual(m['homelabcmd_reboot_required{server_id="pm-a"}'], 1)
        self.assertEqual(m['homelabcmd_load1{server_id="pm-b"}'], 0.5)
        self.assertEqual(m['homelabcmd_service_active{server_id="pm-a",service="ssh",critical="true"}'], 1)
        self.assertEqual(m['homelabcmd_service_active{server_id="pm-a",service="plex",critical="false"}'], 0)
        self.assertGreaterEqual(m['homelabcmd_ingest_samples_total{result="stored"}'], 4)
        self.assertEqual(m["homelabcmd_machines"], 2)
        # the reboot_required alert is active (severity low) on both machines
        self.assertEqual(m['homelabcmd_alerts_active{severity="low"}'], 2)
        self.assertNotRegex(text, r"\} \S+ \d+\n")  # no timestamps

    def test_openmetrics_when_asked(self):
        accept = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                  "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")
        r = self.metrics({"X-API-Key": self.hub.api_key, "Accept": accept})
        self.assertTrue(r.headers["Content-Type"].startswith("application/openmetrics-text; version=1.0.0"))
        text = r.raw.decode()
        self.assertTrue(text.endswith("# EOF\n"))
        self.assertIn("# TYPE homelabcmd_http_requests counter\n", text)
        self.assertIn("homelabcmd_http_requests_total ", text)
        self.assertIn("# TYPE homelabcmd_build info\n", text)


class RealPrometheusTest(unittest.TestCase):
    def test_prometheus_scrapes_the_hub(self):
        tmp = tempfile.mkdtemp(prefix="hlc-prom-")
        prom = None
        with Hub() as hub:
            self.assertEqual(hub.post("/api/v1/agents/heartbeat",
                                      heartbeat("prom-1", iso(int(time.time()) - 2))).status, 200)
            self.assertEqual(hub.put("/api/v1/config", {"prometheus": {"scrape_token": TOKEN}}).status, 200)
            with open(os.path.join(tmp, "token"), "w") as f:
                f.write(TOKEN)
            with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
                f.write(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: homelabcmd
    metrics_path: /metrics
    authorization:
      type: Bearer
      credentials_file: {tmp}/token
    static_configs:
      - targets: ["127.0.0.1:{hub.port}"]
""")
            port = free_port()
            log = open(os.path.join(tmp, "prom.log"), "wb")
            prom = subprocess.Popen(
                ["prometheus", f"--config.file={tmp}/prometheus.yml", f"--storage.tsdb.path={tmp}/data",
                 f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
            log.close()
            try:
                query = 'homelabcmd_machine_up{server_id="prom-1"} == 1'
                url = f"http://127.0.0.1:{port}/api/v1/query?" + urllib.parse.urlencode({"query": query})
                result, deadline = [], time.time() + 60
                while time.time() < deadline and not result:
                    time.sleep(0.5)
                    try:
                        with urllib.request.urlopen(url, timeout=5) as r:
                            result = json.load(r)["data"]["result"]
                    except OSError:
                        pass
                with open(os.path.join(tmp, "prom.log")) as f:
                    self.assertEqual(len(result), 1, f.read()[-3000:])
                self.assertEqual(result[0]["metric"]["machine_type"], "workstation")
                self.assertEqual(result[0]["value"][1], "1")
                # the scrape itself is healthy (OpenMetrics negotiated and parsed)
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/targets", timeout=5) as r:
                    targets = json.load(r)["data"]["activeTargets"]
                self.assertEqual(targets[0]["health"], "up", targets)
                # a series Prometheus parsed from the hub: the filesystem size
                q = urllib.parse.urlencode({"query": 'homelabcmd_filesystem_size_bytes{server_id="prom-1"}'})
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/query?{q}", timeout=5) as r:
                    fs = json.load(r)["data"]["result"]
                self.assertEqual(float(fs[0]["value"][1]), 100 << 30)
            finally:
                prom.terminate()
                try:
                    prom.wait(20)
                except subprocess.TimeoutExpired:
                    prom.kill()
                    prom.wait()
                shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
