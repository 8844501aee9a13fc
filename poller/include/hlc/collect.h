/* collect.h - the collector script sent to a machine's shell, the exec line
 * that runs it, and the pure parser from its output to a struct hlc_sample.
 *
 * The script is POSIX sh (LC_ALL=C), read by `sh -s` from stdin, one exec per
 * poll. It prints sections, each opened by a line `<<<name>>>` (as Checkmk's
 * agent does); a section a host cannot give is simply missing. Sections:
 *
 *   osrelease  /etc/os-release verbatim (KEY=value; ID, VERSION_ID, PRETTY_NAME used)
 *   uname      `hostname=<uname -n>`, `kernel=<uname -r>`, `arch=<uname -m>` lines
 *   stat       /proc/stat (the script sends the cpu*, btime lines; the whole
 *              file is accepted): aggregate jiffies, online CPUs (cpuN lines
 *              when no `cpus` section), boot time (btime)
 *   cpus       one integer: `getconf _NPROCESSORS_ONLN`
 *   meminfo    /proc/meminfo verbatim (MemTotal, MemAvailable or its estimate
 *              MemFree+Buffers+Cached, SwapTotal, SwapFree)
 *   df         `df -P -T -B1` (or `df -P -B1` where -T is unknown: no fstype):
 *              pseudo filesystems (tmpfs, devtmpfs, overlay, squashfs, proc,
 *              sysfs, cgroup...) and zero-sized ones are skipped
 *   netdev     /proc/net/dev verbatim; lo is skipped
 *   loadavg    /proc/loadavg verbatim
 *   uptime     /proc/uptime verbatim
 *   thermal    `<type> <millidegrees>` lines from /sys/class/thermal/thermal_zoneN
 *              and /sys/class/hwmon/hwmonN/tempM_input (type = hwmon name)
 *   nvidia     `nvidia-smi --query-gpu=index,name,utilization.gpu,memory.used,
 *              memory.total,temperature.gpu,power.draw --format=csv,noheader,
 *              nounits` (memory in MiB; [N/A] / [Not Supported] = unknown),
 *              only where nvidia-smi is on PATH
 *   amdgpu     `<card> <busy %> <vram used B> <vram total B> <temp m°C> <power µW>`
 *              lines from /sys/class/drm/cardN/device (gpu_busy_percent,
 *              mem_info_vram_used/_total, hwmon/hwmonM/temp1_input,
 *              power1_average); `-` where a file is missing
 *   reboot     `1` when /var/run/reboot-required exists, else `0`
 *   updates    the `Inst ` lines of `apt-get -s upgrade` (only with --updates);
 *              present and empty means nothing to upgrade; a line naming a
 *              `-security` source counts as a security update
 *   services   per expected unit: `Unit=<name as configured>` then the Key=value
 *              lines of `systemctl show -p Id,LoadState,ActiveState,SubState,
 *              MainPID,MemoryCurrent,CPUUsageNSec <name>` (a unit with no
 *              state lines is one systemd could not report)
 *   docker     `docker ps -a --format '{{json .}}'`: one JSON object per line
 *              (ID, Names, Image, State, Status); present only where the
 *              docker CLI works; present and empty means no containers
 *
 * Every number is range-checked; a line that does not parse is skipped; arrays
 * stop at the caps of sample.h (the sample's `truncated` flag says so). */
#ifndef HLC_COLLECT_H
#define HLC_COLLECT_H

#include <stdbool.h>
#include <stddef.h>

#include "hlc/sample.h"

/* The most collector output the parser accepts (1 MiB). */
#define HLC_COLLECT_MAX_OUTPUT (1024u * 1024u)

/* The collector, a NUL-terminated POSIX sh script to send on the exec's stdin. */
extern const char hlc_collect_script[];

/* Builds the exec line that runs the script from stdin: `exec sh -s --` then
 * `--updates` when with_updates, then each expected service name, validated
 * with hlc_shell_valid_unit() and quoted with hlc_shell_quote(). On success
 * *cmd is a heap string the caller free()s. HLC_EINVAL for an invalid name,
 * NULL arguments or more than HLC_SAMPLE_MAX_SERVICES names (*cmd untouched).
 * Thread-safe. */
int hlc_collect_command(const char *const *services, size_t nservices, bool with_updates,
                        char **cmd);

/* Parses the collector's output into out, which the caller initialised with
 * hlc_sample_init() and in which it set `timestamp` (used for boot_time only
 * when /proc/stat's btime is missing). Text before the first section, unknown
 * sections and sections without usable data are ignored. Returns 0,
 * HLC_ETOOBIG when len > HLC_COLLECT_MAX_OUTPUT (out unchanged), HLC_EPARSE
 * when the text holds no section at all or a NUL byte. On any return the caller
 * still owns out and releases it with hlc_sample_release(). Pure: no I/O, no
 * globals; thread-safe. */
int hlc_collect_parse(const char *text, size_t len, struct hlc_sample *out);

/* Parses one section's body into out (adding to what it holds, so a caller
 * can feed several). For `stat`, `meminfo`, `netdev`, `loadavg`, `uptime` and
 * `osrelease` the body is the file verbatim (/proc/stat, /proc/meminfo,
 * /proc/net/dev, /proc/loadavg, /proc/uptime, /etc/os-release), so the push
 * agent can feed files it read itself; other names take the bodies described
 * above. Returns 0 (the section's HLC_HAVE_* bit is set), HLC_EINVAL for an
 * unknown name, HLC_ETOOBIG over HLC_COLLECT_MAX_OUTPUT, HLC_EPARSE when the
 * body yields nothing usable (out keeps what it had for that section). Pure;
 * thread-safe. */
int hlc_collect_parse_section(const char *name, const char *body, size_t len,
                              struct hlc_sample *out);

#endif
