/* shell.c - name patterns and the one shell-quoting function. */
#include "hlc/shell.h"

#include <string.h>

static bool
name_chars(const char *s, size_t max, const char *extra)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    unsigned char c0 = (unsigned char)s[0];
    if (!((c0 >= 'a' && c0 <= 'z') || (c0 >= 'A' && c0 <= 'Z') || (c0 >= '0' && c0 <= '9')))
        return false;
    for (size_t i = 1; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  (c != 0 && strchr(extra, c) != NULL);
        if (!ok)
            return false;
    }
    return strstr(s, "..") == NULL;
}

bool
hlc_shell_valid_unit(const char *s)
{
    return s && name_chars(s, 128, ":_.@-");
}

bool
hlc_shell_valid_container(const char *s)
{
    return s && name_chars(s, 128, "_.-");
}

bool
hlc_shell_valid_log_path(const char *s)
{
    static const char prefix[] = "/var/log/";
    if (!s || strncmp(s, prefix, sizeof(prefix) - 1) != 0)
        return false;
    const char *rest = s + sizeof(prefix) - 1;
    size_t n = strlen(rest);
    if (n == 0 || n > 200 || rest[0] == '/' || rest[n - 1] == '/')
        return false;
    if (strstr(s, "..") || strstr(s, "//"))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)rest[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || c == '.' || c == '/' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

int
hlc_shell_quote(struct hlc_buf *b, const char *s)
{
    for (const char *p = s; *p; p++)
        if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
            return HLC_EINVAL;
    size_t mark = b->len;
    int rc = hlc_buf_append(b, "'", 1);
    for (const char *p = s; rc == 0 && *p; p++)
        rc = *p == '\'' ? hlc_buf_append(b, "'\\''", 4) : hlc_buf_append(b, p, 1);
    if (rc == 0)
        rc = hlc_buf_append(b, "'", 1);
    if (rc != 0) {
        b->len = mark;
        if (b->data)
            b->data[mark] = '\0';
    }
    return rc;
}
