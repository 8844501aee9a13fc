#!/usr/bin/env bash
# API read benchmark (issue: hub foundation). 50 machines registered, then wrk
# against GET /api/v1/servers and GET /api/v1/servers/{id}; prints req/s and
# p50/p99. Baseline in the same run with the same wrk settings: Debian's
# prometheus-node-exporter answering GET /metrics (a Go HTTP server most
# homelabs already run), and the hub's own /system/health (no database).
# Targets: seed p50 < 100 ms / p95 < 500 ms; ours p99 < 5 ms on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${HLC_BUILD_DIR:-build-release}
HUB=$BUILD/server/homelabcmd
DUR=${HLC_BENCH_SECONDS:-8}
CONNS=${HLC_BENCH_CONNS:-32}
KEY=bench-key-0123456789abcdef0123456789abcdef
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT

port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 200); do curl -fsS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done; return 1; }

P=$(port)
HOMELABCMD_API_KEY=$KEY "$HUB" serve --listen 127.0.0.1:$P --data-dir "$tmp/hub" --www-dir "$tmp/none" \
  >"$tmp/hub.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$P/api/v1/system/health"
for i in $(seq -w 1 50); do
  curl -fsS -o /dev/null -H "X-API-Key: $KEY" -X POST "http://127.0.0.1:$P/api/v1/servers" \
    -d "{\"server_id\":\"machine-$i\",\"hostname\":\"machine-$i.home.lan\",\"tdp_watts\":35,\"tags\":[\"bench\"],\"expected_services\":[{\"name\":\"sshd\",\"critical\":true},{\"name\":\"docker\"}]}"
done

cat > "$tmp/report.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.3f %.3f %.3f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout))
end
LUA

run() { # name url [header]
  local out
  out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" -s "$tmp/report.lua" ${3:+-H "$3"} "$2" 2>&1 | grep '^RESULT' || true)
  read -r _ rps p50 p95 p99 errs <<<"$out"
  printf '%-34s %9s req/s  p50 %7s ms  p95 %7s ms  p99 %7s ms  errors %s\n' "$1" "$rps" "$p50" "$p95" "$p99" "$errs"
  eval "R_$4=$rps; P99_$4=$p99"
}

echo "wrk -t2 -c$CONNS -d${DUR}s on $(nproc) cores, 50 machines registered"
run "hub GET /api/v1/servers (50)" "http://127.0.0.1:$P/api/v1/servers" "X-API-Key: $KEY" list
run "hub GET /api/v1/servers/{id}" "http://127.0.0.1:$P/api/v1/servers/machine-25" "X-API-Key: $KEY" one
run "hub GET /api/v1/system/health" "http://127.0.0.1:$P/api/v1/system/health" "" health
# The same reads at a dashboard-like load (a few clients), where latency is the
# hub's own work rather than queueing behind a saturated CPU.
SAT_CONNS=$CONNS
CONNS=${HLC_BENCH_LIGHT_CONNS:-4}
echo "wrk -t2 -c$CONNS -d${DUR}s (light load)"
run "hub GET /api/v1/servers (50)" "http://127.0.0.1:$P/api/v1/servers" "X-API-Key: $KEY" list4
run "hub GET /api/v1/servers/{id}" "http://127.0.0.1:$P/api/v1/servers/machine-25" "X-API-Key: $KEY" one4
CONNS=$SAT_CONNS

NE=/usr/bin/prometheus-node-exporter
if [ -x "$NE" ]; then
  NP=$(port)
  "$NE" --web.listen-address=127.0.0.1:$NP >"$tmp/ne.log" 2>&1 &
  pids+=($!)
  if wait_http "http://127.0.0.1:$NP/metrics"; then
    run "baseline node-exporter GET /metrics" "http://127.0.0.1:$NP/metrics" "" ne
    python3 - "$R_one" "$R_ne" "$P99_one" "$P99_ne" <<'PY'
import sys
r1, rb, p1, pb = map(float, sys.argv[1:])
print(f"ratio: hub GET /servers/{{id}} serves {r1/rb:.1f}x the requests/s of node-exporter /metrics, p99 {p1:.2f} ms vs {pb:.2f} ms")
PY
  fi
else
  echo "baseline: prometheus-node-exporter not installed; no ratio"
fi
echo "hub RSS after the run: $(awk '/VmRSS/{print $2" kB"}' /proc/${pids[0]}/status)"
