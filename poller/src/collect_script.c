/* collect_script.c - the POSIX sh collector and the exec line that runs it. */
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/collect.h"
#include "hlc/shell.h"

/* The whole body is one function called with stdin from /dev/null: sh has
 * read every byte of the script before anything runs, so no command (apt-get,
 * docker, systemctl) can swallow the rest of the script from the exec's stdin.
 *
 * Every process the script starts is CPU on the monitored machine (a Pi) on
 * every poll, and a fork+exec costs about as much as everything else a
 * section does (0.7 ms for a cat, 1.4 ms for timeout(1) alone, measured on
 * the bench machine), so the script starts as few as it can:
 * - one awk reads every /proc and /etc file the sample needs (os-release,
 *   stat, meminfo, net/dev, loadavg, uptime, and the kernel's hostname,
 *   release and architecture under /proc/sys/kernel, which make uname
 *   unnecessary where the kernel has kernel/arch) and prints each under its
 *   section header (of /proc/stat and meminfo only the lines the parser reads,
 *   so fewer bytes cross the wire); it also looks at /proc/mounts and says by its exit code
 *   (3) whether a network filesystem is mounted;
 * - df runs under timeout(1) only then: a local filesystem does not hang
 *   statfs, a stale NFS mount does;
 * - all expected units go to one `systemctl show` (its blocks come back in
 *   the order asked, separated by blank lines; Asked= lines name them),
 *   bounded by systemd's own $SYSTEMD_BUS_TIMEOUT (systemd >= 246) instead of
 *   timeout(1), which alone costs as much as systemctl; an older systemd
 *   ignores it, and a wedged PID 1 there costs the sample to the hub's exec
 *   timeout instead of only the services section;
 * - temperatures and one-line files are read with the `read` builtin;
 * - GPUs cost nothing where there are none: `command -v nvidia-smi` and the
 *   glob over /sys/class/drm with `[ -r ]` are builtins, so nvidia-smi is
 *   the only process, and only where it is installed.
 * Other slow or hang-prone commands (df over a network mount, apt-get on a
 * Pi, a wedged docker daemon) run under timeout(1)
 * where it exists, short enough that the whole script stays inside the hub's
 * default 10 s exec timeout: a command that runs over loses its section, not
 * the sample. A section is printed only when its source could be read, so a
 * missing one means the host cannot give it. Without awk (rare: POSIX and
 * busybox both have it) each file is printed by cat instead. The output is
 * gathered and printed at the end in one go, so it crosses the SSH channel in
 * a few packets rather than one per command. */
