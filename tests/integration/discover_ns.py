"""Helper of test_discover.py and bench_discover.py, run inside the hub's
namespace (`ip netns exec NS python3 discover_ns.py SUBNET...`): starts the
real hub there, registers a machine at argv's --register address, and for
each mode (icmp: ping sockets allowed to every group, as
net.ipv4.ping_group_range is per namespace; tcp: allowed to none) asks
GET /api/v1/network/discover for each subnet. Prints one JSON line:
{mode: {subnet: {status, body}}, "errors": {...}, "concurrent": [...]}
(two discoveries at once), "slow_dns": {...} (with --slow-dns IP: the
resolver replaced by one that never answers)."""
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub  # noqa: E402

RANGE = "/proc/sys/net/ipv4/ping_group_range"


def set_range(value):
    with open(RANGE, "w") as f:
        f.write(value)


args = sys.argv[1:]
register = None
modes = ["icmp", "tcp"]
if "--register" in args:
    i = args.index("--register")
    register = args[i + 1]
    del args[i:i + 2]
slow_dns = None
if "--slow-dns" in args:
    i = args.index("--slow-dns")
    slow_dns = args[i + 1]
    del args[i:i + 2]
if "--modes" in args:
    i = args.index("--modes")
    modes = args[i + 1].split(",")
    del args[i:i + 2]
out = {"errors": {}}
with Hub() as hub:
    if register:
        r = hub.post("/api/v1/servers", {"server_id": "known-box", "hostname": register})
        assert r.status == 201, r
    for mode in modes:
        set_range("0 2147483647" if mode == "icmp" else "1 0")
        out[mode] = {}
        for subnet in args:
            t0 = time.monotonic()
            r = hub.get("/api/v1/network/discover?subnet=" + subnet, timeout=30)
            out[mode][subnet] = {"status": r.status, "body": r.json,
                                 "wall_ms": round((time.monotonic() - t0) * 1000)}
    # two at once: one runs, the other is refused rather than queued
    statuses = []
    def one():
        statuses.append(hub.get("/api/v1/network/discover?subnet=" + args[0], timeout=30))
    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out["concurrent"] = sorted([r.status, r.json["detail"]["code"] if r.status != 200 else None]
                               for r in statuses)
    if slow_dns:
        # a resolver that never answers (glibc rereads resolv.conf when it
        # changes; this is the namespace's own bind-mounted file)
        with open("/etc/resolv.conf", "w") as f:
            f.write(f"nameserver {slow_dns}\noptions timeout:5 attempts:2\n")
        set_range("0 2147483647")
        r = hub.get("/api/v1/network/discover?subnet=" + args[0], timeout=30)
        out["slow_dns"] = {"status": r.status, "body": r.json}
    for bad in ("10.0.0.0/21", "10.0.0.0/8", "10.0.0.0", "10.0.0.256/24", "fd00::/64", ""):
        r = hub.get("/api/v1/network/discover?subnet=" + bad)
        out["errors"][bad] = {"status": r.status, "body": r.json}
    r = hub.get("/api/v1/network/discover")
    out["errors"]["(none)"] = {"status": r.status, "body": r.json}
print(json.dumps(out))
