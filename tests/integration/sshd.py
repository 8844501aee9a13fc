"""Real OpenSSH machines for tests: one sshd per fake machine on 127.0.0.N.

Each machine has its own host key, port, authorized_keys and directory. Logins
use a dedicated user `hlctest` whose login shell is /bin/sh (root's login shell
runs slow initialisation; TESTING.md), or `hlcroot`, a UID-0 alias with the same
shell, where root's rights are needed. sshd's `SetEnv` gives each machine its own
PATH, whose first directory holds stand-ins for `systemctl`, `docker` and `journalctl` (no
systemd or Docker engine runs here): they keep unit and container state in files
under the machine's directory and follow the real CLIs' documented contracts for
the calls HomelabCmd makes (and `apt-get -s upgrade`, whose real run takes
seconds of CPU, lists the upgrades set with set_updates()):

  systemctl is-active UNIT      prints the ActiveState, exit 0 if active else 3
  systemctl is-enabled UNIT     prints state/enabled/UNIT (enabled, disabled, masked...),
                                exit 0 only for enabled; "disabled" for a known unit
                                without one; the real error on stderr for an unknown unit
  systemctl show -p K,K UNIT..  prints Key=value lines (Id, LoadState, ActiveState,
                                SubState, MainPID, MemoryCurrent, CPUUsageNSec), one
                                block per unit in the order asked, blank-line separated
  systemctl list-units --state=failed   "<unit>.service loaded failed failed <desc>"
                                lines for units in state failed or broken
  systemctl start|stop|restart  changes the state; a unit in state "broken" fails
                                to start with exit 1 and the real error text
  systemctl enable|disable [--now] UNIT  sets state/enabled/UNIT (and with --now
                                the run state); an unknown unit fails with exit 1
  docker ps -a --format '{{json .}}'   one JSON object per line (ID, Names,
                                Image, State, Status, ...)
  docker start|stop|restart NAME
  journalctl --vacuum-time=<n>d deletes the archived files of the machine's
                                journal ($HLC_MACHINE/journal/<id>, shown as
                                /var/log/journal/<id>) older than n days, with
                                the real messages on stderr

  dpkg-query -W -f FORMAT       the set kept by set_packages() in FORMAT (${Package},
                                ${Version}, ${db:Status-Abbrev}); the real one without it
`dd`, `realpath` and /var/log are the real ones: clear_logs tests make
their files in a fresh directory under this machine's real /var/log.

Thermal sensors: this machine has none (no /sys/class/thermal zones, no hwmon).
set_thermal([(type, millidegrees), ...]) gives a machine zones laid out as sysfs
lays them out (thermal_zoneN/type and thermal_zoneN/temp, millidegrees C): from
its next start() its sshd runs in a mount namespace of its own (unshare) with
that directory bind-mounted on /sys/class/thermal, so the real collector reads
them where it reads a real machine's. Writing a zone's temp again changes the
reading live. Limits: no hwmon directories; a zone's files are plain files, not
sysfs attributes (a read never fails the way a sleeping sensor's can).

Limits: the stand-ins ignore options they do not know; no real processes back
the units (MainPID is a fixed number); everything else a collector reads (/proc,
df, uname, os-release) is this machine's own.

Every command the stand-ins run is appended to `commands.log` as "<pid> <argv>"
(no timestamp: `date` would cost a process per call); every command
line the machine's sshd was asked to execute is appended to `exec.log` (a
ForceCommand gate, which also implements `hang()`).

As a library: `with Fleet(n, pubkey_line) as fleet: m = fleet.machines[0]`.
As a CLI (for the Node browser tests and shell benches):
  python3 sshd.py up --dir D --count N --pubkey-file F [--first-ip 2] [--thermal]
      starts N machines (--thermal: each with THERMAL_FIXTURE's zones), prints {"user", "machines":[{"name","host","port","dir","pid"}]}
  python3 sshd.py down --dir D      stops them by PID
"""
import argparse
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

SSHD = "/usr/sbin/sshd"
# Zones `up --thermal` gives every machine: a CPU package and ACPI's zone
# twice (boards often have several acpitz zones), millidegrees as in sysfs.
THERMAL_FIXTURE = [("x86_pkg_temp", 47500), ("acpitz", 31000), ("acpitz", 29000)]
USER = "hlctest"
ROOT_USER = "hlcroot"
HOME = "/var/tmp/hlctest-home"
JOURNAL_ID = "5f0c2d1e8a6b4c3d9e7f1a2b3c4d5e6f"  # the machines' journal directory (machine id)

