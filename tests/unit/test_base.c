/* test_base.c - error table, bounded buffer, time and number parsing, UTF-8
 * character lengths (checked against jansson's own UTF-8 check). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>
#include <sodium.h>

#include "hlc/base.h"
#include "hlc/loop.h"

static void
test_strerror(void **state)
{
    (void)state;
    assert_string_equal(hlc_strerror(0), "success");
    assert_string_equal(hlc_strerror(HLC_ENOTFOUND), "not found");
    assert_string_equal(hlc_errname(HLC_ETOOBIG), "TOOBIG");
    assert_string_equal(hlc_strerror(-9999), "unknown error");
    assert_true(HLC_ESSH_HOSTKEY < 0);
}

static void
test_buf_cap(void **state)
{
    (void)state;
    struct hlc_buf b;
    hlc_buf_init(&b, 10);
    assert_int_equal(hlc_buf_append(&b, "hello", 5), 0);
    assert_int_equal(hlc_buf_append(&b, "world", 5), 0);
    assert_int_equal(b.len, 10);
    /* One byte past the cap fails and leaves the contents untouched. */
    assert_int_equal(hlc_buf_append(&b, "!", 1), HLC_ETOOBIG);
    assert_string_equal(b.data, "helloworld");
    assert_int_equal(hlc_buf_appendf(&b, "%d", 1), HLC_ETOOBIG);
    hlc_buf_reset(&b);
    assert_int_equal(hlc_buf_appendf(&b, "%s-%d", "ab", 42), 0);
    assert_string_equal(b.data, "ab-42");
    char *s = hlc_buf_steal(&b);
    assert_string_equal(s, "ab-42");
    free(s);
    assert_null(b.data);
    hlc_buf_release(&b);

    /* Large formatted appends take the heap path. */
    hlc_buf_init(&b, 1 << 20);
    char big[2000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(hlc_buf_appendf(&b, "<%s>", big), 0);
    assert_int_equal(b.len, sizeof(big) + 1);
    hlc_buf_release(&b);
    /* SIZE_MAX never wraps the length check. */
    hlc_buf_init(&b, 16);
    assert_int_equal(hlc_buf_append(&b, "x", SIZE_MAX), HLC_ETOOBIG);
    hlc_buf_release(&b);
}

