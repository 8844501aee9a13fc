/* test_jsonr.c - the JSON reader accepts and refuses exactly what
 * json_loadb(..., JSON_REJECT_DUPLICATES, ...) does and builds equal values:
 * a table of edge cases (numbers, escapes, surrogates, UTF-8, nesting limit,
 * duplicates, trailing text), then every input of a seeded mutation run over
 * realistic bodies; errors name a line and column. The one difference, a NUL
 * byte jansson lets through after a number or literal, is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonr.h"

/* 1 when both accept with equal values, 0 when both refuse, -1 otherwise. */
static int
agree(const char *text, size_t len)
{
    json_error_t jerr;
    struct jsonr_error err;
    json_t *ref = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *mine = jsonr_parse(text, len, &err);
    int rc = (!ref && !mine) ? 0 : (ref && mine && json_equal(ref, mine)) ? 1 : -1;
    if (rc == 0 && (err.line < 1 || err.column < 1 || !err.text[0]))
        rc = -1;
    if (rc < 0)
        fprintf(stderr, "disagree on %zu bytes: jansson %s (%s), jsonr %s (%s)\n", len,
                ref ? "accepts" : "refuses", ref ? "" : jerr.text, mine ? "accepts" : "refuses",
                mine ? "" : err.text);
    json_decref(ref);
    json_decref(mine);
    return rc;
}

static void
check(const char *text, int want)
{
    int got = agree(text, strlen(text));
    if (got != want)
        fprintf(stderr, "input: %s\n", text);
    assert_int_equal(got, want);
}

static void
test_edge_cases(void **state)
{
    (void)state;
    static const char *const ok[] = {
        "{}",
        "[]",
        " \t\r\n{ } \n",
        "[1,-1,0,-0,1.5,-0.0,1e3,1E-3,2.5e+10,1e-400]",
        "[9223372036854775807,-9223372036854775808]",
        "[0.1,123456789012345678901234567890.5,1"
        "00000000000000000000000000000000000000000000000"
        "000000000000000000000000000000000000000000000000000000000000000000000000.25]",
        "{\"a\":{\"b\":[true,false,null,\"x\"]},\"c\":\"\"}",
        "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\",\"\\u00e9\\u20AC\\ud83d\\ude00\",\"caf\xc3\xa9 "
        "\xe2\x82\xac "
        "\xf0\x9f\x98\x80\"]",
        "{\"k\\u00e9y\":1,\"k\xc3\xa9y2\":2,\"\":3}",
        "[\"\x7f\"]",
        "[\"\\uFFFF\\uFFFE\"]",
        "{\"a\":1,\"A\":2}",
        "[[],[[]],{}]"};
    for (size_t i = 0; i < sizeof(ok) / sizeof(*ok); i++)
        check(ok[i], 1);
    static const char *const bad[] = {"",
                                      " ",
                                      "1",
                                      "\"s\"",
                                      "true",
                                      "null",
                                      "{",
                                      "[",
                                      "[1,]",
                                      "{\"a\":1,}",
                                      "[,1]",
                                      "{\"a\"}",
                                      "{\"a\" 1}",
                                      "{1:2}",
                                      "{'a':1}",
                                      "[01]",
                                      "[-]",
                                      "[1.]",
                                      "[.5]",
                                      "[1e]",
                                      "[1e+]",
                                      "[+1]",
                                      "[0x10]",
                                      "[1]x",
                                      "{}{}",
                                      "[1] [2]",
                                      "[NaN]",
                                      "[Infinity]",
                                      "[tru]",
                                      "[truex]",
                                      "[True]",
                                      "[nul]",
                                      "[9223372036854775808]",
                                      "[-9223372036854775809]",
                                      "[1e400]",
                                      "[-1e400]",
                                      "[\"\\u0000\"]",
                                      "{\"\\u0000\":1}",
                                      "[\"\\ud800\"]",
                                      "[\"\\udc00\"]",
                                      "[\"\\ud800\\u0041\"]",
                                      "[\"\\ud800\\n\"]",
                                      "[\"\\u12\"]",
                                      "[\"\\x41\"]",
                                      "[\"\\\"]",
                                      "[\"abc]",
                                      "[\"a\tb\"]",
                                      "[\"a\nb\"]",
                                      "[\"\xc3\"]",
                                      "[\"\xc0\xaf\"]",
                                      "[\"\xe0\x80\xaf\"]",
                                      "[\"\xed\xa0\x80\"]",
                                      "[\"\xf4\x90\x80\x80\"]",
                                      "[\"\xf8\x88\x80\x80\x80\"]",
                                      "[\"\xff\"]",
                                      "[\xc3\xa9]",
                                      "{\"a\":1,\"a\":2}",
                                      "{\"a\\u0062\":1,\"ab\":2}",
                                      "\xef\xbb\xbf{}",
                                      "[1 2]",
                                      "{\"a\":1 \"b\":2}",
                                      "[\"a\"\"b\"]"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        check(bad[i], 0);
    /* A NUL byte inside and after the text. */
    assert_int_equal(agree("[\"a\0b\"]", 7), 0);
    assert_int_equal(agree("{}\0", 3), 0);
    /* jansson reads "[1\0]" as [1] and "[true\0]" as [true]; a NUL byte is
     * never JSON, so these are refused. */
    struct jsonr_error err;
    assert_null(jsonr_parse("[1\0]", 4, &err));
    assert_null(jsonr_parse("[true\0]", 7, &err));
}

/* n arrays nested, holding a scalar when `scalar`. */
static char *
nested(int n, bool scalar)
{
    char *t = malloc((size_t)n * 2 + 2);
    int k = 0;
    for (int i = 0; i < n; i++)
        t[k++] = '[';
    if (scalar)
        t[k++] = '1';
    for (int i = 0; i < n; i++)
        t[k++] = ']';
    t[k] = '\0';
    return t;
}

static void
test_depth_limit_is_janssons(void **state)
{
    (void)state;
    const int cases[][3] = {{JSONR_MAX_DEPTH, 0, 1},
                            {JSONR_MAX_DEPTH + 1, 0, 0},
                            {JSONR_MAX_DEPTH - 1, 1, 1},
                            {JSONR_MAX_DEPTH, 1, 0},
                            {100000, 0, 0}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *t = nested(cases[i][0], cases[i][1]);
        assert_int_equal(agree(t, strlen(t)), cases[i][2]);
        free(t);
    }
}

static void
test_error_position(void **state)
{
    (void)state;
    struct jsonr_error err;
    const char *t = "{\n  \"a\": 1,\n  \"b\": tru\n}";
    assert_null(jsonr_parse(t, strlen(t), &err));
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 8);
    assert_non_null(strstr(err.text, "'t'"));
    t = "{\"a\":1,\"a\":2}";
    assert_null(jsonr_parse(t, strlen(t), &err));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 8);
    assert_non_null(strstr(err.text, "duplicate"));
}

