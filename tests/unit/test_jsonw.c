/* test_jsonw.c - the direct JSON writer writes what json_dumps(JSON_COMPACT |
 * JSON_REAL_PRECISION(15)) writes for the same values (reals, integers,
 * escapes, non-ASCII text, nesting; 200,000 seeded reals and integers through
 * both the printf-free and the printf paths), writes non-finite reals as
 * null, and fails on text that is not valid UTF-8 as json_dumps does. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "jsonw.h"

/* jansson's text for the same single-member object. */
static char *
dumps(json_t *v)
{
    json_t *o = json_object();
    json_object_set_new(o, "v", v);
    char *t = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(o);
    return t;
}

/* {"v":<d or i>} as jsonw writes it: the real when is_real, else the integer. */
static char *
member_text(bool is_real, double d, int64_t i)
{
    struct jsonw w;
    jsonw_init(&w);
    jsonw_object(&w, NULL);
    if (is_real)
        jsonw_real(&w, "v", d);
    else
        jsonw_int(&w, "v", i);
    jsonw_end_object(&w);
    return jsonw_finish(&w);
}

static char *
real_text(double d)
{
    return member_text(true, d, 0);
}

static char *
int_text(int64_t i)
{
    return member_text(false, 0, i);
}

static void
test_reals_match_jansson(void **state)
{
    (void)state;
    const double vals[] = {0.0,     -0.0,      1.0,        42.0,   0.1,     -0.5,
                           12.34,   99.99,     1e20,       1e21,   1.5e300, 1e-7,
                           -2.5e-9, 123456789.0, 1234567890123456.0, 3.14159265358979,
                           6.02e23, 0.000123, 1e15,  1e16};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char *mine = real_text(vals[i]), *ref = dumps(json_real(vals[i]));
        assert_non_null(mine);
        assert_non_null(ref);
        assert_string_equal(mine, ref);
        free(mine);
        free(ref);
    }
}

static void
test_non_finite_is_null(void **state)
{
    (void)state;
    const double vals[] = {NAN, INFINITY, -INFINITY};
    for (size_t i = 0; i < 3; i++) {
        char *t = real_text(vals[i]);
        assert_string_equal(t, "{\"v\":null}");
        free(t);
    }
}

static void
test_strings_and_ints_match_jansson(void **state)
{
    (void)state;
    const char *strs[] = {"",
                          "plain",
                          "quote \" and backslash \\",
                          "tab\tnew\nline\rret\bback\fform",
                          "ctl \x01\x1f end",
                          "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                          "/var/lib/docker",
                          "\x7f del"};
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        struct jsonw w;
        jsonw_init(&w);
        jsonw_object(&w, NULL);
        jsonw_str(&w, "v", strs[i]);
        jsonw_end_object(&w);
        char *mine = jsonw_finish(&w), *ref = dumps(json_string(strs[i]));
        assert_non_null(mine);
        assert_non_null(ref);
        assert_string_equal(mine, ref);
        free(mine);
        free(ref);
    }
    const int64_t ints[] = {0, 1, -1, 4096, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
        char *mine = int_text(ints[i]), *ref = dumps(json_integer(ints[i]));
        assert_string_equal(mine, ref);
        free(mine);
        free(ref);
    }
}

/* xorshift64: the same values on every run. */
static uint64_t
rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Reals and integers written without printf (two-decimal figures, every
 * integer) and with it (the rest) all match jansson: values with up to two
 * decimals across the whole fast-path range and just past it, random bit
 * patterns, random integers of every size. */
static void
test_many_numbers_match_jansson(void **state)
{
    (void)state;
    uint64_t s = 0x243f6a8885a308d3ull;
    for (int i = 0; i < 200000; i++) {
        double v;
        switch (i % 4) {
        case 0: /* k / 100 with k of 1 to 16 digits, either sign */
            v = (double)(int64_t)(rnd(&s) % (uint64_t)pow(10, 1 + i % 16)) / 100.0;
            break;
        case 1: /* a figure rounded to two decimals, as ingest does */
            v = round((double)(rnd(&s) % 100000000) / 7.0 * 100.0) / 100.0;
            break;
        case 2: { /* any finite double */
            uint64_t bits = rnd(&s);
            memcpy(&v, &bits, sizeof(v));
            if (!isfinite(v))
                v = 0.5;
            break;
        }
        default: /* three decimals and more */
            v = (double)(rnd(&s) % 10000000) / 1000.0;
        }
        if (rnd(&s) & 1)
            v = -v;
        char *mine = real_text(v), *ref = dumps(json_real(v));
        if (strcmp(mine, ref) != 0)
            fail_msg("real %.17g: jsonw %s, jansson %s", v, mine, ref);
        free(mine);
        free(ref);
        int64_t n = (int64_t)(rnd(&s) >> (rnd(&s) % 64));
        if (rnd(&s) & 1)
            n = -n;
        mine = int_text(n);
        ref = dumps(json_integer(n));
        if (strcmp(mine, ref) != 0)
            fail_msg("integer %lld: jsonw %s, jansson %s", (long long)n, mine, ref);
        free(mine);
        free(ref);
    }
}

static void
test_nesting_parses_back(void **state)
{
    (void)state;
    struct jsonw w;
    jsonw_init(&w);
    jsonw_object(&w, NULL);
    jsonw_array(&w, "fs");
    for (int i = 0; i < 3; i++) {
        jsonw_object(&w, NULL);
        jsonw_int(&w, "n", i);
        jsonw_null(&w, "z");
        jsonw_end_object(&w);
    }
    jsonw_end_array(&w);
    jsonw_array(&w, "empty");
    jsonw_end_array(&w);
    jsonw_object(&w, "os");
    jsonw_bool(&w, "t", true);
    jsonw_bool(&w, "f", false);
    jsonw_str(&w, "none", NULL);
    jsonw_end_object(&w);
    jsonw_end_object(&w);
    char *t = jsonw_finish(&w);
    assert_string_equal(t, "{\"fs\":[{\"n\":0,\"z\":null},{\"n\":1,\"z\":null},{\"n\":2,\"z\":"
                           "null}],\"empty\":[],\"os\":{\"t\":true,\"f\":false,\"none\":null}}");
    json_error_t err;
    json_t *back = json_loads(t, 0, &err);
    assert_non_null(back);
    assert_int_equal(json_array_size(json_object_get(back, "fs")), 3);
    json_decref(back);
    free(t);
}

static void
test_invalid_utf8_fails(void **state)
{
    (void)state;
    const char *bad[] = {"\xff", "abc\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                         "\xf4\x90\x80\x80", "ok \x80 no"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct jsonw w;
        jsonw_init(&w);
        jsonw_object(&w, NULL);
        jsonw_str(&w, "v", bad[i]);
        jsonw_end_object(&w);
        assert_null(jsonw_finish(&w));
        /* jansson refuses the same text */
        assert_null(json_string(bad[i]));
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reals_match_jansson),
        cmocka_unit_test(test_non_finite_is_null),
        cmocka_unit_test(test_strings_and_ints_match_jansson),
        cmocka_unit_test(test_many_numbers_match_jansson),
        cmocka_unit_test(test_nesting_parses_back),
        cmocka_unit_test(test_invalid_utf8_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
