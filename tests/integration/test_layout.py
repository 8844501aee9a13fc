"""The dashboard's widget layout per machine: GET/PUT /api/v1/servers/{id}/layout
against the real hub (one layout per breakpoint, the old plain-list form read as lg,
validation, persistence across restart, cascade delete)."""
import os
import socket
import json
import sqlite3
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub, assert_error  # noqa: E402

LAYOUT = [
    {"id": "cpu", "x": 0, "y": 0, "w": 4, "h": 3},
    {"id": "chart", "x": 0, "y": 3, "w": 12, "h": 7, "hidden": False},
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
        self.assertEqual(r.json, {"server_id": "other", "widgets": [], "breakpoints": {}, "saved": False})

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
            ({"widgets": [LAYOUT[0], {"id": "cpu", "x": 0, "y": 5, "w": 3, "h": 3}]}, "widgets[1].id"),
            ({"widgets": [{"id": "cpu", "x": -1, "y": 0, "w": 1, "h": 1}]}, "widgets[0].x"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 13, "h": 1}]}, "widgets[0].w"),
            ({"widgets": [{"id": "cpu", "x": 8, "y": 0, "w": 6, "h": 1}]}, "widgets[0].w"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 0}]}, "widgets[0].h"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 5000, "w": 1, "h": 1}]}, "widgets[0].y"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 1}]}, "widgets[0].h"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 3, "h": 3, "hidden": "yes"}]}, "widgets[0].hidden"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 1, "color": "red"}]}, "widgets[0].color"),
            ({"widgets": [{"id": "cpu", "x": 1.5, "y": 0, "w": 1, "h": 1}]}, "widgets[0].x"),
            ({"widgets": ["cpu"]}, "widgets[0]"),
            ({"widgets": {}}, "widgets"),
            ({}, "widgets"),
            ({"widgets": [], "extra": 1}, "extra"),
            # below the size its content needs
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 2, "h": 3}]}, "widgets[0].w"),
            ({"widgets": [{"id": "chart", "x": 0, "y": 0, "w": 12, "h": 6}]}, "widgets[0].h"),
            # two visible widgets sharing a cell (a hidden one may)
            ({"widgets": [{"id": "cpu", "x": 0, "y": 0, "w": 4, "h": 3},
                          {"id": "memory", "x": 3, "y": 2, "w": 4, "h": 3}]}, "widgets[1]"),
            # per breakpoint: its own columns and minimum sizes
            ({"breakpoints": {"md": [{"id": "cpu", "x": 5, "y": 0, "w": 2, "h": 3}]}}, "breakpoints.md[0].w"),
            ({"breakpoints": {"md": [{"id": "cpu", "x": 6, "y": 0, "w": 1, "h": 3}]}}, "breakpoints.md[0].x"),
            ({"breakpoints": {"md": [{"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 3}]}}, "breakpoints.md[0].w"),
            ({"breakpoints": {"md": [{"id": "chart", "x": 0, "y": 0, "w": 2, "h": 7}]}}, "breakpoints.md[0].w"),
            ({"breakpoints": {"md": [{"id": "cost", "x": 0, "y": 0, "w": 2, "h": 4}]}}, "breakpoints.md[0].w"),
            ({"breakpoints": {"sm": [{"id": "cpu", "x": 0, "y": 0, "w": 2, "h": 3}]}}, "breakpoints.sm[0].w"),
            ({"breakpoints": {"sm": [{"id": "system", "x": 0, "y": 0, "w": 1, "h": 5}]}}, "breakpoints.sm[0].h"),
            ({"breakpoints": {"sm": [{"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 3},
                                     {"id": "load", "x": 0, "y": 2, "w": 1, "h": 3}]}}, "breakpoints.sm[1]"),
            ({"breakpoints": {"sm": [{"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 3},
                                     {"id": "cpu", "x": 0, "y": 3, "w": 1, "h": 3}]}}, "breakpoints.sm[1].id"),
            ({"breakpoints": {"sm": [{"id": "evil", "x": 0, "y": 0, "w": 1, "h": 3}]}}, "breakpoints.sm[0].id"),
            ({"breakpoints": {"md": [{"id": "cpu", "x": 0, "y": i * 3, "w": 2, "h": 3} for i in range(15)]}}, "breakpoints.md"),
            ({"breakpoints": {"xl": []}}, "breakpoints.xl"),
            ({"breakpoints": {"md": {}}}, "breakpoints.md"),
            ({"breakpoints": {"md": "cpu"}}, "breakpoints.md"),
            ({"breakpoints": []}, "breakpoints"),
            ({"breakpoints": {}}, "breakpoints"),
            ({"widgets": [], "breakpoints": {"lg": []}}, "widgets"),
            ({"widgets": [{"id": "cpu", "x": 0, "y": i, "w": 1, "h": 1} for i in range(15)]}, "widgets"),  # one more than the 14 widgets
        ]
        for body, field in cases:
            with self.subTest(field=field, body=body):
                assert_error(self, self.hub.put("/api/v1/servers/other/layout", body), 422, field=field)
        self.assertEqual(self.hub.get("/api/v1/servers/other/layout").json["widgets"], [])

    def test_one_layout_per_breakpoint(self):
        r = self.hub.post("/api/v1/servers", {"server_id": "bp", "hostname": "bp.lan"})
        self.assertEqual(r.status, 201, r)
        lg = [{"id": "cpu", "x": 0, "y": 0, "w": 4, "h": 3, "hidden": False}]
        md = [{"id": "cpu", "x": 0, "y": 0, "w": 2, "h": 3, "hidden": False},
              {"id": "memory", "x": 2, "y": 0, "w": 4, "h": 3, "hidden": False},
              {"id": "load", "x": 0, "y": 1, "w": 2, "h": 3, "hidden": True}]  # hidden: may share a cell
        sm = [{"id": "system", "x": 0, "y": 0, "w": 1, "h": 6, "hidden": False}]
        self.assertEqual(self.hub.put("/api/v1/servers/bp/layout", {"widgets": lg}).status, 200)
        # Saving md keeps lg; "widgets" stays the lg layout.
        r = self.hub.put("/api/v1/servers/bp/layout", {"breakpoints": {"md": md}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json, {"server_id": "bp", "widgets": lg, "breakpoints": {"lg": lg, "md": md}, "saved": True})
        r = self.hub.put("/api/v1/servers/bp/layout", {"breakpoints": {"sm": sm}})
        self.assertEqual(r.json["breakpoints"], {"lg": lg, "md": md, "sm": sm})
        self.assertEqual(self.hub.stop(), 0)
        self.hub.start()
        r = self.hub.get("/api/v1/servers/bp/layout")
        self.assertEqual(r.json["breakpoints"], {"lg": lg, "md": md, "sm": sm})
        self.assertEqual(r.json["widgets"], lg)
        # The old form replaces lg only.
        lg2 = [dict(lg[0], x=8)]
        r = self.hub.put("/api/v1/servers/bp/layout", {"widgets": lg2})
        self.assertEqual(r.json["breakpoints"], {"lg": lg2, "md": md, "sm": sm})
        # A refused save changes nothing.
        assert_error(self, self.hub.put("/api/v1/servers/bp/layout",
                                        {"breakpoints": {"sm": [], "md": [dict(md[0], w=1)]}}), 422,
                     field="breakpoints.md[0].w")
        self.assertEqual(self.hub.get("/api/v1/servers/bp/layout").json["breakpoints"], {"lg": lg2, "md": md, "sm": sm})
        # null forgets a breakpoint (Reset to default): md is arranged from lg again.
        r = self.hub.put("/api/v1/servers/bp/layout", {"breakpoints": {"md": None, "sm": None}})
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json["breakpoints"], {"lg": lg2})
        r = self.hub.put("/api/v1/servers/bp/layout", {"breakpoints": {"lg": None}})
        self.assertEqual(r.json, {"server_id": "bp", "widgets": [], "breakpoints": {}, "saved": False})

    def test_old_plain_list_is_read_as_lg(self):
        r = self.hub.post("/api/v1/servers", {"server_id": "old", "hostname": "old.lan"})
        self.assertEqual(r.status, 201, r)
        self.assertEqual(self.hub.put("/api/v1/servers/old/layout", {"breakpoints": {"sm": [
            {"id": "cpu", "x": 0, "y": 0, "w": 1, "h": 3}]}}).status, 200)
        # What a hub before breakpoints stored: the widgets array itself.
        old = [{"id": "cpu", "x": 0, "y": 0, "w": 4, "h": 3, "hidden": False},
               {"id": "load", "x": 4, "y": 0, "w": 4, "h": 3, "hidden": True}]
        db = sqlite3.connect(os.path.join(self.hub.data_dir, "homelabcmd.db"), timeout=10)
        with db:
            db.execute("UPDATE server_layouts SET widgets = ? WHERE server_id = 'old'", (json.dumps(old),))
        db.close()
        r = self.hub.get("/api/v1/servers/old/layout")
        self.assertEqual(r.json, {"server_id": "old", "widgets": old, "breakpoints": {"lg": old}, "saved": True})
        # Saving md on top of it keeps it as lg.
        md = [{"id": "cpu", "x": 0, "y": 0, "w": 2, "h": 3, "hidden": False}]
        r = self.hub.put("/api/v1/servers/old/layout", {"breakpoints": {"md": md}})
        self.assertEqual(r.json["breakpoints"], {"lg": old, "md": md})

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
                         {"server_id": "gone", "widgets": [], "breakpoints": {}, "saved": False})


if __name__ == "__main__":
    unittest.main()
