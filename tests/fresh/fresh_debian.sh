#!/usr/bin/env bash
# Both README commands on a bare Debian 12: builds a minimal bookworm root with
# debootstrap from the machine's package mirror, copies the checkout into it and
# runs tests/fresh/inside.sh there (the quickstart, its checks, and a fast part
# of tests/run.sh) with chroot, in a network namespace of its own so its sshd and
# port 8080 are not the host's. The namespace reaches only the package mirror,
# the npm registry and the host's DNS servers, through NAT on the host; the hub
# inside talks to its own loopback. Afterwards this script checks from inside
# the namespace that the hub answers and has polled the root's own machine.
# Everything it made (processes by PID, namespace, veth, firewall rules, the
# root) goes at the end, failed or not. Needs root, debootstrap and iptables.
#
# Environment: HLC_FRESH_TMP (default /var/tmp) where the root is built.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
[ "$(id -u)" -eq 0 ] || { echo "fresh_debian: run as root" >&2; exit 1; }
for t in debootstrap iptables ip unshare chroot curl; do
  command -v "$t" >/dev/null || { echo "fresh_debian: needs $t" >&2; exit 1; }
done
T0=$(date +%s)
step() { printf '\n=== fresh: %s (%ss) ===\n' "$*" "$(( $(date +%s) - T0 ))"; }

