#!/usr/bin/env bash
# Heartbeat ingest (issue 6): wrk posts realistic agent heartbeats (CPU
# counters, memory, two filesystems, two interfaces, OS, temperatures, two
# services) for 500 distinct machines, each machine's timestamps moving on one
# second per round, so every request is a new sample the hub validates,
# derives against the machine's previous one, evaluates for alerts and
# commits (group commit) before it answers 200 (ack after commit).
# Baseline in the same run with the same wrk settings: the hub's own
# GET /api/v1/system/health (the HTTP floor: no body, no database).
# Goal: >= 5,000 heartbeats/s sustained and p99 <= 10 ms on this 2-core
# machine (seed: < 50 ms processing).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${HLC_BUILD_DIR:-build-release}
HUB=$BUILD/server/homelabcmd
DUR=${HLC_BENCH_SECONDS:-15}
CONNS=${HLC_BENCH_CONNS:-16}
MACHINES=500
KEY=bench-key-0123456789abcdef0123456789abcdef
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

P=$(port)
HOMELABCMD_API_KEY=$KEY "$HUB" serve --listen 127.0.0.1:$P --data-dir "$tmp/hub" --www-dir "$tmp/none" \
  --no-access-log >"$tmp/hub.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$P/api/v1/system/health"

# Timestamps start a day back so 500 machines x (rounds) stay in the past.
BASE=$(( $(date +%s) - 86400 ))
cat > "$tmp/ingest.lua" <<LUA
-- The load generator shares the two cores with the hub, so each request is
-- built with little Lua: machine ids and each round's timestamp are made
-- once, the request line and headers are one prebuilt prefix, and there is
-- no response() callback (which would hand every reply's headers and body
-- to Lua); wrk still counts every non-2xx reply in errors.status.
local machines, base = $MACHINES, $BASE
local per = machines / 2
local counter = 0
setup = function(thread)
  counter = counter + 1
  thread:set("tid", counter)
end
init = function(args)
  n = 0
  ids = {}
  for m = 0, per - 1 do ids[m] = string.format("bench-%d-%03d", tid, m) end
  head = "POST /api/v1/agents/heartbeat HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
    "\r\nContent-Type: application/json\r\nX-API-Key: $KEY\r\nContent-Length: "
  stamp_round, stamp = -1, nil