SYSTEMCTL = r"""#!/bin/sh
# Stand-in for systemctl (see tests/integration/sshd.py).
# Shell builtins only on the restart path (no date/mkdir/cat/subshells): each
# extra process costs milliseconds here and would swamp the hub's own time.
S="$HLC_MACHINE/state/units"
[ -d "$S" ] || mkdir -p "$S"
echo "$$ systemctl $*" >> "$HLC_MACHINE/commands.log"
props=""
now=""
cmd=""
units=""
while [ $# -gt 0 ]; do
  case "$1" in
    -p|--property) props="$2"; shift 2; continue;;
    -p*) props="${1#-p}"; shift; continue;;
    --property=*) props="${1#--property=}"; shift; continue;;
    --no-pager|--quiet|-q|--no-block|--no-ask-password) shift; continue;;
    --now) now=1; shift; continue;;
    -*) shift; continue;;
  esac
  if [ -z "$cmd" ]; then cmd="$1"; else units="$units $1"; fi
  shift
done
rc=0
shown=""
for raw in $units; do
  u="${raw%.service}"
  cpu_ns=""
  if [ -f "$S/$u" ]; then read -r st cpu_ns < "$S/$u"; else st=missing; fi
  case "$cmd" in
    is-active)
      case "$st" in
        active) echo active;;
        missing) echo inactive; rc=3;;
        broken) echo failed; rc=3;;
        *) echo "$st"; rc=3;;
      esac;;
    show)
      # Like systemd: one block per unit, in the order asked, blank-line separated.
      [ -n "$shown" ] && echo
      shown=1
      case "$st" in
        active) as=active; ss=running; pid=4242; mem=52428800; cpu=${cpu_ns:-1500000000}; ls=loaded;;
        missing) as=inactive; ss=dead; pid=0; mem='[not set]'; cpu='[not set]'; ls=not-found;;
        broken|failed) as=failed; ss=failed; pid=0; mem='[not set]'; cpu='[not set]'; ls=loaded;;
        *) as="$st"; ss=dead; pid=0; mem='[not set]'; cpu='[not set]'; ls=loaded;;
      esac
      IFS=,
      set -f
      for p in ${props:-Id,LoadState,ActiveState,SubState,MainPID}; do
        case "$p" in
          Id) echo "Id=$u.service";;
          LoadState) echo "LoadState=$ls";;
          ActiveState) echo "ActiveState=$as";;
          SubState) echo "SubState=$ss";;
          MainPID) echo "MainPID=$pid";;
          MemoryCurrent) echo "MemoryCurrent=$mem";;
          CPUUsageNSec) echo "CPUUsageNSec=$cpu";;
        esac
      done
      unset IFS
      set +f;;
    start|restart)
      if [ "$st" = missing ]; then
        echo "Failed to $cmd $u.service: Unit $u.service not found." >&2; rc=5
      elif [ "$st" = broken ]; then
        echo "Job for $u.service failed because the control process exited with error code." >&2
        echo "See \"systemctl status $u.service\" and \"journalctl -xeu $u.service\" for details." >&2
        rc=1
      else
        [ -f "$HLC_MACHINE/slow_restart" ] && sleep "$(cat "$HLC_MACHINE/slow_restart")"
        echo active > "$S/$u"
      fi;;
    stop)
      if [ "$st" = missing ]; then
        echo "Failed to stop $u.service: Unit $u.service not loaded." >&2; rc=5
      elif [ "$st" != broken ]; then
        echo inactive > "$S/$u"
      fi;;
    is-enabled)
      # Boot state lives apart from the run state: $HLC_MACHINE/state/enabled/<unit>.
      if [ -f "$HLC_MACHINE/state/enabled/$u" ]; then cat "$HLC_MACHINE/state/enabled/$u"
        read -r en < "$HLC_MACHINE/state/enabled/$u"; [ "$en" = enabled ] || rc=1
      elif [ "$st" = missing ]; then
        echo "Failed to get unit file state for $u.service: No such file or directory" >&2; rc=1
      else echo disabled; rc=1; fi;;
    enable|disable)
      # The boot state; with --now also started (enable) or stopped (disable),
      # as systemctl does. An unknown unit fails as the real one does.
      if [ "$st" = missing ]; then
        echo "Failed to $cmd unit: Unit file $u.service does not exist." >&2; rc=1
      else
        [ -d "$HLC_MACHINE/state/enabled" ] || mkdir -p "$HLC_MACHINE/state/enabled"
        echo "${cmd}d" > "$HLC_MACHINE/state/enabled/$u"
        if [ -n "$now" ] && [ "$st" != broken ]; then
          if [ "$cmd" = enable ]; then echo active > "$S/$u"; else echo inactive > "$S/$u"; fi
        fi
      fi;;
    list-units) ;;
    *) echo "systemctl stand-in: unsupported command $cmd" >&2; rc=1;;
  esac
done
if [ "$cmd" = list-units ]; then
  # `list-units --state=failed --no-legend --plain`: the failed (and broken) units.
  for f in "$S"/*; do
    [ -f "$f" ] || continue
    read -r st rest < "$f"
    case "$st" in failed|broken) u=${f##*/}; echo "$u.service loaded failed failed $u stand-in unit";; esac
  done
fi
exit $rc
"""