static void
test_time(void **state)
{
    (void)state;
    char iso[32];
    hlc_time_iso(1768746720, iso);
    assert_string_equal(iso, "2026-01-18T14:32:00Z");
    int64_t t = 0;
    assert_int_equal(hlc_time_parse("2026-01-18T14:32:00Z", &t), 0);
    assert_int_equal(t, 1768746720);
    assert_int_equal(hlc_time_parse("2026-01-18T14:32:00.123456Z", &t), 0);
    assert_int_equal(t, 1768746720);
    assert_int_equal(hlc_time_parse("2026-01-18T15:32:00+01:00", &t), 0);
    assert_int_equal(t, 1768746720);
    assert_int_equal(hlc_time_parse("2026-01-18T09:32:00-0500", &t), 0);
    assert_int_equal(t, 1768746720);
    assert_int_equal(hlc_time_parse("2026-01-18 14:32:00", &t), 0);
    const char *bad[] = {"", "2026", "2026-13-01T00:00:00Z", "2026-01-18T25:00:00Z",
                         "2026-01-18T14:32:00Zjunk", "yesterday", "1969-12-31T23:59:59Z",
                         "2026-01-18T14:32Z", "2026-01-18T14:32:00."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(hlc_time_parse(bad[i], &t), HLC_EPARSE);
}

static void
test_parse_i64(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(hlc_parse_i64("42", 0, 100, &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(hlc_parse_i64("-5", -10, 10, &v), 0);
    assert_int_equal(v, -5);
    assert_int_equal(hlc_parse_i64("101", 0, 100, &v), HLC_ERANGE);
    assert_int_equal(hlc_parse_i64("99999999999999999999", 0, INT64_MAX, &v), HLC_ERANGE);
    assert_int_equal(hlc_parse_i64("12abc", 0, 100, &v), HLC_EPARSE);
    assert_int_equal(hlc_parse_i64(" 1", 0, 100, &v), HLC_EPARSE);
    assert_int_equal(hlc_parse_i64("", 0, 100, &v), HLC_EPARSE);
    assert_int_equal(hlc_parse_i64(NULL, 0, 100, &v), HLC_EPARSE);
}

static void
test_ids(void **state)
{
    (void)state;
    char a[37], b[37], hex[17];
    hlc_uuid4(a);
    hlc_uuid4(b);
    assert_int_equal(strlen(a), 36);
    assert_true(a[14] == '4');
    assert_true(strchr("89ab", a[19]) != NULL);
    assert_string_not_equal(a, b);
    hlc_random_hex(hex, 8);
    assert_int_equal(strlen(hex), 16);
}

/* jansson's own UTF-8 check: true when b[0..len) is valid text. */
static bool
jansson_valid(const unsigned char *b, size_t len)
{
    json_t *j = json_stringn((const char *)b, len);
    json_decref(j);
    return j != NULL;
}

/* Every first and second byte, with third and fourth bytes from each class
 * (ASCII, continuation edges, lead bytes): a length n > 0 is a character
 * jansson takes whole and no shorter prefix of which it takes; 0 means b
 * starts no character, so jansson takes no prefix at all. */
static void
test_utf8_len(void **state)
{
    (void)state;
    static const unsigned char tail[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90,
                                         0x9f, 0xa0, 0xbf, 0xc0, 0xf5, 0xff};
    unsigned char b[4];
    for (unsigned b0 = 0; b0 < 256; b0++)
        for (unsigned b1 = 0; b1 < 256; b1++)
            for (size_t k2 = 0; k2 < sizeof(tail); k2++)
                for (size_t k3 = 0; k3 < sizeof(tail); k3 += 3) {
                    b[0] = (unsigned char)b0;
                    b[1] = (unsigned char)b1;
                    b[2] = tail[k2];
                    b[3] = tail[k3];
                    size_t n = hlc_utf8_len(b, sizeof(b));
                    assert_true(n <= 4);
                    if (n)
                        assert_true(jansson_valid(b, n));
                    for (size_t len = 1; len <= 4 && (len < n || n == 0); len++)
                        assert_false(jansson_valid(b, len));
                    if (n > 1)
                        assert_int_equal(hlc_utf8_len(b, n - 1), 0); /* cut short */
                }
}

/* A loop thread that counts its rounds and sleeps 10 s between them. */
struct counted {
    struct hlc_loop loop;
    _Atomic int rounds;
};

static void *
count_rounds(void *arg)
{
    struct counted *c = arg;
    while (!hlc_loop_stopping(&c->loop)) {
        atomic_fetch_add(&c->rounds, 1);
        hlc_loop_sleep(&c->loop, 10000);
    }
    return NULL;
}

static void
wait_rounds(struct counted *c, int n)
{
    for (int i = 0; i < 2000 && atomic_load(&c->rounds) < n; i++) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
}

static void
test_loop(void **state)
{
    (void)state;
    struct counted c;
    memset(&c, 0, sizeof(c));
    hlc_loop_stop(&c.loop); /* never started: nothing to do */
    hlc_loop_kick(&c.loop);
    assert_int_equal(hlc_loop_start(&c.loop, count_rounds, &c), 0);
    wait_rounds(&c, 1);
    assert_int_equal(atomic_load(&c.rounds), 1);
    /* a kick cuts the 10 s sleep short: one more round, not a spin */
    int64_t t0 = hlc_mono_ms();
    hlc_loop_kick(&c.loop);
    wait_rounds(&c, 2);
    assert_int_equal(atomic_load(&c.rounds), 2);
    assert_true(hlc_mono_ms() - t0 < 1000);
    struct timespec ts = {0, 50000000};
    nanosleep(&ts, NULL);
    assert_int_equal(atomic_load(&c.rounds), 2);
    /* stop wakes the sleeping thread and joins it at once */
    t0 = hlc_mono_ms();
    hlc_loop_stop(&c.loop);
    assert_true(hlc_mono_ms() - t0 < 1000);
    assert_int_equal(atomic_load(&c.rounds), 2);
    hlc_loop_stop(&c.loop); /* twice is harmless */
}

int
main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror), cmocka_unit_test(test_buf_cap),
        cmocka_unit_test(test_time),     cmocka_unit_test(test_parse_i64),
        cmocka_unit_test(test_ids),      cmocka_unit_test(test_utf8_len),
        cmocka_unit_test(test_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
