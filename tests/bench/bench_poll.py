#!/usr/bin/env python3
"""Whole-fleet SSH poll: the hub's pooled libssh sessions against what an
operator would script, OpenSSH's client with ControlMaster multiplexing
running the same collector in parallel (xargs -P) at the same concurrency.

For 50 and 200 machines (real sshd on 127.0.0.x): wall time of a cold poll
(connect + key exchange + auth included) and of a warm one (pooled sessions),
local CPU per machine-poll (the hub process; for OpenSSH the ssh clients and
the master processes), and the hub's RSS holding every session open.

Env: HLC_BUILD_DIR (a Release build), HLC_BENCH_SIZES (default "50 200"),
HLC_BENCH_CONCURRENCY (default 2 x cores).
"""
import concurrent.futures
import http.client
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from hlc import SOURCE_DIR, Hub  # noqa: E402
import sshd  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def collector_script():
    """The collector as the hub sends it, read from its C source."""
    with open(os.path.join(SOURCE_DIR, "poller", "src", "collect_script.c")) as f:
        src = f.read()
    body = src.split("hlc_collect_script[] =", 1)[1].split(";\n", 1)[0]
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    return "".join(bytes(p, "utf-8").decode("unicode_escape") for p in parts)


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def children_cpu():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def hub_round(hub, ids, conc):
    """POSTs /poll for every machine, conc at a time, each client thread on
    one kept-alive connection (as a browser or a script's HTTP session
    does); returns wall seconds."""
    local, conns, lock = threading.local(), [], threading.Lock()

    def poll(i):
        c = getattr(local, "conn", None)
        if c is None:
            c = local.conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=120)
            with lock:
                conns.append(c)
        c.request("POST", f"/api/v1/servers/{i}/poll", body=b"",
                  headers={"X-API-Key": hub.api_key})
        r = c.getresponse()
        r.read()
        return r.status

    t0 = time.time()
    try:
        with concurrent.futures.ThreadPoolExecutor(conc) as ex:
            codes = list(ex.map(poll, ids))
    finally:
        for c in conns:
            c.close()
    wall = time.time() - t0
    bad = [c for c in codes if c != 200]
    if bad:
        raise SystemExit(f"bench_poll: {len(bad)} polls failed: {bad[:5]}")
    return wall


def openssh_round(fleet, keyfile, ctl_dir, script_path, conc, start_masters):
    """Same collector over OpenSSH ControlMaster connections via xargs -P."""
    common = ["-i", keyfile, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
              "-o", "BatchMode=yes", "-o", "LogLevel=ERROR", "-o", f"ControlPath={ctl_dir}/%h-%p",
              "-o", "ControlMaster=auto", "-o", "ControlPersist=600"]
    lines = "".join(f"{m.port} {m.host}\n" for m in fleet.machines)
    cmd = ("ssh " + " ".join(common) + " -p \"$0\" " + sshd.USER + "@\"$1\" 'exec sh -s --' < "
           + script_path + " > /dev/null")
    t0 = time.time()
    c0 = children_cpu()
    subprocess.run(["xargs", "-P", str(conc), "-n", "2", "sh", "-c", cmd], input=lines, text=True,
                   check=True)
    return time.time() - t0, children_cpu() - c0


def master_pids(ctl_dir):
    """The ControlPersist masters: their command line reads "ssh: CTL/... [mux]"."""
    pids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    cl = f.read()
            except OSError:
                continue
            if cl.startswith(b"ssh: " + ctl_dir.encode()):
                pids.append(int(d))
    return pids


def masters_cpu(ctl_dir):
    total = 0.0
    for p in master_pids(ctl_dir):
        try:
            total += proc_cpu(p)
        except OSError:
            pass
    return total