/* xorshift64: the same mutations on every run. */
static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void
test_mutations_agree(void **state)
{
    (void)state;
    static const char *const seeds[] = {
        "{\"server_id\":\"lap-01\",\"timestamp\":\"2026-11-23T10:00:00Z\",\"metrics\":{"
        "\"cpu_total_jiffies\":1000400,\"load_1m\":0.42,\"memory_total_bytes\":16777216000},"
        "\"filesystems\":[{\"mount\":\"/\",\"used_bytes\":200000000000}],"
        "\"services\":[{\"name\":\"ssh\",\"pid\":812}],\"reboot_required\":false,\"x\":null}",
        "{\"name\":\"caf\\u00e9 \xe2\x82\xac\",\"v\":[-1.5e-3,0,-0,\"\\ud83d\\ude00\",[[{}]]]}",
        "[\"a\\\"b\",12345678901234567890123,1e308,-9223372036854775808,{\"k\":true}]"};
    static const char alphabet[] = "{}[]\",:\\u0123456789.eE+-tfnalrsx \n\t\x80\xc3\xa9\xed\xf0";
    uint64_t s = 0x9e3779b97f4a7c15ull;
    int accepted = 0, refused = 0;
    for (int iter = 0; iter < 60000; iter++) {
        const char *seed = seeds[iter % 3];
        char buf[512];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        int edits = 1 + (int)(rnd(&s) % 3);
        for (int e = 0; e < edits; e++) {
            size_t at = n ? (size_t)(rnd(&s) % n) : 0;
            switch (rnd(&s) % 3) {
            case 0: /* replace */
                if (n)
                    buf[at] = alphabet[rnd(&s) % (sizeof(alphabet) - 1)];
                break;
            case 1: /* insert */
                if (n + 1 < sizeof(buf)) {
                    memmove(buf + at + 1, buf + at, n - at);
                    buf[at] = alphabet[rnd(&s) % (sizeof(alphabet) - 1)];
                    n++;
                }
                break;
            default: /* delete */
                if (n) {
                    memmove(buf + at, buf + at + 1, n - at - 1);
                    n--;
                }
            }
        }
        int rc = agree(buf, n);
        if (rc < 0)
            fprintf(stderr, "input: %.*s\n", (int)n, buf);
        assert_true(rc >= 0);
        rc ? accepted++ : refused++;
    }
    /* Both outcomes were exercised. */
    assert_true(accepted > 1000);
    assert_true(refused > 1000);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_depth_limit_is_janssons),
        cmocka_unit_test(test_error_position),
        cmocka_unit_test(test_mutations_agree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
