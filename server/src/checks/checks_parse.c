/* checks_parse.c - the pure side of service checks: the spec read from a
 * stored check, judging a probe, the remote probe script and its output,
 * and the DNS wire format. No I/O, no globals. */
#include "checks.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hlc/base.h"
#include "hlc/shell.h"

void
hlc_probe_out_init(struct hlc_probe_out *po)
{
    memset(po, 0, sizeof(*po));
    po->rc = -1;
    po->code = -1;
    po->rcode = -1;
    po->time_s = NAN;
    po->cert_days = NAN;
}

/* Copies string field `key` of o into dst; false when present but too long. */
static bool
copy_field(json_t *o, const char *key, char *dst, size_t cap)
{
    const char *v = json_string_value(json_object_get(o, key));
    dst[0] = '\0';
    if (!v)
        return true;
    if (strlen(v) >= cap)
        return false;
    memcpy(dst, v, strlen(v) + 1);
    return true;
}

static int
int_field(json_t *o, const char *key, int dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) ? (int)json_integer_value(v) : dflt;
}

static bool
bool_field(json_t *o, const char *key, bool dflt)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? json_is_true(v) : dflt;
}

int
hlc_check_spec_from_json(json_t *c, struct hlc_check_spec *sp)
{
    memset(sp, 0, sizeof(*sp));
    const char *type = json_string_value(json_object_get(c, "type"));
    if (!type)
        return HLC_EINVAL;
    sp->timeout_ms = int_field(c, "timeout_seconds", 10) * 1000;
    bool ok = copy_field(c, "url", sp->url, sizeof(sp->url)) &&
              copy_field(c, "method", sp->method, sizeof(sp->method)) &&
              copy_field(c, "keyword", sp->keyword, sizeof(sp->keyword)) &&
              copy_field(c, "host", sp->host, sizeof(sp->host)) &&
              copy_field(c, "query", sp->query, sizeof(sp->query)) &&
              copy_field(c, "resolver", sp->resolver, sizeof(sp->resolver)) &&
              copy_field(c, "expect", sp->expect, sizeof(sp->expect));
    if (!ok)
        return HLC_EINVAL;
    if (!sp->method[0])
        memcpy(sp->method, "GET", 4);
    sp->status_min = int_field(c, "status_min", 200);
    sp->status_max = int_field(c, "status_max", 399);
    sp->keyword_absent = bool_field(c, "keyword_absent", false);
    sp->follow_redirects = bool_field(c, "follow_redirects", true);
    sp->verify_tls = bool_field(c, "verify_tls", true);
    sp->port = int_field(c, "port", 0);
    sp->resolver_port = int_field(c, "resolver_port", 53);
    if (strcmp(type, "http") == 0) {
        sp->type = HLC_CHECK_HTTP;
        return sp->url[0] ? 0 : HLC_EINVAL;
    }
    if (strcmp(type, "tcp") == 0) {
        sp->type = HLC_CHECK_TCP;
        return sp->host[0] && sp->port > 0 && sp->port < 65536 ? 0 : HLC_EINVAL;
    }
    if (strcmp(type, "dns") == 0) {
        sp->type = HLC_CHECK_DNS;
        return sp->query[0] ? 0 : HLC_EINVAL;
    }
    if (strcmp(type, "ping") == 0) {
        sp->type = HLC_CHECK_PING;
        return sp->host[0] ? 0 : HLC_EINVAL;
    }
    return HLC_EINVAL;
}

/* Is needle in the first n bytes of hay? (bodies are not NUL-terminated) */
static bool
contains(const char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    if (k == 0)
        return true;
    for (size_t i = 0; hay && i + k <= n; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, k) == 0)
            return true;
    return false;
}

/* Two IP literals naming the same address ("::1" and "0:0::1"). */
static bool
same_addr(const char *a, const char *b)
{
    unsigned char x[16], y[16];
    if (inet_pton(AF_INET, a, x) == 1)
        return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
    if (inet_pton(AF_INET6, a, x) == 1)
        return inet_pton(AF_INET6, b, y) == 1 && memcmp(x, y, 16) == 0;
    return false;
}