def bench(n, conc, script_path):
    tmp = tempfile.mkdtemp(prefix="hlc-bench-poll-")
    os.chmod(tmp, 0o755)  # the test user reads its machine files below it
    hub = Hub(env={"HOMELABCMD_ACCESS_LOG": "0"}).start()
    fleet = None
    ctl = os.path.join(tmp, "ctl")
    os.makedirs(ctl)
    try:
        pub = hub.get("/api/v1/ssh/public-key").json["public_key"]
        keyfile = os.path.join(tmp, "id")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", keyfile], check=True)
        with open(keyfile + ".pub") as f:
            own = f.read().strip()
        fleet = sshd.Fleet(n, [pub, own], base=os.path.join(tmp, "fleet")).start()
        # Workstations are never polled on a schedule, so every poll here is ours.
        for i, m in enumerate(fleet.machines):
            r = hub.post("/api/v1/servers", {"server_id": f"b{i}", "hostname": m.host,
                                             "ip_address": m.host, "ssh_port": m.port,
                                             "ssh_user": sshd.USER, "machine_type": "workstation"})
            assert r.status == 201, r
        ids = [f"b{i}" for i in range(n)]
        # The first poll of a machine also asks apt for pending updates (every few
        # hours): run it once so both sides then time the same regular collector.
        hub_round(hub, ids, conc)
        pid = hub.proc.pid
        hub.request("PUT", "/api/v1/config", {"polling": {"ssh_timeout_seconds": 30}})
        # Cold: drop the sessions by restarting the hub on the same data.
        hub.stop()
        hub.start()
        pid = hub.proc.pid
        c0 = proc_cpu(pid)
        cold = hub_round(hub, ids, conc)
        cold_cpu = proc_cpu(pid) - c0
        warm_walls, warm_cpus = [], []
        for _ in range(3):
            c0 = proc_cpu(pid)
            warm_walls.append(hub_round(hub, ids, conc))
            warm_cpus.append(proc_cpu(pid) - c0)
        rss = proc_rss_kb(pid)
        sessions = n

        # Steady state as it runs for real: the scheduler polls every machine
        # every 10 s on its own (no HTTP); hub CPU over a window divided by the
        # polls stored in that window.
        for i in ids:
            hub.put(f"/api/v1/servers/{i}", {"machine_type": "server", "poll_interval_seconds": 10})
        time.sleep(12)  # every machine is on the schedule and polled once
        db = os.path.join(hub.data_dir, "homelabcmd.db")
        window = float(os.environ.get("HLC_BENCH_WINDOW", "30"))
        t_from = int(time.time()) + 1
        time.sleep(t_from - time.time())
        c0 = proc_cpu(pid)
        time.sleep(window)
        sched_cpu = proc_cpu(pid) - c0
        t_to = int(time.time())
        polls = int(subprocess.run(["sqlite3", "-readonly", db,
                                    f"SELECT count(*) FROM metrics WHERE timestamp >= {t_from} "
                                    f"AND timestamp < {t_to}"],
                                   capture_output=True, text=True, check=True).stdout.strip() or 0)
        for i in ids:
            hub.put(f"/api/v1/servers/{i}", {"machine_type": "workstation"})

        script = script_path
        m0 = masters_cpu(ctl)
        o_cold, o_cold_cpu = openssh_round(fleet, keyfile, ctl, script, conc, True)
        o_cold_cpu += masters_cpu(ctl) - m0
        o_walls, o_cpus = [], []
        for _ in range(3):
            m0 = masters_cpu(ctl)
            w, c = openssh_round(fleet, keyfile, ctl, script, conc, False)
            o_walls.append(w)
            o_cpus.append(c + masters_cpu(ctl) - m0)
        warm, warm_cpu = min(warm_walls), min(warm_cpus)
        o_warm, o_warm_cpu = min(o_walls), min(o_cpus)
        print(f"{n} machines, concurrency {conc}:")
        print(f"  hub     cold poll {cold:7.3f} s  CPU {1000 * cold_cpu / n:6.3f} ms/machine-poll")
        print(f"  hub     warm poll {warm:7.3f} s  CPU {1000 * warm_cpu / n:6.3f} ms/machine-poll"
              f"  (best of 3: {', '.join(f'{w:.3f}' for w in warm_walls)})")
        print(f"  openssh cold poll {o_cold:7.3f} s  CPU {1000 * o_cold_cpu / n:6.3f} ms/machine-poll"
              "  (ControlMaster set-up included)")
        print(f"  openssh warm poll {o_warm:7.3f} s  CPU {1000 * o_warm_cpu / n:6.3f} ms/machine-poll"
              "  (ControlMaster)")
        print(f"  ratio warm: hub wall {o_warm / warm:5.2f}x faster, hub CPU "
              f"{(o_warm_cpu / max(warm_cpu, 1e-9)):5.2f}x cheaper than OpenSSH+ControlMaster")
        print(f"  ratio cold: hub wall {o_cold / cold:5.2f}x faster, hub CPU "
              f"{(o_cold_cpu / max(cold_cpu, 1e-9)):5.2f}x cheaper")
        print(f"  hub     scheduled polls: {polls} in {t_to - t_from} s, CPU "
              f"{1000 * sched_cpu / max(polls, 1):6.3f} ms/machine-poll (no HTTP; idle time included)")
        print(f"  hub RSS with {sessions} pooled sessions: {rss / 1024:.1f} MB")
    finally:
        subprocess.run(["sh", "-c", f"for s in {ctl}/*; do [ -S \"$s\" ] && ssh -o ControlPath=$s "
                        "-O exit x 2>/dev/null; done"], check=False)
        if fleet:
            fleet.stop()
        hub.stop()
        hub.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    sizes = [int(x) for x in os.environ.get("HLC_BENCH_SIZES", "50 200").split()]
    conc = int(os.environ.get("HLC_BENCH_CONCURRENCY", 2 * os.cpu_count()))
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(collector_script())
        script_path = f.name
    try:
        for n in sizes:
            bench(n, conc, script_path)
    finally:
        os.unlink(script_path)


if __name__ == "__main__":
    main()
