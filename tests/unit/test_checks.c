/* test_checks.c - the pure side of service checks: the DNS wire format
 * (hand-built answers with compression, truncation, loops), the remote
 * probe's output parser, judging, and the probe script's quoting (run by
 * the real /bin/sh to show a hostile string stays one literal word). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "hlc/base.h"

static void
test_dns_query(void **state)
{
    (void)state;
    uint8_t q[300];
    size_t n;
    assert_int_equal(hlc_dns_query_build(q, sizeof(q), 0xBEEF, "plex.lan", HLC_DNS_A, &n), 0);
    static const uint8_t want[] = {0xBE, 0xEF, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
                                   4, 'p', 'l', 'e', 'x', 3, 'l', 'a', 'n', 0, 0, 1, 0, 1};
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(q, want, sizeof(want));
    assert_int_equal(hlc_dns_query_build(q, sizeof(q), 1, "plex.lan.", HLC_DNS_A, &n), 0);
    assert_int_equal(n, sizeof(want));
    assert_int_equal(hlc_dns_query_build(q, sizeof(q), 1, "a..b", HLC_DNS_A, &n), HLC_EINVAL);
    assert_int_equal(hlc_dns_query_build(q, sizeof(q), 1, "", HLC_DNS_A, &n), HLC_EINVAL);
    char label[80];
    memset(label, 'a', 64);
    label[64] = '\0';
    assert_int_equal(hlc_dns_query_build(q, sizeof(q), 1, label, HLC_DNS_A, &n), HLC_EINVAL);
}

/* An answer to plex.lan: a CNAME then two A records, names compressed. */
static size_t
answer(uint8_t *b, uint16_t id, uint8_t rcode)
{
    size_t n;
    hlc_dns_query_build(b, 300, id, "plex.lan", HLC_DNS_A, &n);
    b[2] = 0x81;
    b[3] = (uint8_t)(0x80 | rcode);
    b[7] = 3; /* ANCOUNT */
    static const uint8_t rrs[] = {
        0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 4, 2, 't', 'v', 0, /* CNAME tv. */
        0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 168, 1, 20,
        0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 7,
    };
    memcpy(b + n, rrs, sizeof(rrs));
    return n + sizeof(rrs);
}

static void
test_dns_answer(void **state)
{
    (void)state;
    uint8_t b[512];
    struct hlc_probe_out po;
    size_t n = answer(b, 7, 0);
    hlc_probe_out_init(&po);
    assert_int_equal(hlc_dns_answer_parse(b, n, 7, HLC_DNS_A, &po), 0);
    assert_int_equal(po.rcode, 0);
    assert_int_equal(po.naddrs, 2);
    assert_string_equal(po.addrs[0], "192.168.1.20");
    assert_string_equal(po.addrs[1], "10.0.0.7");
    /* Another id, a query (QR clear), every truncation: refused. */
    assert_int_equal(hlc_dns_answer_parse(b, n, 8, HLC_DNS_A, &po), HLC_EPARSE);
    b[2] &= 0x7F;
    assert_int_equal(hlc_dns_answer_parse(b, n, 7, HLC_DNS_A, &po), HLC_EPARSE);
    b[2] |= 0x80;
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(hlc_dns_answer_parse(b, cut, 7, HLC_DNS_A, &po), HLC_EPARSE);
    /* NXDOMAIN with no answers. */
    n = answer(b, 9, 3);
    b[7] = 0;
    assert_int_equal(hlc_dns_answer_parse(b, 26, 9, HLC_DNS_A, &po), 0);
    assert_int_equal(po.rcode, 3);
    assert_int_equal(po.naddrs, 0);
    /* A question name that points at itself never loops. */
    uint8_t loop[] = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 1, 'a', 0xC0, 12, 0, 1, 0, 1};
    assert_int_equal(hlc_dns_answer_parse(loop, sizeof(loop), 1, HLC_DNS_A, &po), 0);
    uint8_t deep[12 + 130 * 2 + 4] = {0, 1, 0x81, 0x80, 0, 1};
    for (int i = 0; i < 130; i++)
        deep[12 + 2 * i] = 1, deep[13 + 2 * i] = 'a';
    assert_int_equal(hlc_dns_answer_parse(deep, sizeof(deep), 1, HLC_DNS_A, &po), HLC_EPARSE);
}

