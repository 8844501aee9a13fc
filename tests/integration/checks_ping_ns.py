"""Helper of test_checks.py, run as `unshare -n python3 checks_ping_ns.py`: in
the fresh network namespace it brings lo up and opens ICMP ping sockets to
every group (net.ipv4.ping_group_range is per namespace, so the host's own
setting is untouched), starts the real hub there, runs a ping check to a
loopback address and one to an address with no route, and prints what the
hub answered as one JSON line. The namespace dies with this process."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub  # noqa: E402

subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
with open("/proc/sys/net/ipv4/ping_group_range", "w") as f:
    f.write("0 2147483647")
out = {}
with Hub() as hub:
    for name, host in (("loopback", "127.0.0.7"), ("unroutable", "10.255.255.1")):
        r = hub.post("/api/v1/checks", {"name": name, "type": "ping", "host": host,
                                        "timeout_seconds": 1, "interval_seconds": 3600})
        out[name + "_create"] = r.status
        if r.status == 201:
            run = hub.post(f"/api/v1/checks/{r.json['id']}/run").json
            out[name] = run["results"][0]
print(json.dumps(out))
