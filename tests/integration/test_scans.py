"""Ad-hoc scans against real sshd machines on 127.0.0.18x: quick and full
results checked against this machine's own truth (/proc/meminfo, statvfs of /,
uname, the sshd's listening socket, the dpkg-query stand-in's package set, the
systemctl and docker stand-ins' state), the history per host, compare,
register, and the failures in the polls' words (refused, auth, host key,
timeout)."""
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, wait_for  # noqa: E402
import sshd  # noqa: E402


def meminfo_total():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


class ScansTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        cls.pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(3, cls.pub, first_ip=180).start()
        r = cls.hub.put("/api/v1/config", {"polling": {"poll_interval_seconds": 3600}})
        assert r.status == 200, r

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log or "LeakSanitizer" in log:
            raise AssertionError("sanitizer report:\n" + log[-5000:])
        assert code == 0, log[-3000:]

    def scan(self, m, scan_type="quick", port=None, user=sshd.USER, host=None, key=None):
        body = {"hostname": host or m.host, "port": port or m.port, "ssh_user": user,
                "scan_type": scan_type}
        if key:
            body["ssh_private_key"] = key
        r = self.hub.post("/api/v1/scans", body)
        self.assertEqual(r.status, 202, r)
        self.assertEqual(r.json["status"], "pending")
        sid = r.json["scan_id"]

        def done():
            s = self.hub.get(f"/api/v1/scans/{sid}").json
            return s if s["status"] in ("completed", "failed") else None
        s = wait_for(done, timeout=40)
        self.assertTrue(s, f"scan {sid} did not finish")
        return s

    def test_01_quick_scan_reports_the_hosts_truth(self):
        m = self.fleet.machines[0]
        s = self.scan(m)
        self.assertEqual(s["status"], "completed", s)
        self.assertIsNone(s["error"])
        self.assertEqual(s["scan_type"], "quick")
        self.assertEqual(s["host_key_fingerprint"], m.host_key_fingerprint())
        res = s["results"]
        self.assertEqual(res["scan_type"], "quick")
        self.assertEqual(res["memory"]["total_bytes"], meminfo_total())
        st = os.statvfs("/")
        root = [d for d in res["disks"] if d["mount"] == "/"]
        self.assertEqual(len(root), 1, res["disks"])
        self.assertEqual(root[0]["total_bytes"], st.f_blocks * st.f_frsize)
        u = os.uname()
        self.assertEqual(res["kernel"], u.release)
        self.assertEqual(res["arch"], u.machine)
        self.assertEqual(res["hostname"], u.nodename)
        self.assertEqual(res["cpu"]["cores"], os.sysconf("SC_NPROCESSORS_ONLN"))
        with open("/proc/cpuinfo") as f:
            model = [l.split(":", 1)[1].strip() for l in f if l.startswith("model name")]
        if model:  # x86; ARM boards name the CPU otherwise
            self.assertEqual(res["cpu"]["model"], model[0])
        with open("/proc/uptime") as f:
            up = float(f.read().split()[0])
        self.assertLessEqual(abs(res["uptime_seconds"] - up), 60)
        with open("/etc/os-release") as f:
            pretty = [l.split("=", 1)[1].strip().strip('"') for l in f
                      if l.startswith("PRETTY_NAME=")][0]
        self.assertEqual(res["os"]["name"], pretty)
        # A quick scan leaves the full sections out.
        for k in ("network", "listening", "processes", "packages", "failed_units", "containers"):
            self.assertIsNone(res[k], k)

    def test_02_full_scan_adds_network_ports_processes_packages_units(self):
        m = self.fleet.machines[1]
        m.set_packages({"bash": "5.2.15-2+b2", "openssh-server": "1:9.2p1-2+deb12u3",
                        "zlib1g": "1:1.2.13.dfsg-1"})
        m.set_unit("backup", "failed")
        m.set_unit("nginx", "active")
        m.set_container("web", "running")
        s = self.scan(m, "full")
        self.assertEqual(s["status"], "completed", s)
        res = s["results"]
        self.assertEqual(res["scan_type"], "full")
        self.assertEqual(res["memory"]["total_bytes"], meminfo_total())
        pk = res["packages"]
        self.assertEqual(pk["manager"], "dpkg")
        self.assertEqual(pk["count"], 3)
        self.assertEqual(sorted((p["name"], p["version"]) for p in pk["list"]),
                         [("bash", "5.2.15-2+b2"), ("openssh-server", "1:9.2p1-2+deb12u3"),
                          ("zlib1g", "1:1.2.13.dfsg-1")])
        self.assertEqual([u["unit"] for u in res["failed_units"]], ["backup.service"])
        self.assertEqual(res["failed_units"][0]["active"], "failed")
        self.assertEqual([(c["name"], c["state"]) for c in res["containers"]], [("web", "running")])
        # The machine's own sshd is among the listening sockets.
        self.assertIn({"protocol": "tcp", "address": m.host, "port": m.port}, res["listening"])
        names = sorted(n for n in os.listdir("/sys/class/net") if n != "lo")
        self.assertEqual(sorted(i["name"] for i in res["network"]["interfaces"]), names)
        with open("/etc/resolv.conf") as f:
            ns = [l.split()[1] for l in f if l.startswith("nameserver")]
        self.assertEqual(res["network"]["dns"]["nameservers"], ns[:16])
        by_cpu = res["processes"]["by_cpu"]
        self.assertTrue(1 <= len(by_cpu) <= 10, by_cpu)
        self.assertTrue(all(p["pid"] > 0 for p in by_cpu))
        rss = [p["rss_bytes"] for p in res["processes"]["by_memory"]]
        self.assertEqual(rss, sorted(rss, reverse=True))
        self.assertFalse(res["truncated"])

    def test_03_history_compare_register(self):
        m = self.fleet.machines[2]
        m.set_packages({"bash": "5.2.15-2", "curl": "7.88.1-10", "vim": "2:9.0.1378-2"})
        first = self.scan(m, "full")
        m.set_packages({"bash": "5.2.15-2+b2", "curl": "7.88.1-10", "htop": "3.2.2-2"})
        second = self.scan(m, "full")
        self.assertEqual((first["status"], second["status"]), ("completed", "completed"))
        # history: this host's scans, newest first, paginated
        h = self.hub.get(f"/api/v1/scans?hostname={m.host}").json
        self.assertEqual([x["scan_id"] for x in h["scans"]],
                         [second["scan_id"], first["scan_id"]])
        self.assertEqual(h["total"], 2)
        self.assertNotIn("results", h["scans"][0])
        page = self.hub.get(f"/api/v1/scans?hostname={m.host}&limit=1&offset=1").json
        self.assertEqual([x["scan_id"] for x in page["scans"]], [first["scan_id"]])
        self.assertEqual(page["total"], 2)
        # compare: first -> second
        r = self.hub.get(f"/api/v1/scans/{first['scan_id']}/compare/{second['scan_id']}")
        self.assertEqual(r.status, 200, r)
        d = r.json
        self.assertEqual(d["packages"]["added"], [{"name": "htop", "version": "3.2.2-2"}])
        self.assertEqual(d["packages"]["removed"], [{"name": "vim", "version": "2:9.0.1378-2"}])
        self.assertEqual(d["packages"]["changed"],
                         [{"name": "bash", "from": "5.2.15-2", "to": "5.2.15-2+b2"}])
        root = [x for x in d["disks"] if x["mount"] == "/"][0]
        b = [x for x in first["results"]["disks"] if x["mount"] == "/"][0]
        a = [x for x in second["results"]["disks"] if x["mount"] == "/"][0]
        self.assertEqual(root["growth_bytes"], a["used_bytes"] - b["used_bytes"])
        self.assertEqual(root["used_bytes_before"], b["used_bytes"])
        self.assertFalse(d["kernel"]["changed"])
        self.assertFalse(d["memory"]["changed"])
        self.assertEqual(d["os"]["before"], first["results"]["os"]["name"])
        # register the host from its scan: facts and the pinned key carried over
        r = self.hub.post(f"/api/v1/scans/{second['scan_id']}/register",
                          {"server_id": "scanned-m2", "tags": ["from-scan"]})
        self.assertEqual(r.status, 201, r)
        mach = r.json
        self.assertEqual(mach["server_id"], "scanned-m2")
        self.assertEqual(mach["hostname"], m.host)
        self.assertEqual(mach["ssh_port"], m.port)
        self.assertEqual(mach["ssh_user"], sshd.USER)
        self.assertEqual(mach["display_name"], second["results"]["hostname"])
        self.assertEqual(mach["os_distribution"], second["results"]["os"]["name"])
        self.assertEqual(mach["kernel"], os.uname().release)
        self.assertEqual(mach["tags"], ["from-scan"])
        self.assertEqual(mach["host_key_fingerprint"], m.host_key_fingerprint())
        r = self.hub.post(f"/api/v1/scans/{second['scan_id']}/register", {"server_id": "scanned-m2"})
        assert_error(self, r, 409, "CONFLICT", "server_id")
        r = self.hub.post(f"/api/v1/scans/{second['scan_id']}/register", {"server_id": "Bad Id"})
        assert_error(self, r, 422, "VALIDATION_ERROR", "server_id")
        # The machine polls with the key the scan pinned.
        r = self.hub.post("/api/v1/servers/scanned-m2/poll")
        self.assertEqual(r.status, 200, r)
        # A changed host key now fails the next scan, in the polls' words.
        m.stop()
        m.regen_host_key()
        m.start()
        s = self.scan(m)
        self.assertEqual(s["status"], "failed")
        self.assertTrue(s["error"].startswith("host key changed"), s["error"])
        self.assertIn(m.host_key_fingerprint(), s["error"])
        self.assertIsNone(s["results"])

    def test_04_failures_in_words(self):
        m = self.fleet.machines[0]
        # nothing listens on that port
        port = sshd.free_port(m.host)
        s = self.scan(m, port=port)
        self.assertEqual(s["status"], "failed")
        self.assertTrue(s["error"].startswith("connection refused"), s["error"])
        # the host does not accept the hub's key
        m.set_authorized_keys([])
        try:
            s = self.scan(m)
        finally:
            m.set_authorized_keys([self.pub])
        self.assertEqual(s["status"], "failed")
        self.assertTrue(s["error"].startswith("authentication refused"), s["error"])
        # a shell that hangs: the scan fails on the SSH timeout
        self.assertEqual(self.hub.put("/api/v1/config", {"polling": {"ssh_timeout_seconds": 2}})
                         .status, 200)
        m.hang(True)
        try:
            t0 = time.time()
            s = self.scan(m)
            took = time.time() - t0
        finally:
            m.hang(False)
            self.hub.put("/api/v1/config", {"polling": {"ssh_timeout_seconds": 10}})
        self.assertEqual(s["status"], "failed")
        self.assertTrue(s["error"].startswith("timed out"), s["error"])
        self.assertLess(took, 15)
        self.assertIsNotNone(s["completed_at"])

    def test_06_uploaded_key_and_later_registration(self):
        m = self.fleet.machines[0]
        d = tempfile.mkdtemp(prefix="hlc-scankey-")
        try:
            subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", f"{d}/k"],
                           check=True)
            with open(f"{d}/k") as f:
                key = f.read()
            with open(f"{d}/k.pub") as f:
                pub = f.read().strip()
        finally:
            shutil.rmtree(d, ignore_errors=True)
        # Only the uploaded key is authorized: the hub's own is refused, the upload works.
        m.set_authorized_keys([pub])
        try:
            refused = self.scan(m)
            s = self.scan(m, key=key)
        finally:
            m.set_authorized_keys([self.pub])
        self.assertTrue(refused["error"].startswith("authentication refused"), refused)
        self.assertEqual(s["status"], "completed", s)
        self.assertNotIn("ssh_private_key", s)
        assert_error(self, self.hub.post("/api/v1/scans", {"hostname": m.host,
                                                           "ssh_private_key": "not a key"}),
                     422, "VALIDATION_ERROR", "ssh_private_key")
        # The key text was never written anywhere the hub keeps.
        body = key.split("\n")[1]
        self.assertNotIn(body, self.hub.log())
        for name in ("homelabcmd.db", "homelabcmd.db-wal"):
            path = os.path.join(self.hub.data_dir, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    self.assertNotIn(body.encode(), f.read(), name)
        # A host scanned before and registered later (not from the scan) keeps the pinned key.
        r = self.hub.post("/api/v1/servers", {"server_id": "later-m0", "hostname": m.host,
                                              "ssh_port": m.port, "ssh_user": sshd.USER})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(r.json["host_key_fingerprint"], m.host_key_fingerprint())
        # A scan of a registered machine's address logs in with that machine's own key.
        r = self.hub.post("/api/v1/credentials", {"kind": "ssh_private_key", "value": key,
                                                  "server_id": "later-m0"})
        self.assertEqual(r.status, 201, r)
        m.set_authorized_keys([pub])
        try:
            s = self.scan(m)
        finally:
            m.set_authorized_keys([self.pub])
        self.assertEqual(s["status"], "completed", s)
        self.assertEqual(self.hub.delete("/api/v1/servers/later-m0").status, 204)

    def test_05_validation(self):
        c = self.hub.post
        assert_error(self, c("/api/v1/scans", {}), 422, "VALIDATION_ERROR", "hostname")
        assert_error(self, c("/api/v1/scans", {"hostname": "bad host!"}), 422, None, "hostname")
        assert_error(self, c("/api/v1/scans", {"hostname": "h", "port": 0}), 422, None, "port")
        assert_error(self, c("/api/v1/scans", {"hostname": "h", "scan_type": "deep"}), 422, None,
                     "scan_type")
        assert_error(self, c("/api/v1/scans", {"hostname": "h", "ssh_user": "Root;"}), 422, None,
                     "ssh_user")
        assert_error(self, c("/api/v1/scans", {"hostname": "h", "extra": 1}), 422)
        g = self.hub.get
        assert_error(self, g("/api/v1/scans/not-a-uuid"), 404, "NOT_FOUND")
        assert_error(self, g("/api/v1/scans/00000000-0000-4000-8000-000000000000"), 404)
        assert_error(self, g("/api/v1/scans?limit=0"), 422, None, "limit")
        assert_error(self, g("/api/v1/scans?hostname=a%20b"), 422, None, "hostname")
        # A failed scan can be neither compared nor registered.
        failed = self.hub.get("/api/v1/scans?limit=200").json["scans"]
        f = [x for x in failed if x["status"] == "failed"]
        ok = [x for x in failed if x["status"] == "completed"]
        self.assertTrue(f and ok, failed)  # the tests before made both
        assert_error(self, g(f"/api/v1/scans/{ok[0]['scan_id']}/compare/{f[0]['scan_id']}"),
                     409, "SCAN_NOT_COMPLETED", "other_id")
        assert_error(self, c(f"/api/v1/scans/{f[0]['scan_id']}/register",
                             {"server_id": "x"}), 409, "SCAN_NOT_COMPLETED")


if __name__ == "__main__":
    unittest.main(verbosity=2)