end
request = function()
  -- each wrk thread owns its own machines, so no two requests collide
  local m = n % per
  local round = (n - m) / per
  n = n + 1
  if round ~= stamp_round then
    stamp_round, stamp = round, os.date("!%Y-%m-%dT%H:%M:%SZ", base + round)
  end
  local id = ids[m]
  local jif = 1000000 + round * 400
  local body = string.format([[{"server_id":"%s","timestamp":"%s","machine_type":"workstation","hostname":"%s.lan",
"metrics":{"cpu_cores":4,"cpu_total_jiffies":%d,"cpu_idle_jiffies":%d,"memory_total_bytes":16777216000,
"memory_available_bytes":%d,"swap_total_bytes":2147483648,"swap_free_bytes":2147483648,
"load_1m":0.42,"load_5m":0.35,"load_15m":0.30,"uptime_seconds":%d},
"os_info":{"id":"debian","distribution":"Debian GNU/Linux 12 (bookworm)","version":"12","kernel":"6.1.0-18-amd64","architecture":"x86_64"},
"filesystems":[{"mount":"/","device":"/dev/nvme0n1p2","fstype":"ext4","total_bytes":500107862016,"used_bytes":%d,"avail_bytes":%d},
{"mount":"/home","device":"/dev/nvme0n1p3","fstype":"ext4","total_bytes":1000204886016,"used_bytes":400000000000,"avail_bytes":549000000000}],
"network":[{"name":"eth0","rx_bytes":%d,"tx_bytes":%d},{"name":"wlan0","rx_bytes":1000,"tx_bytes":2000}],
"temperatures":[{"zone":"x86_pkg_temp","celsius":48.5}],
"services":[{"name":"ssh","status":"running","active_state":"active","sub_state":"running","pid":812},
{"name":"docker","status":"running","active_state":"active","sub_state":"running","pid":990}],
"reboot_required":false}]],
    id, stamp, id, jif, jif - round * 300, 8000000000 + (round % 7) * 1000000, 3600 + round,
    200000000000 + round * 1000, 275000000000 - round * 1000, round * 125000, round * 50000)
  return head .. #body .. "\r\n\r\n" .. body
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests))
end
LUA
cat > "$tmp/plain.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %.3f %.3f %d %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    summary.requests))
end
LUA

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # name script url tag
  local out t0 t1
  t0=$(ticks "${pids[0]}")
  # wrk runs under a wrapper that reports its CPU time (it shares the cores).
  out=$(python3 -c 'import resource,subprocess,sys
subprocess.run(sys.argv[1:])
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("WRKCPU", r.ru_utime + r.ru_stime)' wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$2" "$3" 2>"$tmp/wrk.err" | grep -E '^(RESULT|WRKCPU)' || true)
  wcpu=$(awk '/^WRKCPU/{print $2}' <<<"$out")
  out=$(grep '^RESULT' <<<"$out" || true)
  read -r _ rps p50 p95 p99 errs total <<<"$out"
  printf '%-40s %9s req/s  p50 %7s ms  p95 %7s ms  p99 %7s ms  errors %s\n' "$1" "$rps" "$p50" "$p95" "$p99" "$errs"
  t1=$(ticks "${pids[0]}")
  # The hub's own CPU (user + system) per answered request, and the cores
  # it kept busy: what the rate costs, apart from wrk on the same cores.
  python3 -c 'import sys,os; t,r,d,w=map(float,sys.argv[1:]); hz=os.sysconf("SC_CLK_TCK"); print(f"  hub CPU {t/hz/(r*d)*1e6:.0f} us per request, {t/hz/d:.2f} cores busy; wrk itself {w/d:.2f} cores")' \
    "$((t1 - t0))" "${rps:-0}" "$DUR" "${wcpu:-0}"
  head -3 "$tmp/wrk.err" >&2 || true
  eval "R_$4=$rps; P99_$4=$p99; E_$4=${errs:-1}; N_$4=${total:-0}"
}

echo "wrk -t2 -c$CONNS -d${DUR}s on $(nproc) cores, heartbeats for $MACHINES machines (~1.6 KB each)"
run "hub POST /api/v1/agents/heartbeat" "$tmp/ingest.lua" "http://127.0.0.1:$P" hb
run "floor: hub GET /api/v1/system/health" "$tmp/plain.lua" "http://127.0.0.1:$P/api/v1/system/health" floor
stored=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM metrics").fetchone()[0])' "$tmp/hub/homelabcmd.db")
machines=$(curl -fsS -H "X-API-Key: $KEY" "http://127.0.0.1:$P/api/v1/servers" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
# Met only when every request was answered 200 and each one stored a row.
python3 - "$R_hb" "$P99_hb" "$R_floor" "$E_hb" "$N_hb" "$stored" <<'PY'
import sys
r, p99, floor, errs, answered, stored = map(float, sys.argv[1:])
ok = r >= 5000 and p99 <= 10 and errs == 0 and stored >= answered
print(f"goal >= 5000/s and p99 <= 10 ms: {r:.0f}/s, p99 {p99:.2f} ms, {errs:.0f} errors, "
      f"{stored:.0f} rows for {answered:.0f} answers -> {'met' if ok else 'NOT met'}; "
      f"{r / floor * 100:.0f}% of the HTTP floor's rate")
PY
echo "machines registered by heartbeat: $machines; sample rows stored: $stored (one per acknowledged heartbeat)"
echo "WAL after the run: $(( $(stat -c %s "$tmp/hub/homelabcmd.db-wal" 2>/dev/null || echo 0) / 1024 )) KiB (checkpointed off the request path)"
echo "hub RSS after the run: $(awk '/VmRSS/{print $2" kB"}' /proc/${pids[0]}/status)"
