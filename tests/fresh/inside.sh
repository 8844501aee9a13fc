#!/usr/bin/env bash
# Runs inside the bare Debian 12 root that tests/fresh/fresh_debian.sh builds,
# as root in a copy of the checkout: the README's two commands, as an operator
# would type them, then checks what they promise. The hub is left running for
# the outer script to check from the namespace; it ends every process by PID.
set -euo pipefail
cd "$(dirname "$0")/../.."
fail() { echo "FRESH FAIL: $*" >&2; exit 1; }
step() { printf '\n=== fresh: %s (%ss) ===\n' "$*" "$(( $(date +%s) - T0 ))"; }
T0=$(date +%s)

. /etc/os-release
[ "$VERSION_CODENAME" = bookworm ] || fail "not a Debian 12 root: $PRETTY_NAME"
! command -v node >/dev/null || fail "the bare root already has a node: $(command -v node)"
! command -v cc >/dev/null || fail "the bare root already has a C compiler"

step "./deploy/quickstart.sh"
./deploy/quickstart.sh 2>&1 | tee /root/quickstart.out
# Debian's own Node is what apt gave; the dashboard was built with the pinned one.
sys_node=$(/usr/bin/node --version)
echo "system node: $sys_node, npm $(/usr/bin/npm --version)"
case "$sys_node" in v18.*) ;; *) fail "expected Debian 12's Node 18, got $sys_node";; esac
grep -q '^==> node: using the pinned Node v' /root/quickstart.out ||
  fail "the quickstart did not switch to the pinned Node"
grep -q '^  Dashboard:  http://localhost:8080/$' /root/quickstart.out || fail "no dashboard URL printed"
key=$(sed -n 's/^  API key:    \([^ ]*\)$/\1/p' /root/quickstart.out)
[ -n "$key" ] && [ "$key" = "$(cat data/api_key)" ] || fail "the printed API key is not the hub's"
[ -f www/dist/index.html ] || fail "no dashboard build in www/dist"
curl -fsS http://127.0.0.1:8080/ | grep -qi '<div id="root">' || fail "the hub does not serve the dashboard"

step "./tests/run.sh (build, unit tests, one browser test)"
# (the host's run has already run vitest and cppcheck on the same tree: here
# what matters is that the installs, builds, unit tests and a browser test work)
HLC_SKIP_FRESH=1 HLC_SKIP_FUZZ=1 HLC_SKIP_BENCH=1 HLC_SKIP_INTEGRATION=1 \
  HLC_SKIP_VITEST=1 HLC_SKIP_CPPCHECK=1 \
  HLC_BROWSER_TESTS=tests/browser/dashboard.test.mjs ./tests/run.sh 2>&1 | tee /root/run.out
grep -Eq '^=== all tests passed( \([0-9]+s\))? ===$' /root/run.out || fail "tests/run.sh did not finish"
# node --test's summary: "# pass N" (TAP) or "ℹ pass N" (spec reporter).
grep -Eq '^(# |ℹ )pass [1-9]' /root/run.out || fail "no browser test passed"
grep -Eq '^(# |ℹ )fail 0$' /root/run.out || fail "a browser test failed"
step "done"
