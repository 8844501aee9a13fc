#!/usr/bin/env bash
# Quickstart: installs the build dependencies, builds the hub (and the
# dashboard), and starts it on http://localhost:8080 with its data in ./data,
# printing the URL and the API key. Run again to rebuild and restart.
#
# Environment: HOMELABCMD_LISTEN (default 0.0.0.0:8080), HOMELABCMD_DATA_DIR
# (default ./data), HOMELABCMD_API_KEY (default: generated into DATA_DIR/api_key).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export DEBIAN_FRONTEND=noninteractive
LISTEN=${HOMELABCMD_LISTEN:-0.0.0.0:8080}
DATA=${HOMELABCMD_DATA_DIR:-$ROOT/data}
PORT=${LISTEN##*:}

pkgs=(build-essential cmake pkg-config libssh-dev libmicrohttpd-dev libsqlite3-dev
      libjansson-dev libcurl4-openssl-dev libyaml-dev libsodium-dev libcmocka-dev
      curl ca-certificates openssh-client openssh-server)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ -f www/package.json ] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
  missing+=(nodejs npm)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || { echo "quickstart: run as root to install packages" >&2; exit 1; }
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

echo "==> building the hub"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DHLC_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
if [ -f www/package.json ]; then
  . deploy/node.sh
  hlc_node_use
  echo "==> building the dashboard"
  (cd www && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run build >/dev/null)
fi

mkdir -p "$DATA"
chmod 700 "$DATA"
PIDFILE=$DATA/homelabcmd.pid
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  echo "==> stopping the running hub (pid $(cat "$PIDFILE"))"
  kill "$(cat "$PIDFILE")"
  for _ in $(seq 100); do kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break; sleep 0.1; done
fi

echo "==> starting the hub on $LISTEN"
HOMELABCMD_DATA_DIR=$DATA nohup "$ROOT/build/server/homelabcmd" serve --listen "$LISTEN" \
  --data-dir "$DATA" --www-dir "$ROOT/www/dist" >>"$DATA/homelabcmd.log" 2>&1 &
echo $! >"$PIDFILE"
ok=0
for _ in $(seq 100); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/api/v1/system/health" 2>/dev/null; then ok=1; break; fi
  kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
  sleep 0.1
done
if [ $ok -ne 1 ]; then
  echo "quickstart: the hub did not start; last log lines:" >&2
  tail -n 20 "$DATA/homelabcmd.log" >&2
  exit 1
fi
KEY=${HOMELABCMD_API_KEY:-$(cat "$DATA/api_key")}

if [ -x deploy/monitor-this-machine.sh ]; then
  deploy/monitor-this-machine.sh "http://127.0.0.1:$PORT" "$KEY" || \
    echo "quickstart: could not set up monitoring of this machine (see above)"
fi

# The push agent for this machine too, installed the way any laptop installs it
# (the hub's own one-line installer), as a workstation "<host>-agent": this
# machine then shows twice, polled over SSH and pushing heartbeats. Under
# systemd it runs as homelabcmd-agent.service; elsewhere (a container) the
# quickstart starts it in the background with its pid in $DATA/agent.pid.
AGENT_ID="$(hostname | tr 'A-Z' 'a-z' | tr -c 'a-z0-9-\n' '-' | sed 's/^-*//; s/-*$//' | cut -c1-56)"
AGENT_ID="${AGENT_ID:-this-machine}-agent"
AGENT_PID=$DATA/agent.pid
if [ -f "$AGENT_PID" ] && kill -0 "$(cat "$AGENT_PID")" 2>/dev/null; then
  kill "$(cat "$AGENT_PID")"
fi
echo "==> installing the push agent as '$AGENT_ID'"
# With a one-time enrollment token bound to that id, as a laptop would: the
# agent never holds the admin key. The key goes to curl on stdin and the token
# to the installer in its environment, so neither shows in the process list.
ENROLL=$(printf 'X-API-Key: %s\n' "$KEY" |
  curl -fsS -H @- -H 'Content-Type: application/json' \
    -d "{\"server_id\":\"$AGENT_ID\",\"expires_in_seconds\":300}" \
    "http://127.0.0.1:$PORT/api/v1/agents/enrollment-tokens" |
  sed -n 's/.*"token":"\(hlce_[A-Za-z0-9_-]*\)".*/\1/p') || ENROLL=
if [ -n "$ENROLL" ] && curl -fsS "http://127.0.0.1:$PORT/agent/install.sh" |
   HOMELABCMD_ENROLLMENT_TOKEN=$ENROLL sh -s -- --hub "http://127.0.0.1:$PORT" --id "$AGENT_ID" >/dev/null; then
  if ! { [ -d /run/systemd/system ] && systemctl is-active --quiet homelabcmd-agent.service; }; then
    nohup /usr/local/bin/homelabcmd-agent --config /etc/homelabcmd-agent/config.yaml \
      >>"$DATA/agent.log" 2>&1 &
    echo $! >"$AGENT_PID"
  fi
else
  echo "quickstart: could not install the push agent (see above)"
fi

cat <<MSG

HomelabCmd is running.
  Dashboard:  http://localhost:$PORT/
  API:        http://localhost:$PORT/api/v1  (header X-API-Key)
  API key:    $KEY
  Data:       $DATA   (log: $DATA/homelabcmd.log, pid: $PIDFILE)
Stop it with: kill \$(cat $PIDFILE)
  Push agent: /usr/local/bin/homelabcmd-agent as '$AGENT_ID' (config /etc/homelabcmd-agent/config.yaml;
              remove: curl -fsS http://127.0.0.1:$PORT/agent/install.sh | sh -s -- --uninstall)
MSG
if [ -z "${HOMELABCMD_ENCRYPTION_KEY:-}" ] && [ -f "$DATA/encryption_key" ]; then
  cat <<MSG
  Encryption key for stored SSH keys and tokens: $DATA/encryption_key (mode 0600,
  generated by the hub). Back it up with the database, or set HOMELABCMD_ENCRYPTION_KEY.
MSG
fi