static void
test_probe_parse(void **state)
{
    (void)state;
    struct hlc_probe_out po;
    static const char out[] = "HLC-PROBE 1\ntool curl\nrc 0\ncode 200\ntime 0.012500\n"
                              "unknown key\naddr 10.0.0.1\naddr not-an-ip\nBODY\nhello\nworld";
    assert_int_equal(hlc_check_probe_parse(out, sizeof(out) - 1, &po), 0);
    assert_string_equal(po.tool, "curl");
    assert_int_equal(po.rc, 0);
    assert_int_equal(po.code, 200);
    assert_true(fabs(po.time_s - 0.0125) < 1e-9);
    assert_int_equal(po.naddrs, 1);
    assert_int_equal(po.body_len, 11);
    assert_memory_equal(po.body, "hello\nworld", 11);
    static const char none[] = "HLC-PROBE 1\ntool curl\nrc 7\ncode 000\ntime 0.001\nBODY\n";
    assert_int_equal(hlc_check_probe_parse(none, sizeof(none) - 1, &po), 0);
    assert_int_equal(po.code, -1);
    assert_int_equal(po.rc, 7);
    assert_int_equal(po.body_len, 0);
    assert_int_equal(hlc_check_probe_parse("", 0, &po), HLC_EPARSE);
    assert_int_equal(hlc_check_probe_parse("Welcome to my MOTD\n", 19, &po), HLC_EPARSE);
    static const char bad[] = "HLC-PROBE 1\nrc 99999999999\ncode 2000\ntool waytoolongtoolname\n";
    assert_int_equal(hlc_check_probe_parse(bad, sizeof(bad) - 1, &po), 0);
    assert_int_equal(po.rc, -1);
    assert_int_equal(po.code, -1);
    assert_string_equal(po.tool, "");
}

static void
judge_http(int code, const char *body, const char *kw, bool absent, bool *ok, char *err)
{
    struct hlc_check_spec sp = {.type = HLC_CHECK_HTTP, .status_min = 200, .status_max = 399,
                                .keyword_absent = absent};
    snprintf(sp.keyword, sizeof(sp.keyword), "%s", kw);
    struct hlc_probe_out po;
    hlc_probe_out_init(&po);
    po.code = code;
    po.body = body;
    po.body_len = strlen(body);
    struct hlc_check_result res;
    hlc_check_judge(&sp, &po, &res);
    *ok = res.ok;
    snprintf(err, 256, "%s", res.error);
}

static void
test_judge(void **state)
{
    (void)state;
    bool ok;
    char err[256];
    judge_http(200, "Plex is up", "Plex", false, &ok, err);
    assert_true(ok);
    judge_http(200, "Plex is up", "Plex", true, &ok, err);
    assert_false(ok);
    judge_http(200, "Plex is up", "Emby", false, &ok, err);
    assert_false(ok);
    assert_non_null(strstr(err, "not found"));
    judge_http(503, "", "", false, &ok, err);
    assert_false(ok);
    assert_non_null(strstr(err, "HTTP 503"));
    judge_http(-1, "", "", false, &ok, err);
    assert_false(ok);

    struct hlc_check_spec dns = {.type = HLC_CHECK_DNS};
    snprintf(dns.query, sizeof(dns.query), "plex.lan");
    snprintf(dns.expect, sizeof(dns.expect), "::1");
    struct hlc_probe_out po;
    struct hlc_check_result res;
    hlc_probe_out_init(&po);
    snprintf(po.tool, sizeof(po.tool), "dig");
    snprintf(po.addrs[po.naddrs++], sizeof(po.addrs[0]), "0:0::1");
    hlc_check_judge(&dns, &po, &res);
    assert_true(res.ok); /* the same address, written another way */
    snprintf(dns.expect, sizeof(dns.expect), "::2");
    hlc_check_judge(&dns, &po, &res);
    assert_false(res.ok);
    po.naddrs = 0;
    po.rc = 9; /* dig: no reply */
    hlc_check_judge(&dns, &po, &res);
    assert_non_null(strstr(res.error, "no reply"));

    struct hlc_check_spec ping = {.type = HLC_CHECK_PING};
    snprintf(ping.host, sizeof(ping.host), "nas.lan");
    static const char out[] = "HLC-PROBE 1\ntool ping\nrc 0\nms 0.088\n";
    assert_int_equal(hlc_check_probe_parse(out, sizeof(out) - 1, &po), 0);
    hlc_check_judge(&ping, &po, &res);
    assert_true(res.ok);
    assert_true(fabs(res.response_ms - 0.088) < 1e-9);
    static const char none[] = "HLC-PROBE 1\ntool none\n";
    assert_int_equal(hlc_check_probe_parse(none, sizeof(none) - 1, &po), 0);
    hlc_check_judge(&ping, &po, &res);
    assert_string_equal(res.error, "the machine has no ping");
}

