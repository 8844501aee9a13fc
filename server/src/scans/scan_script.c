/* scan_script.c - the POSIX sh script an ad-hoc scan runs on a host. */
#include "scans.h"

/* As the collector's, the body is one function run with stdin from
 * /dev/null (sh has read the whole script first, so no command can eat the
 * rest of it) and its output is printed in one go at the end. Slow or
 * hang-prone commands (df over a dead mount, a package database, a wedged
 * docker daemon or systemd) run under timeout(1) where it exists, so one of
 * them loses its section rather than the scan. Quick sections use the
 * collector's names and formats so its parser reads them. */
const char hlc_scan_script[] =
    "LC_ALL=C; export LC_ALL\n"
    "PATH=\"$PATH:/usr/sbin:/sbin:/usr/bin:/bin\"; export PATH\n"
    "hlc_scan() {\n"
    "  full=0; [ \"${1:-}\" = --full ] && full=1\n"
    "  T=''; command -v timeout >/dev/null 2>&1 && T='timeout 8'\n"
    "  o=/etc/os-release; [ -r $o ] || o=/usr/lib/os-release\n"
    "  if [ -r $o ]; then echo '<<<osrelease>>>'; cat $o; fi\n"
    "  echo '<<<uname>>>'\n"
    "  echo \"hostname=$(uname -n 2>/dev/null)\"; echo \"kernel=$(uname -r 2>/dev/null)\"\n"
    "  echo \"arch=$(uname -m 2>/dev/null)\"\n"
    "  if [ -r /proc/stat ]; then echo '<<<stat>>>'; grep -E '^(cpu|btime)' /proc/stat; fi\n"
    "  if n=$(getconf _NPROCESSORS_ONLN 2>/dev/null); then echo '<<<cpus>>>'; echo \"$n\"; fi\n"
    "  if [ -r /proc/cpuinfo ]; then echo '<<<cpuinfo>>>'\n"
    "    grep -m 1 -E '^(model name|Hardware|Model)[[:space:]]*:' /proc/cpuinfo; fi\n"
    "  for f in meminfo uptime loadavg; do\n"
    "    if [ -r /proc/$f ]; then echo \"<<<$f>>>\"; cat /proc/$f; fi\n"
    "  done\n"
    "  if d=$($T df -P -T -B1 2>/dev/null) || [ -n \"$d\" ]; then\n"
    "    echo '<<<df>>>'; printf '%s\\n' \"$d\"\n"
    "  elif d=$($T df -P -B1 2>/dev/null) || [ -n \"$d\" ]; then\n"
    "    echo '<<<df>>>'; printf '%s\\n' \"$d\"\n"
    "  fi\n"
    "  [ $full = 1 ] || return 0\n"
    "  if command -v ip >/dev/null 2>&1; then\n"
    "    echo '<<<addr>>>'; ip -o addr show 2>/dev/null\n"
    "    echo '<<<link>>>'; ip -o link show 2>/dev/null\n"
    "    echo '<<<route>>>'; ip route show 2>/dev/null; ip -6 route show 2>/dev/null\n"
    "  fi\n"
    "  if [ -r /etc/resolv.conf ]; then echo '<<<dns>>>'\n"
    "    grep -E '^(nameserver|search|domain)[[:space:]]' /etc/resolv.conf; fi\n"
    "  if command -v ss >/dev/null 2>&1; then echo '<<<listen>>>'; ss -H -tuln 2>/dev/null; fi\n"
    "  if p=$(ps -eo pid=,user=,pcpu=,pmem=,rss=,comm= --sort=-pcpu 2>/dev/null); then\n"
    "    echo '<<<ps_cpu>>>'; printf '%s\\n' \"$p\" | head -n 10\n"
    "    echo '<<<ps_mem>>>'\n"
    "    ps -eo pid=,user=,pcpu=,pmem=,rss=,comm= --sort=-rss 2>/dev/null | head -n 10\n"
    "  fi\n"
    "  if command -v dpkg-query >/dev/null 2>&1; then\n"
    "    if p=$($T dpkg-query -W -f '${db:Status-Abbrev}\\t${Package}\\t${Version}\\n' "
    "2>/dev/null) || [ -n \"$p\" ]; then echo '<<<dpkg>>>'; printf '%s\\n' \"$p\"; fi\n"
    "  elif command -v apk >/dev/null 2>&1; then\n"
    "    if p=$($T apk info -v 2>/dev/null); then echo '<<<apk>>>'; printf '%s\\n' \"$p\"; fi\n"
    "  elif command -v rpm >/dev/null 2>&1; then\n"
    "    if p=$($T rpm -qa --qf '%{NAME}\\t%{VERSION}-%{RELEASE}\\n' 2>/dev/null); then\n"
    "      echo '<<<rpm>>>'; printf '%s\\n' \"$p\"; fi\n"
    "  elif command -v opkg >/dev/null 2>&1; then\n"
    "    if p=$($T opkg list-installed 2>/dev/null); then echo '<<<opkg>>>'; printf '%s\\n' \"$p\"; fi\n"
    "  fi\n"
    "  if command -v docker >/dev/null 2>&1; then\n"
    "    if c=$($T docker ps -a --format '{{json .}}' 2>/dev/null); then\n"
    "      echo '<<<docker>>>'; printf '%s\\n' \"$c\"; fi\n"
    "  fi\n"
    "  if command -v systemctl >/dev/null 2>&1; then\n"
    "    if u=$(SYSTEMD_BUS_TIMEOUT=5 systemctl list-units --state=failed --no-legend --plain "
    "2>/dev/null); then echo '<<<failed>>>'; printf '%s\\n' \"$u\"; fi\n"
    "  fi\n"
    "}\n"
    "hlc_out=$(hlc_scan \"$@\" </dev/null)\n"
    "printf '%s\\n' \"$hlc_out\"\n"
    "exit 0\n";

const char *
hlc_scan_command(bool full)
{
    return full ? "exec sh -s -- --full" : "exec sh -s --";
}
