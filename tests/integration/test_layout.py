"""The dashboard's widget layout per machine: GET/PUT /api/v1/servers/{id}/layout
against the real hub (validation, persistence across restart, cascade delete)."""
import os
import socket
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error  # noqa: E402

LAYOUT = [
    {"id": "cpu", "x": 0, "y": 0, "w": 4, "h": 3},
    {"id": "chart", "x": 0, "y": 3, "w": 12, "h": 6, "hidden": False},
    {"id": "network", "x": 6, "y": 9, "w": 6, "h": 4, "hidden": True},
]


class LayoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = None
        cls.hub = Hub().start()
        for sid in ("box", "other"):
            r = cls.hub.post("/api/v1/servers", {"server_id": sid, "hostname": f"{sid}.lan"})
            assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        assert code == 0, f"hub exit {code}\n{log[-3000:]}"
        assert "AddressSanitizer" not in log and "runtime error:" not in log, log[-5000:]

    def test_default_is_empty_and_unsaved(self):
        r = self.hub.get("/api/v1/servers/other/layout")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"server_id": "other", "widgets": [], "saved": False})

    def test_save_read_back_normalised_and_survives_restart(self):
        r = self.hub.put("/api/v1/servers/box/layout", {"widgets": LAYOUT})
        self.assertEqual(r.status, 200, r)
        want = [dict(w, hidden=w.get("hidden", False)) for w in LAYOUT]
        self.assertEqual(r.json["widgets"], want)
        self.assertTrue(r.json["saved"])
        self.assertEqual(self.hub.get("/api/v1/servers/box/layout").json["widgets"], want)
        # Another machine's layout is its own.
        self.assertEqual(self.hub.get("/api/v1/servers/other/layout").json["widgets"], [])
        self.assertEqual(self.hub.stop(), 0)
        self.hub.start()
        self.assertEqual(self.hub.get("/api/v1/servers/box/layout").json["widgets"], want)
        # A second save replaces the first.
        r = self.hub.put("/api/v1/servers/box/layout", {"widgets": LAYOUT[:1]})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(len(self.hub.get("/api/v1/servers/box/layout").json["widgets"]), 1)

    def test_validation_names_the_field(self):
        cases = [
            ({"widgets": [{"id": "evil", "x": 0, "y": 0, "w": 1, "h": 1}]}, "widgets[0].id"),
            ({"widgets": [LAYOUT[0], {"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 1}]}, "widgets[1].id"),
            ({"widgets": [{"id": "cpu", "x": -1, "y": 0, "w": 1, "h": 1}]}, "widgets[0].x"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 13, "h": 1}]}, "widgets[0].w"),
            ({"widgets": [{"id": "cpu", "x": 8, "y": 0, "w": 6, "h": 1}]}, "widgets[0].w"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 0}]}, "widgets[0].h"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 5000, "w": 1, "h": 1}]}, "widgets[0].y"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 1}]}, "widgets[0].h"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 1, "hidden": "yes"}]}, "widgets[0].hidden"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 1, "color": "red"}]}, "widgets[0].color"),
            ({"widgets": [{"id": "cpu", "x": 1.5, "y": 0, "w": 1, "h": 1}]}, "widgets[0].x"),
            ({"widgets": ["cpu"]}, "widgets[0]"),
            ({"widgets": {}}, "widgets"),
            ({}, "widgets"),
            ({"widgets": [], "extra": 1}, "extra"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": i, "w": 1, "h": 1} for i in range(15)]}, "widgets"),  # one more than the 14 widgets
        ]
        for body, field in cases:
            with self.subTest(field=field, body=body):
                assert_error(self, self.hub.put("/api/v1/servers/other/layout", body), 422, field=field)
        self.assertEqual(self.hub.get("/api/v1/servers/other/layout").json["widgets"], [])

    def test_bad_json_big_body_unknown_machine_and_auth(self):
        r = self.hub.request("PUT", "/api/v1/servers/other/layout", raw=b"{not json",
                             headers={"Content-Type": "application/json"})
        self.assertEqual(r.status, 400, r)
        # A declared length past the hub's body cap is refused before it is read.
        with socket.create_connection(("127.0.0.1", self.hub.port)) as s:
            s.sendall(b"PUT /api/v1/servers/other/layout HTTP/1.1\r\nHost: x\r\nX-API-Key: " +
                      self.hub.api_key.encode() + b"\r\nContent-Length: 2097152\r\n\r\n")
            reply = s.recv(65536)
        self.assertIn(b" 413 ", reply.split(b"\r\n")[0])
        assert_error(self, self.hub.get("/api/v1/servers/nope/layout"), 404)
        assert_error(self, self.hub.put("/api/v1/servers/nope/layout", {"widgets": []}), 404)
        assert_error(self, self.hub.get("/api/v1/servers/Bad..Id/layout"), 404)
        self.assertEqual(self.hub.get("/api/v1/servers/box/layout", key=None).status, 401)
        self.assertEqual(self.hub.put("/api/v1/servers/box/layout", {"widgets": []}, key="wrong").status, 401)

    def test_deleting_the_machine_deletes_its_layout(self):
        r = self.hub.post("/api/v1/servers", {"server_id": "gone", "hostname": "gone.lan"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.hub.put("/api/v1/servers/gone/layout", {"widgets": LAYOUT}).status, 200)
        self.assertIn(self.hub.delete("/api/v1/servers/gone").status, (200, 204))
        r = self.hub.post("/api/v1/servers", {"server_id": "gone", "hostname": "gone.lan"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.hub.get("/api/v1/servers/gone/layout").json,
                         {"server_id": "gone", "widgets": [], "saved": False})


if __name__ == "__main__":
    unittest.main()
