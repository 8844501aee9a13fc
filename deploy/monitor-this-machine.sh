#!/usr/bin/env bash
# Makes the hub monitor the machine it runs on, agentlessly, as it would any
# other: a local `homelabcmd` login user (login shell /bin/sh) that accepts the
# hub's SSH key, sshd running, and the machine registered over the API.
# Idempotent. Usage: deploy/monitor-this-machine.sh HUB_URL API_KEY
set -euo pipefail
HUB=${1:?usage: monitor-this-machine.sh HUB_URL API_KEY}
KEY=${2:?usage: monitor-this-machine.sh HUB_URL API_KEY}
USER_NAME=${HOMELABCMD_TARGET_USER:-homelabcmd}
HOME_DIR=/var/lib/homelabcmd-target
SSH_PORT=${HOMELABCMD_TARGET_SSH_PORT:-22}

[ "$(id -u)" -eq 0 ] || { echo "monitor-this-machine: run as root" >&2; exit 1; }
api() { curl -fsS -H "X-API-Key: $KEY" -H 'Content-Type: application/json' "$@"; }

# sshd: installed by the quickstart; start it if nothing listens on the port.
if ! (exec 3<>"/dev/tcp/127.0.0.1/$SSH_PORT") 2>/dev/null; then
  echo "==> starting sshd"
  mkdir -p /run/sshd
  [ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -A >/dev/null
  systemctl start ssh 2>/dev/null || service ssh start >/dev/null 2>&1 || /usr/sbin/sshd
fi

# The login user the hub uses, with the hub's public key and nothing else.
if ! id "$USER_NAME" >/dev/null 2>&1; then
  echo "==> creating user $USER_NAME (login shell /bin/sh, home $HOME_DIR)"
  useradd --system --create-home --home-dir "$HOME_DIR" --shell /bin/sh "$USER_NAME"
fi
usermod -p '*' "$USER_NAME"   # no password, but not locked (sshd refuses locked accounts)
home=$(getent passwd "$USER_NAME" | cut -d: -f6)
install -d -m 700 -o "$USER_NAME" "$home/.ssh"
pub=$(api "$HUB/api/v1/ssh/public-key" | sed -n 's/.*"public_key":"\([^"]*\)".*/\1/p')
[ -n "$pub" ] || { echo "monitor-this-machine: could not read the hub's public key" >&2; exit 1; }
auth="$home/.ssh/authorized_keys"
touch "$auth"
grep -qxF "$pub" "$auth" || echo "$pub" >>"$auth"
chown "$USER_NAME" "$auth"
chmod 600 "$auth"

# Register this machine (a 409 means it already is).
id=$(hostname | tr 'A-Z' 'a-z' | tr -c 'a-z0-9-\n' '-' | sed 's/^-*//; s/-*$//' | cut -c1-63)
[ -n "$id" ] || id=this-machine
body=$(printf '{"server_id":"%s","display_name":"%s","hostname":"%s","ip_address":"127.0.0.1","ssh_port":%s,"ssh_user":"%s","machine_type":"server"}' \
  "$id" "$(hostname)" "$(hostname)" "$SSH_PORT" "$USER_NAME")
code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-API-Key: $KEY" -H 'Content-Type: application/json' \
  -d "$body" "$HUB/api/v1/servers")
case "$code" in
  201) echo "==> registered this machine as '$id'";;
  409) echo "==> this machine is already registered as '$id'";;
  *) echo "monitor-this-machine: registering failed (HTTP $code)" >&2; exit 1;;
esac
if api -X POST "$HUB/api/v1/servers/$id/poll" >/dev/null; then
  echo "==> first poll of '$id' over SSH succeeded"
else
  echo "monitor-this-machine: the first poll failed; see GET $HUB/api/v1/servers/$id (last_error)" >&2
  exit 1
fi
