#!/usr/bin/env python3
"""Seeds a stopped hub's SQLite file for bench_dashboard: for every machine in
`servers`, DAYS days of samples every STEP seconds in `metrics`, the matching
hourly rollups in `metrics_hourly`, and a `metrics_latest` row whose body has the
API's latest shape. Usage: seed_history.py DB DAYS STEP"""
import json
import math
import random
import sqlite3
import sys
import time

db, days, step = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
con = sqlite3.connect(db)
now = int(time.time()) - 5
ids = [r[0] for r in con.execute("SELECT server_id FROM servers ORDER BY server_id")]
rnd = random.Random(7)
GiB = 1 << 30
for n, sid in enumerate(ids):
    rows, hourly = [], {}
    base = 10 + (n % 7) * 9
    for t in range(now - days * 86400, now + 1, step):
        cpu = max(0.0, min(100.0, base + 15 * math.sin(t / 5400.0 + n) + rnd.uniform(-5, 5)))
        mem = 30 + (n % 5) * 10 + 5 * math.sin(t / 86400.0)
        disk = 40 + (n % 9) * 5 + (t - now) / 86400.0 * 0.1
        load = cpu / 25
        rx, tx = 20000 + rnd.uniform(0, 5000), 8000 + rnd.uniform(0, 2000)
        rows.append((sid, t, "ssh", cpu, mem, int(mem / 100 * 16 * GiB), 16 * GiB, 0, 2 * GiB,
                     disk, int(disk / 100 * 500 * GiB), 500 * GiB, None, None, rx, tx, load, load, load,
                     t - (now - 40 * 86400), None))
        h = t - t % 3600
        a = hourly.setdefault(h, [0.0, 0, 1e9, -1e9, 0.0, 0, 1e9, -1e9, 0.0, 0, 1e9, -1e9,
                                  0.0, 0, 1e9, -1e9, 0.0, 0, 1e9, -1e9, 0.0, 0, 1e9, -1e9])
        for k, v in enumerate((cpu, mem, disk, load, rx, tx)):
            a[k * 4] += v; a[k * 4 + 1] += 1
            a[k * 4 + 2] = min(a[k * 4 + 2], v); a[k * 4 + 3] = max(a[k * 4 + 3], v)
    con.executemany("INSERT OR REPLACE INTO metrics VALUES (" + ",".join("?" * 21) + ")", rows)
    con.executemany(
        "INSERT OR REPLACE INTO metrics_hourly(server_id, hour, cpu_sum, cpu_n, cpu_min, cpu_max,"
        " mem_sum, mem_n, mem_min, mem_max, disk_sum, disk_n, disk_min, disk_max, load_sum, load_n,"
        " load_min, load_max, rx_sum, rx_n, rx_min, rx_max, tx_sum, tx_n, tx_min, tx_max)"
        " VALUES (" + ",".join("?" * 26) + ")", [(sid, h, *a) for h, a in hourly.items()])
    last = rows[-1]
    body = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "cpu_percent": last[3], "memory_percent": last[4], "memory_used_bytes": last[5],
        "memory_total_bytes": last[6], "swap_total_bytes": 2 * GiB, "swap_used_bytes": 0,
        "disk_percent": last[9],
        "filesystems": [{"mount": "/", "device": "/dev/sda1", "fstype": "ext4", "total_bytes": 500 * GiB,
                         "used_bytes": last[10], "avail_bytes": 500 * GiB - last[10], "percent": last[9]}],
        "network": [{"name": "eth0", "rx_bytes": 1, "tx_bytes": 1, "rx_bps": last[14], "tx_bps": last[15]}],
        "network_rx_bps": last[14], "network_tx_bps": last[15], "load_1m": last[16], "load_5m": last[17],
        "load_15m": last[18], "uptime_seconds": last[19], "boot_time": now - last[19], "cpu_cores": 4,
        "cpu_temp_c": None, "reboot_required": False, "updates_available": 0, "security_updates": 0,
        "os": {"hostname": sid, "distribution": "Debian GNU/Linux", "version": "12", "kernel": "6.1.0",
               "architecture": "x86_64"},
        "source": "ssh",
    }
    con.execute("INSERT OR REPLACE INTO metrics_latest(server_id, timestamp, source, have, cpu_percent,"
                " memory_percent, disk_percent, body) VALUES (?,?,?,?,?,?,?,?)",
                (sid, now, "ssh", 0, last[3], last[4], last[9], json.dumps(body)))
    con.execute("UPDATE servers SET status='online', last_seen=? WHERE server_id=?",
                (now, sid))
con.commit()
print(f"seeded {len(ids)} machines x {days} days every {step}s")
