"""Service checks end to end against the real hub and real peers on loopback:
HTTP servers answering 200 / 500 / slowly / with and without a keyword, a TLS
server whose certificate (made here with openssl) expires in 10 days, a real
DNS server (Debian's dnsmasq, started and killed by PID) and a UDP port that
never answers, closed TCP ports; checks run from the hub and from a real sshd
machine (tests/integration/sshd.py) over the hub's pooled SSH session.
Alerts (check_failed after N failures, resolved on recovery, one per check
and place; certificate_expiring) are read back from /api/v1/alerts."""
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error, free_port, wait_for  # noqa: E402
import sshd  # noqa: E402

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"


class Web(http.server.BaseHTTPRequestHandler):
    """/ok 200 with a keyword, /err 500, /slow answers after 3 s, /flip answers
    with the status in `flip`, /moved redirects to /ok; every path is logged."""
    flip = [200]
    seen = []

    def log_message(self, *a):
        pass

    def do_GET(self):
        Web.seen.append(self.path)
        path = urllib.parse.urlsplit(self.path).path
        if path == "/slow":
            time.sleep(3)
        if path == "/moved":
            self.send_response(302)
            self.send_header("Location", "/ok")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        code = {"/err": 500, "/flip": Web.flip[0]}.get(path, 200)
        body = b"Plex Media Server is up" if code == 200 else b"oops"
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a probe that timed out hangs up on /slow: not an error here


def serve(httpd):
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    return httpd


class ChecksTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hlc-checks-")
        cls.web = serve(Server(("127.0.0.1", 0), Web))
        cls.web_url = f"http://127.0.0.1:{cls.web.server_address[1]}"
        # A certificate expiring in 10 days, for 127.0.0.1.
        key, crt = os.path.join(cls.tmp, "k.pem"), os.path.join(cls.tmp, "c.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "10",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", crt], check=True, capture_output=True)
        tls = Server(("127.0.0.1", 0), Web)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(crt, key)
        tls.socket = ctx.wrap_socket(tls.socket, server_side=True)
        cls.tls = serve(tls)
        cls.tls_url = f"https://127.0.0.1:{tls.server_address[1]}"
        # A real DNS server answering plex.lan and nothing else.
        cls.dns_port = free_port()
        cls.dns = subprocess.Popen(
            [DNSMASQ, "-k", "-C", "/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
             "--listen-address=127.0.0.1", "-p", str(cls.dns_port), "--user=root",
             "--pid-file=" + os.path.join(cls.tmp, "dnsmasq.pid"),
             "--address=/plex.lan/192.168.1.20", "--address=/pihole.lan/192.168.1.2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # A resolver that never answers: a bound UDP socket nobody reads.
        cls.mute = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        cls.mute.bind(("127.0.0.1", 0))
        cls.mute_port = cls.mute.getsockname()[1]
        # test_status_page tries the status token on every route from one
        # address: past the key-guessing throttle each try would be held.
        cls.hub = Hub(env={"HOMELABCMD_AUTH_FAIL_LIMIT": "1000000"}).start()
        cls.pub = cls.hub.get("/api/v1/ssh/public-key").json["public_key"]
        cls.fleet = sshd.Fleet(1, cls.pub).start()
        m = cls.fleet.machines[0]
        cls.machine = m
        r = cls.hub.post("/api/v1/servers", {"server_id": "m0", "hostname": m.host,
                                             "ip_address": m.host, "ssh_port": m.port,
                                             "ssh_user": sshd.USER})
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.fleet.stop()
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        cls.dns.terminate()
        cls.dns.wait(10)
        cls.mute.close()
        cls.web.shutdown()
        cls.tls.shutdown()
        shutil.rmtree(cls.fleet.base, ignore_errors=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log:
            raise AssertionError("sanitizer report:\n" + log[-5000:])
        assert code == 0, log[-3000:]

    # ---- helpers -------------------------------------------------------
    def create(self, **body):
        body.setdefault("name", "c")
        r = self.hub.post("/api/v1/checks", body)
        self.assertEqual(r.status, 201, r)
        self.assertIsInstance(r.json["id"], int)
        return r.json["id"]

    def run_check(self, cid):
        r = self.hub.post(f"/api/v1/checks/{cid}/run")
        self.assertEqual(r.status, 200, r)
        return {x["place"]: x for x in r.json["results"]}

    def alerts(self, type_, status="active"):
        r = self.hub.get(f"/api/v1/alerts?type={type_}&status={status}&limit=1000")
        self.assertEqual(r.status, 200, r)
        return r.json["alerts"]

    def alert_for(self, cid, place, type_="check_failed", status="active"):
        subject = f"check:{cid}@{place}"
        return [a for a in self.alerts(type_, status) if a["subject"] == subject]

    # ---- validation ----------------------------------------------------
    def test_validation(self):
        bad = [
            ({"type": "http", "url": "ftp://127.0.0.1/"}, "url"),
            ({"type": "http", "url": "http://user:pw@127.0.0.1/"}, "url"),
            ({"type": "http", "url": "http://127.0.0.1/a b"}, "url"),
            ({"type": "http", "url": "http://127.0.0.1:99999/"}, "url"),
            ({"type": "http", "url": "http://-rf/"}, "url"),
            ({"type": "http", "url": "http:///x"}, "url"),
            ({"type": "http", "url": "http://a\"b/"}, "url"),
            ({"type": "http", "url": "http://127.0.0.1/\n"}, "url"),
            ({"type": "http", "url": "http://127.0.0.1/", "method": "DELETE"}, "method"),
            ({"type": "http", "url": "http://127.0.0.1/", "status_min": 300, "status_max": 200},
             "status_max"),
            ({"type": "http", "url": "http://127.0.0.1/", "host": "x"}, "host"),
            ({"type": "tcp", "host": "127.0.0.1", "port": 0}, "port"),
            ({"type": "tcp", "host": "127.0.0.1", "port": 65536}, "port"),
            ({"type": "tcp", "host": "a;reboot", "port": 80}, "host"),
            ({"type": "tcp", "host": "$(id)", "port": 80}, "host"),
            ({"type": "dns", "query": "10.0.0.1"}, "query"),
            ({"type": "dns", "query": "plex.lan", "resolver": "pihole.lan"}, "resolver"),
            ({"type": "dns", "query": "plex.lan", "expect": "not-an-ip"}, "expect"),
            ({"type": "smtp", "host": "127.0.0.1"}, "type"),
            ({"type": "tcp", "host": "h", "port": 1, "run_from": ["nosuch"]}, "run_from"),
            ({"type": "tcp", "host": "h", "port": 1, "run_from": []}, "run_from"),
            ({"type": "tcp", "host": "h", "port": 1, "run_from": ["hub", "hub"]}, "run_from"),
            ({"type": "tcp", "host": "h", "port": 1, "interval_seconds": 1}, "interval_seconds"),
            ({"type": "tcp", "host": "h", "port": 1, "service": "plex"}, "service"),
            ({"type": "tcp", "host": "h", "port": 1, "server_id": "m0", "service": "a;b"},
             "service"),
            ({"type": "tcp", "host": "h", "port": 1, "bogus": 1}, "bogus"),
        ]
        for body, field in bad:
            body = dict(body, name="bad")
            with self.subTest(body=body):
                assert_error(self, self.hub.post("/api/v1/checks", body), 422, "VALIDATION_ERROR",
                             field)
        assert_error(self, self.hub.post("/api/v1/checks", raw=b"{nope",
                                         headers={"Content-Type": "application/json"}), 400)
        before = self.hub.get("/api/v1/checks").json["checks"]
        self.assertFalse([c for c in before if c["name"] == "bad"], "nothing half-written")
        assert_error(self, self.hub.get("/api/v1/checks/999999"), 404)
        assert_error(self, self.hub.get("/api/v1/checks/abc/results"), 404)

    # ---- CRUD ----------------------------------------------------------
    def test_crud(self):
        cid = self.create(name="plex web", type="http", url=self.web_url + "/ok",
                          interval_seconds=300)
        c = self.hub.get(f"/api/v1/checks/{cid}").json
        self.assertEqual((c["type"], c["run_from"], c["interval_seconds"], c["timeout_seconds"],
                          c["failures_before_alert"], c["cert_warn_days"]),
                         ("http", ["hub"], 300, 10, 2, 14))
        self.assertIn(cid, [x["id"] for x in self.hub.get("/api/v1/checks").json["checks"]])
        r = self.hub.put(f"/api/v1/checks/{cid}", {"type": "tcp", "host": "127.0.0.1",
                                                   "port": self.web.server_address[1]})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("url", r.json)
        self.assertEqual((r.json["type"], r.json["name"]), ("tcp", "plex web"))
        assert_error(self, self.hub.put(f"/api/v1/checks/{cid}", {"port": "80"}), 422,
                     field="port")
        self.assertEqual(self.hub.get(f"/api/v1/checks/{cid}").json["port"],
                         self.web.server_address[1])
        self.assertTrue(self.run_check(cid)["hub"]["ok"])
        self.assertEqual(self.hub.delete(f"/api/v1/checks/{cid}").status, 204)
        assert_error(self, self.hub.get(f"/api/v1/checks/{cid}"), 404)
        assert_error(self, self.hub.delete(f"/api/v1/checks/{cid}"), 404)

    # ---- HTTP from the hub ---------------------------------------------
    def test_http_from_hub(self):
        cases = [
            (dict(url=self.web_url + "/ok", keyword="Plex"), True, 200, None),
            (dict(url=self.web_url + "/ok", keyword="Jellyfin"), False, 200, "not found"),
            (dict(url=self.web_url + "/ok", keyword="Plex", keyword_absent=True), False, 200,
             "found in the body"),
            (dict(url=self.web_url + "/err"), False, 500, "HTTP 500"),
            (dict(url=self.web_url + "/err", status_min=500, status_max=599), True, 500, None),
            (dict(url=self.web_url + "/slow", timeout_seconds=1), False, None, "timed out"),
            (dict(url=self.web_url + "/moved", keyword="Plex"), True, 200, None),
            (dict(url=self.web_url + "/moved", follow_redirects=False), True, 302, None),
            (dict(url=self.web_url + "/moved", follow_redirects=False, status_max=299), False,
             302, "HTTP 302"),
            (dict(url=f"http://127.0.0.1:{free_port()}/"), False, None, "onnect"),
        ]
        for body, ok, code, err in cases:
            with self.subTest(body=body):
                cid = self.create(type="http", interval_seconds=3600, **body)
                r = self.run_check(cid)["hub"]
                self.assertEqual(r["ok"], ok, r)
                self.assertEqual(r["status_code"], code, r)
                if ok:
                    self.assertIsNone(r["error"])
                    self.assertGreater(r["response_ms"], 0)
                else:
                    self.assertIn(err, r["error"])
                res = self.hub.get(f"/api/v1/checks/{cid}/results").json
                self.assertEqual(res["history"][0]["ok"], ok)
                self.assertEqual(res["places"][0]["place"], "hub")
                self.assertEqual(res["places"][0]["uptime"]["24h"], 100.0 if ok else 0.0)

    def test_failed_alert_after_n_and_recovery(self):
        Web.flip[0] = 200
        cid = self.create(name="flaky", type="http", url=self.web_url + "/flip",
                          interval_seconds=3600)
        self.assertTrue(self.run_check(cid)["hub"]["ok"])
        Web.flip[0] = 503
        self.assertEqual(self.run_check(cid)["hub"]["fails"], 1)
        self.assertEqual(self.alert_for(cid, "hub"), [], "one failure does not alert")
        self.assertEqual(self.run_check(cid)["hub"]["fails"], 2)
        [a] = self.alert_for(cid, "hub")
        self.assertEqual((a["severity"], a["server_id"]), ("high", None))
        self.assertIn("HTTP 503", a["message"])
        self.run_check(cid)
        self.assertEqual(len(self.alert_for(cid, "hub")), 1, "one alert per check and place")
        Web.flip[0] = 200
        self.assertTrue(self.run_check(cid)["hub"]["ok"])
        self.assertEqual(self.alert_for(cid, "hub"), [])
        [gone] = self.alert_for(cid, "hub", status="resolved")
        self.assertTrue(gone["auto_resolved"])
        res = self.hub.get(f"/api/v1/checks/{cid}/results").json
        self.assertEqual([h["ok"] for h in res["history"]], [True, False, False, False, True])
        self.assertEqual(res["places"][0]["uptime"]["24h"], 40.0)
        self.assertEqual(len(self.hub.get(f"/api/v1/checks/{cid}/results?limit=2")
                             .json["history"]), 2)

    def test_tls_certificate_expiring(self):
        cid = self.create(name="nas ui", type="http", url=self.tls_url + "/ok", verify_tls=False,
                          interval_seconds=3600)
        r = self.run_check(cid)["hub"]
        self.assertTrue(r["ok"], r)
        self.assertGreater(r["cert_days"], 9.0)
        self.assertLess(r["cert_days"], 10.01)
        [a] = self.alert_for(cid, "hub", "certificate_expiring")
        self.assertIn("expires in", a["title"])
        self.assertEqual(a["threshold_value"], 14)
        # The same server with verification on: a self-signed chain fails.
        cid2 = self.create(name="nas strict", type="http", url=self.tls_url + "/ok",
                           interval_seconds=3600)
        r2 = self.run_check(cid2)["hub"]
        self.assertFalse(r2["ok"])
        self.assertIn("certificate", r2["error"].lower())
        # Lowering the warning below the days left resolves it on the next run.
        self.assertEqual(self.hub.put(f"/api/v1/checks/{cid}", {"cert_warn_days": 5}).status, 200)
        self.run_check(cid)
        self.assertEqual(self.alert_for(cid, "hub", "certificate_expiring"), [])

    # ---- TCP and DNS from the hub ----------------------------------------
    def test_tcp_from_hub(self):
        up = self.create(type="tcp", host="127.0.0.1", port=self.web.server_address[1],
                         interval_seconds=3600)
        down = self.create(type="tcp", host="127.0.0.1", port=free_port(), interval_seconds=3600)
        self.assertTrue(self.run_check(up)["hub"]["ok"])
        r = self.run_check(down)["hub"]
        self.assertFalse(r["ok"])
        self.assertIn("refused", r["error"])

    def test_dns_from_hub(self):
        p = self.dns_port
        ok = self.create(type="dns", query="plex.lan", resolver="127.0.0.1", resolver_port=p,
                         expect="192.168.1.20", interval_seconds=3600)
        anyaddr = self.create(type="dns", query="pihole.lan", resolver="127.0.0.1",
                              resolver_port=p, interval_seconds=3600)
        wrong = self.create(type="dns", query="plex.lan", resolver="127.0.0.1", resolver_port=p,
                            expect="192.168.1.99", interval_seconds=3600)
        unknown = self.create(type="dns", query="nosuch.lan", resolver="127.0.0.1",
                              resolver_port=p, interval_seconds=3600)
        mute = self.create(type="dns", query="plex.lan", resolver="127.0.0.1",
                           resolver_port=self.mute_port, timeout_seconds=1, interval_seconds=3600)
        self.assertTrue(wait_for(lambda: self.run_check(ok)["hub"]["ok"], 10), "dnsmasq answers")
        self.assertTrue(self.run_check(anyaddr)["hub"]["ok"])
        r = self.run_check(wrong)["hub"]
        self.assertFalse(r["ok"])
        self.assertIn("resolved to 192.168.1.20", r["error"])
        r = self.run_check(unknown)["hub"]
        self.assertFalse(r["ok"])
        self.assertIn("answered", r["error"])
        r = self.run_check(mute)["hub"]
        self.assertFalse(r["ok"])
        self.assertIn("no reply", r["error"])

    def test_scheduled_runs(self):
        cid = self.create(type="tcp", host="127.0.0.1", port=self.web.server_address[1],
                          interval_seconds=10)
        got = wait_for(lambda: self.hub.get(f"/api/v1/checks/{cid}/results").json["history"], 15)
        self.assertTrue(got, "the scheduler ran the check within its first interval")
        self.assertTrue(got[0]["ok"])
        latest = self.hub.get("/api/v1/checks").json["checks"]
        [mine] = [c for c in latest if c["id"] == cid]
        self.assertEqual(mine["latest"][0]["place"], "hub")

    # ---- from a machine over SSH ----------------------------------------
    def test_from_machine(self):
        web = self.web_url
        cid = self.create(name="plex from m0", type="http", url=web + "/ok", keyword="Plex",
                          run_from=["hub", "m0"], interval_seconds=3600)
        r = self.run_check(cid)
        self.assertTrue(r["hub"]["ok"], r)
        self.assertTrue(r["m0"]["ok"], r)
        self.assertEqual(r["m0"]["status_code"], 200)
        bad = self.create(type="http", url=web + "/err", run_from=["m0"], interval_seconds=3600)
        r = self.run_check(bad)["m0"]
        self.assertEqual((r["ok"], r["status_code"]), (False, 500))
        kw = self.create(type="http", url=web + "/ok", keyword="Jellyfin", run_from=["m0"],
                         interval_seconds=3600)
        self.assertIn("not found", self.run_check(kw)["m0"]["error"])
        tcp_up = self.create(type="tcp", host="127.0.0.1", port=self.web.server_address[1],
                             run_from=["m0"], interval_seconds=3600)
        tcp_down = self.create(type="tcp", host="127.0.0.1", port=free_port(), run_from=["m0"],
                               interval_seconds=3600)
        self.assertTrue(self.run_check(tcp_up)["m0"]["ok"])
        self.assertFalse(self.run_check(tcp_down)["m0"]["ok"])
        dns = self.create(type="dns", query="plex.lan", resolver="127.0.0.1",
                          resolver_port=self.dns_port, expect="192.168.1.20", run_from=["m0"],
                          interval_seconds=3600)
        dns_bad = self.create(type="dns", query="plex.lan", resolver="127.0.0.1",
                              resolver_port=self.dns_port, expect="10.9.9.9", run_from=["m0"],
                              interval_seconds=3600)
        self.assertTrue(self.run_check(dns)["m0"]["ok"])
        self.assertIn("resolved to 192.168.1.20", self.run_check(dns_bad)["m0"]["error"])
        # The alert of a failure seen from m0 is m0's; the script went on
        # stdin, so the command line the machine saw holds nothing of the check.
        self.run_check(bad)
        [a] = self.alert_for(bad, "m0")
        self.assertEqual(a["server_id"], "m0")
        with open(os.path.join(self.machine.dir, "exec.log")) as f:
            self.assertNotIn("/err", f.read())

    def test_remote_strings_are_quoted(self):
        flag = os.path.join(self.tmp, "pwned")
        # $IFS splits into "touch FLAG" in any shell that expanded it; only
        # RFC 3986 characters, so the URL passes validation as it is.
        url = f"{self.web_url}/q?x='$(touch$IFS{flag})'&y=;touch$IFS{flag};"
        subprocess.run(["sh", "-c", "true " + url.split("?", 1)[1]], cwd=self.tmp)
        self.assertTrue(os.path.exists(flag), "the payload does run when not quoted")
        os.unlink(flag)
        cid = self.create(type="http", url=url, run_from=["m0"], interval_seconds=3600)
        Web.seen.clear()
        r = self.run_check(cid)["m0"]
        self.assertTrue(r["ok"], r)
        self.assertFalse(os.path.exists(flag), "nothing in the URL ran on the machine")
        self.assertIn(urllib.parse.urlsplit(url).query, [urllib.parse.urlsplit(p).query
                                                         for p in Web.seen])

    def test_tied_service_suggests_restart(self):
        Web.flip[0] = 503
        cid = self.create(name="plex tied", type="http", url=self.web_url + "/flip",
                          server_id="m0", service="plex", failures_before_alert=1,
                          interval_seconds=3600)
        self.run_check(cid)
        [a] = self.alert_for(cid, "hub")
        self.assertEqual(a["server_id"], "m0")
        self.assertIn("restart plex", a["message"])
        acts = self.hub.get("/api/v1/actions?status=pending").json["actions"]
        self.assertIn(("restart_service", "plex", a["alert_id"]),
                      [(x["action_type"], x["target"], x.get("alert_id")) for x in acts])
        # Deleting the check resolves its alert.
        self.assertEqual(self.hub.delete(f"/api/v1/checks/{cid}").status, 204)
        self.assertEqual(self.alert_for(cid, "hub"), [])
        Web.flip[0] = 200

    # ---- ping ---------------------------------------------------------------
    def test_ping(self):
        with open("/proc/sys/net/ipv4/ping_group_range") as f:
            lo, hi = (int(x) for x in f.read().split())
        body = {"name": "ping", "type": "ping", "host": "127.0.0.1", "interval_seconds": 3600}
        if not lo <= os.getgid() <= hi:
            # This machine's default: the hub may not ping, and says so up front.
            d = assert_error(self, self.hub.post("/api/v1/checks", body), 422, field="run_from")
            self.assertIn("ping_group_range", d["message"])
        assert_error(self, self.hub.post("/api/v1/checks", dict(body, port=1)), 422, field="port")
        # From a machine: its own ping, or a clear word that it has none.
        cid = self.create(**dict(body, run_from=["m0"]))
        r = self.run_check(cid)["m0"]
        if shutil.which("ping"):
            self.assertTrue(r["ok"], r)
        else:
            self.assertEqual((r["ok"], r["error"]), (False, "the machine has no ping"))
        # In a namespace of its own whose ping_group_range lets it, the hub pings.
        p = subprocess.run(["unshare", "-n", sys.executable, "-u",
                            os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "checks_ping_ns.py")],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stderr[-3000:])
        got = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual((got["loopback_create"], got["unroutable_create"]), (201, 201))
        self.assertTrue(got["loopback"]["ok"], got)
        self.assertGreater(got["loopback"]["response_ms"], 0)
        self.assertFalse(got["unroutable"]["ok"], got)
        self.assertTrue(got["unroutable"]["error"], got)

    # ---- the family status page ---------------------------------------------
    def routes(self):
        """Every route of the hub, read from its one route table."""
        import re
        with open(os.path.join(os.environ.get("HLC_SOURCE_DIR", "."), "server", "src", "api",
                               "routes.c")) as f:
            src = f.read()
        return re.findall(r'\{"(GET|POST|PUT|DELETE)", "([^"]+)", \w+, ([^}]+)\}', src)

    def test_status_page(self):
        Web.flip[0] = 200
        up = self.create(name="plex-internal", type="http", url=self.web_url + "/ok?secret=xyzzy",
                         run_from=["hub", "m0"], interval_seconds=3600)
        down = self.create(name="nas-internal", type="tcp", host="127.0.0.1", port=free_port(),
                           interval_seconds=3600)
        hidden = self.create(name="not-on-the-page", type="tcp", host="127.0.0.1",
                             port=self.web.server_address[1], interval_seconds=3600)
        for c in (up, down, hidden):
            self.run_check(c)
        assert_error(self, self.hub.get("/status/" + "0" * 48, key=None), 404)
        r = self.hub.post("/api/v1/status-page/token")
        self.assertEqual(r.status, 201, r)
        token = r.json["token"]
        self.assertEqual(len(token), 48)
        self.assertEqual(r.json["path"], "/status/" + token)
        # Not enabled yet: the token alone shows nothing.
        assert_error(self, self.hub.get(f"/status/{token}", key=None), 404)
        assert_error(self, self.hub.put("/api/v1/status-page", {"services": [{"check_id": 999999}]}),
                     422, field="services")
        assert_error(self, self.hub.put("/api/v1/status-page", {"enabled": "yes"}), 422,
                     field="enabled")
        r = self.hub.put("/api/v1/status-page", {"enabled": True, "title": "Our house",
                                                 "services": [{"check_id": up, "label": "Films"},
                                                              {"check_id": down}]})
        self.assertEqual(r.status, 200, r)
        self.assertNotIn("token_hash", r.json)
        self.assertTrue(r.json["has_token"])
        page = self.hub.get(f"/status/{token}", key=None)
        self.assertEqual(page.status, 200)
        self.assertIn("text/html", page.headers["Content-Type"])
        d = self.hub.get(f"/status/{token}/data", key=None)
        self.assertEqual(d.status, 200, d)
        self.assertEqual(d.json["title"], "Our house")
        self.assertEqual([(x["label"], x["state"]) for x in d.json["services"]],
                         [("Films", "up"), ("nas-internal", "down")])
        self.assertEqual(d.json["services"][0]["uptime"]["24h"], 100.0)
        # Nothing but labels and states: no targets, addresses, machines or ids.
        for secret in ("xyzzy", "127.0.0.1", "m0", "not-on-the-page", "plex-internal", "url",
                       "host", "server_id", str(self.web.server_address[1])):
            self.assertNotIn(secret, d.raw.decode(), secret)
        # Every other route, with the token wherever a credential could go,
        # answers 401/404 - or, for the public ones, exactly what it answers
        # with no credential at all.
        allowed = {("GET", "/status/{}"), ("GET", "/status/{}/data")}
        for method, pattern, flags in self.routes():
            if (method, pattern) in allowed:
                continue
            path = pattern.replace("{}", token if pattern.startswith("/status") else "1")
            for how in ("header", "query", "bearer"):
                with self.subTest(route=f"{method} {pattern}", how=how):
                    hdrs = {"Authorization": f"Bearer {token}"} if how == "bearer" else {}
                    q = f"?key={token}" if how == "query" else ""
                    key = token if how == "header" else None
                    body = {} if method in ("POST", "PUT") else None
                    r = self.hub.request(method, path + q, body=body, key=key, headers=hdrs)
                    if "HLC_ROUTE_PUBLIC" in flags:
                        bare = self.hub.request(method, path, body=body, key=None)
                        if 429 in (r.status, bare.status):  # the enrollment limiter
                            self.assertTrue(400 <= r.status < 500 and 400 <= bare.status < 500,
                                            (r, bare))
                        else:
                            self.assertEqual(r.status, bare.status, (r, bare))
                        self.assertNotIn(b"Films", r.raw)
                    else:
                        self.assertIn(r.status, (401, 404), r)
        # Revoked: the old token is dead.
        self.assertEqual(self.hub.delete("/api/v1/status-page/token").status, 204)
        assert_error(self, self.hub.get(f"/status/{token}/data", key=None), 404)
        assert_error(self, self.hub.get("/status/data", key=None), 404)
        # LAN-public: /status answers a loopback (LAN) client without a token.
        self.assertEqual(self.hub.put("/api/v1/status-page", {"public_on_lan": True}).status, 200)
        d = self.hub.get("/status/data", key=None)
        self.assertEqual(d.status, 200, d)
        self.assertEqual(len(d.json["services"]), 2)
        self.assertEqual(self.hub.put("/api/v1/status-page", {"enabled": False}).status, 200)
        assert_error(self, self.hub.get("/status/data", key=None), 404)


if __name__ == "__main__":
    unittest.main(verbosity=2)
