"""Agents without the admin key, against the real hub: an operator's one-time,
short-lived enrollment token is exchanged once for a per-machine agent token;
that token posts its own machine's heartbeats and nothing else (403 for another
machine, 401 anywhere else); it is listed with its last use, revocable and
rotatable; the hub keeps only hashes. Admin-key heartbeats (v1 agents) still
work, are flagged on the machine, and can be turned off."""
import http.client
import json
import os
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error  # noqa: E402
from test_agent import heartbeat  # noqa: E402

ENROLL = "/api/v1/agents/enroll"
TOKENS = "/api/v1/agents/enrollment-tokens"
HB = "/api/v1/agents/heartbeat"


class EnrollTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        cls.src = 10  # each test enrolls from its own 127.0.2.x (the limit is per address)

    @classmethod
    def tearDownClass(cls):
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        assert code == 0, f"hub exit {code}\n{log[-3000:]}"
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]

    def setUp(self):
        EnrollTest.src += 1
        self.ip = f"127.0.2.{EnrollTest.src}"
        self.hub.put("/api/v1/config", {"agent": {"allow_admin_key_heartbeats": True}})

    # ---- helpers -------------------------------------------------------
    def raw(self, method, path, body=None, headers=None, src=None):
        """One request from source address src (default: this test's)."""
        c = http.client.HTTPConnection("127.0.0.1", self.hub.port, timeout=10,
                                       source_address=(src or self.ip, 0))
        try:
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            hdrs = dict(headers or {})
            if data is not None:
                hdrs.setdefault("Content-Type", "application/json")
            c.request(method, path, body=data, headers=hdrs)
            r = c.getresponse()
            text = r.read()
            return r.status, json.loads(text) if text else None
        finally:
            c.close()

    def new_token(self, **body):
        r = self.hub.post(TOKENS, body)
        self.assertEqual(r.status, 201, r)
        return r.json

    def enroll(self, token, **body):
        return self.raw("POST", ENROLL, dict(token=token, **body))

    def beat(self, token, sid, **kw):
        return self.hub.post(HB, heartbeat(sid, **kw), key=None,
                             headers={"Authorization": f"Bearer {token}"})

    def stored(self, sid):
        db = sqlite3.connect(os.path.join(self.hub.data_dir, "homelabcmd.db"), timeout=10)
        try:
            return db.execute("SELECT count(*) FROM metrics WHERE server_id=?", (sid,)).fetchone()[0]
        finally:
            db.close()

    def db_exec(self, sql, args=()):
        db = sqlite3.connect(os.path.join(self.hub.data_dir, "homelabcmd.db"), timeout=10)
        try:
            db.execute(sql, args)
            db.commit()
        finally:
            db.close()

    # ---- tests ---------------------------------------------------------
    def test_enrollment_token_created_listed_without_secret_and_validated(self):
        t = self.new_token()
        self.assertTrue(t["token"].startswith("hlce_") and len(t["token"]) >= 48, t)
        self.assertEqual((t["server_id"], t["machine_type"], t["status"]), (None, None, "active"))
        exp = time.mktime(time.strptime(t["expires_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        self.assertAlmostEqual(exp - time.time(), 3600, delta=30)
        b = self.new_token(expires_in_seconds=300, server_id="pi4", machine_type="server")
        self.assertEqual((b["server_id"], b["machine_type"]), ("pi4", "server"))
        listing = self.hub.get(TOKENS)
        self.assertEqual(listing.status, 200)
        ids = [x["id"] for x in listing.json["enrollment_tokens"]]
        self.assertIn(t["id"], ids)
        self.assertNotIn(t["token"], listing.raw.decode())
        self.assertNotIn("token", listing.json["enrollment_tokens"][0])
        for bad, field in [({"expires_in_seconds": 299}, "expires_in_seconds"),
                           ({"expires_in_seconds": 7 * 86400 + 1}, "expires_in_seconds"),
                           ({"server_id": "Not A Slug"}, "server_id"),
                           ({"machine_type": "toaster"}, "machine_type"),
                           ({"secret": "x"}, "secret")]:
            assert_error(self, self.hub.post(TOKENS, bad), 422, field=field)
        assert_error(self, self.hub.post(TOKENS, {}, key=None), 401)
        assert_error(self, self.hub.get(TOKENS, key="wrong-key-0123456789abcdef"), 401)
        # Only hashes at rest: neither secret is in the database files.
        blob = b""
        for name in ("homelabcmd.db", "homelabcmd.db-wal"):
            p = os.path.join(self.hub.data_dir, name)
            if os.path.exists(p):
                with open(p, "rb") as f:
                    blob += f.read()
        self.assertNotIn(t["token"].encode(), blob)
        self.assertNotIn(t["token"][5:].encode(), blob)

    def test_enroll_once_then_heartbeats_for_its_own_machine_only(self):
        t = self.new_token()
        st, out = self.enroll(t["token"], server_id="lap1", hostname="lap1.lan")
        self.assertEqual(st, 201, out)
        agent = out["agent_token"]
        self.assertTrue(agent.startswith("hlca_") and len(agent) >= 48)
        self.assertEqual((out["server_id"], out["machine_type"]), ("lap1", "workstation"))
        m = self.hub.get("/api/v1/servers/lap1").json
        self.assertEqual((m["hostname"], m["machine_type"], m["agent_auth"]),
                         ("lap1.lan", "workstation", None))
        # Spent: a second use (say, a sniffed copy) is refused and enrolls nothing.
        st, err = self.enroll(t["token"], server_id="lap2")
        self.assertEqual(st, 401, err)
        self.assertEqual(self.hub.get("/api/v1/servers/lap2").status, 404)
        used = [x for x in self.hub.get(TOKENS).json["enrollment_tokens"] if x["id"] == t["id"]]
        self.assertEqual((used[0]["status"], used[0]["used_by"]), ("used", "lap1"))

        r = self.beat(agent, "lap1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(self.stored("lap1"), 1)
        self.assertEqual(self.hub.get("/api/v1/servers/lap1").json["agent_auth"], "agent_token")
        toks = self.hub.get("/api/v1/servers/lap1/agent-tokens").json["agent_tokens"]
        self.assertEqual([x["id"] for x in toks], [out["token_id"]])
        self.assertIsNotNone(toks[0]["last_used_at"])
        self.assertEqual(toks[0]["last_used_ip"], "127.0.0.1")
        self.assertNotIn(agent, json.dumps(toks))
        # Another machine's heartbeat with this token: 403, nothing stored or registered.
        self.hub.post("/api/v1/servers", {"server_id": "nas", "hostname": "nas.lan"})
        assert_error(self, self.beat(agent, "nas"), 403, field="server_id")
        assert_error(self, self.beat(agent, "ghost"), 403)
        self.assertEqual((self.stored("nas"), self.stored("ghost")), (0, 0))
        self.assertEqual(self.hub.get("/api/v1/servers/ghost").status, 404)
        # Any other route: 401, whatever the token.
        bearer = {"Authorization": f"Bearer {agent}"}
        for method, path, body in [("GET", "/api/v1/servers", None),
                                   ("GET", "/api/v1/servers/lap1", None),
                                   ("POST", "/api/v1/actions", {"server_id": "lap1",
                                                                "action_type": "restart_service",
                                                                "target": "ssh"}),
                                   ("POST", TOKENS, {}),
                                   ("GET", "/api/v1/servers/lap1/agent-tokens", None)]:
            assert_error(self, self.hub.request(method, path, body=body, key=None,
                                                headers=bearer), 401)
        # A made-up or mangled token is refused before the body is looked at.
        assert_error(self, self.beat("hlca_" + "A" * 43, "lap1"), 401)
        assert_error(self, self.beat(agent[:-1], "lap1"), 401)
        assert_error(self, self.hub.post(HB, raw=b"not json", key=None, headers=bearer | {
            "Authorization": "Bearer hlca_nope"}), 401)

    def test_revoke_and_rotate(self):
        _, out = self.enroll(self.new_token()["token"], server_id="lap3")
        old, tid = out["agent_token"], out["token_id"]
        self.assertEqual(self.beat(old, "lap3").status, 200)
        r = self.hub.post(f"/api/v1/servers/lap3/agent-tokens/{tid}/rotate")
        self.assertEqual(r.status, 201, r)
        new, new_id = r.json["agent_token"], r.json["id"]
        self.assertNotEqual(new, old)
        assert_error(self, self.beat(old, "lap3", t=int(time.time()) - 3), 401)
        self.assertEqual(self.beat(new, "lap3", t=int(time.time()) - 2).status, 200)
        toks = self.hub.get("/api/v1/servers/lap3/agent-tokens").json["agent_tokens"]
        self.assertEqual([x["id"] for x in toks], [new_id])
        assert_error(self, self.hub.post(f"/api/v1/servers/lap3/agent-tokens/{tid}/rotate"), 404)
        # Revoked: dead at once.
        self.assertEqual(self.hub.delete(f"/api/v1/servers/lap3/agent-tokens/{new_id}").status, 204)
        assert_error(self, self.beat(new, "lap3", t=int(time.time()) - 1), 401)
        assert_error(self, self.hub.delete(f"/api/v1/servers/lap3/agent-tokens/{new_id}"), 404)
        assert_error(self, self.hub.get("/api/v1/servers/nosuch/agent-tokens"), 404)
        # A deleted machine takes its tokens with it.
        _, out = self.enroll(self.new_token(server_id="lap4")["token"])
        self.assertEqual(out["server_id"], "lap4")
        self.assertEqual(self.hub.delete("/api/v1/servers/lap4").status, 204)
        assert_error(self, self.beat(out["agent_token"], "lap4"), 401)

    def test_expired_revoked_bound_and_taken_over(self):
        t = self.new_token(expires_in_seconds=300)
        self.db_exec("UPDATE enrollment_tokens SET expires_at=? WHERE id=?",
                     (int(time.time()) - 1, t["id"]))
        self.assertEqual(self.enroll(t["token"], server_id="old1")[0], 401)
        st = [x["status"] for x in self.hub.get(TOKENS).json["enrollment_tokens"] if x["id"] == t["id"]]
        self.assertEqual(st, ["expired"])
        r = self.new_token()
        self.assertEqual(self.hub.delete(f"{TOKENS}/{r['id']}").status, 204)
        self.assertEqual(self.enroll(r["token"], server_id="old2")[0], 401)
        assert_error(self, self.hub.delete(f"{TOKENS}/{r['id']}"), 404)
        self.assertEqual(self.hub.get("/api/v1/servers/old1").status, 404)
        # A token bound to a machine enrolls only that machine, as its type.
        b = self.new_token(server_id="rack9", machine_type="server")
        st, err = self.enroll(b["token"], server_id="other")
        self.assertEqual(st, 403, err)
        st, out = self.enroll(b["token"], hostname="rack9.lan")
        self.assertEqual((st, out["server_id"], out["machine_type"]), (201, "rack9", "server"))
        first = out["agent_token"]
        # An unbound token cannot take over an enrolled machine (409, not spent) ...
        u = self.new_token()
        st, err = self.enroll(u["token"], server_id="rack9")
        self.assertEqual(st, 409, err)
        self.assertEqual(self.beat(first, "rack9").status, 200)
        st, _ = self.enroll(u["token"], server_id="fresh1")
        self.assertEqual(st, 201)
        # ... a token bound to it re-enrolls it and the old agent token dies.
        st, out = self.enroll(self.new_token(server_id="rack9")["token"])
        self.assertEqual(st, 201)
        assert_error(self, self.beat(first, "rack9", t=int(time.time()) - 1), 401)
        self.assertEqual(self.beat(out["agent_token"], "rack9", t=int(time.time()) - 1).status, 200)

    def test_one_token_raced_enrolls_once(self):
        t = self.new_token()
        results = []

        def go(i):
            results.append(self.raw("POST", ENROLL, {"token": t["token"], "server_id": f"race{i}"},
                                    src=f"127.0.4.{i + 1}"))
        threads = [threading.Thread(target=go, args=(i,)) for i in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        codes = sorted(st for st, _ in results)
        self.assertEqual(codes, [201] + [401] * 7, results)
        made = [m["server_id"] for m in self.hub.get("/api/v1/servers").json["servers"]
                if m["server_id"].startswith("race")]
        self.assertEqual(len(made), 1, made)

    def test_enroll_input_bounded_and_rate_limited(self):
        st, err = self.raw("POST", ENROLL, b"x" * 5000)
        self.assertEqual(st, 413, err)
        st, err = self.enroll(12)
        self.assertEqual((st, err["detail"]["field"]), (422, "token"))
        st, err = self.enroll("hlce_x", server_id="Bad Slug")
        self.assertEqual((st, err["detail"]["field"]), (422, "server_id"))
        st, _ = self.raw("POST", ENROLL, b"{")
        self.assertEqual(st, 400)
        # Guessing from one address: past the burst, 429 before any lookup,
        # while another address is not slowed down.
        codes = [self.raw("POST", ENROLL, {"token": "hlce_" + "B" * 43, "server_id": "guess"},
                          src="127.0.3.2")[0] for _ in range(8)]
        self.assertEqual(codes[:5], [401] * 5, codes)
        self.assertEqual(codes[-1], 429, codes)
        t = self.new_token()
        st, out = self.raw("POST", ENROLL, {"token": t["token"], "server_id": "calm"},
                           src="127.0.3.1")
        self.assertEqual(st, 201, out)

    def test_admin_key_heartbeats_flagged_and_can_be_turned_off(self):
        r = self.hub.post(HB, heartbeat("v1box"))
        self.assertEqual(r.status, 200, r)
        m = self.hub.get("/api/v1/servers/v1box").json
        self.assertEqual(m["agent_auth"], "admin_key")
        listed = {x["server_id"]: x for x in self.hub.get("/api/v1/servers").json["servers"]}
        self.assertEqual(listed["v1box"]["agent_auth"], "admin_key")
        _, out = self.enroll(self.new_token()["token"], server_id="v2box")
        r = self.hub.put("/api/v1/config", {"agent": {"allow_admin_key_heartbeats": False}})
        self.assertEqual(r.status, 200, r)
        self.assertIs(self.hub.get("/api/v1/config").json["agent"]["allow_admin_key_heartbeats"],
                      False)
        n = self.stored("v1box")
        assert_error(self, self.hub.post(HB, heartbeat("v1box", t=int(time.time()) - 1)), 401)
        self.assertEqual(self.stored("v1box"), n)
        self.assertEqual(self.beat(out["agent_token"], "v2box").status, 200)
        # The admin key still does everything else.
        self.assertEqual(self.hub.get("/api/v1/servers").status, 200)
        self.hub.put("/api/v1/config", {"agent": {"allow_admin_key_heartbeats": True}})
        self.assertEqual(self.hub.post(HB, heartbeat("v1box", t=int(time.time()) - 1)).status, 200)
        self.assertEqual(self.hub.get("/api/v1/servers/v2box").json["agent_auth"], "agent_token")


if __name__ == "__main__":
    unittest.main(verbosity=2)
