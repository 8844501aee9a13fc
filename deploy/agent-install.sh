#!/bin/sh
# HomelabCmd push agent installer, served by the hub at /agent/install.sh:
#
#   curl -sSL http://HUB:8080/agent/install.sh | sudo sh -s -- --hub http://HUB:8080 [--id NAME]
#
# It asks for an enrollment token (created on the hub: dashboard, or
# POST /api/v1/agents/enrollment-tokens) on the terminal without echoing it,
# or takes it from $HOMELABCMD_ENROLLMENT_TOKEN or --token-file FILE, never
# from the command line (another user could read it in the process list).
# Installs /usr/local/bin/homelabcmd-agent (downloaded from the hub and
# checked against the SHA-256 the hub wrote into this script), writes
# /etc/homelabcmd-agent/config.yaml (mode 0600), has the agent exchange the
# token for its own agent token, installs homelabcmd-agent.service and starts
# it. Running it again updates the binary and the settings it was given
# (other settings in config.yaml, such as `services:`, and an agent token
# already there, are kept). `--uninstall` removes all of it.
#
# Options: --hub URL [--id NAME] [--type workstation|server] [--token-file FILE]
#          [--interval SECONDS] [--binary FILE] [--root DIR] [--no-systemd]
#          [--uninstall]
# --binary installs a local file instead of downloading (an agent you built
# for another architecture, e.g. a Raspberry Pi); --root installs under DIR
# and implies --no-systemd (for packaging and tests).
set -eu

HUB= ID= TYPE=workstation INTERVAL= BINARY= ROOT= SYSTEMD=1 ACTION=install TOKEN_FILE=
TOKEN=${HOMELABCMD_ENROLLMENT_TOKEN:-}
# The SHA-256 of the agent binary the hub serves, written in by the hub when it
# serves this script (the binary is another response, so its own headers
# cannot vouch for it).
AGENT_SHA256=@HLC_AGENT_SHA256@

die() { echo "homelabcmd-agent install: $*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --hub) [ $# -ge 2 ] || die "--hub needs a URL"; HUB=$2; shift 2 ;;
    --key) die "--key is gone: it put the admin key on the command line. Create an enrollment token on the hub and give it on the terminal, in HOMELABCMD_ENROLLMENT_TOKEN or with --token-file" ;;
    --token-file) [ $# -ge 2 ] || die "--token-file needs a file"; TOKEN_FILE=$2; shift 2 ;;
    --id) [ $# -ge 2 ] || die "--id needs a name"; ID=$2; shift 2 ;;
    --type) [ $# -ge 2 ] || die "--type needs workstation or server"; TYPE=$2; shift 2 ;;
    --interval) [ $# -ge 2 ] || die "--interval needs seconds"; INTERVAL=$2; shift 2 ;;
    --binary) [ $# -ge 2 ] || die "--binary needs a file"; BINARY=$2; shift 2 ;;
    --root) [ $# -ge 2 ] || die "--root needs a directory"; ROOT=$2; SYSTEMD=0; shift 2 ;;
    --no-systemd) SYSTEMD=0; shift ;;
    --uninstall) ACTION=uninstall; shift ;;
    -h|--help) sed -n '2,26p' "$0" 2>/dev/null || true; exit 0 ;;
    *) die "unknown option '$1' (try --help)" ;;
  esac
done

BIN=$ROOT/usr/local/bin/homelabcmd-agent
ETC=$ROOT/etc/homelabcmd-agent
CONF=$ETC/config.yaml
STATE=$ROOT/var/lib/homelabcmd-agent
UNIT=$ROOT/etc/systemd/system/homelabcmd-agent.service

if [ -z "$ROOT" ] && [ "$(id -u)" -ne 0 ]; then
  die "run as root (curl ... | sudo sh -s -- ...)"
fi
have_systemd() { [ "$SYSTEMD" = 1 ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; }

if [ "$ACTION" = uninstall ]; then
  if have_systemd; then
    systemctl disable --now homelabcmd-agent.service >/dev/null 2>&1 || true
  fi
  rm -f "$UNIT" "$BIN"
  rm -rf "$ETC" "$STATE"
  if have_systemd; then systemctl daemon-reload; fi
  echo "homelabcmd-agent removed (binary, configuration, spool and systemd unit)."
  exit 0
fi

# ---- check what we were given ------------------------------------------------
printf '%s' "$HUB" | grep -Eq '^https?://[]A-Za-z0-9._~%@:/[-]+$' ||
  die "--hub must be the hub's URL, e.g. http://hub.lan:8080"
HUB=${HUB%/}
if [ -n "$TOKEN_FILE" ]; then
  [ -r "$TOKEN_FILE" ] || die "--token-file $TOKEN_FILE: cannot read it"
  TOKEN=$(head -c 200 "$TOKEN_FILE" | tr -d ' \t\r\n')
fi
# An agent token from an earlier install is kept; a new enrollment is needed only without one.
ENROLLED=
if [ -f "$CONF" ] && grep -Eq '^agent_token: *"?hlca_' "$CONF"; then ENROLLED=1; fi
if [ -z "$TOKEN" ] && [ -z "$ENROLLED" ]; then
  if (exec </dev/tty) 2>/dev/null; then
    printf 'Enrollment token (from the hub; not shown): ' >/dev/tty
    stty -echo </dev/tty 2>/dev/null || true
    IFS= read -r TOKEN </dev/tty || TOKEN=
    stty echo </dev/tty 2>/dev/null || true
    printf '\n' >/dev/tty
  fi
  [ -n "$TOKEN" ] || die "an enrollment token is required: create one on the hub (dashboard, or POST /api/v1/agents/enrollment-tokens) and give it on the terminal, in HOMELABCMD_ENROLLMENT_TOKEN or with --token-file FILE"
fi
if [ -n "$TOKEN" ]; then
  printf '%s' "$TOKEN" | grep -Eq '^hlce_[A-Za-z0-9_-]{1,123}$' ||
    die "that is not an enrollment token (they start with hlce_)"
fi
if [ -z "$ID" ]; then
  ID=$(hostname 2>/dev/null | cut -d. -f1 | tr 'A-Z_' 'a-z-')
fi
printf '%s' "$ID" | grep -Eq '^[a-z0-9][a-z0-9-]{0,62}$' ||
  die "--id must be a lowercase slug (a-z, 0-9, -), got '$ID'"
case "$TYPE" in workstation|server) ;; *) die "--type must be workstation or server" ;; esac
if [ -n "$INTERVAL" ]; then
  printf '%s' "$INTERVAL" | grep -Eq '^[0-9]{1,5}$' && [ "$INTERVAL" -ge 5 ] &&
    [ "$INTERVAL" -le 86400 ] || die "--interval must be 5..86400 seconds"
