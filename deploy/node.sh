# deploy/node.sh - sourced by deploy/quickstart.sh and tests/run.sh (bash).
#
# The dashboard's toolchain (Vite, Vitest) and the browser tests
# (playwright-core) need Node >= 20.19 and an npm that reads the `overrides`
# alias in www/package.json (npm >= 10). Debian 12 ships Node 18.20 and npm 9.2.
# Where the Node and npm on PATH are too old, hlc_node_use installs the Node
# and npm pinned in deploy/node/package-lock.json into deploy/node/node_modules
# with the system's npm (`npm ci`: the npm registry only, each tarball checked
# against the sha512 in the committed lockfile; the node-linux-* packages carry
# the official binary and run no install script) and puts them first on PATH.
# A new enough system Node is used as it is. HLC_NODE=local forces the pinned
# one (the fresh-machine test and anyone reproducing a Debian 12 run use it).

HLC_NODE_MIN_MAJOR=20
HLC_NODE_MIN_MINOR=19
HLC_NPM_MIN_MAJOR=10

# True when `node` and `npm` on PATH are new enough for the toolchain.
hlc_node_fits() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || return 1
  local nv npmv major minor
  nv=$(node -p 'process.versions.node' 2>/dev/null) || return 1
  npmv=$(npm --version 2>/dev/null) || return 1
  major=${nv%%.*}; minor=${nv#*.}; minor=${minor%%.*}
  [ "$major" -gt "$HLC_NODE_MIN_MAJOR" ] ||
    { [ "$major" -eq "$HLC_NODE_MIN_MAJOR" ] && [ "$minor" -ge "$HLC_NODE_MIN_MINOR" ]; } || return 1
  [ "${npmv%%.*}" -ge "$HLC_NPM_MIN_MAJOR" ]
}

# The directory of the pinned node binary (npm 9.2 links no `node` into .bin).
hlc_node_local_bin() {
  local b
  for b in "$1"/node_modules/node-linux-*/bin; do [ -x "$b/node" ] && { echo "$b"; return 0; }; done
  return 1
}

# True when deploy/node/node_modules holds exactly the versions the lockfile pins.
hlc_node_local_current() {
  local dir=$1 bin
  bin=$(hlc_node_local_bin "$dir") && [ -x "$dir/node_modules/.bin/npm" ] || return 1
  "$bin/node" -e '
    const lock = require(process.argv[1] + "/package-lock.json").packages;
    const pkg = (n) => lock["node_modules/" + n] || {};
    const want = pkg("node-linux-" + process.arch).version;
    const npm = require(process.argv[1] + "/node_modules/npm/package.json").version;
    process.exit(want === process.versions.node && npm === pkg("npm").version ? 0 : 1);
  ' "$dir" 2>/dev/null
}

# Makes `node` and `npm` on PATH the ones the toolchain needs (see above).
# Needs ROOT (the checkout) and, when the system's are too old, a system npm.
hlc_node_use() {
  local dir=$ROOT/deploy/node
  if [ "${HLC_NODE:-auto}" != local ] && hlc_node_fits; then
    case $(command -v node) in
      "$dir"/*) echo "==> node: using the pinned Node $(node --version), npm $(npm --version) from deploy/node/";;
      *) echo "==> node: using the system's Node $(node --version), npm $(npm --version)";;
    esac
    return 0
  fi
  if ! hlc_node_local_current "$dir"; then
    command -v npm >/dev/null 2>&1 || {
      echo "deploy/node.sh: no npm to fetch the pinned Node with (apt-get install npm)" >&2
      return 1
    }
    echo "==> node: installing the pinned Node and npm into deploy/node/ (the system's:" \
         "Node $(node --version 2>/dev/null || echo none), npm $(npm --version 2>/dev/null))"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) || return 1
    if ! hlc_node_local_bin "$dir" >/dev/null; then
      echo "deploy/node.sh: the registry has no Node build for $(uname -m) in deploy/node/package.json" >&2
      return 1
    fi
  fi
  # The pinned npm would look for its global config beside its own node
  # binary; keep the one the system's npm reads (/etc/npmrc on Debian: a CA
  # file, a proxy or a registry mirror live there).
  if [ -z "${NPM_CONFIG_GLOBALCONFIG:-}" ] && command -v npm >/dev/null 2>&1; then
    NPM_CONFIG_GLOBALCONFIG=$(npm config get globalconfig 2>/dev/null) && export NPM_CONFIG_GLOBALCONFIG
  elif [ -z "${NPM_CONFIG_GLOBALCONFIG:-}" ] && [ -f /etc/npmrc ]; then
    export NPM_CONFIG_GLOBALCONFIG=/etc/npmrc
  fi
  export PATH="$(hlc_node_local_bin "$dir"):$dir/node_modules/.bin:$PATH"
  hash -r
  hlc_node_local_current "$dir" || { echo "deploy/node.sh: deploy/node/ does not hold the pinned versions" >&2; return 1; }
  echo "==> node: using the pinned Node $(node --version), npm $(npm --version) from deploy/node/"
}
