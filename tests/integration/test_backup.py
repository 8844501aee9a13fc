#!/usr/bin/env python3
"""homelabcmd backup / restore (issue 25): a backup taken while heartbeats
are being ingested is a consistent, integrity-checked snapshot; restore
refuses while the hub runs and refuses a damaged file; a restore into a fresh
data directory gives a database identical to the backup that a new hub
serves."""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import HUB_BIN, Hub  # noqa: E402
from test_prometheus import heartbeat, iso  # noqa: E402

MACHINES = 8


def run(*args, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("HOMELABCMD_")}
    e.update(env or {})
    return subprocess.run([HUB_BIN, *args], capture_output=True, text=True, timeout=120, env=e)


def tables(path):
    """{table: sorted rows} of every table of a database file."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
        return {n: sorted(con.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr) for n in names}
    finally:
        con.close()


def integrity(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        con.close()


class BackupTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="hlc-backup-")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_backup_under_load_and_restore(self):
        backup = os.path.join(self.tmp, "snap.db")
        with Hub() as hub:
            # the HEALTHCHECK verb against a plain-HTTP hub, by its base URL
            res = run("health", "--url", hub.url)
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            stop = threading.Event()
            sent = [0]
            errors = []

            def load():
                t0 = int(time.time()) - 3600
                n = 0
                while not stop.is_set():
                    sid = f"bk-{n % MACHINES}"
                    r = hub.post("/api/v1/agents/heartbeat",
                                 heartbeat(sid, iso(t0 + n // MACHINES), 1000000 + n * 100))
                    if r.status != 200:
                        errors.append(r)
                    n += 1
                    sent[0] = n

            th = threading.Thread(target=load)
            th.start()
            try:
                while sent[0] < 20 * MACHINES:
                    time.sleep(0.05)
                res = run("backup", backup, "--data-dir", hub.data_dir)
                at_backup = sent[0]
                while sent[0] < at_backup + 2 * MACHINES:  # ingest goes on after it
                    time.sleep(0.05)
            finally:
                stop.set()
                th.join()
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            self.assertIn("encryption key", res.stdout)
            self.assertEqual(errors, [])
            self.assertEqual(oct(os.stat(backup).st_mode & 0o777), "0o600")
            self.assertEqual(integrity(backup), "ok")
            snap = tables(backup)
            live_db = os.path.join(hub.data_dir, "homelabcmd.db")
            live = tables(live_db)
            # a snapshot taken mid-load: some samples, fewer than at the end
            self.assertGreater(len(snap["metrics"]), 0)
            self.assertLess(len(snap["metrics"]), len(live["metrics"]))
            # consistent: each machine's latest row is its newest sample in the copy
            con = sqlite3.connect(backup)
            bad = con.execute(
                "SELECT l.server_id FROM metrics_latest l WHERE l.timestamp !="
                " (SELECT max(timestamp) FROM metrics m WHERE m.server_id=l.server_id)").fetchall()
            hourly = con.execute("SELECT sum(cpu_n) FROM metrics_hourly").fetchone()[0]
            with_cpu = con.execute("SELECT count(cpu_percent) FROM metrics").fetchone()[0]
            con.close()
            self.assertEqual(bad, [])
            self.assertEqual(hourly, with_cpu)

            # restore refuses while the hub runs, and changes nothing
            res = run("restore", backup, "--data-dir", hub.data_dir)
            self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
            self.assertIn("running", res.stderr)
            self.assertEqual(tables(live_db)["metrics"], live["metrics"])
            # the operator keeps the encryption key apart from the backup
            key = os.path.join(self.tmp, "encryption_key")
            shutil.copy(os.path.join(hub.data_dir, "encryption_key"), key)

        # a damaged backup is refused before anything is touched
        fresh = os.path.join(self.tmp, "fresh")
        broken = os.path.join(self.tmp, "broken.db")
        with open(backup, "rb") as f:
            data = bytearray(f.read())
        data[200:4096 * 3] = b"\xff" * (4096 * 3 - 200)
        with open(broken, "wb") as f:
            f.write(data)
        res = run("restore", broken, "--data-dir", fresh)
        self.assertEqual(res.returncode, 1, res.stdout + res.stderr)
        self.assertFalse(os.path.exists(os.path.join(fresh, "homelabcmd.db")))

        # restore into a fresh data directory: identical to the backup
        res = run("restore", backup, "--data-dir", fresh)
        self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
        restored = os.path.join(fresh, "homelabcmd.db")
        self.assertEqual(integrity(restored), "ok")
        self.assertEqual(tables(restored), snap)
        self.assertEqual(oct(os.stat(restored).st_mode & 0o777), "0o600")

        # without the key the hub refuses to start on it (sealed credentials) ...
        with self.assertRaises(RuntimeError):
            Hub(data_dir=fresh).start()
        # ... and with it, serves the backed-up fleet
        shutil.copy(key, os.path.join(fresh, "encryption_key"))
        os.chmod(os.path.join(fresh, "encryption_key"), 0o600)
        with Hub(data_dir=fresh) as hub2:
            ids = sorted(s["server_id"] for s in hub2.get("/api/v1/servers").json["servers"])
            self.assertEqual(ids, sorted(r[0] for r in snap["servers"]))
            self.assertEqual(len(ids), MACHINES)

    def test_usage_errors(self):
        self.assertEqual(run("backup").returncode, 2)
        self.assertEqual(run("restore").returncode, 2)
        res = run("restore", os.path.join(self.tmp, "missing.db"), "--data-dir",
                  os.path.join(self.tmp, "d"))
        self.assertEqual(res.returncode, 1)
        self.assertIn("missing.db", res.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
