#!/usr/bin/env python3
"""What signing heartbeats with a per-machine agent token costs against the
admin key (issue #19 item 2): the same heartbeats from the same 4 keep-alive
clients, for 50 enrolled machines, once signed with each machine's agent token
(the hub hashes it and looks it up before decoding the body) and once with the
admin key (v1 agents; compared in memory), in alternating rounds in one run.
Prints heartbeats/s, p50/p99 round trip and hub CPU per heartbeat for both,
and the ratio. The client is Python on the same 2 cores, so absolute rates are
the client's as much as the hub's; the hub CPU per heartbeat is the figure to
compare. Env: HLC_BUILD_DIR (Release build), HLC_BENCH_AUTH_N (heartbeats per
round and kind, default 4000)."""
import http.client
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from hlc import Hub  # noqa: E402
from test_agent import heartbeat  # noqa: E402

MACHINES = 50
CLIENTS = 4
N = int(os.environ.get("HLC_BENCH_AUTH_N", "4000"))
TICK = os.sysconf("SC_CLK_TCK")


def hub_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def run(hub, headers_for, t0, n):
    """n heartbeats over CLIENTS connections; machine i's timestamps move on one
    second per heartbeat from t0. Returns (seconds, latencies, hub CPU s)."""
    lat = []
    lock = threading.Lock()
    per = n // CLIENTS

    def client(c):
        conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=30)
        mine = []
        for k in range(per):
            j = c * per + k
            sid = f"m{j % MACHINES}"
            body = json.dumps(heartbeat(sid, t=t0 + j // MACHINES)).encode()
            h = {"Content-Type": "application/json", **headers_for(sid)}
            s = time.perf_counter()
            conn.request("POST", "/api/v1/agents/heartbeat", body=body, headers=h)
            r = conn.getresponse()
            r.read()
            mine.append(time.perf_counter() - s)
            if r.status != 200:
                raise SystemExit(f"heartbeat refused: {r.status}")
        conn.close()
        with lock:
            lat.extend(mine)

    cpu0 = hub_cpu(hub.proc.pid)
    start = time.perf_counter()
    ts = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return time.perf_counter() - start, sorted(lat), hub_cpu(hub.proc.pid) - cpu0


def main():
    with Hub(args=["--no-access-log"]) as hub:
        tokens = {}
        for i in range(MACHINES):
            sid = f"m{i}"
            t = hub.post("/api/v1/agents/enrollment-tokens", {"server_id": sid}).json["token"]
            r = hub.post("/api/v1/agents/enroll", {"token": t}, key=None)
            assert r.status == 201, r
            tokens[sid] = r.json["agent_token"]
        kinds = {
            "agent token": lambda sid: {"Authorization": f"Bearer {tokens[sid]}"},
            "admin key": lambda sid: {"X-API-Key": hub.api_key},
        }
        t0 = int(time.time()) - 86400
        res = {k: [] for k in kinds}
        run(hub, kinds["admin key"], t0, CLIENTS * MACHINES)  # warm: baselines, caches
        t0 += 10
        for rnd in range(3):
            for kind, hdr in kinds.items():
                secs, lat, cpu = run(hub, hdr, t0, N)
                t0 += N // MACHINES + 1
                res[kind].append((N / secs, lat[len(lat) // 2] * 1e3,
                                  lat[int(len(lat) * 0.99)] * 1e3, cpu / N * 1e6))
        print(f"agent auth, {MACHINES} machines, {CLIENTS} keep-alive clients, {N} heartbeats "
              "per round, 3 alternating rounds (client and hub share the cores)")
        for kind, rows in res.items():
            for rate, p50, p99, us in rows:
                print(f"  {kind:12s} {rate:8.0f} heartbeats/s  p50 {p50:5.2f} ms  p99 {p99:5.2f} ms"
                      f"  hub CPU {us:6.1f} us each")
        best = {k: min(r[3] for r in rows) for k, rows in res.items()}
        print(f"  hub CPU per heartbeat, best round: agent token {best['agent token']:.1f} us, "
              f"admin key {best['admin key']:.1f} us, ratio "
              f"{best['agent token'] / best['admin key']:.2f}")


if __name__ == "__main__":
    main()