DOCKER = r"""#!/bin/sh
# Stand-in for the docker CLI (see tests/integration/sshd.py).
C="$HLC_MACHINE/state/containers"
[ -d "$C" ] || mkdir -p "$C"
echo "$$ docker $*" >> "$HLC_MACHINE/commands.log"
case "$1" in
  ps)
    for f in "$C"/*; do
      [ -f "$f" ] || continue
      n=$(basename "$f"); st=$(cat "$f")
      case "$st" in
        running) status="Up 2 hours";;
        exited) status="Exited (0) 5 minutes ago";;
        *) status="$st";;
      esac
      id=$(printf '%s' "$n" | sha256sum | cut -c1-64)
      printf '{"Command":"\\"/init\\"","CreatedAt":"2026-11-01 10:00:00 +0000 UTC","ID":"%s","Image":"example/%s:latest","Labels":"","LocalVolumes":"0","Mounts":"","Names":"%s","Networks":"bridge","Ports":"","RunningFor":"3 weeks ago","Size":"0B","State":"%s","Status":"%s"}\n' "$id" "$n" "$n" "$st" "$status"
    done;;
  start|restart)
    shift; rc=0
    for n in "$@"; do
      if [ -f "$C/$n" ]; then echo running > "$C/$n"; echo "$n"
      else echo "Error response from daemon: No such container: $n" >&2; rc=1; fi
    done; exit $rc;;
  stop)
    shift; rc=0
    for n in "$@"; do
      if [ -f "$C/$n" ]; then echo exited > "$C/$n"; echo "$n"
      else echo "Error response from daemon: No such container: $n" >&2; rc=1; fi
    done; exit $rc;;
  *) echo "docker stand-in: unsupported command $1" >&2; exit 1;;
esac
"""

APT_GET = r"""#!/bin/sh
# Stand-in for apt-get: `apt-get -s upgrade` prints the Inst lines kept in
# $HLC_MACHINE/state/updates (none by default), as the real simulation does.
echo "$$ apt-get $*" >> "$HLC_MACHINE/commands.log"
case " $* " in
  *" -s "*|*" --simulate "*)
    echo "Reading package lists..."
    echo "Building dependency tree..."
    echo "Calculating upgrade..."
    [ -f "$HLC_MACHINE/state/updates" ] && cat "$HLC_MACHINE/state/updates"
    exit 0;;
esac
echo "apt-get stand-in: only simulations are supported" >&2
exit 100
"""

