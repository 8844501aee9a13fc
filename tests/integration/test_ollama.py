"""Ollama endpoints end to end against the real hub and an Ollama stand-in
(tests/integration/ollama_standin.py, the documented /api/version, /api/tags
and /api/ps shapes) on loopback: detected on port 11434 of a real sshd
machine after a poll; version, models with sizes, loaded models with VRAM and
expiry; stopped -> ollama_down after two failed probes, started -> resolved;
a machine that never had Ollama stays "not detected" with no alert; bad
JSON, an answer past the cap and too many models are refused with nothing
stored; the configuration is validated.

GPUs: an nvidia-smi stand-in on the real sshd machine's PATH prints what
`nvidia-smi --query-gpu=... --format=csv,noheader,nounits` prints (the
collector's AMD sysfs reading is covered by the parser's unit test with
sysfs-format values: the collector reads the real /sys); a poll stores the
readings as history, and gpu_temperature follows the thresholds."""
import os
import shutil
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, wait_for  # noqa: E402
from ollama_standin import Ollama  # noqa: E402
import sshd  # noqa: E402

FIRST_IP = 237
QUERY = ("--query-gpu=index,name,utilization.gpu,memory.used,memory.total,temperature.gpu,"
         "power.draw")
# nvidia-smi as the machine has it: refuses other arguments, prints the CSV
# kept in the machine's state file.
NVIDIA_SMI = f"""#!/bin/sh
[ "$1" = "{QUERY}" ] && [ "$2" = --format=csv,noheader,nounits ] || exit 2
cat "$HLC_MACHINE/state/nvidia.csv"
"""  # 127.0.0.237: port 11434 there is this test's own


class OllamaTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(1, pub, first_ip=FIRST_IP).start()
        cls.m = cls.fleet.machines[0]
        cls.ollama = Ollama(cls.m.host, 11434).start()
        r = cls.hub.post("/api/v1/servers", {"server_id": "gpu-box", "hostname": cls.m.host,
                                             "ip_address": cls.m.host, "ssh_port": cls.m.port,
                                             "ssh_user": sshd.USER})
        assert r.status == 201, r
        # A machine with nothing on 11434 (it is never polled, only probed).
        cls.none_ip = sshd.loopback_ip(FIRST_IP + 1)
        r = cls.hub.post("/api/v1/servers", {"server_id": "nas", "hostname": cls.none_ip,
                                             "ip_address": cls.none_ip})
        assert r.status == 201, r
        r = cls.hub.post("/api/v1/servers", {"server_id": "lab", "hostname": "127.0.0.1",
                                             "ip_address": "127.0.0.1"})
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.ollama.stop()
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            raise AssertionError("sanitizer report:\n" + log[-5000:])
        assert code == 0, log[-3000:]

    def ep(self, sid):
        r = self.hub.get(f"/api/v1/servers/{sid}/ollama")
        self.assertEqual(r.status, 200, r)
        return r.json

    def probe(self, sid):
        r = self.hub.post(f"/api/v1/servers/{sid}/ollama/probe")
        self.assertEqual(r.status, 200, r)
        return r.json

    def alerts(self, sid, status="active"):
        r = self.hub.get(f"/api/v1/alerts?type=ollama_down&status={status}&limit=1000")
        self.assertEqual(r.status, 200, r)
        return [a for a in r.json["alerts"] if a["server_id"] == sid]

    def test_1_detected_after_poll_then_down_and_back(self):
        self.assertEqual(self.ep("gpu-box")["state"], "unknown")
        r = self.hub.post("/api/v1/servers/gpu-box/poll")
        self.assertEqual(r.status, 200, r)
        ep = wait_for(lambda: (lambda e: e if e["state"] == "up" else None)(self.ep("gpu-box")),
                      20)
        self.assertTrue(ep, self.ep("gpu-box"))
        self.assertEqual(ep["version"], "0.5.7")
        self.assertEqual([(m["name"], m["size"]) for m in ep["models"]],
                         [("llama3.2:latest", 2019393189), ("qwen2.5-coder:7b", 4683087332)])
        self.assertEqual(ep["models"][1]["family"], "qwen2")
        self.assertEqual(ep["models"][1]["parameter_size"], "7.6B")
        self.assertEqual(ep["loaded"], [{"name": "llama3.2:latest", "size": 3772318720,
                                         "size_vram": 3772318720,
                                         "expires_at": "2026-12-07T16:47:07.93355Z"}])
        self.assertIn("/api/ps", self.ollama.seen)
        fleet = self.hub.get("/api/v1/ollama").json["endpoints"]
        self.assertEqual([e["server_id"] for e in fleet], ["gpu-box"])

        # Stopped: the first failed probe says down, the second alerts.
        self.ollama.stop()
        ep = self.probe("gpu-box")
        self.assertEqual(ep["state"], "down")
        self.assertTrue(ep["error"])
        self.assertEqual(len(ep["models"]), 2)  # the last known models stay
        self.assertEqual(self.alerts("gpu-box"), [])
        self.probe("gpu-box")
        active = self.alerts("gpu-box")
        self.assertEqual(len(active), 1, active)
        self.assertEqual(active[0]["severity"], "high")
        self.probe("gpu-box")
        self.assertEqual(len(self.alerts("gpu-box")), 1)  # one alert, not one per probe

        # Back: up again and the alert resolved on its own.
        self.ollama.loaded = []
        self.ollama.start()
        ep = self.probe("gpu-box")
        self.assertEqual(ep["state"], "up")
        self.assertEqual(ep["loaded"], [])
        self.assertIsNone(ep["error"])
        self.assertEqual(self.alerts("gpu-box"), [])
        res = self.alerts("gpu-box", "resolved")
        self.assertEqual(len(res), 1)
        self.assertTrue(res[0]["auto_resolved"])

    def test_2_never_had_ollama(self):
        for _ in range(3):
            ep = self.probe("nas")
        self.assertEqual(ep["state"], "not_detected")
        self.assertEqual(ep["models"], [])
        self.assertIsNone(ep["version"])
        self.assertEqual(self.alerts("nas"), [])
        self.assertNotIn("nas", [e["server_id"] for e in
                                 self.hub.get("/api/v1/ollama").json["endpoints"]])

    def test_3_bad_answers_store_nothing(self):
        o = Ollama().start()
        try:
            r = self.hub.put("/api/v1/servers/lab/ollama", {"url": o.url + "/"})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["state"], "up")
            self.assertTrue(r.json["configured"])
            self.assertEqual(r.json["url"], o.url + "/")
            good = r.json["models"]
            for mode, why in (("badjson", "did not answer as Ollama does"),
                              ("huge", "more than 1024 KiB"), ("many", "more than 256 models"),
                              ("http500", "HTTP 500")):
                o.mode = mode
                ep = self.probe("lab")
                self.assertEqual(ep["state"], "down", mode)
                self.assertIn(why, ep["error"], mode)
                self.assertEqual(ep["models"], good, mode)  # nothing of it stored
            self.assertEqual(len(self.alerts("lab")), 1)  # configured: it alerts
            # Turned off: the alert goes, probes leave it alone.
            r = self.hub.put("/api/v1/servers/lab/ollama", {"enabled": False})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json["state"], "disabled")
            self.assertEqual(self.alerts("lab"), [])
            o.mode = "ok"
            n = len(o.seen)
            self.assertEqual(self.probe("lab")["state"], "disabled")
            self.assertEqual(len(o.seen), n)
        finally:
            o.stop()

    def set_gpus(self, *rows):
        with open(os.path.join(self.m.dir, "state", "nvidia.csv"), "w") as f:
            f.write("".join(r + "\n" for r in rows))

    def poll_gpus(self):
        r = self.hub.post("/api/v1/servers/gpu-box/poll")
        self.assertEqual(r.status, 200, r)
        r = self.hub.get("/api/v1/servers/gpu-box/gpus")
        self.assertEqual(r.status, 200, r)
        return r.json

    def gpu_alerts(self, status="active"):
        r = self.hub.get(f"/api/v1/alerts?type=gpu_temperature&status={status}&limit=100")
        return [a for a in r.json["alerts"] if a["server_id"] == "gpu-box"]

    def test_5_gpus_from_nvidia_smi(self):
        self.assertEqual(self.poll_gpus(), {"gpus": [], "history": [], "resolution": "sample"})
        path = os.path.join(self.m.dir, "bin", "nvidia-smi")
        with open(path, "w") as f:
            f.write(NVIDIA_SMI)
        os.chmod(path, 0o755)
        try:
            self.set_gpus("0, NVIDIA GeForce RTX 3090, 35, 10240, 24576, 65, 250.50",
                          "1, Tesla T4, 0, 3, 15360, 41, [N/A]")
            g = self.poll_gpus()
            by = {x["gpu_id"]: x for x in g["gpus"]}
            self.assertEqual(sorted(by), ["nvidia0", "nvidia1"])
            x = by["nvidia0"]
            self.assertEqual((x["vendor"], x["name"], x["util_percent"], x["temp_c"],
                              x["power_w"]), ("nvidia", "NVIDIA GeForce RTX 3090", 35, 65, 250.5))
            self.assertEqual((x["mem_used_bytes"], x["mem_total_bytes"]),
                             (10240 * 1048576, 24576 * 1048576))
            self.assertIsNone(by["nvidia1"]["power_w"])
            self.assertEqual(self.gpu_alerts(), [])
            # Over the critical threshold (90 by default): one alert.
            time.sleep(1.1)  # samples are keyed by the second
            self.set_gpus("0, NVIDIA GeForce RTX 3090, 99, 20000, 24576, 93, 340.00")
            g = self.poll_gpus()
            self.assertEqual([x["temp_c"] for x in g["gpus"]], [93])
            self.assertEqual(len(g["history"]), 3)
            a = self.gpu_alerts()
            self.assertEqual(len(a), 1, a)
            self.assertEqual(a[0]["severity"], "critical")
            # A lower threshold set by the operator keeps it active; cooler resolves.
            r = self.hub.put("/api/v1/config/thresholds", {"gpu_temperature_warning_c": 70})
            self.assertEqual(r.status, 200, r)
            time.sleep(1.1)
            self.set_gpus("0, NVIDIA GeForce RTX 3090, 50, 20000, 24576, 75, 200.00")
            self.poll_gpus()
            self.assertEqual(len(self.gpu_alerts()), 1)
            time.sleep(1.1)
            self.set_gpus("0, NVIDIA GeForce RTX 3090, 5, 20000, 24576, 55, 60.00")
            self.poll_gpus()
            self.assertEqual(self.gpu_alerts(), [])
            self.assertEqual(len(self.gpu_alerts("resolved")), 1)
            # Past two days the history is the hours' averages.
            h = self.hub.get("/api/v1/servers/gpu-box/gpus?hours=72").json
            self.assertEqual(h["resolution"], "hour")
            self.assertEqual({x["gpu_id"] for x in h["history"]}, {"nvidia0", "nvidia1"})
            n0 = [x for x in h["history"] if x["gpu_id"] == "nvidia0"]
            if len(n0) == 1:  # all four samples in one hour: (65 + 93 + 75 + 55) / 4
                self.assertEqual((n0[0]["temp_c"], n0[0]["util_percent"]), (72, 47.25))
            assert_error(self, self.hub.get("/api/v1/servers/gpu-box/gpus?hours=0"), 422,
                         "VALIDATION_ERROR", "hours")
            assert_error(self, self.hub.get("/api/v1/servers/nope/gpus"), 404)
        finally:
            os.unlink(path)

    def test_6_through_the_ssh_session(self):
        # Ollama's default: listening on the machine's own 127.0.0.1 only.
        o = Ollama("127.0.0.1").start()
        try:
            r = self.hub.put("/api/v1/servers/gpu-box/ollama", {"via": "ssh", "port": o.port})
            self.assertEqual(r.status, 200, r)
            self.assertEqual((r.json["state"], r.json["via"], r.json["version"]),
                             ("up", "ssh", "0.5.7"), r.json)
            self.assertEqual(len(r.json["models"]), 2)
            self.assertEqual(r.json["loaded"][0]["size_vram"], 3772318720)
            o.mode = "badjson"
            ep = self.probe("gpu-box")
            self.assertEqual(ep["state"], "down")
            self.assertIn("did not answer as Ollama does", ep["error"])
            self.assertEqual(len(ep["models"]), 2)
            o.mode = "huge"
            self.assertIn("more than 1024 KiB", self.probe("gpu-box")["error"])
            o.stop()
            ep = self.probe("gpu-box")
            self.assertIn("nothing answered", ep["error"])
            self.assertEqual(len(self.alerts("gpu-box")), 1)  # configured: it alerts
            o.mode = "ok"
            o.start()
            self.assertEqual(self.probe("gpu-box")["state"], "up")
            self.assertEqual(self.alerts("gpu-box"), [])
            assert_error(self, self.hub.put("/api/v1/servers/gpu-box/ollama",
                                            {"via": "ssh", "url": o.url}), 422,
                         "VALIDATION_ERROR", "url")
            assert_error(self, self.hub.put("/api/v1/servers/gpu-box/ollama", {"via": "ftp"}),
                         422, "VALIDATION_ERROR", "via")
        finally:
            o.stop()
            self.hub.put("/api/v1/servers/gpu-box/ollama", {})

    def test_4_validation(self):
        for body, field in (({"url": "ftp://127.0.0.1/"}, "url"),
                            ({"url": "http://u:p@127.0.0.1:11434"}, "url"),
                            ({"url": "http://127.0.0.1:11434/a b"}, "url"),
                            ({"url": ""}, "url"), ({"port": 0}, "port"),
                            ({"port": 70000}, "port"), ({"port": "11434"}, "port"),
                            ({"enabled": "yes"}, "enabled"), ({"host": "x"}, "host")):
            assert_error(self, self.hub.put("/api/v1/servers/nas/ollama", body), 422,
                         "VALIDATION_ERROR", field)
        assert_error(self, self.hub.put("/api/v1/servers/nas/ollama", raw=b"[1", headers={"Content-Type": "application/json"}), 400)
        self.assertEqual(self.ep("nas")["configured"], False)  # nothing half-written
        for method, path in (("GET", "/api/v1/servers/nope/ollama"),
                             ("POST", "/api/v1/servers/nope/ollama/probe"),
                             ("PUT", "/api/v1/servers/nope/ollama")):
            r = self.hub.request(method, path, {} if method == "PUT" else None)
            assert_error(self, r, 404, "NOT_FOUND")
        # A port on the machine's own address.
        r = self.hub.put("/api/v1/servers/nas/ollama", {"port": 11435})
        self.assertEqual(r.status, 200, r)
        self.assertEqual((r.json["port"], r.json["state"]), (11435, "down"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
