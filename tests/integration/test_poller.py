"""The agentless poller against real OpenSSH machines on 127.0.0.x."""
import datetime
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, wait_for  # noqa: E402
import sshd  # noqa: E402
from test_agent import heartbeat  # noqa: E402


def meminfo_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


def root_fs_size():
    out = subprocess.run(["df", "-P", "-B1", "/"], capture_output=True, text=True, check=True)
    return int(out.stdout.splitlines()[1].split()[1])


class PollerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        cls.pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(4, cls.pub).start()
        # Short schedule for the tests: poll every 10 s, offline after 30 s.
        r = cls.hub.put("/api/v1/config", {"polling": {"poll_interval_seconds": 10,
                                                       "ssh_timeout_seconds": 8},
                                           "thresholds": {"server_offline_seconds": 30}})
        assert r.status == 200, r
        for i, m in enumerate(cls.fleet.machines):
            body = {"server_id": f"m{i}", "hostname": m.host, "ip_address": m.host,
                    "ssh_port": m.port, "ssh_user": sshd.USER,
                    "expected_services": [{"name": "plex", "critical": True},
                                          {"name": "sonarr", "critical": False}]}
            r = cls.hub.post("/api/v1/servers", body)
            assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            raise AssertionError("sanitizer report:\n" + log[-5000:])
        assert code == 0, log[-3000:]

    def machine(self, i):
        return self.hub.get(f"/api/v1/servers/m{i}").json

    def test_poll_now_matches_the_target(self):
        m = self.fleet.machines[0]
        m.set_unit("plex", "active")
        m.set_unit("sonarr", "inactive")
        m.set_container("jellyfin", "running")
        m.set_container("old", "exited")
        r = self.hub.post("/api/v1/servers/m0/poll")
        self.assertEqual(r.status, 200, r)
        latest = r.json
        self.assertEqual(latest["memory_total_bytes"], meminfo_total())
        root = [f for f in latest["filesystems"] if f["mount"] == "/"]
        self.assertEqual(len(root), 1, latest["filesystems"])
        self.assertEqual(root[0]["total_bytes"], root_fs_size())
        with open("/proc/loadavg") as f:
            load1 = float(f.read().split()[0])
        self.assertLess(abs(latest["load_1m"] - load1), 1.5)
        self.assertEqual(latest["source"], "ssh")
        self.assertGreater(latest["uptime_seconds"], 0)
        # The poll answers with exactly what it stored as the latest sample.
        self.assertEqual(self.hub.get("/api/v1/metrics/m0/latest").json, latest)
        mach = self.machine(0)
        self.assertEqual(mach["status"], "online")
        self.assertIsNone(mach["last_error"])
        self.assertTrue(mach["host_key_fingerprint"].startswith("SHA256:"))
        self.assertEqual(mach["host_key_fingerprint"], m.host_key_fingerprint())
        svcs = {s["service_name"]: s for s in
                self.hub.get("/api/v1/servers/m0/services").json["services"]}
        self.assertEqual(svcs["plex"]["status"], "running")
        self.assertEqual(svcs["plex"]["active_state"], "active")
        self.assertEqual(svcs["sonarr"]["status"], "stopped")
        conts = {c["name"]: c for c in
                 self.hub.get("/api/v1/servers/m0/containers").json["containers"]}
        self.assertEqual(conts["jellyfin"]["state"], "running")
        self.assertEqual(conts["old"]["state"], "exited")
        # A second poll on the warm session derives CPU % from the counters.
        time.sleep(1.1)
        r = self.hub.post("/api/v1/servers/m0/poll")
        self.assertEqual(r.status, 200, r)
        self.assertIsNotNone(r.json["cpu_percent"])
        self.assertGreaterEqual(r.json["cpu_percent"], 0)
        self.assertLessEqual(r.json["cpu_percent"], 100)
        # One exec per poll: the collector arrives on stdin, not in the command line.
        execs = m.exec_log()
        self.assertTrue(all(e.startswith("exec sh -s --") for e in execs), execs[-3:])
        self.assertNotIn("meminfo", "".join(execs))

    def test_machine_edits_reach_the_next_poll(self):
        """The expected services a poll asks for are kept between polls; an
        edit, a services change and a delete are each seen by the next poll."""
        extra = sshd.Fleet(1, self.pub, base=os.path.join(self.fleet.base, "edits"),
                           first_ip=11).start()
        try:
            m = extra.machines[0]
            body = {"server_id": "edited", "hostname": m.host, "ip_address": m.host,
                    "ssh_port": m.port, "ssh_user": sshd.USER, "machine_type": "workstation",
                    "expected_services": [{"name": "plex"}]}
            self.assertEqual(self.hub.post("/api/v1/servers", body).status, 201)
            m.set_unit("plex", "active")
            m.set_unit("radarr", "active")

            def asked():
                """The service names the collector was asked about."""
                self.assertEqual(self.hub.post("/api/v1/servers/edited/poll").status, 200)
                line = m.exec_log()[-1]
                self.assertTrue(line.startswith("exec sh -s --"), line)
                return [a for a in shlex.split(line)[4:] if a != "--updates"]
            self.assertEqual(asked(), ["plex"])
            self.assertEqual(asked(), ["plex"])
            r = self.hub.put("/api/v1/servers/edited/services",
                             {"services": [{"name": "plex"}, {"name": "radarr"}]})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(asked(), ["plex", "radarr"])
            svcs = {s["service_name"]: s["status"] for s in
                    self.hub.get("/api/v1/servers/edited/services").json["services"]}
            self.assertEqual(svcs, {"plex": "running", "radarr": "running"})
            r = self.hub.put("/api/v1/servers/edited", {"expected_services": []})
            self.assertEqual(r.status, 200, r)
            self.assertEqual(asked(), [])
            self.assertEqual(self.hub.delete("/api/v1/servers/edited").status, 204)
            n = len(m.exec_log())
            assert_error(self, self.hub.post("/api/v1/servers/edited/poll"), 404)
            self.assertEqual(len(m.exec_log()), n)  # nothing ran for a deleted machine
        finally:
            extra.stop()

    def test_a_burst_of_polls_keeps_sample_times_at_the_clock(self):
        """Polls faster than one a second (a script, a benchmark) each get a
        second of their own, so none is dropped as a duplicate, and stay
        inside the ingest's skew limit (past which every poll was refused
        with 422) by at most 240 s ahead of the clock."""
        extra = sshd.Fleet(1, self.pub, base=os.path.join(self.fleet.base, "burst"),
                           first_ip=12).start()
        try:
            m = extra.machines[0]
            body = {"server_id": "burst", "hostname": m.host, "ip_address": m.host,
                    "ssh_port": m.port, "ssh_user": sshd.USER}
            self.assertEqual(self.hub.post("/api/v1/servers", body).status, 201)
            times = []
            for _ in range(45):
                r = self.hub.post("/api/v1/servers/burst/poll")
                self.assertEqual(r.status, 200, r)
                ts = datetime.datetime.fromisoformat(r.json["timestamp"].replace("Z", "+00:00"))
                times.append(ts.timestamp())
                self.assertLessEqual(ts.timestamp(), time.time() + 241, r.json["timestamp"])
            # every poll kept a second of its own (none dropped as a duplicate)
            self.assertEqual(times, sorted(set(times)), times)
            self.assertEqual(self.hub.delete("/api/v1/servers/burst").status, 204)
        finally:
            extra.stop()

    def test_service_cpu_percent_between_polls(self):
        """An expected service's CPU % of one core comes from systemd's
        CPUUsageNSec between two polls, shown with its PID and memory."""
        extra = sshd.Fleet(1, self.pub, base=os.path.join(self.fleet.base, "svccpu"),
                           first_ip=13).start()
        try:
            m = extra.machines[0]
            body = {"server_id": "svccpu", "hostname": m.host, "ip_address": m.host,
                    "ssh_port": m.port, "ssh_user": sshd.USER,
                    "expected_services": [{"name": "plex"}, {"name": "sonarr"}]}
            self.assertEqual(self.hub.post("/api/v1/servers", body).status, 201)
            m.set_unit("plex", "active", cpu_ns=1_000_000_000)
            m.set_unit("sonarr", "inactive")

            def poll():
                r = self.hub.post("/api/v1/servers/svccpu/poll")
                self.assertEqual(r.status, 200, r)
                t = datetime.datetime.fromisoformat(r.json["timestamp"].replace("Z", "+00:00"))
                svcs = {s["service_name"]: s for s in
                        self.hub.get("/api/v1/servers/svccpu/services").json["services"]}
                return t.timestamp(), svcs
            t0, svcs = poll()
            self.assertIsNone(svcs["plex"]["cpu_percent"])  # one sample: no rate yet
            m.set_unit("plex", "active", cpu_ns=3_000_000_000)  # 2 s of CPU
            time.sleep(2.1)
            t1, svcs = poll()
            self.assertEqual((svcs["plex"]["pid"], svcs["plex"]["memory_bytes"]), (4242, 52428800))
            self.assertAlmostEqual(svcs["plex"]["cpu_percent"], 200.0 / (t1 - t0), places=1)
            self.assertIsNone(svcs["sonarr"]["cpu_percent"])
            time.sleep(1.1)  # idle since: 0 %
            _, svcs = poll()
            self.assertEqual(svcs["plex"]["cpu_percent"], 0.0)
            self.assertEqual(self.hub.delete("/api/v1/servers/svccpu").status, 204)
        finally:
            extra.stop()

    def test_cipher_preference_and_fallbacks(self):
        """AES-GCM first where this CPU has AES instructions (else ChaCha20);
        a server that offers only ChaCha20 or only AES-CTR is polled as well."""
        extra = sshd.Fleet(3, self.pub, base=os.path.join(self.fleet.base, "ciphers"),
                           first_ip=14)
        extra.machines[0].extra_config = "LogLevel DEBUG1\n"
        extra.machines[1].extra_config = "Ciphers chacha20-poly1305@openssh.com\nLogLevel DEBUG1\n"
        extra.machines[2].extra_config = "Ciphers aes128-ctr\nLogLevel DEBUG1\n"
        extra.start()
        try:
            with open("/proc/cpuinfo") as f:
                flags = next((l.split(":", 1)[1].split() for l in f if l.startswith("flags")), [])
            aes = "aes" in flags and "pclmulqdq" in flags
            want = ["aes128-gcm@openssh.com" if aes else "chacha20-poly1305@openssh.com",
                    "chacha20-poly1305@openssh.com", "aes128-ctr"]
            for i, m in enumerate(extra.machines):
                self.assertEqual(self.hub.post("/api/v1/servers", {
                    "server_id": f"cipher{i}", "hostname": m.host, "ip_address": m.host,
                    "ssh_port": m.port, "ssh_user": sshd.USER,
                    "machine_type": "workstation"}).status, 201)
                r = self.hub.post(f"/api/v1/servers/cipher{i}/poll")
                self.assertEqual(r.status, 200, (r, m.sshd_log()[-2000:]))
                with open(os.path.join(m.dir, "sshd.log"), errors="replace") as f:
                    self.assertIn(f"kex: client->server cipher: {want[i]} ", f.read())
                self.assertEqual(self.hub.delete(f"/api/v1/servers/cipher{i}").status, 204)
        finally:
            extra.stop()

    def test_scheduled_polls_reach_every_machine(self):
        for i in (1, 2):
            wait_for(lambda i=i: self.machine(i)["status"] == "online", 40)
            self.assertEqual(self.machine(i)["status"], "online", self.machine(i))
            self.assertIsNotNone(self.hub.get(f"/api/v1/metrics/m{i}/latest").json)

    def test_unknown_machine_and_refused_key(self):
        assert_error(self, self.hub.post("/api/v1/servers/nope/poll"), 404)
        m = self.fleet.machines[3]
        m.set_authorized_keys([])  # the hub's key is no longer authorized
        m.stop()  # drop the pooled connection so the hub must log in again
        m.start()
        try:
            self.hub.post("/api/v1/servers/m3/host-key/accept")  # nothing pending: 409
            # A scheduled poll that ran while sshd was down backs the pool off
            # (1 s, doubling) with "connection refused": retry past it.
            deadline = time.time() + 20
            while True:
                r = self.hub.post("/api/v1/servers/m3/poll")
                if b"connection refused" not in r.raw or time.time() > deadline:
                    break
                time.sleep(0.5)
            d = assert_error(self, r, 409, "UNREACHABLE")
            self.assertIn("authentication refused", d["message"])
            self.assertIn("authentication refused", self.machine(3)["last_error"])
        finally:
            m.set_authorized_keys([self.pub])
        r = wait_for(lambda: self.hub.post("/api/v1/servers/m3/poll").status == 200, 40, 1)
        self.assertTrue(r)
        self.assertIsNone(self.machine(3)["last_error"])

    def test_changed_host_key_is_refused_until_accepted(self):
        m = self.fleet.machines[2]
        self.assertEqual(self.hub.post("/api/v1/servers/m2/poll").status, 200)
        old_fp = self.machine(2)["host_key_fingerprint"]
        before = len(m.exec_log())
        m.stop()
        m.regen_host_key()
        m.start()
        r = self.hub.post("/api/v1/servers/m2/poll")
        d = assert_error(self, r, 409, "HOST_KEY_CHANGED")
        mach = self.machine(2)
        self.assertTrue(mach["host_key_changed"])
        self.assertEqual(mach["host_key_fingerprint"], old_fp)
        self.assertIn("host key changed", mach["last_error"])
        self.assertIn(m.host_key_fingerprint(), mach["last_error"])
        # Still refused on the next try, and nothing ran on the machine.
        assert_error(self, self.hub.post("/api/v1/servers/m2/poll"), 409, "HOST_KEY_CHANGED")
        self.assertEqual(len(m.exec_log()), before)
        r = self.hub.post("/api/v1/servers/m2/host-key/accept")
        self.assertEqual(r.status, 200, r)
        self.assertFalse(r.json["host_key_changed"])
        self.assertEqual(r.json["host_key_fingerprint"], m.host_key_fingerprint())
        self.assertEqual(self.hub.post("/api/v1/servers/m2/poll").status, 200)
        assert_error(self, self.hub.post("/api/v1/servers/m2/host-key/accept"), 409)

    def test_stopped_sshd_goes_offline_and_comes_back(self):
        m = self.fleet.machines[1]
        self.assertEqual(self.hub.post("/api/v1/servers/m1/poll").status, 200)
        m.stop()
        try:
            r = self.hub.post("/api/v1/servers/m1/poll")
            d = assert_error(self, r, 409, "UNREACHABLE")
            self.assertIn("connection refused", d["message"])
            self.assertTrue(wait_for(lambda: self.machine(1)["status"] == "offline", 60, 1),
                            self.machine(1))
        finally:
            m.start()
        self.assertTrue(wait_for(lambda: self.machine(1)["status"] == "online", 60, 1),
                        self.machine(1))

    def test_hanging_shell_times_out_without_delaying_others(self):
        m = self.fleet.machines[3]
        m.hang(True)
        try:
            t0 = time.time()
            r = self.hub.post("/api/v1/servers/m3/poll")
            took = time.time() - t0
            assert_error(self, r, 504, "TIMEOUT")
            self.assertLess(took, 15)  # bounded by ssh_timeout_seconds (8), not the hang
            # Meanwhile the other machines answer at once.
            self.assertEqual(self.hub.post("/api/v1/servers/m0/poll").status, 200)
        finally:
            m.hang(False)
        self.assertTrue(wait_for(lambda: self.hub.post("/api/v1/servers/m3/poll").status == 200,
                                 40, 1))

    def test_server_heard_from_its_agent_is_not_polled_over_ssh(self):
        """A server pushing heartbeats is not also polled on schedule; once its
        agent has been silent past the offline threshold (30 s here), SSH takes over."""
        extra = sshd.Fleet(1, self.pub, base=os.path.join(self.fleet.base, "extra"),
                           first_ip=9).start()
        try:
            m = extra.machines[0]
            ssh = {"hostname": m.host, "ip_address": m.host, "ssh_port": m.port,
                   "ssh_user": sshd.USER}
            # Fresh heartbeats: registered as a server by the first one, then
            # pointed at a reachable sshd; no collector runs there.
            self.assertEqual(self.hub.post("/api/v1/agents/heartbeat",
                                           heartbeat("pushy", machine_type="server")).status, 200)
            self.assertEqual(self.hub.get("/api/v1/servers/pushy").json["machine_type"], "server")
            self.assertEqual(self.hub.put("/api/v1/servers/pushy", ssh).status, 200)
            for _ in range(8):  # past a schedule refresh (5 s) and a new machine's first slot (2 s)
                self.assertEqual(self.hub.post("/api/v1/agents/heartbeat",
                                               heartbeat("pushy", machine_type="server")).status,
                                 200)
                time.sleep(1)
            self.assertEqual(m.exec_log(), [])
            # An agent silent for longer than the threshold: polled over SSH.
            old = heartbeat("quiet", t=int(time.time()) - 45, machine_type="server")
            self.assertEqual(self.hub.post("/api/v1/agents/heartbeat", old).status, 200)
            self.assertEqual(self.hub.put("/api/v1/servers/quiet", ssh).status, 200)
            self.assertTrue(wait_for(lambda: m.exec_log(), 15), "the silent agent's server was not polled")
            self.assertTrue(wait_for(
                lambda: (self.hub.get("/api/v1/metrics/quiet/latest").json or {}).get("source") == "ssh",
                15), self.hub.get("/api/v1/metrics/quiet/latest").json)
            self.assertEqual(self.hub.get("/api/v1/metrics/pushy/latest").json["source"], "agent")
        finally:
            extra.stop()

    def test_slow_request_does_not_hold_up_the_http_thread(self):
        """A poll waiting on a hanging machine runs off the HTTP thread: with a
        single HTTP thread, other requests are still answered at once."""
        hub = Hub(env={"HOMELABCMD_HTTP_THREADS": "1"}).start()
        extra = None
        try:
            self.assertEqual(hub.put("/api/v1/config", {"polling": {"ssh_timeout_seconds": 6}}).status,
                             200)
            pub = hub.get("/api/v1/ssh/public-key").json["public_key"]
            extra = sshd.Fleet(1, pub, base=os.path.join(self.fleet.base, "one-thread"),
                               first_ip=10).start()
            m = extra.machines[0]
            self.assertEqual(hub.post("/api/v1/servers", {
                "server_id": "slow", "hostname": m.host, "ip_address": m.host,
                "ssh_port": m.port, "ssh_user": sshd.USER, "machine_type": "workstation"}).status, 201)
            self.assertEqual(hub.post("/api/v1/servers/slow/poll").status, 200)  # session warm
            m.hang(True)
            out = {}
            t = threading.Thread(target=lambda: out.update(r=hub.post("/api/v1/servers/slow/poll")))
            t0 = time.time()
            t.start()
            time.sleep(0.5)
            self.assertTrue(t.is_alive())
            for path in ("/api/v1/system/health", "/api/v1/servers", "/api/v1/servers/slow"):
                s = time.time()
                self.assertEqual(hub.get(path).status, 200)
                self.assertLess(time.time() - s, 1.0, path)
            t.join(30)
            assert_error(self, out["r"], 504, "TIMEOUT")
            self.assertGreater(time.time() - t0, 5)
        finally:
            if extra:
                extra.machines[0].hang(False)
                extra.stop()
            self.assertEqual(hub.stop(), 0, hub.log()[-3000:])
            hub.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
