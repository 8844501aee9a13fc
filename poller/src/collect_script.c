/* collect_script.c - the POSIX sh collector and the exec line that runs it. */
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/collect.h"
#include "hlc/shell.h"

/* The whole body is one function called with stdin from /dev/null: sh has
 * read every byte of the script before anything runs, so no command (apt-get,
 * docker, systemctl) can swallow the rest of the script from the exec's stdin.
 * Slow or hang-prone commands (df on a stale NFS mount, apt-get on a Pi,
 * a wedged docker daemon) run under timeout(1) where it exists, short enough
 * that the whole script stays inside the hub's default 10 s exec timeout: a
 * command that runs over loses its section, not the sample. A section
 * is printed only when its source could be read, so a missing one means the
 * host cannot give it. The output is gathered and printed at the end in one
 * go, so it crosses the SSH channel in a few packets rather than one per
 * command (the hub's CPU per poll is mostly per-packet work). One-line files
 * are read with the `read` builtin, uname runs once and getconf only when
 * /proc/stat is missing (the parser counts its cpuN lines, the online CPUs):
 * every process the script starts is CPU on the monitored machine (a Pi) on
 * every poll. */
const char hlc_collect_script[] =
    "LC_ALL=C; export LC_ALL\n"
    "PATH=\"$PATH:/usr/sbin:/sbin:/usr/bin:/bin\"; export PATH\n"
    "hlc_main() {\n"
    "  upd=0\n"
    "  if [ \"${1:-}\" = --updates ]; then upd=1; shift; fi\n"
    "  T=''; TA=''\n"
    "  if command -v timeout >/dev/null 2>&1; then T='timeout 4'; TA='timeout 6'; fi\n"
    "  if [ -r /etc/os-release ]; then echo '<<<osrelease>>>'; cat /etc/os-release\n"
    "  elif [ -r /usr/lib/os-release ]; then echo '<<<osrelease>>>'; cat /usr/lib/os-release; fi\n"
    "  un=$(uname -n -r -m 2>/dev/null); hn=${un%% *}; un=${un#* }\n"
    "  echo '<<<uname>>>'\n"
    "  printf 'hostname=%s\\nkernel=%s\\narch=%s\\n' \"$hn\" \"${un%% *}\" \"${un#* }\"\n"
    "  if [ -r /proc/stat ]; then echo '<<<stat>>>'; grep -E '^(cpu|btime)' /proc/stat\n"
    "  elif n=$(getconf _NPROCESSORS_ONLN 2>/dev/null); then echo '<<<cpus>>>'; echo \"$n\"; fi\n"
    "  if [ -r /proc/meminfo ]; then echo '<<<meminfo>>>'; cat /proc/meminfo; fi\n"
    "  if d=$($T df -P -T -B1 2>/dev/null) || [ -n \"$d\" ]; then\n"
    "    echo '<<<df>>>'; printf '%s\\n' \"$d\"\n"
    "  elif d=$($T df -P -B1 2>/dev/null) || [ -n \"$d\" ]; then\n"
    "    echo '<<<df>>>'; printf '%s\\n' \"$d\"\n"
    "  fi\n"
    "  if [ -r /proc/net/dev ]; then echo '<<<netdev>>>'; cat /proc/net/dev; fi\n"
    "  if [ -r /proc/loadavg ] && read -r l </proc/loadavg; then\n"
    "    printf '<<<loadavg>>>\\n%s\\n' \"$l\"; fi\n"
    "  if [ -r /proc/uptime ] && read -r l </proc/uptime; then\n"
    "    printf '<<<uptime>>>\\n%s\\n' \"$l\"; fi\n"
    "  t=''\n"
    "  for z in /sys/class/thermal/thermal_zone*; do\n"
    "    [ -r \"$z/temp\" ] || continue\n"
    "    read -r v 2>/dev/null <\"$z/temp\" || continue\n"
    "    read -r n 2>/dev/null <\"$z/type\" || n=thermal\n"
    "    t=\"$t$n $v\n\"\n"
    "  done\n"
    "  for h in /sys/class/hwmon/hwmon*; do\n"
    "    [ -r \"$h/name\" ] || continue\n"
    "    read -r n 2>/dev/null <\"$h/name\" || continue\n"
    "    for f in \"$h\"/temp*_input; do\n"
    "      [ -r \"$f\" ] || continue\n"
    "      read -r v 2>/dev/null <\"$f\" || continue\n"
    "      t=\"$t$n $v\n\"\n"
    "    done\n"
    "  done\n"
    "  if [ -n \"$t\" ]; then echo '<<<thermal>>>'; printf '%s' \"$t\"; fi\n"
    "  echo '<<<reboot>>>'\n"
    "  if [ -e /var/run/reboot-required ]; then echo 1; else echo 0; fi\n"
    "  if [ \"$upd\" = 1 ] && command -v apt-get >/dev/null 2>&1; then\n"
    "    if u=$($TA apt-get -s -o Debug::NoLocking=true upgrade 2>/dev/null); then\n"
    "      echo '<<<updates>>>'; printf '%s\\n' \"$u\" | grep '^Inst '\n"
    "    fi\n"
    "  fi\n"
    "  if [ $# -gt 0 ] && command -v systemctl >/dev/null 2>&1; then\n"
    "    echo '<<<services>>>'\n"
    "    for u in \"$@\"; do\n"
    "      echo \"Unit=$u\"\n"
    "      $T systemctl show -p Id,LoadState,ActiveState,SubState,MainPID,MemoryCurrent,"
    "CPUUsageNSec \"$u\" 2>/dev/null\n"
    "    done\n"
    "  fi\n"
    "  if command -v docker >/dev/null 2>&1; then\n"
    "    if c=$($T docker ps -a --format '{{json .}}' 2>/dev/null); then\n"
    "      echo '<<<docker>>>'; printf '%s\\n' \"$c\"\n"
    "    fi\n"
    "  fi\n"
    "}\n"
    "hlc_out=$(hlc_main \"$@\" </dev/null)\n"
    "printf '%s\\n' \"$hlc_out\"\n"
    "exit 0\n";

int
hlc_collect_command(const char *const *services, size_t nservices, bool with_updates, char **cmd)
{
    if (!cmd || (nservices > 0 && !services) || nservices > HLC_SAMPLE_MAX_SERVICES)
        return HLC_EINVAL;
    for (size_t i = 0; i < nservices; i++)
        if (!hlc_shell_valid_unit(services[i]))
            return HLC_EINVAL;
    struct hlc_buf b;
    hlc_buf_init(&b, 64 * 1024);
    int rc = hlc_buf_append(&b, "sh -s --", 8);
    if (rc == 0 && with_updates)
        rc = hlc_buf_append(&b, " --updates", 10);
    for (size_t i = 0; rc == 0 && i < nservices; i++) {
        rc = hlc_buf_append(&b, " ", 1);
        if (rc == 0)
            rc = hlc_shell_quote(&b, services[i]);
    }
    if (rc != 0) {
        hlc_buf_release(&b);
        return HLC_EINVAL;
    }
    *cmd = hlc_buf_steal(&b);
    return 0;
}