fi

# ---- the binary ---------------------------------------------------------------
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
if [ -n "$BINARY" ]; then
  [ -f "$BINARY" ] || die "--binary $BINARY: no such file"
  cp "$BINARY" "$TMP/agent"
else
  command -v curl >/dev/null 2>&1 || die "curl is needed to download the agent"
  curl -fsS --max-time 120 -D "$TMP/headers" -o "$TMP/agent" "$HUB/agent/homelabcmd-agent" ||
    die "could not download $HUB/agent/homelabcmd-agent"
  hdr() { tr -d '\r' <"$TMP/headers" | grep -i "^$1:" | tail -n 1 | cut -d: -f2- | tr -d ' '; }
  ARCH=$(hdr X-HomelabCmd-Arch)
  HERE=$(uname -m)
  if [ -n "$ARCH" ] && [ "$ARCH" != "$HERE" ]; then
    die "the hub serves an agent built for $ARCH but this machine is $HERE; build the agent for $HERE (see the README, 'Raspberry Pis') and re-run with --binary FILE"
  fi
  # Fail closed: no checksum from the hub, no sha256sum, or a different sum.
  printf '%s' "$AGENT_SHA256" | grep -Eq '^[0-9a-f]{64}$' ||
    die "this script carries no checksum of the agent (fetch it from the hub's /agent/install.sh)"
  command -v sha256sum >/dev/null 2>&1 ||
    die "sha256sum is needed to verify the agent (apt install coreutils)"
  GOT=$(sha256sum "$TMP/agent" | cut -d' ' -f1)
  [ "$GOT" = "$AGENT_SHA256" ] ||
    die "the downloaded agent's checksum does not match the one in this script ($GOT != $AGENT_SHA256); nothing was installed"
fi
chmod 0755 "$TMP/agent"
"$TMP/agent" --version >/dev/null 2>&1 || die "the agent binary does not run on this machine"

mkdir -p "$(dirname "$BIN")"
cp "$TMP/agent" "$BIN.new"
chmod 0755 "$BIN.new"
mv -f "$BIN.new" "$BIN"

# ---- configuration (0600: it holds the agent's token) ------------------------
umask 077
mkdir -p "$ETC" "$STATE/spool"
chmod 0700 "$ETC" "$STATE" "$STATE/spool"
{
  echo "# homelabcmd-agent configuration (written by install.sh; other keys are kept on re-install)"
  echo "hub_url: \"$HUB\""
  echo "server_id: \"$ID\""
  [ -z "$TOKEN" ] || echo "enrollment_token: \"$TOKEN\""
  echo "machine_type: $TYPE"
  [ -z "$INTERVAL" ] || echo "interval: $INTERVAL"
  echo "spool_dir: \"/var/lib/homelabcmd-agent/spool\""
  if [ -f "$CONF" ]; then
    if [ -n "$TOKEN" ]; then DROP='|agent_token:|enrollment_token:|api_key:'; else DROP='|enrollment_token:'; fi
    grep -Ev "^(# homelabcmd-agent configuration|hub_url:|server_id:|machine_type:|interval:|spool_dir:$DROP)" "$CONF" || true
  fi
} >"$CONF.new"
chmod 0600 "$CONF.new"
mv -f "$CONF.new" "$CONF"
"$BIN" --config "$CONF" --check >/dev/null || die "the written configuration was refused (see above)"
if [ -n "$TOKEN" ]; then
  # The agent trades the one-time token for its own and saves that in $CONF.
  "$BIN" --config "$CONF" --enroll || die "enrolling with the hub failed (see above)"
fi

# ---- the service ----------------------------------------------------------------
mkdir -p "$(dirname "$UNIT")"
cat >"$UNIT.new" <<'UNIT'
[Unit]
Description=HomelabCmd push agent (reports this machine to the hub)
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/local/bin/homelabcmd-agent --config /etc/homelabcmd-agent/config.yaml
Restart=always
RestartSec=10
Nice=10
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=read-only
PrivateTmp=yes
ReadWritePaths=/var/lib/homelabcmd-agent
CapabilityBoundingSet=
MemoryMax=64M

[Install]
WantedBy=multi-user.target
UNIT
chmod 0644 "$UNIT.new"
mv -f "$UNIT.new" "$UNIT"

if have_systemd; then
  systemctl daemon-reload
  systemctl enable homelabcmd-agent.service >/dev/null 2>&1
  systemctl restart homelabcmd-agent.service
  echo "homelabcmd-agent installed and running as $ID ($TYPE), reporting to $HUB."
else
  echo "homelabcmd-agent installed under ${ROOT:-/} as $ID ($TYPE); systemd not used: start it with"
  echo "  $BIN --config $CONF"
fi