JOURNALCTL = r"""#!/bin/sh
# Stand-in for `journalctl --vacuum-time=<n>d` (see tests/integration/sshd.py).
# The machine's /var/log/journal is $HLC_MACHINE/journal: archived files
# (<name>@<...>.journal) last written longer ago than the span are deleted and
# named on stderr with the real messages; the active *.journal files stay.
echo "$$ journalctl $*" >> "$HLC_MACHINE/commands.log"
span=""
for a in "$@"; do
  case "$a" in
    --vacuum-time=*) span="${a#--vacuum-time=}";;
    *) echo "journalctl stand-in: unsupported argument $a" >&2; exit 1;;
  esac
done
n="${span%d}"
case "$span:$n" in
  *d:|*d:*[!0-9]*|[!0-9]*|*[!d]:*) echo "Failed to parse vacuum time: $span" >&2; exit 1;;
esac
mins=$((n * 1440))
bytes() { if [ "$1" -lt 1024 ]; then echo "$1B"; else numfmt --to=iec --format=%.1f "$1"; fi; }
J="$HLC_MACHINE/journal"
for d in "$J"/*/; do
  [ -d "$d" ] || continue
  id=$(basename "$d"); freed=0
  for f in $(find "$d" -maxdepth 1 -type f -name '*@*.journal' -mmin +"$mins" | sort); do
    sz=$(stat -c %s "$f"); freed=$((freed + sz))
    rm -f "$f"
    echo "Deleted archived journal /var/log/journal/$id/$(basename "$f") ($(bytes "$sz"))." >&2
  done
  echo "Vacuuming done, freed $(bytes "$freed") of archived journals from /var/log/journal/$id." >&2
done
exit 0
"""

DPKG_QUERY = r"""#!/bin/sh
# Stand-in for `dpkg-query -W -f FORMAT`: the installed set is kept in
# $HLC_MACHINE/state/packages as "name version" lines (set_packages()); each is
# printed in FORMAT with ${Package}, ${Version} and ${db:Status-Abbrev} ("ii ")
# and the \t \n escapes, as the real one does. Without that file the real
# dpkg-query answers.
P="$HLC_MACHINE/state/packages"
[ -f "$P" ] || exec /usr/bin/dpkg-query "$@"
echo "$$ dpkg-query $*" >> "$HLC_MACHINE/commands.log"
fmt='${Package}\t${Version}\n'
while [ $# -gt 0 ]; do
  case "$1" in
    -W|--show) shift;;
    -f|--showformat) fmt="$2"; shift 2;;
    --showformat=*) fmt="${1#--showformat=}"; shift;;
    *) echo "dpkg-query stand-in: unsupported argument $1" >&2; exit 2;;
  esac
done
awk -v fmt="$fmt" '
NF >= 2 { s = fmt
  gsub(/\$\{Package\}/, "\001", s); gsub(/\$\{Version\}/, "\002", s)
  gsub(/\$\{db:Status-Abbrev\}/, "ii ", s); gsub(/\\t/, "\t", s); gsub(/\\n/, "\n", s)
  out = ""
  for (i = 1; i <= length(s); i++) { c = substr(s, i, 1)
    if (c == "\001") out = out $1; else if (c == "\002") out = out $2; else out = out c }
  printf "%s", out }' "$P"
"""
GATE = r"""#!/bin/sh
# ForceCommand gate: logs the command line, waits while the machine "hangs",
# then runs the command as the login shell (sh -c) would have; `eval` in this
# same sh instead of `exec sh -c` saves a process start on every exec.
printf '%s\n' "$SSH_ORIGINAL_COMMAND" >> "$HLC_MACHINE/exec.log"
while [ -f "$HLC_MACHINE/hang" ]; do sleep 0.2; done
eval "$SSH_ORIGINAL_COMMAND"
"""


def _run(cmd):
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def ensure_users():
    """Creates the test users once (root only): /bin/sh login shell, stable home."""
    os.makedirs(HOME, exist_ok=True)
    try:
        pwd.getpwnam(USER)
    except KeyError:
        _run(["useradd", "-M", "-d", HOME, "-s", "/bin/sh", USER])
    try:
        pwd.getpwnam(ROOT_USER)
    except KeyError:
        _run(["useradd", "-o", "-u", "0", "-g", "0", "-M", "-d", HOME, "-s", "/bin/sh", ROOT_USER])
    # A '*' password field: not locked (sshd refuses '!' accounts), no password.
    _run(["usermod", "-p", "*", USER])
    _run(["usermod", "-p", "*", ROOT_USER])
    uid = pwd.getpwnam(USER).pw_uid
    os.chown(HOME, uid, -1)
    os.chmod(HOME, 0o755)
    os.makedirs("/run/sshd", exist_ok=True)


