#!/usr/bin/env python3
"""What a poll costs the monitored machine, beside what a resident agent's
scrape costs it: the CPU the target spends per warm SSH poll (the machine's
sshd and everything it starts for the poll: the session's exec channel, the
login shell, the collector and its commands), measured from /proc as the
growth of utime+stime+cutime+cstime of the machine's sshd and its live
descendants (a poll's processes are reaped into the session process), and
prometheus-node-exporter's CPU per /metrics scrape on the same machine in
the same run. Then a breakdown of the collector's own sections, each run
locally with the same shell (dash) the target uses.

The target is a real OpenSSH sshd on 127.0.0.2 without the tests' logging
ForceCommand gate, logging in as the tests' /bin/sh user, with no Docker. No systemd runs
here: `systemctl` is the tests' stand-in (a small sh script, about as costly
as one dash start); a real `systemctl show` of two units costs ~2-3 ms more.

Env: HLC_BUILD_DIR (a Release build), HLC_BENCH_POLLS (default 200).
"""
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from hlc import Hub  # noqa: E402
import sshd  # noqa: E402
from bench_poll import collector_script  # noqa: E402  (the script as the hub sends it)

TICK = os.sysconf("SC_CLK_TCK")
POLLS = int(os.environ.get("HLC_BENCH_POLLS", "200"))


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()


def tree_cpu(root):
    """CPU seconds of root and its live descendants, reaped children included."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            st = stat_fields(d)
        except OSError:
            continue
        children.setdefault(int(st[1]), []).append(st)
        children[int(st[1])][-1].append(d)
    total = sum(int(x) for x in stat_fields(root)[11:15])
    stack = [root]
    while stack:
        for st in children.get(stack.pop(), []):
            total += sum(int(x) for x in st[11:15])
            stack.append(int(st[-1]))
    return total / TICK


def target_per_poll(hub, m, sid, services):
    r = hub.put(f"/api/v1/servers/{sid}/services",
                {"services": [{"name": s, "critical": False} for s in services]})
    assert r.status == 200, r
    def poll():
        r = hub.post(f"/api/v1/servers/{sid}/poll")
        assert r.status == 200, (r.status, r.json)

    for _ in range(3):  # the first poll also asks apt for updates
        poll()
    c0 = tree_cpu(m.pid)
    for _ in range(POLLS):
        poll()
    return 1000 * (tree_cpu(m.pid) - c0) / POLLS


def node_exporter_per_scrape():
    exe = shutil.which("prometheus-node-exporter")
    if not exe:
        return None
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.Popen([exe, f"--web.listen-address=127.0.0.1:{port}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=5).read()
                break
            except OSError:
                time.sleep(0.1)
        for _ in range(10):
            urllib.request.urlopen(url, timeout=5).read()
        c0 = sum(int(x) for x in stat_fields(p.pid)[11:15]) / TICK
        for _ in range(POLLS):
            urllib.request.urlopen(url, timeout=5).read()
        c1 = sum(int(x) for x in stat_fields(p.pid)[11:15]) / TICK
        return 1000 * (c1 - c0) / POLLS
    finally:
        p.terminate()
        p.wait()


def local_ms(script, n=100, env=None):
    """CPU ms per run of `script` under dash, children included."""
    loop = f"i=0; while [ $i -lt {n} ]; do {script}\ni=$((i+1)); done"
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(["dash", "-c", loop], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=env, check=False)
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return 1000 * ((r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)) / n


def breakdown(script, machine_bin):
    funcs = script.split("hlc_main() {", 1)[0]  # the variables and hlc_files()
    files = ("/proc/mounts /etc/os-release /proc/stat /proc/meminfo /proc/net/dev "
             "/proc/loadavg /proc/uptime /proc/sys/kernel/hostname /proc/sys/kernel/osrelease "
             "/proc/sys/kernel/arch")
    env = dict(os.environ, PATH=f"{machine_bin}:/usr/bin:/bin", HLC_MACHINE=os.path.dirname(
        machine_bin))
    path = os.path.join(tempfile.mkdtemp(prefix="hlc-bench-target-"), "c.sh")
    with open(path, "w") as f:
        f.write(script)
    rows = [
        ("a dash start (what each sh -c costs)", local_ms("dash -c :")),
        ("one awk: /proc, os-release, kernel identity", local_ms(funcs + f"hlc_files '' {files}")),
        ("df -P -T -B1 (local filesystems: no timeout)", local_ms("d=$(df -P -T -B1)")),
        ("timeout 4 df (only with a network mount)", local_ms("d=$(timeout 4 df -P -T -B1)")),
        ("systemctl show of 2 units, one call (stand-in)",
         local_ms("systemctl show -p Id,ActiveState -- ssh cron", env=env)),
        ("the whole collector, 2 units, run locally",
         local_ms(f"dash -s -- ssh cron < {path}", env=env)),
    ]
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)
    return rows


def main():
    script = collector_script()
    hub = Hub(env={"HOMELABCMD_ACCESS_LOG": "0"}).start()
    try:
        pub = hub.get("/api/v1/ssh/public-key").json["public_key"]
        sshd.Machine.extra_config = "ForceCommand none\n"  # no logging gate: a real machine
        with sshd.Fleet(1, [pub]) as fleet:
            m = fleet.machines[0]
            # A machine without Docker, as node-exporter's default collectors
            # report no containers either (the docker CLI alone, a Go binary,
            # costs ~10 ms of CPU per call).
            os.unlink(os.path.join(m.dir, "bin", "docker"))
            m.set_unit("ssh", "active")
            m.set_unit("cron", "active")
            r = hub.post("/api/v1/servers", {"server_id": "target", "hostname": m.host,
                                             "ip_address": m.host, "ssh_port": m.port,
                                             "ssh_user": sshd.USER,
                                             "machine_type": "workstation"})
            assert r.status == 201, r
            bare = target_per_poll(hub, m, "target", [])
            two = target_per_poll(hub, m, "target", ["ssh", "cron"])
            ne = node_exporter_per_scrape()
            rows = breakdown(script, os.path.join(m.dir, "bin"))
    finally:
        hub.stop()
        hub.cleanup()
    print(f"target CPU per warm SSH poll ({POLLS} polls, real sshd, pooled session):")
    print(f"  no expected services   {bare:6.2f} ms")
    print(f"  2 expected services    {two:6.2f} ms")
    if ne is not None:
        print(f"prometheus-node-exporter CPU per /metrics scrape: {ne:6.2f} ms")
        print(f"  ratio (goal <= 1.5x): {bare / ne:4.2f}x without services, "
              f"{two / ne:4.2f}x with 2 services")
    print("collector sections, CPU per run on this machine (dash, children included):")
    for name, ms in rows:
        print(f"  {ms:6.2f} ms  {name}")


if __name__ == "__main__":
    main()
