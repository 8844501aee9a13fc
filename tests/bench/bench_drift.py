#!/usr/bin/env python3
"""Fleet-wide drift check: the three shipped packs (base, developer-lite,
developer-max) assigned through one tag to HLC_BENCH_MACHINES machines (200),
then one scheduled round run now (POST /api/v1/packs/drift/run), which checks
every pack of every machine (one SSH exec each, 5 machines at once) and judges
each stored check for drift alerts.

The machines are real OpenSSH sshd (tests/integration/sshd.py) on
127.0.0.30..; HLC_BENCH_SSHD (10) daemons serve the machines between them
(machine i is daemon i mod 10), so each machine still has its own SSH session
from the hub. The default round is cold (no session open yet: what a daily
schedule meets); HLC_BENCH_FULL=1 adds a warm round on the open sessions.
Polling is set to once a day first so the poller adds nothing to the figures.

Printed: wall time of the round, the hub process's CPU (user+system) in the
round and per machine, the whole machine's CPU (targets' sshd and sh share the
cores), and the round's counts. Goal: none fixed by the issue; the figure is
hub CPU per machine.

Env: HLC_BUILD_DIR (a Release build), HLC_BENCH_MACHINES (200),
HLC_BENCH_SSHD (10), HLC_BENCH_FULL (0).
"""
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from hlc import Hub  # noqa: E402
import sshd  # noqa: E402

N = int(os.environ.get("HLC_BENCH_MACHINES", "200"))
D = int(os.environ.get("HLC_BENCH_SSHD", "10"))
FULL = os.environ.get("HLC_BENCH_FULL", "0") == "1"
PACKS = ["base", "developer-lite", "developer-max"]
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / TICK


def machine_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / TICK


def round_(hub, label):
    pid = hub.proc.pid
    c0, m0, t0 = proc_cpu(pid), machine_cpu(), time.monotonic()
    r = hub.post("/api/v1/packs/drift/run", timeout=600)
    wall = time.monotonic() - t0
    cpu, mcpu = proc_cpu(pid) - c0, machine_cpu() - m0
    assert r.status == 200, r
    o = r.json
    print(f"{label} round: {o['machines']} machines x {len(PACKS)} packs = {o['checks']} checks"
          f" ({o['compliant']} compliant, {o['not_compliant']} not, {o['unreachable']}"
          f" unreachable) in {wall:.2f} s wall")
    print(f"  hub CPU {cpu:.2f} s = {1000 * cpu / max(o['machines'], 1):.1f} ms per machine"
          f" ({1000 * cpu / max(o['checks'], 1):.1f} ms per check); whole machine CPU"
          f" {mcpu:.2f} s")
    return o


def main():
    t_start = time.monotonic()
    hub = Hub().start()
    fleet = None
    try:
        assert hub.put("/api/v1/config", {"polling": {"poll_interval_seconds": 86400}}).status == 200
        pub = hub.get("/api/v1/ssh/public-key").json["public_key"]
        fleet = sshd.Fleet(D, pub, first_ip=30).start()
        for m in fleet.machines:
            m.set_unit("systemd-timesyncd", "active")
            m.set_enabled("systemd-timesyncd", "enabled")
        assert hub.put("/api/v1/packs/assignments/tags/bench", {"packs": PACKS}).status == 200
        for i in range(N):
            m = fleet.machines[i % D]
            r = hub.post("/api/v1/servers", {"server_id": f"d{i}", "hostname": m.host,
                                             "ssh_port": m.port, "ssh_user": sshd.USER,
                                             "tags": ["bench"]})
            assert r.status == 201, r
        time.sleep(1)  # the first polls of the new machines are done
        print(f"setup: {N} machines on {D} sshd in {time.monotonic() - t_start:.1f} s")
        o = round_(hub, "cold")
        assert o["checks"] == N * len(PACKS), o
        if FULL:
            round_(hub, "warm")
        a = hub.get("/api/v1/alerts?type=config_noncompliant&status=open&limit=1").json["total"]
        print(f"open config_noncompliant alerts: {a} (one per machine and failing pack)")
    finally:
        if fleet:
            fleet.stop()
            shutil.rmtree(fleet.base, ignore_errors=True)
        hub.stop()
        hub.cleanup()
    print(f"bench_drift: {time.monotonic() - t_start:.1f} s in all")


if __name__ == "__main__":
    main()
