/* pack_internal.h - what the pack_*.c files share: the strict patterns every
 * value that reaches a shell is checked against. */
#ifndef HLC_PACK_INTERNAL_H
#define HLC_PACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

#include "hlc/pack.h"

/* ^[a-z0-9][a-z0-9_-]{0,63}$ */
bool pack_valid_name(const char *s);
/* Absolute, at most HLC_PACK_MAX_PATH bytes of [A-Za-z0-9._@+,=:~/-], no
 * empty, "." or ".." component (so no "//" and no trailing '/'). */
bool pack_valid_path(const char *s);
/* Debian policy's package name: ^[a-z0-9][a-z0-9+.-]+$, at most 128. */
bool pack_valid_package(const char *s);
/* A user or group name: ^[a-z_][a-z0-9_-]{0,31}$ (Debian's NAME_REGEX). */
bool pack_valid_account(const char *s);
/* A sysctl key: ^[a-z][a-z0-9_]*(\.[A-Za-z0-9_-]+){1,15}$, at most 128. */
bool pack_valid_sysctl_key(const char *s);
/* A sysctl value: 1..128 of [A-Za-z0-9 \t._:,/+-]. */
bool pack_valid_sysctl_value(const char *s);
/* A tz database name: ^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+){0,2}$, at most 64. */
bool pack_valid_timezone(const char *s);
/* One line of text: 1..HLC_PACK_MAX_LINE bytes of well-formed UTF-8 with no
 * control character but tab. */
bool pack_valid_text_line(const char *s);
/* Well-formed UTF-8 with no NUL and no control characters but \t \n \r. */
bool pack_valid_text(const char *s, size_t n);

/* The key under which a later pack's item replaces an earlier one. */
char *pack_item_key(const struct hlc_pack_item *it);
/* Frees the heap strings of one item. */
void pack_item_release(struct hlc_pack_item *it);
/* Deep copy. */
void pack_item_copy(struct hlc_pack_item *dst, const struct hlc_pack_item *src);
/* Hex SHA-256 of n bytes into out[65]. */
void pack_sha256_hex(const void *data, size_t n, char out[65]);

/* Whether an item's target and values all pass their patterns, so the check
 * script may quote them (pack_check.c). Owner, group and a file's content
 * are the apply script's to check. */
bool pack_item_valid(const struct hlc_pack_item *it);
/* Ends a generated script: when rc is 0, appends the n bytes of tail and
 * hands b's text to *script (the caller frees it); otherwise, or when that
 * append fails, releases b and returns HLC_EINVAL (pack_check.c). */
int pack_script_end(struct hlc_buf *b, int rc, const char *tail, size_t n, char **script);

#endif