static const char *
rcode_name(int rcode)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED"};
    return rcode >= 0 && rcode < 6 ? names[rcode] : "an error";
}

void
hlc_check_judge(const struct hlc_check_spec *sp, const struct hlc_probe_out *po,
                struct hlc_check_result *res)
{
    memset(res, 0, sizeof(*res));
    res->status_code = po->code;
    res->cert_days = po->cert_days;
    res->response_ms = isfinite(po->time_s) ? po->time_s * 1000.0 : NAN;
    if (po->error[0]) {
        snprintf(res->error, sizeof(res->error), "%s", po->error);
        return;
    }
    switch (sp->type) {
    case HLC_CHECK_HTTP:
        if (po->code < 100) {
            snprintf(res->error, sizeof(res->error), "no HTTP answer (%s exited %d)",
                     po->tool[0] ? po->tool : "probe", po->rc);
        } else if (po->code < sp->status_min || po->code > sp->status_max) {
            snprintf(res->error, sizeof(res->error), "HTTP %d, expected %d-%d", po->code,
                     sp->status_min, sp->status_max);
        } else if (sp->keyword[0] &&
                   contains(po->body, po->body_len, sp->keyword) == sp->keyword_absent) {
            snprintf(res->error, sizeof(res->error), "keyword \"%.100s\" %s", sp->keyword,
                     sp->keyword_absent ? "found in the body" : "not found in the body");
        } else {
            res->ok = true;
        }
        break;
    case HLC_CHECK_TCP:
        if (po->rc == 0)
            res->ok = true;
        else if (!strcmp(po->tool, "none"))
            snprintf(res->error, sizeof(res->error), "the machine has neither nc nor bash");
        else
            snprintf(res->error, sizeof(res->error), "could not connect to %.200s:%d",
                     sp->host, sp->port);
        break;
    case HLC_CHECK_PING:
        if (po->rc == 0)
            res->ok = true;
        else if (!strcmp(po->tool, "none"))
            snprintf(res->error, sizeof(res->error), "the machine has no ping");
        else
            snprintf(res->error, sizeof(res->error), "no echo reply from %.200s", sp->host);
        break;
    case HLC_CHECK_DNS:
        if (!strcmp(po->tool, "none")) {
            snprintf(res->error, sizeof(res->error),
                     "the machine has none of dig, nslookup, getent");
        } else if (po->rcode > 0) {
            snprintf(res->error, sizeof(res->error), "%.45s answered %s for %.150s",
                     sp->resolver[0] ? sp->resolver : "the resolver", rcode_name(po->rcode),
                     sp->query);
        } else if (po->naddrs == 0) {
            snprintf(res->error, sizeof(res->error),
                     po->rc > 0 && po->rcode < 0 ? "no reply from the resolver (%s exited %d)"
                                                 : "no address for the name (%s exited %d)",
                     po->tool[0] ? po->tool : "query", po->rc);
        } else if (sp->expect[0]) {
            res->ok = false;
            for (int i = 0; i < po->naddrs && !res->ok; i++)
                res->ok = same_addr(sp->expect, po->addrs[i]);
            if (!res->ok)
                snprintf(res->error, sizeof(res->error), "%.140s resolved to %.45s, not %.45s",
                         sp->query, po->addrs[0], sp->expect);
        } else {
            res->ok = true;
        }
        break;
    }
}

/* ---- the remote probe ---------------------------------------------------- */

/* name=<quoted value>; */
static int
assign(struct hlc_buf *b, const char *name, const char *value)
{
    int rc = hlc_buf_appendf(b, "%s=", name);
    if (rc == 0)
        rc = hlc_shell_quote(b, value);
    if (rc == 0)
        rc = hlc_buf_append(b, "\n", 1);
    return rc;
}

