/* agent_config.c - the agent's configuration file (libyaml) and settings. */
#include "agent_config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "hlc/base.h"
#include "hlc/shell.h"

void
hlc_agent_config_defaults(struct hlc_agent_config *c)
{
    memset(c, 0, sizeof(*c));
    snprintf(c->machine_type, sizeof(c->machine_type), "workstation");
    c->interval = 60;
    c->spool_max_bytes = 16LL << 20;
    c->docker = HLC_DOCKER_AUTO;
    c->updates_check_hours = 6;
}

__attribute__((format(printf, 3, 4))) static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static bool
slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63 || s[0] == '-')
        return false;
    return strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == n;
}

static int
set_string(char *dst, size_t cap, const char *key, const char *v, char *err, size_t errlen)
{
    if (strlen(v) >= cap)
        return fail(err, errlen, "%s: longer than %zu characters", key, cap - 1);
    for (const char *p = v; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return fail(err, errlen, "%s: holds a control character", key);
    snprintf(dst, cap, "%s", v);
    return 0;
}

static int
set_long(long long *dst, const char *key, const char *v, long long lo, long long hi,
         const char *unit, char *err, size_t errlen)
{
    int64_t n;
    if (hlc_parse_i64(v, lo, hi, &n) != 0)
        return fail(err, errlen, "%s: must be a whole number %lld..%lld%s", key, lo, hi, unit);
    *dst = n;
    return 0;
}

/* true/false in the spellings YAML 1.1 users write. 1, 0, or -1. */
static int
boolean(const char *v)
{
    static const char *const yes[] = {"true", "yes", "on", "True", "Yes", "On", "TRUE", NULL};
    static const char *const no[] = {"false", "no", "off", "False", "No", "Off", "FALSE", NULL};
    for (int i = 0; yes[i]; i++)
        if (strcmp(v, yes[i]) == 0)
            return 1;
    for (int i = 0; no[i]; i++)
        if (strcmp(v, no[i]) == 0)
            return 0;
    return -1;
}

int
hlc_agent_config_set(struct hlc_agent_config *c, const char *key, const char *v, char *err,
                     size_t errlen)
{
    long long n = 0;
    if (strcmp(key, "hub_url") == 0) {
        if (strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
            return fail(err, errlen, "hub_url: must start with http:// or https://");
        if (strpbrk(v, " \t\"'\\"))
            return fail(err, errlen, "hub_url: holds characters a URL cannot");
        int rc = set_string(c->hub_url, sizeof(c->hub_url), key, v, err, errlen);
        size_t len = strlen(c->hub_url);
        while (rc == 0 && len > 8 && c->hub_url[len - 1] == '/')
            c->hub_url[--len] = '\0';
        return rc;
    }
    if (strcmp(key, "api_key") == 0) {
        if (!*v || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~+/=-") !=
                       strlen(v))
            return fail(err, errlen, "api_key: must be 1..256 of A-Z a-z 0-9 . _ ~ + / = -");
        return set_string(c->api_key, sizeof(c->api_key), key, v, err, errlen);
    }
    if (strcmp(key, "agent_token") == 0 || strcmp(key, "enrollment_token") == 0) {
        /* The hub's tokens are a prefix and base64url: nothing else is one. */
        bool agent = key[0] == 'a';
        size_t tl = strlen(v);
        if (tl > 128 || strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != tl ||
            (tl && strncmp(v, agent ? "hlca_" : "hlce_", 5) != 0))
            return fail(err, errlen, "%s: must be a token the hub gave (%s..., at most 128 "
                        "characters)", key, agent ? "hlca_" : "hlce_");
        return agent ? set_string(c->agent_token, sizeof(c->agent_token), key, v, err, errlen)
                     : set_string(c->enrollment_token, sizeof(c->enrollment_token), key, v, err,
                                  errlen);
    }
    if (strcmp(key, "server_id") == 0) {
        if (!slug(v))
            return fail(err, errlen, "server_id: must be a lowercase slug (a-z, 0-9, -)");
        return set_string(c->server_id, sizeof(c->server_id), key, v, err, errlen);
    }
    if (strcmp(key, "machine_type") == 0) {
        if (strcmp(v, "workstation") != 0 && strcmp(v, "server") != 0)
            return fail(err, errlen, "machine_type: must be workstation or server");
        return set_string(c->machine_type, sizeof(c->machine_type), key, v, err, errlen);
    }
    if (strcmp(key, "interval") == 0) {
        if (set_long(&n, key, v, 1, 86400, " seconds", err, errlen))
            return -1;
        c->interval = (long)n;
        return 0;
    }
    if (strcmp(key, "spool_dir") == 0) {
        if (*v && v[0] != '/')
            return fail(err, errlen, "spool_dir: must be an absolute path (or \"\" for none)");
        return set_string(c->spool_dir, 400, key, v, err, errlen);
    }
    if (strcmp(key, "spool_max_files") == 0) {
        if (set_long(&n, key, v, 1, 1000000, "", err, errlen))
            return -1;
        c->spool_max_files = (long)n;
        return 0;
    }
    if (strcmp(key, "spool_max_bytes") == 0)
        return set_long(&c->spool_max_bytes, key, v, 4096, 16LL << 30, " bytes", err, errlen);
    if (strcmp(key, "docker") == 0) {
        int b = boolean(v);
        if (strcmp(v, "auto") == 0)
            c->docker = HLC_DOCKER_AUTO;
        else if (b >= 0)
            c->docker = b ? HLC_DOCKER_ON : HLC_DOCKER_OFF;
        else
            return fail(err, errlen, "docker: must be auto, true or false");
        return 0;
    }
    if (strcmp(key, "updates_check_hours") == 0) {
        if (set_long(&n, key, v, 0, 168, " hours (0 = never)", err, errlen))
            return -1;
        c->updates_check_hours = (long)n;
        return 0;
    }
    return fail(err, errlen, "unknown setting '%.40s'", key);
}

/* ---- the YAML file -------------------------------------------------------- */

struct reader {
    yaml_parser_t p;
    yaml_event_t ev;
    bool have;
    char *err;
    size_t errlen;
};

static int
next(struct reader *r)
{
    if (r->have)
        yaml_event_delete(&r->ev);
    r->have = false;
    if (!yaml_parser_parse(&r->p, &r->ev))
        return fail(r->err, r->errlen, "line %zu: %s", r->p.problem_mark.line + 1,
                    r->p.problem ? r->p.problem : "not valid YAML");
    r->have = true;
    if (r->ev.type == YAML_ALIAS_EVENT ||
        ((r->ev.type == YAML_SCALAR_EVENT && r->ev.data.scalar.anchor) ||
         (r->ev.type == YAML_MAPPING_START_EVENT && r->ev.data.mapping_start.anchor) ||
         (r->ev.type == YAML_SEQUENCE_START_EVENT && r->ev.data.sequence_start.anchor)))
        return fail(r->err, r->errlen, "line %zu: anchors and aliases are not used here",
                    r->ev.start_mark.line + 1);
    return 0;
}

static size_t
line(const struct reader *r)
{
    return r->ev.start_mark.line + 1;
}

static const char *
scalar(const struct reader *r)
{
    return (const char *)r->ev.data.scalar.value;
}

static int
add_service(struct reader *r, struct hlc_agent_config *c, const char *name)
{
    if (c->nservices == HLC_SAMPLE_MAX_SERVICES)
        return fail(r->err, r->errlen, "line %zu: services: at most %d", line(r),
                    HLC_SAMPLE_MAX_SERVICES);
    if (!hlc_shell_valid_unit(name))
        return fail(r->err, r->errlen, "line %zu: services: '%.60s' is not a systemd unit name",
                    line(r), name);
    snprintf(c->services[c->nservices++], sizeof(c->services[0]), "%s", name);
    return 0;
}

/* services: a list of unit names (whether one is critical is set on the hub). */
static int
parse_services(struct reader *r, struct hlc_agent_config *c)
{
    c->nservices = 0;
    if (r->ev.type == YAML_SCALAR_EVENT && scalar(r)[0] == '\0')
        return 0; /* "services:" with nothing: none */
    if (r->ev.type != YAML_SEQUENCE_START_EVENT)
        return fail(r->err, r->errlen, "line %zu: services: must be a list of unit names",
                    line(r));
    for (;;) {
        if (next(r))
            return -1;
        if (r->ev.type == YAML_SEQUENCE_END_EVENT)
            return 0;
        if (r->ev.type != YAML_SCALAR_EVENT)
            return fail(r->err, r->errlen, "line %zu: services: each entry is a unit name",
                        line(r));
        if (add_service(r, c, scalar(r)))
            return -1;
    }
}

int
hlc_agent_config_parse(const char *text, size_t len, struct hlc_agent_config *c, char *err,
                       size_t errlen)
{
    if (len > HLC_AGENT_CONFIG_MAX)
        return fail(err, errlen, "the file is larger than %d bytes", HLC_AGENT_CONFIG_MAX);
    if (memchr(text, '\0', len))
        return fail(err, errlen, "the file holds a NUL byte");
    struct reader r = {.err = err, .errlen = errlen};
    if (!yaml_parser_initialize(&r.p))
        return fail(err, errlen, "out of memory");
    yaml_parser_set_input_string(&r.p, (const unsigned char *)text, len);
    int rc = -1;
    bool seen_doc = false;
    /* stream start, then at most one document holding one mapping */
    if (next(&r) || r.ev.type != YAML_STREAM_START_EVENT)
        goto out;
    for (;;) {
        if (next(&r))
            goto out;
        if (r.ev.type == YAML_STREAM_END_EVENT)
            break;
        if (r.ev.type != YAML_DOCUMENT_START_EVENT || seen_doc) {
            fail(err, errlen, "line %zu: only one YAML document is allowed", line(&r));
            goto out;
        }
        seen_doc = true;
        if (next(&r))
            goto out;
        if (r.ev.type == YAML_SCALAR_EVENT && scalar(&r)[0] == '\0') {
            /* an empty document */
        } else if (r.ev.type != YAML_MAPPING_START_EVENT) {
            fail(err, errlen, "line %zu: the file must be a mapping of key: value", line(&r));
            goto out;
        } else {
            for (;;) {
                if (next(&r))
                    goto out;
                if (r.ev.type == YAML_MAPPING_END_EVENT)
                    break;
                if (r.ev.type != YAML_SCALAR_EVENT) {
                    fail(err, errlen, "line %zu: keys must be plain names", line(&r));
                    goto out;
                }
                char key[48];
                snprintf(key, sizeof(key), "%s", scalar(&r));
                if (next(&r))
                    goto out;
                if (strcmp(key, "services") == 0) {
                    if (parse_services(&r, c))
                        goto out;
                    continue;
                }
                if (r.ev.type != YAML_SCALAR_EVENT) {
                    fail(err, errlen, "line %zu: %.40s: must be a plain value", line(&r), key);
                    goto out;
                }
                char msg[200];
                if (hlc_agent_config_set(c, key, scalar(&r), msg, sizeof(msg))) {
                    fail(err, errlen, "line %zu: %s", line(&r), msg);
                    goto out;
                }
            }
        }
        if (next(&r) || r.ev.type != YAML_DOCUMENT_END_EVENT) {
            if (r.have)
                fail(err, errlen, "line %zu: unexpected content", line(&r));
            goto out;
        }
    }
    rc = 0;
out:
    if (r.have)
        yaml_event_delete(&r.ev);
    yaml_parser_delete(&r.p);
    return rc;
}

int
hlc_agent_config_load(const char *path, bool missing_ok, struct hlc_agent_config *c, char *err,
                      size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT && missing_ok)
            return 0;
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    }
    char *buf = hlc_xmalloc(HLC_AGENT_CONFIG_MAX + 2);
    size_t n = fread(buf, 1, HLC_AGENT_CONFIG_MAX + 1, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    int rc;
    if (bad)
        rc = fail(err, errlen, "%s: could not be read", path);
    else {
        char msg[300];
        rc = hlc_agent_config_parse(buf, n, c, msg, sizeof(msg));
        if (rc)
            fail(err, errlen, "%s: %s", path, msg);
    }
    free(buf);
    return rc;
}

/* True when the line at p (up to its newline) sets top-level key `key`. */
static bool
line_sets(const char *p, const char *end, const char *key)
{
    size_t k = strlen(key);
    return (size_t)(end - p) > k && strncmp(p, key, k) == 0 && (p[k] == ':');
}

char *
hlc_agent_config_with_token(const char *text, size_t len, const char *token)
{
    size_t cap = len + strlen(token) + 32;
    char *out = hlc_xmalloc(cap);
    size_t n = 0;
    const char *p = text, *stop = text + len;
    while (p < stop) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        const char *end = nl ? nl + 1 : stop;
        if (!line_sets(p, end, "agent_token") && !line_sets(p, end, "enrollment_token")) {
            memcpy(out + n, p, (size_t)(end - p));
            n += (size_t)(end - p);
        }
        p = end;
    }
    if (n > 0 && out[n - 1] != '\n')
        out[n++] = '\n';
    n += (size_t)snprintf(out + n, cap - n, "agent_token: \"%s\"\n", token);
    return out;
}

int
hlc_agent_config_store_token(const char *path, const char *token, char *err, size_t errlen)
{
    char *old = hlc_xmalloc(HLC_AGENT_CONFIG_MAX + 1);
    size_t n = 0;
    FILE *f = fopen(path, "re");
    if (f) {
        n = fread(old, 1, HLC_AGENT_CONFIG_MAX, f);
        fclose(f);
    } else if (errno != ENOENT) {
        free(old);
        return fail(err, errlen, "%s: %s", path, strerror(errno));
    }
    char *text = hlc_agent_config_with_token(old, n, token);
    free(old);
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    size_t len = strlen(text);
    if (fd < 0) {
        fail(err, errlen, "%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
        fail(err, errlen, "%s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) != 0) {
        fail(err, errlen, "%s: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(text, strlen(text));
    free(text);
    return rc;
}
