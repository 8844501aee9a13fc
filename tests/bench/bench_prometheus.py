#!/usr/bin/env python3
"""GET /metrics with 200 machines beside prometheus-node-exporter's own /metrics.

  hub            200 workstations registered by heartbeat (two samples each, so
                 every machine has a CPU ratio; a filesystem, two interfaces,
                 three services and two containers each), then N scrapes of
                 /metrics with X-API-Key over one keep-alive connection: the
                 client's wall time per scrape and the hub's CPU time per
                 scrape (utime+stime of the hub process over the scrapes / N).
  node-exporter  Debian's prometheus-node-exporter (default collectors) on a
                 loopback port, scraped the same way in the same run: the
                 baseline, since it is what a homelab already scrapes.

Printed: per-scrape wall time p50/p99, CPU ms per scrape, bytes and samples
per scrape, and the hub/node-exporter ratios. Figures only; never fails on a
number. Env: HLC_BUILD_DIR (a Release build), HLC_BENCH_N (200 scrapes).
"""
import http.client
import os
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from hlc import Hub, free_port  # noqa: E402
from test_prometheus import heartbeat as prom_heartbeat  # noqa: E402

N = int(os.environ.get("HLC_BENCH_N", "200"))
MACHINES = 200
NE = "/usr/bin/prometheus-node-exporter"
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def heartbeat(sid, ts, jiffies):
    """A heartbeat as test_prometheus builds it, with three services and two containers."""
    return prom_heartbeat(sid, ts, jiffies, services=[(n, "running") for n in ("ssh", "docker", "syncthing")],
                          containers=[{"id": "c1" + sid[-3:], "name": "plex", "image": "plex:latest",
                                       "state": "running", "status": "Up 2 hours"},
                                      {"id": "c2" + sid[-3:], "name": "backup", "image": "restic",
                                       "state": "exited", "status": "Exited (0) 1 hour ago"}])


def scrape(port, path, headers, n):
    """Wall seconds of each of n GETs over one connection, and the last body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    times, body = [], b""
    for _ in range(n):
        t0 = time.perf_counter()
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        body = r.read()
        times.append(time.perf_counter() - t0)
        assert r.status == 200, (r.status, body[:200])
    conn.close()
    return times, body


def samples(body):
    return sum(1 for line in body.decode().splitlines() if line and not line.startswith("#"))


def summary(name, times, cpu, body):
    t = sorted(times)
    p50, p99 = statistics.median(t), t[min(len(t) - 1, int(len(t) * 0.99))]
    print(f"{name:14s} wall p50 {p50 * 1000:7.2f} ms  p99 {p99 * 1000:7.2f} ms  "
          f"CPU {cpu * 1000 / len(times):6.2f} ms/scrape  {len(body) / 1024:7.1f} KiB  "
          f"{samples(body):6d} samples")
    return p50, cpu / len(times)


def main():
    print(f"bench_prometheus: {N} scrapes each; the machine's 2 cores may be shared with "
          "other work, so figures are noisy")
    hub = Hub(env={"HOMELABCMD_ACCESS_LOG": "0"})
    ne = None
    try:
        hub.start()
        now = int(time.time())
        for k in range(2):
            for i in range(MACHINES):
                ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 20 + k))
                r = hub.post("/api/v1/agents/heartbeat", heartbeat(f"bench-{i:03d}", ts, 10 ** 6 + k * 400))
                assert r.status == 200, r
        hdr = {"X-API-Key": hub.api_key}
        scrape(hub.port, "/metrics", hdr, 5)  # warm caches
        c0 = cpu_s(hub.proc.pid)
        times, body = scrape(hub.port, "/metrics", hdr, N)
        hub_p50, hub_cpu = summary("hub /metrics", times, cpu_s(hub.proc.pid) - c0, body)
        if not os.path.exists(NE):
            print("baseline: prometheus-node-exporter is not installed; no ratio")
            return
        port = free_port()
        ne = subprocess.Popen([NE, f"--web.listen-address=127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2).read()
                break
            except OSError:
                time.sleep(0.1)
        scrape(port, "/metrics", {}, 5)
        c0 = cpu_s(ne.pid)
        times, body = scrape(port, "/metrics", {}, N)
        ne_p50, ne_cpu = summary("node-exporter", times, cpu_s(ne.pid) - c0, body)
        print(f"ratio hub/node-exporter: wall p50 {hub_p50 / ne_p50:.2f}x, "
              f"CPU per scrape {hub_cpu / ne_cpu if ne_cpu else float('nan'):.2f}x "
              f"(the hub's scrape covers {MACHINES} machines, node-exporter's one)")
    finally:
        if ne:
            ne.terminate()
            ne.wait(10)
        hub.stop()
        hub.cleanup()


if __name__ == "__main__":
    main()