int
hlc_check_remote_script(struct hlc_buf *b, const struct hlc_check_spec *sp)
{
    int t = sp->timeout_ms / 1000 > 0 ? sp->timeout_ms / 1000 : 1;
    int rc = hlc_buf_appendf(b, "t=%d\necho 'HLC-PROBE 1'\n", t);
    switch (sp->type) {
    case HLC_CHECK_HTTP: {
        if (rc == 0)
            rc = assign(b, "u", sp->url);
        bool head = strcmp(sp->method, "HEAD") == 0;
        /* curl writes the body to a file and its figures to stdout; wget's
         * -S headers (on stderr) carry the status of the last response. */
        if (rc == 0)
            rc = hlc_buf_appendf(
                b,
                "f=$(mktemp) || { echo 'error mktemp failed'; exit 0; }\n"
                "trap 'rm -f \"$f\" \"$f.h\"' EXIT\n"
                "if command -v curl >/dev/null 2>&1; then\n"
                "  echo 'tool curl'\n"
                "  w=$(curl -s%s%s%s --max-redirs 5 --max-time \"$t\" -o \"$f\""
                " -w 'code %%{http_code}\\ntime %%{time_total}' \"$u\" 2>/dev/null)\n"
                "  echo \"rc $?\"; echo \"$w\"\n"
                "elif command -v wget >/dev/null 2>&1; then\n"
                "  echo 'tool wget'\n"
                "  wget -q -S%s --max-redirect=%d -T \"$t\" -O \"$f\" \"$u\" 2>\"$f.h\"\n"
                "  echo \"rc $?\"\n"
                "  sed -n 's/^ *HTTP\\/[0-9.]* \\([0-9][0-9][0-9]\\).*/code \\1/p' \"$f.h\" |"
                " tail -n 1\n"
                "else echo 'tool none'; fi\n"
                "echo BODY\n"
                "head -c %d \"$f\"\n",
                head ? " -I" : "", sp->follow_redirects ? " -L" : "", sp->verify_tls ? "" : " -k",
                sp->verify_tls ? "" : " --no-check-certificate", sp->follow_redirects ? 5 : 0,
                HLC_CHECK_REMOTE_BODY_CAP);
        break;
    }
    case HLC_CHECK_TCP:
        if (rc == 0)
            rc = assign(b, "h", sp->host);
        if (rc == 0)
            rc = hlc_buf_appendf(
                b,
                "p=%d\n"
                "if command -v nc >/dev/null 2>&1; then\n"
                "  echo 'tool nc'; nc -z -w \"$t\" \"$h\" \"$p\" </dev/null >/dev/null 2>&1\n"
                "  echo \"rc $?\"\n"
                "elif command -v bash >/dev/null 2>&1; then\n"
                "  echo 'tool bash'\n"
                "  timeout \"$t\" bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' \"$h\" \"$p\""
                " </dev/null >/dev/null 2>&1\n"
                "  echo \"rc $?\"\n"
                "else echo 'tool none'; fi\n",
                sp->port);
        break;
    case HLC_CHECK_PING:
        if (rc == 0)
            rc = assign(b, "h", sp->host);
        if (rc == 0)
            rc = hlc_buf_appendf(
                b, "if command -v ping >/dev/null 2>&1; then\n"
                   "  echo 'tool ping'; o=$(ping -c 1 -W \"$t\" \"$h\" 2>&1)\n"
                   "  echo \"rc $?\"; printf '%%s\\n' \"$o\" |"
                   " sed -n 's/.*time=\\([0-9.]*\\) *ms.*/ms \\1/p' | head -n 1\n"
                   "else echo 'tool none'; fi\n");
        break;
    case HLC_CHECK_DNS: {
        bool v6 = strchr(sp->expect, ':') != NULL;
        if (rc == 0)
            rc = assign(b, "q", sp->query);
        if (rc == 0)
            rc = assign(b, "s", sp->resolver);
        /* Only dig and nslookup can be pointed at a resolver; getent asks
         * the machine's own, so it is used only when the check names none. */
        if (rc == 0)
            rc = hlc_buf_appendf(
                b,
                "p=%d\n"
                "if [ -n \"$s\" ] && command -v dig >/dev/null 2>&1; then\n"
                "  echo 'tool dig'\n"
                "  o=$(dig +short +time=\"$t\" +tries=1 -p \"$p\" \"@$s\" \"$q\" %s 2>&1)\n"
                "  echo \"rc $?\"; printf '%%s\\n' \"$o\" | sed -n 's/^\\([0-9a-fA-F.:]*\\)$/addr \\1/p'\n"
                "elif [ -n \"$s\" ] && command -v nslookup >/dev/null 2>&1; then\n"
                "  echo 'tool nslookup'\n"
                "  o=$(nslookup -port=\"$p\" -timeout=\"$t\" -retry=1 -type=%s \"$q\" \"$s\" 2>&1)\n"
                "  echo \"rc $?\"; printf '%%s\\n' \"$o\" | sed -n 's/^Address: *\\([^#]*\\)$/addr \\1/p'\n"
                "elif [ -z \"$s\" ] && command -v getent >/dev/null 2>&1; then\n"
                "  echo 'tool getent'\n"
                "  o=$(timeout \"$t\" getent %s \"$q\")\n"
                "  echo \"rc $?\"; printf '%%s\\n' \"$o\" | sed -n 's/^\\([^ ]*\\) .*/addr \\1/p'\n"
                "else echo 'tool none'; fi\n",
                sp->resolver_port, v6 ? "AAAA" : "A", v6 ? "AAAA" : "A",
                v6 ? "ahostsv6" : "ahostsv4");
        break;
    }
    }
    return rc;
}

