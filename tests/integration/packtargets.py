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
if [ -f "$HLC_MACHINE/state/sysctl/$k" ]; then cat "$HLC_MACHINE/state/sysctl/$k"; exit 0; fi
echo "sysctl: cannot stat /proc/sys/$(printf '%s' "$k" | tr . /): No such file or directory" >&2
exit 255
"""

TIMEDATECTL = r"""#!/bin/sh
echo "$$ timedatectl $*" >> "$HLC_MACHINE/commands.log"
if [ "$1" = show ] && [ -f "$HLC_MACHINE/state/timezone" ]; then
  cat "$HLC_MACHINE/state/timezone"; exit 0
fi
echo "Failed to connect to bus: No such file or directory" >&2
exit 1
"""


def install(machine):
    """Puts the three stand-ins in the machine's bin dir."""
    for name, text in (("dpkg-query", DPKG_QUERY), ("sysctl", SYSCTL),
                       ("timedatectl", TIMEDATECTL)):
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
