#!/usr/bin/env python3
"""Service checks: hub CPU per HTTP check, from the hub and through pooled SSH
sessions, beside what a cron script or a shell-based monitor does - one
`curl` process per check - measured in the same run on the same target.

  hub          N HTTP checks (interval I s) scheduled by the hub against a
               loopback HTTP server; hub CPU (utime+stime from /proc) over a
               window of W s, divided by the results the hub stored in it
  ssh          M checks run from sshd machines on 127.0.0.x (the hub's
               pooled sessions, the probe script on stdin, curl there)
  curl         the same N checks as `curl -s -o /dev/null URL`, one process
               each, 4 at a time; CPU of the curl processes (RUSAGE_CHILDREN)

The issue's load: 500 HTTP checks a minute from the hub, 200 through SSH.
With the defaults (I = W = 60) that is what runs; HLC_BENCH_SHORT=1 uses
I = W = 20 (3x the rate, for a quicker look). Figures only: never fails on
a number. The HTTP server and the sshd machines share the hub's 2 cores.

Env: HLC_BUILD_DIR (a Release build), HLC_BENCH_CHECKS (500),
HLC_BENCH_SSH_CHECKS (200), HLC_BENCH_MACHINES (4).
"""
import http.server
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from hlc import Hub  # noqa: E402
import sshd  # noqa: E402

N = int(os.environ.get("HLC_BENCH_CHECKS", "500"))
M = int(os.environ.get("HLC_BENCH_SSH_CHECKS", "200"))
MACHINES = int(os.environ.get("HLC_BENCH_MACHINES", "4"))
SHORT = os.environ.get("HLC_BENCH_SHORT") == "1"
INTERVAL = WINDOW = 20 if SHORT else 60
TICK = os.sysconf("SC_CLK_TCK")


class Quiet(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_GET(self):
        body = b"Plex Media Server is up"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def stored(db, place_like):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM check_results WHERE place LIKE ?",
                           (place_like,)).fetchone()[0]
    finally:
        con.close()


def measure(hub, db, place_like):
    """Hub CPU per stored result over one window, after the first interval."""
    time.sleep(INTERVAL + 2)  # every check has run once: the schedule is steady
    c0, n0, t0 = cpu_s(hub.proc.pid), stored(db, place_like), time.time()
    time.sleep(WINDOW)
    c1, n1, t1 = cpu_s(hub.proc.pid), stored(db, place_like), time.time()
    runs = n1 - n0
    return runs, (c1 - c0), runs / (t1 - t0) * 60


def curl_baseline(url, n):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()

    def one(_):
        subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "10", url], check=False)

    with ThreadPoolExecutor(4) as ex:
        list(ex.map(one, range(n)))
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, time.time() - t0


def main():
    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{web.server_address[1]}/ok"
    hub = Hub().start()
    fleet = None
    try:
        db = os.path.join(hub.data_dir, "homelabcmd.db")
        for i in range(N):
            r = hub.post("/api/v1/checks", {"name": f"b{i}", "type": "http", "url": url,
                                            "keyword": "Plex", "interval_seconds": INTERVAL})
            assert r.status == 201, r
        runs, cpu, rate = measure(hub, db, "hub")
        hub_per = cpu / runs * 1000 if runs else float("nan")
        print(f"hub:  {N} checks every {INTERVAL} s: {runs} runs in {WINDOW} s ({rate:.0f}/min),"
              f" hub CPU {cpu:.2f} s = {hub_per:.3f} ms per check")
        ccpu, cwall = curl_baseline(url, N)
        curl_per = ccpu / N * 1000
        print(f"curl: {N} processes, 4 at a time: {cwall:.1f} s wall, CPU {ccpu:.2f} s ="
              f" {curl_per:.3f} ms per check")
        print(f"ratio curl/hub CPU per check: {curl_per / hub_per:.1f}x")
        # Through SSH: stop the hub checks, then M checks from the machines.
        for c in hub.get("/api/v1/checks").json["checks"]:
            hub.delete(f"/api/v1/checks/{c['id']}")
        pub = hub.get("/api/v1/ssh/public-key").json["public_key"]
        fleet = sshd.Fleet(MACHINES, pub).start()
        for i, m in enumerate(fleet.machines):
            r = hub.post("/api/v1/servers", {"server_id": f"m{i}", "hostname": m.host,
                                             "ip_address": m.host, "ssh_port": m.port,
                                             "ssh_user": sshd.USER})
            assert r.status == 201, r
        for i in range(M):
            r = hub.post("/api/v1/checks", {"name": f"s{i}", "type": "http", "url": url,
                                            "keyword": "Plex", "interval_seconds": INTERVAL,
                                            "run_from": [f"m{i % MACHINES}"]})
            assert r.status == 201, r
        runs, cpu, rate = measure(hub, db, "m%")
        ssh_per = cpu / runs * 1000 if runs else float("nan")
        print(f"ssh:  {M} checks every {INTERVAL} s from {MACHINES} machines: {runs} runs in"
              f" {WINDOW} s ({rate:.0f}/min), hub CPU {cpu:.2f} s = {ssh_per:.3f} ms per check"
              f" (the curl on the target not counted: it is the machine's)")
        print(f"ratio curl-process/ssh-check hub CPU: {curl_per / ssh_per:.1f}x")
        print("(2 shared cores; the HTTP server, sshd and curl run on them too: figures are noisy)")
    finally:
        if fleet:
            fleet.stop()
            shutil.rmtree(fleet.base, ignore_errors=True)
        hub.stop()
        hub.cleanup()
        web.shutdown()


if __name__ == "__main__":
    main()
