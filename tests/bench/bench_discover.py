#!/usr/bin/env python3
"""Network discovery of a /24 with 30 live hosts, against nmap -sn on the
same namespaces in the same run.

  lab        a bridge in a hub namespace (10.77.0.1/24) and 30 peer
             namespaces on veth pairs (tests/integration/netlab.py): every
             peer answers ping, every third one listens on port 22 and sends
             an SSH identification line, the rest reset closed ports.
  hub        GET /api/v1/network/discover?subnet=10.77.0.0/24 from the real
             hub running inside the hub namespace, ICMP mode (ping sockets
             allowed in that namespace) and TCP mode (not allowed): wall
             time, duration_ms, hosts found (the goal: all 31 in <= 3 s).
  nmap       `nmap -sn --system-dns 10.77.0.0/24` as root from the same
             namespace (ARP ping on the bridge; reverse DNS of live hosts
             through the system resolver, as the hub does: nmap's own
             resolver spends ~50 s here on the namespace's refused
             nameserver), wall time and hosts up.

Prints the medians of HLC_BENCH_ROUNDS rounds (default 3; 5 with
HLC_BENCH_FULL=1) and the ratio hub / nmap. Never fails on a number.
Env: HLC_BUILD_DIR (a Release build)."""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

ROUNDS = int(os.environ.get("HLC_BENCH_ROUNDS", "5" if os.environ.get("HLC_BENCH_FULL") == "1" else "3"))
LIVE = 30
SUBNET = "10.77.0.0/24"


def inner():
    """Inside the hub namespace: the hub's rounds in both modes."""
    from hlc import Hub
    out = {}
    with Hub() as hub:
        for mode, rng in (("icmp", "0 2147483647"), ("tcp", "1 0")):
            with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
                f.write(rng)
            runs = []
            for _ in range(ROUNDS):
                t0 = time.monotonic()
                r = hub.get("/api/v1/network/discover?subnet=" + SUBNET, timeout=60)
                wall = (time.monotonic() - t0) * 1000
                assert r.status == 200, r
                b = r.json
                runs.append({"wall_ms": wall, "duration_ms": b["duration_ms"],
                             "hosts": len(b["hosts"]), "ssh": sum(h["ssh"] for h in b["hosts"]),
                             "macs": sum(1 for h in b["hosts"] if h["mac"]),
                             "timed_out": b["timed_out"], "probe": b["probe"]})
            out[mode] = runs
    print(json.dumps(out))


def main():
    from netlab import Lab
    if not shutil.which("nmap"):
        print("nmap is not installed (tests/run.sh installs it): no baseline")
    t_setup = time.monotonic()
    with Lab("hlcb") as lab:
        for i in range(LIVE):
            octet = 10 + i * 7  # spread over the /24
            lsn = i % 3 == 0
            lab.peer(octet, f"02:4c:00:00:{octet // 256:02x}:{octet % 256:02x}",
                     tcp="listen" if lsn else "reset",
                     ssh_banner="SSH-2.0-HLCBench_1.0" if lsn else None)
        print(f"lab: {LIVE} peers in {time.monotonic() - t_setup:.1f} s")
        r = subprocess.run(["ip", "netns", "exec", lab.hub_ns, sys.executable, "-u",
                            os.path.abspath(__file__), "--inner"],
                           capture_output=True, text=True, timeout=300)
        if r.returncode != 0:
            print(r.stdout, r.stderr)
            sys.exit(1)
        hub = json.loads(r.stdout.strip().splitlines()[-1])
        nmap = []
        if shutil.which("nmap"):
            for _ in range(ROUNDS):
                # nmap's own neighbour entries would help the next hub round:
                # flush between runs so each starts cold, as the hub's did not.
                lab.ns(lab.hub_ns, "ip", "neigh", "flush", "dev", "br0")
                t0 = time.monotonic()
                o = lab.ns(lab.hub_ns, "nmap", "-sn", "--system-dns", SUBNET).stdout
                wall = (time.monotonic() - t0) * 1000
                m = re.search(r"\((\d+) hosts? up\)", o)
                nmap.append({"wall_ms": wall, "hosts": int(m.group(1)) if m else -1})
    med = lambda rs, k: statistics.median(x[k] for x in rs)  # noqa: E731
    print(f"subnet {SUBNET}, {LIVE} live peers + the hub's own address, {ROUNDS} rounds (medians)")
    for mode in ("icmp", "tcp"):
        rs = hub[mode]
        print(f"hub {mode:4s}: {med(rs, 'wall_ms'):7.0f} ms wall, {med(rs, 'duration_ms'):7.0f} ms "
              f"in the hub; hosts {[x['hosts'] for x in rs]}, ssh {rs[0]['ssh']}, "
              f"macs {rs[0]['macs']}, timed_out {[x['timed_out'] for x in rs]}")
    if nmap:
        nm = med(nmap, "wall_ms")
        print(f"nmap -sn : {nm:7.0f} ms wall; hosts up {[x['hosts'] for x in nmap]}")
        for mode in ("icmp", "tcp"):
            print(f"ratio hub {mode} / nmap: {med(hub[mode], 'wall_ms') / nm:.2f}")
    print(f"bench total {time.monotonic() - t_setup:.1f} s")


if __name__ == "__main__":
    if "--inner" in sys.argv:
        inner()
    else:
        main()