static bool
is_ip(const char *s)
{
    unsigned char x[16];
    return inet_pton(AF_INET, s, x) == 1 || inet_pton(AF_INET6, s, x) == 1;
}

/* A bounded decimal (optionally signed) integer, the whole string. */
static bool
parse_int(const char *s, int *out)
{
    long v = 0;
    bool neg = *s == '-';
    if (neg)
        s++;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || v > 100000)
            return false;
        v = v * 10 + (*s - '0');
    }
    *out = (int)(neg ? -v : v);
    return true;
}

/* curl's time_total: "0.012345" (seconds, '.' whatever the locale). */
static bool
parse_secs(const char *s, double *out)
{
    double v = 0, scale = 1;
    bool dot = false, any = false;
    for (; *s; s++) {
        if (*s == '.' && !dot) {
            dot = true;
        } else if (*s >= '0' && *s <= '9') {
            any = true;
            if (dot)
                v += (*s - '0') * (scale /= 10);
            else if (v < 1e6)
                v = v * 10 + (*s - '0');
        } else {
            return false;
        }
    }
    if (any)
        *out = v;
    return any;
}

int
hlc_check_probe_parse(const char *out, size_t len, struct hlc_probe_out *po)
{
    hlc_probe_out_init(po);
    static const char hdr[] = "HLC-PROBE 1\n";
    if (len < sizeof(hdr) - 1 || memcmp(out, hdr, sizeof(hdr) - 1) != 0)
        return HLC_EPARSE;
    size_t i = sizeof(hdr) - 1;
    while (i < len) {
        const char *nl = memchr(out + i, '\n', len - i);
        size_t n = nl ? (size_t)(nl - (out + i)) : len - i;
        size_t next = i + n + (nl ? 1 : 0);
        if (n == 4 && memcmp(out + i, "BODY", 4) == 0) {
            po->body = out + next;
            po->body_len = len - next;
            return 0;
        }
        char line[513];
        if (n < sizeof(line) && memchr(out + i, '\0', n) == NULL) {
            memcpy(line, out + i, n);
            line[n] = '\0';
            char *sp = strchr(line, ' ');
            const char *v = sp ? sp + 1 : "";
            if (sp)
                *sp = '\0';
            int iv;
            if (!strcmp(line, "tool") && strlen(v) < sizeof(po->tool)) {
                memcpy(po->tool, v, strlen(v) + 1);
            } else if (!strcmp(line, "rc") && parse_int(v, &iv) && iv >= 0 && iv < 256) {
                po->rc = iv;
            } else if (!strcmp(line, "code") && parse_int(v, &iv) && iv >= 0 && iv < 1000) {
                po->code = iv >= 100 ? iv : -1; /* curl prints 000 when nothing answered */
            } else if (!strcmp(line, "time")) {
                parse_secs(v, &po->time_s);
            } else if (!strcmp(line, "ms") && parse_secs(v, &po->time_s)) {
                po->time_s /= 1000.0;
            } else if (!strcmp(line, "addr") && strlen(v) < sizeof(po->addrs[0]) && is_ip(v) &&
                       po->naddrs < HLC_CHECK_MAX_ADDRS) {
                memcpy(po->addrs[po->naddrs++], v, strlen(v) + 1);
            } else if (!strcmp(line, "error")) {
                snprintf(po->error, sizeof(po->error), "%.190s", v);
                for (char *c = po->error; *c; c++)
                    if ((unsigned char)*c < 0x20 || *c == 0x7f)
                        *c = '?';
            }
        }
        i = next;
    }
    return 0;
}