const char hlc_collect_script[] =
    "LC_ALL=C; export LC_ALL\n"
    "PATH=\"$PATH:/usr/sbin:/sbin:/usr/bin:/bin\"; export PATH\n"
    "hlc_files() {\n"
    "  awk -v ar=\"$1\" '\n"
    "FNR == 1 {\n"
    "  f = FILENAME; s = \"uname\"\n"
    "  if (f == \"/proc/mounts\") s = \"\"; else if (f ~ /os-release$/) s = \"osrelease\"\n"
    "  else if (f == \"/proc/stat\") s = \"stat\"; else if (f == \"/proc/meminfo\") s = \"meminfo\"\n"
    "  else if (f == \"/proc/net/dev\") s = \"netdev\"; else if (f == \"/proc/loadavg\") s = \"loadavg\"\n"
    "  else if (f == \"/proc/uptime\") s = \"uptime\"\n"
    "  if (s != \"\" && !(s == \"uname\" && un++)) print \"<<<\" s \">>>\"\n"
    "}\n"
    "s == \"\" { if ($3 ~ /^(nfs4?|cifs|smb3|smbfs|9p|ceph|afs|ncpfs|davfs|lustre|gpfs|"
    "fuse\\.(sshfs|glusterfs|rclone|s3fs))$/) net = 1; next }\n"
    "s == \"stat\" && !/^(cpu|btime)/ { next }\n"
    "s == \"meminfo\" && !/^(Mem(Total|Free|Available)|Buffers|Cached|Swap(Total|Free)):/ "
    "{ next }\n"
    "s == \"uname\" { k = f; sub(/.*\\//, \"\", k); if (k == \"osrelease\") k = \"kernel\"\n"
    "  print k \"=\" $0; next }\n"
    "{ print }\n"
    "END { if (ar != \"\") { if (!un) print \"<<<uname>>>\"; print \"arch=\" ar }; exit net ? 3 : 0 }\n"
    "' \"$@\" 2>/dev/null\n"
    "}\n"
    "hlc_main() {\n"
    "  upd=0\n"
    "  if [ \"${1:-}\" = --updates ]; then upd=1; shift; fi\n"
    "  T=''; TA=''\n"
    "  if command -v timeout >/dev/null 2>&1; then T='timeout 4'; TA='timeout 6'; fi\n"
    "  o=/etc/os-release; [ -r $o ] || o=/usr/lib/os-release\n"
    "  K=/proc/sys/kernel; ar=''\n"
    "  [ -r $K/arch ] || ar=$(uname -m 2>/dev/null)\n"
    "  set -f; fl=''\n"
    "  for f in /proc/mounts $o /proc/stat /proc/meminfo /proc/net/dev /proc/loadavg "
    "/proc/uptime $K/hostname $K/osrelease $K/arch; do\n"
    "    [ -r $f ] && fl=\"$fl $f\"\n"
    "  done\n"
    "  hlc_files \"$ar\" $fl; net=$?\n"
    "  if [ $net -ne 0 ] && [ $net -ne 3 ]; then\n"
    "    net=3\n"
    "    for f in $fl; do\n"
    "      case $f in\n"
    "        */os-release) echo '<<<osrelease>>>'; cat $f;;\n"
    "        /proc/stat) echo '<<<stat>>>'; grep -E '^(cpu|btime)' $f;;\n"
    "        /proc/meminfo) echo '<<<meminfo>>>'; cat $f;;\n"
    "        /proc/net/dev) echo '<<<netdev>>>'; cat $f;;\n"
    "        /proc/loadavg) echo '<<<loadavg>>>'; cat $f;;\n"
    "        /proc/uptime) echo '<<<uptime>>>'; cat $f;;\n"
    "      esac\n"
    "    done\n"
    "    un=$(uname -n -r -m 2>/dev/null); hn=${un%% *}; un=${un#* }\n"
    "    printf '<<<uname>>>\\nhostname=%s\\nkernel=%s\\narch=%s\\n' \"$hn\" \"${un%% *}\" "
    "\"${un#* }\"\n"
    "  fi\n"
    "  set +f\n"
    "  if [ ! -r /proc/stat ] && n=$(getconf _NPROCESSORS_ONLN 2>/dev/null); then\n"
    "    echo '<<<cpus>>>'; echo \"$n\"; fi\n"
    "  D=''; [ $net = 3 ] && D=$T\n"
    "  if d=$($D df -P -T -B1 2>/dev/null) || [ -n \"$d\" ]; then\n"
    "    echo '<<<df>>>'; printf '%s\\n' \"$d\"\n"
    "  elif d=$($D df -P -B1 2>/dev/null) || [ -n \"$d\" ]; then\n"
    "    echo '<<<df>>>'; printf '%s\\n' \"$d\"\n"
    "  fi\n"
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
    "  if command -v nvidia-smi >/dev/null 2>&1; then\n"
    "    if g=$($T nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,memory.total,"
    "temperature.gpu,power.draw --format=csv,noheader,nounits 2>/dev/null); then\n"
    "      echo '<<<nvidia>>>'; printf '%s\\n' \"$g\"; fi\n"
    "  fi\n"
    "  g=''\n"
    "  for c in /sys/class/drm/card*/device; do\n"
    "    [ -r \"$c/gpu_busy_percent\" ] || continue\n"
    "    read -r b 2>/dev/null <\"$c/gpu_busy_percent\" || continue\n"
    "    u=-; z=-; k=-; w=-\n"
    "    [ -r \"$c/mem_info_vram_used\" ] && read -r u 2>/dev/null <\"$c/mem_info_vram_used\"\n"
    "    [ -r \"$c/mem_info_vram_total\" ] && read -r z 2>/dev/null <\"$c/mem_info_vram_total\"\n"
    "    for h in \"$c\"/hwmon/hwmon*; do\n"
    "      [ -r \"$h/temp1_input\" ] && read -r k 2>/dev/null <\"$h/temp1_input\"\n"
    "      [ -r \"$h/power1_average\" ] && read -r w 2>/dev/null <\"$h/power1_average\"\n"
    "    done\n"
    "    c=${c%/device}; g=\"$g${c##*/} $b ${u:--} ${z:--} ${k:--} ${w:--}\n\"\n"
    "  done\n"
    "  if [ -n \"$g\" ]; then echo '<<<amdgpu>>>'; printf '%s' \"$g\"; fi\n"
    "  echo '<<<reboot>>>'\n"
    "  if [ -e /var/run/reboot-required ]; then echo 1; else echo 0; fi\n"
    "  if [ \"$upd\" = 1 ] && command -v apt-get >/dev/null 2>&1; then\n"
    "    if u=$($TA apt-get -s -o Debug::NoLocking=true upgrade 2>/dev/null); then\n"
    "      echo '<<<updates>>>'; printf '%s\\n' \"$u\" | grep '^Inst '\n"
    "    fi\n"
    "  fi\n"
    "  if [ $# -gt 0 ] && command -v systemctl >/dev/null 2>&1; then\n"
    "    echo '<<<services>>>'; for u in \"$@\"; do echo \"Asked=$u\"; done\n"
    "    SYSTEMD_BUS_TIMEOUT=4 systemctl show -p Id,LoadState,ActiveState,SubState,MainPID,"
    "MemoryCurrent,CPUUsageNSec -- \"$@\" 2>/dev/null\n"
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
    int rc = hlc_buf_append(&b, "exec sh -s --", 13);
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
