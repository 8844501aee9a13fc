"""Stand-ins that give a test machine (tests/integration/sshd.py) its own
package list, sysctl values and timezone, for config-pack checks.

  dpkg-query -W -f=FORMAT NAME...   for each NAME listed in
      $HLC_MACHINE/state/packages ("<name> <status-abbrev> <version>" lines,
      e.g. "git ii 1:2.39.5-0+deb12u1"), prints FORMAT with ${Package},
      ${db:Status-Abbrev} (three characters, the third a space as dpkg
      prints it when there is no error flag) and ${Version} filled in and
      "\\n" as a newline; for a NAME it does not know, prints
      "dpkg-query: no packages found matching NAME" on stderr, and exits 1
      if any NAME was unknown (dpkg-query's documented behaviour).
  sysctl -n KEY                     prints $HLC_MACHINE/state/sysctl/KEY, or
      sysctl's own error ("sysctl: cannot stat /proc/sys/...") and exit 255.
  timedatectl show -p Timezone --value   prints $HLC_MACHINE/state/timezone.
  timedatectl set-timezone ZONE     writes it (a name /usr/share/zoneinfo lacks
      fails with the real message: "Failed to set time zone: Invalid or not
      installed time zone 'X'", exit 1).
  sysctl -p FILE                    reads "key = value" lines (# and ; comments)
      and sets each in state/sysctl, echoing "key = value" as sysctl does.
  apt-get install -y --no-install-recommends NAME / remove -y NAME   adds
      "NAME ii 1.0-test" to state/packages (a NAME listed in
      state/uninstallable fails with apt's "E: Unable to locate package NAME",
      exit 100; state/slow_install makes it sleep that many seconds first) or
      marks it "rc" (config files remain) as apt-get remove does; -s
      simulations print the Inst lines of state/updates as sshd.py's does.

Limits: other dpkg-query fields, sysctl -a / -w and other timedatectl
verbs are not supported (the checks never use them)."""
import os

DPKG_QUERY = r"""#!/bin/sh
echo "$$ dpkg-query $*" >> "$HLC_MACHINE/commands.log"
fmt='${binary:Package}\t${Version}\n'
while [ $# -gt 0 ]; do
  case "$1" in
    -W|--show) shift;;
    -f) fmt="$2"; shift 2;;
    -f=*) fmt="${1#-f=}"; shift;;
    -f*) fmt="${1#-f}"; shift;;
    --showformat=*) fmt="${1#--showformat=}"; shift;;
    --) shift; break;;
    *) break;;
  esac
done
rc=0
for n in "$@"; do
  line=$(grep "^$n " "$HLC_MACHINE/state/packages" 2>/dev/null | head -n 1)
  if [ -z "$line" ]; then
    echo "dpkg-query: no packages found matching $n" >&2; rc=1; continue
  fi
  printf '%s\n' "$line" | awk -v fmt="$fmt" '{
    ab = $2; while (length(ab) < 3) ab = ab " ";
    out = fmt;
    gsub(/\$\{Package\}/, $1, out); gsub(/\$\{binary:Package\}/, $1, out);
    gsub(/\$\{db:Status-Abbrev\}/, ab, out); gsub(/\$\{Version\}/, $3, out);
    gsub(/\\n/, "\n", out); gsub(/\\t/, "\t", out);
    printf "%s", out }'
done
exit $rc
"""

SYSCTL = r"""#!/bin/sh
echo "$$ sysctl $*" >> "$HLC_MACHINE/commands.log"
[ "$1" = -n ] && shift
k="$1"
if [ "$1" = -p ]; then
  [ -r "$2" ] || { echo "sysctl: cannot open \"$2\": No such file or directory" >&2; exit 255; }
  while IFS= read -r l; do
    case "$l" in ''|'#'*|';'*) continue;; esac
    key=$(printf '%s' "${l%%=*}" | tr -d ' \t'); val=$(printf '%s' "${l#*=}" | sed 's/^[ \t]*//')
    printf '%s\n' "$val" > "$HLC_MACHINE/state/sysctl/$key"; echo "$key = $val"
  done < "$2"
  exit 0
fi
if [ -f "$HLC_MACHINE/state/sysctl/$k" ]; then cat "$HLC_MACHINE/state/sysctl/$k"; exit 0; fi
echo "sysctl: cannot stat /proc/sys/$(printf '%s' "$k" | tr . /): No such file or directory" >&2
exit 255
"""

TIMEDATECTL = r"""#!/bin/sh
echo "$$ timedatectl $*" >> "$HLC_MACHINE/commands.log"
if [ "$1" = set-timezone ]; then
  if [ ! -f "/usr/share/zoneinfo/$2" ]; then
    echo "Failed to set time zone: Invalid or not installed time zone '$2'" >&2; exit 1
  fi
  printf '%s\n' "$2" > "$HLC_MACHINE/state/timezone"; exit 0
fi
if [ "$1" = show ] && [ -f "$HLC_MACHINE/state/timezone" ]; then
  cat "$HLC_MACHINE/state/timezone"; exit 0
fi
echo "Failed to connect to bus: No such file or directory" >&2
exit 1
"""


APT_GET = r"""#!/bin/sh
echo "$$ apt-get $*" >> "$HLC_MACHINE/commands.log"
P="$HLC_MACHINE/state/packages"
case " $* " in
  *" -s "*|*" --simulate "*)
    echo "Reading package lists..."
    echo "Building dependency tree..."
    echo "Calculating upgrade..."
    [ -f "$HLC_MACHINE/state/updates" ] && cat "$HLC_MACHINE/state/updates"
    exit 0;;
esac
verb=""; names=""
for a in "$@"; do
  case "$a" in
    -*) ;;
    install|remove) [ -z "$verb" ] && verb=$a;;
    *) names="$names $a";;
  esac
done
[ -n "$verb" ] || { echo "apt-get stand-in: unsupported: $*" >&2; exit 100; }
[ -f "$HLC_MACHINE/state/slow_install" ] && sleep "$(cat "$HLC_MACHINE/state/slow_install")"
touch "$P"
for n in $names; do
  if [ "$verb" = install ] && grep -qx "$n" "$HLC_MACHINE/state/uninstallable" 2>/dev/null; then
    echo "E: Unable to locate package $n" >&2; exit 100
  fi
done
for n in $names; do
  grep -v "^$n " "$P" > "$P.new"
  if [ "$verb" = install ]; then echo "$n ii 1.0-test" >> "$P.new"
  elif grep -q "^$n " "$P"; then echo "$n rc 1.0-test" >> "$P.new"; fi
  mv "$P.new" "$P"
done
exit 0
"""


def install(machine):
    """Puts the stand-ins in the machine's bin dir."""
    for name, text in (("dpkg-query", DPKG_QUERY), ("sysctl", SYSCTL),
                       ("timedatectl", TIMEDATECTL), ("apt-get", APT_GET)):
        p = os.path.join(machine.dir, "bin", name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, 0o755)
    os.makedirs(os.path.join(machine.dir, "state", "sysctl"), exist_ok=True)


def set_packages(machine, rows):
    """rows: [(name, abbrev, version)], e.g. ("git", "ii", "1:2.39.5")."""
    with open(os.path.join(machine.dir, "state", "packages"), "w") as f:
        f.write("".join(f"{n} {a} {v}\n" for n, a, v in rows))


def set_sysctl(machine, key, value):
    with open(os.path.join(machine.dir, "state", "sysctl", key), "w") as f:
        f.write(value + "\n")


def set_timezone(machine, tz):
    with open(os.path.join(machine.dir, "state", "timezone"), "w") as f:
        f.write(tz + "\n")
