/* shell.h - the only way text reaches a remote shell: strict name patterns
 * and one quoting function. Every argument of every command the hub runs is
 * checked by a pattern here and then quoted by hlc_shell_quote(). Pure
 * functions, thread-safe, no allocation but the caller's buffer. */
#ifndef HLC_SHELL_H
#define HLC_SHELL_H

#include <stdbool.h>

#include "hlc/base.h"

/* A systemd unit name: ^[A-Za-z0-9][A-Za-z0-9:_.@-]{0,127}$ with no "..". */
bool hlc_shell_valid_unit(const char *s);
/* A Docker container name or id: ^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$ with no "..". */
bool hlc_shell_valid_container(const char *s);
/* A log file path under /var/log: ^/var/log/[A-Za-z0-9_./-]{1,200}$, no "..",
 * no "//", not ending in '/'. */
bool hlc_shell_valid_log_path(const char *s);

/* Appends s to b inside single quotes, each ' written as '\'' so the shell
 * takes every byte literally. 0 or HLC_ETOOBIG (b unchanged). Refuses (HLC_EINVAL)
 * strings holding NUL-free control characters other than tab, since no
 * name we run ever needs them. */
int hlc_shell_quote(struct hlc_buf *b, const char *s);

#endif