def free_port(host):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def loopback_ip(n):
    """The n-th test address: 127.0.0.2 .. 127.0.0.251, then 127.0.1.2 ..."""
    return f"127.0.{(n - 2) // 250}.{(n - 2) % 250 + 2}"


class Machine:
    """One fake machine: a real sshd on host:port with its own state."""

    extra_config = ""  # sshd_config lines for the next start(), winning over ours

    def __init__(self, base, index, pubkey_lines, ip=None, name=None):
        self.name = name or f"m{index}"
        self.host = ip or f"127.0.0.{index + 2}"
        self.dir = os.path.join(base, self.name)
        self.port = None
        self.proc = None
        self.pid = None
        self.pubkey_lines = pubkey_lines
        os.makedirs(os.path.join(self.dir, "bin"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "state", "units"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "state", "containers"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "journal", JOURNAL_ID), exist_ok=True)
        for fname, text in (("systemctl", SYSTEMCTL), ("docker", DOCKER), ("apt-get", APT_GET),
                            ("journalctl", JOURNALCTL), ("dpkg-query", DPKG_QUERY),
                            ("gate", GATE)):
            p = os.path.join(self.dir, "bin", fname)
            with open(p, "w") as f:
                f.write(text)
            os.chmod(p, 0o755)
        for log in ("commands.log", "exec.log"):
            open(os.path.join(self.dir, log), "a").close()
        self.set_authorized_keys(pubkey_lines)
        self.regen_host_key()
        uid = pwd.getpwnam(USER).pw_uid
        for root, dirs, files in os.walk(self.dir):
            for d in dirs:
                os.chown(os.path.join(root, d), uid, -1)
            for f in files:
                if f not in ("host_key", "sshd_config", "authorized_keys"):
                    os.chown(os.path.join(root, f), uid, -1)
        os.chown(self.dir, uid, -1)
        os.chmod(self.dir, 0o755)

    # ---- configuration --------------------------------------------------
    def set_authorized_keys(self, lines):
        p = os.path.join(self.dir, "authorized_keys")
        with open(p, "w") as f:
            f.write("".join(l.strip() + "\n" for l in lines))
        os.chmod(p, 0o644)

    def regen_host_key(self):
        p = os.path.join(self.dir, "host_key")
        for f in (p, p + ".pub"):
            if os.path.exists(f):
                os.unlink(f)
        _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", p])
        os.chmod(p, 0o600)

    def host_key_fingerprint(self):
        out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f",
                              os.path.join(self.dir, "host_key.pub")],
                             check=True, capture_output=True, text=True).stdout
        return out.split()[1]

    def _write_config(self):
        cfg = f"""ListenAddress {self.host}:{self.port}
HostKey {self.dir}/host_key
PidFile {self.dir}/sshd.pid
AuthorizedKeysFile {self.dir}/authorized_keys
UsePAM no
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin no
AllowUsers {USER} {ROOT_USER}
SetEnv PATH={self.dir}/bin:/usr/bin:/bin HLC_MACHINE={self.dir}
ForceCommand {self.dir}/bin/gate
MaxSessions 64
MaxStartups 200:30:400
LoginGraceTime 30
ClientAliveInterval 0
PrintMotd no
LogLevel ERROR
Subsystem sftp internal-sftp
"""
        cfg = self.extra_config + cfg  # sshd keeps a keyword's first value
        with open(os.path.join(self.dir, "sshd_config"), "w") as f:
            f.write(cfg)

    def set_thermal(self, zones):
        """Thermal zones [(type, millidegrees C)] the collector finds at
        /sys/class/thermal from the next start() on (module docstring)."""
        d = os.path.join(self.dir, "thermal")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for i, (zone, milli) in enumerate(zones):
            z = os.path.join(d, f"thermal_zone{i}")
            os.makedirs(z)
            for name, v in (("type", zone), ("temp", str(int(milli)))):
                with open(os.path.join(z, name), "w") as f:
                    f.write(v + "\n")
                os.chmod(os.path.join(z, name), 0o644)

    # ---- lifecycle ------------------------------------------------------
    def start(self, detach=False):
        if self.port is None:
            self.port = free_port(self.host)
        self._write_config()
        log = open(os.path.join(self.dir, "sshd.log"), "ab")
        cmd = [SSHD, "-D", "-e", "-f", os.path.join(self.dir, "sshd_config")]
        thermal = os.path.join(self.dir, "thermal")
        if os.path.isdir(thermal):
            # unshare and sh exec into sshd: the PID stays sshd's
            cmd = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                   'mount --bind "$0" /sys/class/thermal && exec "$@"', thermal] + cmd
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, start_new_session=detach)
        log.close()
        self.pid = self.proc.pid
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sshd for {self.name} exited: " + self.sshd_log())
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5) as s:
                    if s.recv(4).startswith(b"SSH-"):
                        return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"sshd for {self.name} did not come up: " + self.sshd_log())

    def _descendants(self, pid):
        """PIDs of every process below pid (sshd's per-connection children
        call setsid, so a process group does not reach them)."""
        children = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(d))
        out, todo = [], [pid]
        while todo:
            for c in children.get(todo.pop(), []):
                out.append(c)
                todo.append(c)
        return out

    def stop(self):
        """Stops sshd and drops every open connection, as a machine going
        down would."""
        pid = self.proc.pid if self.proc else self.pid
        if pid:
            for c in self._descendants(pid):
                try:
                    os.kill(c, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        elif self.pid and not self.proc:
            try:
                os.kill(self.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.pid = None
        self.proc = None

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def sshd_log(self):
        try:
            with open(os.path.join(self.dir, "sshd.log"), errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    # ---- machine state --------------------------------------------------
    def set_unit(self, unit, state, cpu_ns=None):
        """state: active, inactive, failed, broken (fails to start); cpu_ns:
        the CPUUsageNSec an active unit reports (1.5 s when not given)."""
        unit = unit[:-8] if unit.endswith(".service") else unit
        p = os.path.join(self.dir, "state", "units", unit)
        with open(p, "w") as f:
            f.write(state + (f" {int(cpu_ns)}" if cpu_ns is not None else "") + "\n")
        os.chown(p, pwd.getpwnam(USER).pw_uid, -1)

    def set_enabled(self, unit, state):
        """Boot state for `systemctl is-enabled`: enabled, disabled, masked, static."""
        d = os.path.join(self.dir, "state", "enabled")
        os.makedirs(d, exist_ok=True)
        p = os.path.join(d, unit[:-8] if unit.endswith(".service") else unit)
        with open(p, "w") as f:
            f.write(state + "\n")

    def unit_state(self, unit):
        unit = unit[:-8] if unit.endswith(".service") else unit
        try:
            with open(os.path.join(self.dir, "state", "units", unit)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def set_container(self, name, state):
        p = os.path.join(self.dir, "state", "containers", name)
        with open(p, "w") as f:
            f.write(state + "\n")
        os.chown(p, pwd.getpwnam(USER).pw_uid, -1)

    def container_state(self, name):
        try:
            with open(os.path.join(self.dir, "state", "containers", name)) as f:
                return f.read().strip()
        except FileNotFoundError:
            return None

    def set_updates(self, packages, security=()):
        """Pending upgrades as apt-get -s upgrade would list them."""
        lines = [f"Inst {p} [1.0] (1.1 Debian:12.8/stable [amd64])" for p in packages]
        lines += [f"Inst {p} [1.0] (1.1 Debian-Security:12/stable-security [amd64])"
                  for p in security]
        p = os.path.join(self.dir, "state", "updates")
        with open(p, "w") as f:
            f.write("".join(l + "\n" for l in lines))
        os.chown(p, pwd.getpwnam(USER).pw_uid, -1)

    def set_packages(self, packages):
        """The installed package set dpkg-query lists: {name: version}."""
        p = os.path.join(self.dir, "state", "packages")
        with open(p, "w") as f:
            f.write("".join(f"{n} {v}\n" for n, v in sorted(packages.items())))
        os.chown(p, pwd.getpwnam(USER).pw_uid, -1)

    def add_journal_file(self, name, size, age_days):
        """A journal file of `size` bytes last written `age_days` ago."""
        p = os.path.join(self.dir, "journal", JOURNAL_ID, name)
        with open(p, "wb") as f:
            f.write(b"LPKSHHRH" + b"\0" * (size - 8))
        t = time.time() - age_days * 86400
        os.utime(p, (t, t))
        os.chown(p, pwd.getpwnam(USER).pw_uid, -1)
        return p

    def journal_files(self):
        return sorted(os.listdir(os.path.join(self.dir, "journal", JOURNAL_ID)))

    def command_log(self):
        with open(os.path.join(self.dir, "commands.log")) as f:
            return [l.rstrip("\n").split(" ", 1)[1] for l in f if " " in l]

    def exec_log(self):
        with open(os.path.join(self.dir, "exec.log")) as f:
            return [l.rstrip("\n") for l in f]

    def hang(self, on=True):
        """While on, every command the machine is asked to run waits."""
        p = os.path.join(self.dir, "hang")
        if on:
            open(p, "w").close()
        elif os.path.exists(p):
            os.unlink(p)

    def as_json(self):
        return {"name": self.name, "host": self.host, "port": self.port, "dir": self.dir,
                "pid": self.pid}


class Fleet:
    """N machines on 127.0.0.2.. for one test; everything stopped on exit."""

    def __init__(self, count, pubkey_lines, base=None, first_ip=2):
        if isinstance(pubkey_lines, str):
            pubkey_lines = [pubkey_lines]
        ensure_users()
        self.own = base is None
        self.base = base or tempfile.mkdtemp(prefix="hlc-sshd-")
        os.makedirs(self.base, exist_ok=True)
        os.chmod(self.base, 0o755)
        self.machines = [Machine(self.base, i, pubkey_lines, ip=loopback_ip(first_ip + i))
                         for i in range(count)]
        self.user = USER

    def start(self, detach=False):
        for m in self.machines:
            m.start(detach=detach)
        return self

    def stop(self):
        for m in self.machines:
            m.stop()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        if self.own:
            shutil.rmtree(self.base, ignore_errors=True)
        return False


def _cli():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    up = sub.add_parser("up")
    up.add_argument("--dir", required=True)
    up.add_argument("--count", type=int, required=True)
    up.add_argument("--pubkey-file", required=True)
    up.add_argument("--first-ip", type=int, default=2)
    up.add_argument("--thermal", action="store_true", help="give each machine THERMAL_FIXTURE")
    down = sub.add_parser("down")
    down.add_argument("--dir", required=True)
    rekey = sub.add_parser("rekey", help="reinstall one machine: new host key, sshd restarted")
    rekey.add_argument("--dir", required=True)
    rekey.add_argument("--name", required=True)
    a = ap.parse_args()
    if a.cmd == "rekey":
        p = os.path.join(a.dir, "fleet.json")
        with open(p) as f:
            doc = json.load(f)
        m = next(x for x in doc["machines"] if x["name"] == a.name)
        mach = Machine.__new__(Machine)
        mach.name, mach.host, mach.port, mach.dir = m["name"], m["host"], m["port"], m["dir"]
        mach.proc, old = None, m["pid"]
        mach.pid = old
        mach.stop()
        deadline = time.time() + 10
        while time.time() < deadline:  # the old sshd lets go of the port
            try:
                os.kill(old, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        mach.regen_host_key()
        mach.start(detach=True)
        m["pid"] = mach.pid
        with open(p, "w") as f:
            json.dump(doc, f)
        print(json.dumps(m))
        return 0
    if a.cmd == "up":
        os.makedirs(a.dir, exist_ok=True)
        with open(a.pubkey_file) as f:
            keys = [l for l in f.read().splitlines() if l.strip()]
        fleet = Fleet(a.count, keys, base=a.dir, first_ip=a.first_ip)
        if a.thermal:
            for m in fleet.machines:
                m.set_thermal(THERMAL_FIXTURE)
        fleet.start(detach=True)
        doc = {"user": fleet.user, "machines": [m.as_json() for m in fleet.machines]}
        with open(os.path.join(a.dir, "fleet.json"), "w") as f:
            json.dump(doc, f)
        print(json.dumps(doc))
    else:
        try:
            with open(os.path.join(a.dir, "fleet.json")) as f:
                doc = json.load(f)
        except FileNotFoundError:
            return
        for m in doc["machines"]:
            mach = Machine.__new__(Machine)
            mach.proc, mach.pid = None, m["pid"]
            mach.stop()


if __name__ == "__main__":
    sys.exit(_cli())