/* Runs `script` with the real sh and returns its stdout (heap). */
static char *
run_sh(const char *script)
{
    char path[] = "/tmp/hlc-test-checks-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(script, f);
    fclose(f);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "PATH=/nonexistent /bin/sh %s", path);
    FILE *p = popen(cmd, "r");
    static char out[4096];
    size_t n = fread(out, 1, sizeof(out) - 1, p);
    out[n] = '\0';
    pclose(p);
    unlink(path);
    return out;
}

static void
test_remote_script_quotes(void **state)
{
    (void)state;
    /* With no tools on PATH the script only assigns and reports "none": the
     * hostile host must survive as one literal value and run nothing. */
    struct hlc_check_spec sp = {.type = HLC_CHECK_TCP, .port = 80, .timeout_ms = 1000};
    snprintf(sp.host, sizeof(sp.host), "a'b;$(exit 3)`x`\"");
    struct hlc_buf b;
    hlc_buf_init(&b, 65536);
    assert_int_equal(hlc_check_remote_script(&b, &sp), 0);
    assert_non_null(strstr(b.data, "h='a'\\''b;$(exit 3)`x`\"'\n"));
    hlc_buf_append(&b, "printf 'host=%s\\n' \"$h\"\n", 25);
    char *out = run_sh(b.data);
    assert_non_null(strstr(out, "HLC-PROBE 1\n"));
    assert_non_null(strstr(out, "tool none\n"));
    assert_non_null(strstr(out, "host=a'b;$(exit 3)`x`\"\n"));
    hlc_buf_release(&b);
    /* Control characters are refused by the quoting function. */
    hlc_buf_init(&b, 65536);
    snprintf(sp.host, sizeof(sp.host), "a\nb");
    assert_int_equal(hlc_check_remote_script(&b, &sp), HLC_EINVAL);
    hlc_buf_release(&b);
}

static void
test_spec_from_json(void **state)
{
    (void)state;
    struct hlc_check_spec sp;
    json_t *c = json_pack("{s:s, s:s, s:i}", "type", "http", "url", "https://x/", "timeout_seconds",
                          3);
    assert_int_equal(hlc_check_spec_from_json(c, &sp), 0);
    assert_int_equal(sp.type, HLC_CHECK_HTTP);
    assert_int_equal(sp.timeout_ms, 3000);
    assert_string_equal(sp.method, "GET");
    assert_true(sp.verify_tls && sp.follow_redirects);
    assert_int_equal(sp.status_max, 399);
    json_decref(c);
    c = json_pack("{s:s, s:s}", "type", "tcp", "host", "x");
    assert_int_equal(hlc_check_spec_from_json(c, &sp), HLC_EINVAL); /* no port */
    json_decref(c);
    c = json_pack("{s:s}", "type", "ping");
    assert_int_equal(hlc_check_spec_from_json(c, &sp), HLC_EINVAL);
    json_decref(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dns_query),        cmocka_unit_test(test_dns_answer),
        cmocka_unit_test(test_probe_parse),      cmocka_unit_test(test_judge),
        cmocka_unit_test(test_remote_script_quotes), cmocka_unit_test(test_spec_from_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