/* ---- DNS wire format (RFC 1035) ----------------------------------------- */

int
hlc_dns_query_build(uint8_t *buf, size_t cap, uint16_t id, const char *name, int qtype,
                    size_t *len)
{
    size_t n = strlen(name);
    if (n == 0 || n > 253 || cap < n + 18)
        return HLC_EINVAL;
    uint8_t *p = buf;
    memset(p, 0, 12);
    p[0] = (uint8_t)(id >> 8);
    p[1] = (uint8_t)id;
    p[2] = 0x01; /* RD: the resolver recurses (a Pi-hole forwards) */
    p[5] = 1;    /* QDCOUNT */
    p += 12;
    const char *s = name;
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t l = dot ? (size_t)(dot - s) : strlen(s);
        if (l == 0 || l > 63) {
            if (l == 0 && dot && dot[1] == '\0' && s != name)
                break; /* a trailing dot: the root */
            return HLC_EINVAL;
        }
        *p++ = (uint8_t)l;
        memcpy(p, s, l);
        p += l;
        s += l + (dot ? 1 : 0);
    }
    *p++ = 0;
    *p++ = (uint8_t)(qtype >> 8);
    *p++ = (uint8_t)qtype;
    *p++ = 0;
    *p++ = 1; /* IN */
    *len = (size_t)(p - buf);
    return 0;
}

/* Skips a possibly compressed name at *off; false when it runs off the end
 * or loops. Only the bytes at *off move it: a pointer ends the name. */
static bool
skip_name(const uint8_t *b, size_t len, size_t *off)
{
    size_t o = *off;
    for (int labels = 0; labels < 128; labels++) {
        if (o >= len)
            return false;
        uint8_t l = b[o];
        if ((l & 0xC0) == 0xC0) {
            if (o + 2 > len)
                return false;
            *off = o + 2;
            return true;
        }
        if (l & 0xC0)
            return false; /* the reserved label types */
        if (l == 0) {
            *off = o + 1;
            return true;
        }
        o += 1u + l;
    }
    return false;
}

int
hlc_dns_answer_parse(const uint8_t *b, size_t len, uint16_t id, int qtype,
                     struct hlc_probe_out *po)
{
    po->naddrs = 0;
    if (len < 12)
        return HLC_EPARSE;
    if (((unsigned)b[0] << 8 | b[1]) != id || !(b[2] & 0x80))
        return HLC_EPARSE; /* not the answer to our question */
    po->rcode = b[3] & 0x0F;
    unsigned qd = (unsigned)b[4] << 8 | b[5], an = (unsigned)b[6] << 8 | b[7];
    size_t off = 12;
    for (unsigned i = 0; i < qd; i++) {
        if (!skip_name(b, len, &off) || off + 4 > len)
            return HLC_EPARSE;
        off += 4;
    }
    for (unsigned i = 0; i < an; i++) {
        if (!skip_name(b, len, &off) || off + 10 > len)
            return HLC_EPARSE;
        int type = b[off] << 8 | b[off + 1];
        int klass = b[off + 2] << 8 | b[off + 3];
        size_t rdlen = (size_t)b[off + 8] << 8 | b[off + 9];
        off += 10;
        if (off + rdlen > len)
            return HLC_EPARSE;
        if (klass == 1 && type == qtype && po->naddrs < HLC_CHECK_MAX_ADDRS) {
            if (type == HLC_DNS_A && rdlen == 4)
                inet_ntop(AF_INET, b + off, po->addrs[po->naddrs++], sizeof(po->addrs[0]));
            else if (type == HLC_DNS_AAAA && rdlen == 16)
                inet_ntop(AF_INET6, b + off, po->addrs[po->naddrs++], sizeof(po->addrs[0]));
        }
        off += rdlen;
    }
    return 0;
}