# ---- what the host uses: the mirror, the npm registry, DNS ---------------
# The bookworm URI of the host's apt sources (deb822 first, then one-line).
MIRROR=$(awk '/^URIs:/ {u=$2} /^Suites:/ && / bookworm( |$)/ {print u; exit}' \
           /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb" && $3=="bookworm" {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
[ -n "$MIRROR" ] || { echo "fresh_debian: no bookworm mirror in the apt sources" >&2; exit 1; }
REGISTRY=$(npm config get registry 2>/dev/null || echo https://registry.npmjs.org/)
NPMRC=$(npm config get globalconfig 2>/dev/null || echo /etc/npmrc)
hosts=$( { awk '/^URIs:/ {for (i = 2; i <= NF; i++) print $i}' /etc/apt/sources.list.d/*.sources 2>/dev/null
           awk '$1=="deb" {print $2}' /etc/apt/sources.list 2>/dev/null
           echo "$REGISTRY"; } | sed -n 's#^[a-z+]*://\([^/:]*\).*#\1#p' | sort -u)
allowed=$(for h in $hosts; do getent ahostsv4 "$h" | awk '{print $1}'; done | sort -u)
dns=$(awk '$1=="nameserver" && $2 ~ /^[0-9.]+$/ {print $2}' /etc/resolv.conf | sort -u)
[ -n "$allowed" ] || { echo "fresh_debian: could not resolve $hosts" >&2; exit 1; }

# ---- names for this run ----------------------------------------------------
TAG=$$
NS=hlc-fresh-$TAG VH=hfh$TAG VN=hfn$TAG CHAIN=HLCFRESH$TAG
for o in $(seq 0 249); do   # a /30 no interface on this machine uses yet
  n=$(( (TAG + o) % 250 ))
  ip -4 -br addr | grep -q " 10\.213\.$n\." || break
done
NET=10.213.$n HOSTIP=10.213.$n.1 NSIP=10.213.$n.2
WORK=$(mktemp -d "${HLC_FRESH_TMP:-/var/tmp}/hlc-fresh.XXXXXX")
R=$WORK/root
FWD_OLD=$(sysctl -n net.ipv4.ip_forward)
ipt_rules=()   # "table chain rule..." added, removed in reverse at the end

cleanup() {
  local rc=$? pids p
  set +e
  trap - EXIT INT TERM
  if [ -n "${INNER:-}" ]; then kill "$INNER" 2>/dev/null; wait "$INNER" 2>/dev/null; fi
  if ip netns list 2>/dev/null | grep -qw "$NS"; then
    # Everything started inside (hub, agent, sshd, test leftovers) is in the namespace.
    pids=$(ip netns pids "$NS")
    [ -z "$pids" ] || kill $pids 2>/dev/null
    for _ in $(seq 50); do [ -z "$(ip netns pids "$NS")" ] && break; sleep 0.1; done
    pids=$(ip netns pids "$NS")
    [ -z "$pids" ] || kill -9 $pids 2>/dev/null
  fi
  for (( i = ${#ipt_rules[@]} - 1; i >= 0; i-- )); do
    # shellcheck disable=SC2086
    set -- ${ipt_rules[$i]}; t=$1; shift; iptables -t "$t" -D "$@"
  done
  iptables -F "$CHAIN" 2>/dev/null && iptables -X "$CHAIN"
  ip link del "$VH" 2>/dev/null
  ip netns del "$NS" 2>/dev/null
  [ "$FWD_OLD" = 1 ] || sysctl -qw net.ipv4.ip_forward="$FWD_OLD"
  # The root's mounts lived in the chroot's own mount namespace and went with
  # its processes; --one-file-system keeps rm off anything still mounted.
  for p in $(awk -v r="$R" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do umount -l "$p"; done
  rm -rf --one-file-system "$WORK"
  echo "fresh_debian: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - T0 ))s"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ipt() { local t=$1; shift; iptables -t "$t" -A "$@" && ipt_rules+=("$t $*"); }
ipt_first() { local t=$1; shift; iptables -t "$t" -I "$@" && ipt_rules+=("$t $(sed 's/^\([^ ]*\) 1 /\1 /' <<<"$*")"); }

# ---- the bare root ---------------------------------------------------------
step "debootstrap --variant=minbase bookworm from $MIRROR"
"$ROOT/tests/fresh/minbase.sh" "$R" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
  { tail -n 30 "$WORK/debootstrap.log"; exit 1; }
# Reach the registries as the host does: its apt sources and Acquire settings,
# trusted CAs, npm's global config, DNS. And the /etc/hosts an installed
# system has (debootstrap writes none).
rm -f "$R/etc/apt/sources.list"
cp /etc/apt/sources.list.d/*.sources "$R/etc/apt/sources.list.d/" 2>/dev/null || cp /etc/apt/sources.list "$R/etc/apt/"
for f in $(grep -l '^Acquire::' /etc/apt/apt.conf.d/* 2>/dev/null); do cp "$f" "$R/etc/apt/apt.conf.d/"; done
mkdir -p "$R/usr/local/share/ca-certificates" "$R/etc/ssl/certs"
cp -r /usr/local/share/ca-certificates/. "$R/usr/local/share/ca-certificates/"
cp /etc/ssl/certs/ca-certificates.crt "$R/etc/ssl/certs/"
[ ! -f "$NPMRC" ] || cp "$NPMRC" "$R/etc/npmrc"
cp /etc/resolv.conf "$R/etc/resolv.conf"
echo hlc-fresh >"$R/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\thlc-fresh\n::1\tlocalhost ip6-localhost ip6-loopback\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n' >"$R/etc/hosts"
# The checkout as a clone has it (tracked and new files, nothing ignored).
mkdir -p "$R/root/homelabcmd"
git ls-files -z -co --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$R/root/homelabcmd"

# ---- its network: a veth to the host, NAT to the registries only -----------
step "namespace $NS ($NSIP via $HOSTIP) reaching only: $(echo $allowed) (DNS $(echo $dns))"
ip netns add "$NS"
ip link add "$VH" type veth peer name "$VN"
ip link set "$VN" netns "$NS"
ip addr add "$HOSTIP/30" dev "$VH"
ip link set "$VH" up
ip -n "$NS" addr add "$NSIP/30" dev "$VN"
ip -n "$NS" link set "$VN" up
ip -n "$NS" link set lo up
ip -n "$NS" route add default via "$HOSTIP"
sysctl -qw net.ipv4.ip_forward=1
iptables -N "$CHAIN"
iptables -A "$CHAIN" -o "$VH" -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
for a in $dns; do
  iptables -A "$CHAIN" -i "$VH" -d "$a" -p udp --dport 53 -j ACCEPT
  iptables -A "$CHAIN" -i "$VH" -d "$a" -p tcp --dport 53 -j ACCEPT
done
for a in $allowed; do
  iptables -A "$CHAIN" -i "$VH" -d "$a" -p tcp -m multiport --dports 80,443 -j ACCEPT
done
iptables -A "$CHAIN" -j DROP
ipt_first filter FORWARD 1 -i "$VH" -j "$CHAIN"
ipt_first filter FORWARD 1 -o "$VH" -j "$CHAIN"
# Nothing on the host itself (its sshd, other hubs) is reachable from inside.
ipt_first filter INPUT 1 -i "$VH" -j DROP
ipt nat POSTROUTING -s "$NET.0/30" ! -o "$VH" -j MASQUERADE

# ---- the README's commands inside ------------------------------------------
step "chroot: quickstart and tests/run.sh"
ip netns exec "$NS" unshare --mount --uts --propagation private -- /bin/sh -c '
  set -e
  hostname hlc-fresh
  mount --bind "$1" "$1"          # / is a mount point, as df expects
  mount -t proc proc "$1/proc"
  mount -t sysfs sysfs "$1/sys"
  mount --rbind /dev "$1/dev"
  mount -t tmpfs -o mode=755 tmpfs "$1/run"
  exec chroot "$1" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    /bin/bash /root/homelabcmd/tests/fresh/inside.sh' sh "$R" </dev/null &
INNER=$!
wait "$INNER"
INNER=

# ---- from the namespace: the hub answers and polls the root's machine --------
step "checks from the namespace"
in_ns() { ip netns exec "$NS" "$@"; }
KEY=$(cat "$R/root/homelabcmd/data/api_key")
health=$(in_ns curl -fsS http://127.0.0.1:8080/api/v1/system/health)
echo "health: $health"
grep -q '"status": *"healthy"\|"status": *"ok"' <<<"$health" || { echo "FRESH FAIL: hub not healthy" >&2; exit 1; }
server=$(in_ns curl -fsS -H "X-API-Key: $KEY" http://127.0.0.1:8080/api/v1/servers/hlc-fresh)
echo "server: ${server:0:600}"
python3 - "$server" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
assert s.get("status") == "online", f"hlc-fresh is not online: {s.get('status')}"
assert s.get("last_seen"), "hlc-fresh was never polled"
PY
step "passed"
