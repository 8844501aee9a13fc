/* test_guard.c - the HTTP door keeper's bookkeeping: connection limits in all
 * and per address (IPv6 per /64), deadlines, and the wrong-key throttle. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "guard.h"
#include "hlc/base.h"

static struct sockaddr_storage
v4(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a = (struct sockaddr_in *)&ss;
    a->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &a->sin_addr);
    return ss;
}

static struct sockaddr_storage
v6(const char *ip)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
    a->sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &a->sin6_addr);
    return ss;
}

#define SA(x) ((const struct sockaddr *)&(x))

static const struct hlc_guard_cfg cfg = {
    .max_conns = 8, .per_addr = 3, .fd_slots = 64, .head_ms = 10000, .body_ms = 60000,
    .idle_ms = 40000, .fail_limit = 10, .fail_window_ms = 60000, .delay_max_ms = 16000,
    .fail_addrs = 4,
};

static void
test_limits(void **state)
{
    (void)state;
    struct hlc_guard *g;
    assert_int_equal(hlc_guard_new(&g, &cfg), 0);
    struct sockaddr_storage a = v4("127.0.1.1"), b = v4("127.0.1.2");
    for (int fd = 10; fd < 13; fd++)
        assert_int_equal(hlc_guard_admit(g, fd, SA(a), 0), HLC_GUARD_OK);
    assert_int_equal(hlc_guard_admit(g, 13, SA(a), 0), HLC_GUARD_ADDR_FULL);
    assert_int_equal(hlc_guard_admit(g, 12, SA(b), 0), HLC_GUARD_NO_SLOT); /* fd taken */
    assert_int_equal(hlc_guard_admit(g, 64, SA(b), 0), HLC_GUARD_NO_SLOT); /* past the slots */
    unsigned total, mine;
    hlc_guard_counts(g, SA(a), &total, &mine);
    assert_int_equal(total, 3);
    assert_int_equal(mine, 3);
    /* A closed connection frees its address's place, once. */
    hlc_guard_release(g, 11);
    hlc_guard_release(g, 11);
    assert_int_equal(hlc_guard_admit(g, 13, SA(a), 0), HLC_GUARD_OK);
    /* The global cap: 8 in all whatever the addresses. */
    char ip[32];
    int fd = 20;
    for (int i = 0; i < 5; i++) {
        snprintf(ip, sizeof(ip), "127.0.2.%d", i + 1);
        struct sockaddr_storage c = v4(ip);
        assert_int_equal(hlc_guard_admit(g, fd++, SA(c), 0), HLC_GUARD_OK);
    }
    assert_int_equal(hlc_guard_admit(g, fd++, SA(b), 0), HLC_GUARD_FULL);
    /* Release everything: the tables empty out (no tombstones left behind). */
    for (int i = 0; i < 64; i++)
        hlc_guard_release(g, i);
    hlc_guard_counts(g, SA(a), &total, &mine);
    assert_int_equal(total, 0);
    assert_int_equal(mine, 0);
    for (int round = 0; round < 50; round++) { /* churn through many addresses */
        for (int i = 0; i < 8; i++) {
            snprintf(ip, sizeof(ip), "10.%d.%d.1", round, i);
            struct sockaddr_storage c = v4(ip);
            assert_int_equal(hlc_guard_admit(g, 30 + i, SA(c), 0), HLC_GUARD_OK);
        }
        for (int i = 0; i < 8; i++)
            hlc_guard_release(g, 30 + i);
    }
    hlc_guard_free(g);
}

static void
test_ipv6_per_64(void **state)
{
    (void)state;
    struct hlc_guard *g;
    assert_int_equal(hlc_guard_new(&g, &cfg), 0);
    struct sockaddr_storage a = v6("fd00:1:2:3::1"), b = v6("fd00:1:2:3:ffff::9"),
                            c = v6("fd00:1:2:4::1"), m = v6("::ffff:127.0.1.1"),
                            m4 = v4("127.0.1.1");
    assert_int_equal(hlc_guard_admit(g, 1, SA(a), 0), HLC_GUARD_OK);
    assert_int_equal(hlc_guard_admit(g, 2, SA(b), 0), HLC_GUARD_OK);
    assert_int_equal(hlc_guard_admit(g, 3, SA(a), 0), HLC_GUARD_OK);
    assert_int_equal(hlc_guard_admit(g, 4, SA(b), 0), HLC_GUARD_ADDR_FULL); /* same /64 */
    assert_int_equal(hlc_guard_admit(g, 4, SA(c), 0), HLC_GUARD_OK);
    /* A v4-mapped address is the IPv4 address. */
    assert_int_equal(hlc_guard_admit(g, 5, SA(m), 0), HLC_GUARD_OK);
    unsigned total, mine;
    hlc_guard_counts(g, SA(m4), &total, &mine);
    assert_int_equal(mine, 1);
    hlc_guard_free(g);
}

static int expired[64];
static int nexpired;

static void
on_expire(int fd, void *ud)
{
    (void)ud;
    expired[nexpired++] = fd;
}

static void
test_deadlines(void **state)
{
    (void)state;
    struct hlc_guard *g;
    assert_int_equal(hlc_guard_new(&g, &cfg), 0);
    struct sockaddr_storage a = v4("127.0.1.1");
    assert_int_equal(hlc_guard_admit(g, 5, SA(a), 1000), HLC_GUARD_OK); /* head by 11000 */
    assert_int_equal(hlc_guard_admit(g, 6, SA(a), 1000), HLC_GUARD_OK);
    assert_int_equal(hlc_guard_admit(g, 7, SA(a), 1000), HLC_GUARD_OK);
    hlc_guard_phase(g, 6, HLC_GUARD_BODY, 5000); /* body by 65000 */
    hlc_guard_phase(g, 7, HLC_GUARD_BUSY, 5000); /* none */
    nexpired = 0;
    assert_int_equal(hlc_guard_expire(g, 10999, on_expire, NULL), 0);
    assert_int_equal(hlc_guard_expire(g, 11000, on_expire, NULL), 1);
    assert_int_equal(expired[0], 5);
    /* Told once only, even while it has not closed yet. */
    assert_int_equal(hlc_guard_expire(g, 20000, on_expire, NULL), 0);
    assert_int_equal(hlc_guard_expire(g, 65000, on_expire, NULL), 1);
    assert_int_equal(expired[1], 6);
    assert_int_equal(hlc_guard_expire(g, 1000000, on_expire, NULL), 0);
    /* Answered and kept alive: the idle deadline. */
    hlc_guard_phase(g, 7, HLC_GUARD_IDLE, 100000);
    assert_int_equal(hlc_guard_expire(g, 139999, on_expire, NULL), 0);
    assert_int_equal(hlc_guard_expire(g, 140000, on_expire, NULL), 1);
    hlc_guard_free(g);
}

static void
test_key_throttle(void **state)
{
    (void)state;
    struct hlc_guard *g;
    assert_int_equal(hlc_guard_new(&g, &cfg), 0);
    struct sockaddr_storage a = v4("127.0.1.1"), b = v4("127.0.1.2");
    int64_t t = 1000;
    for (int i = 0; i < 10; i++)
        assert_int_equal(hlc_guard_key_failed(g, SA(a), t++), 0);
    /* The 11th waits 250 ms, then doubling up to the cap. */
    int64_t want[] = {250, 500, 1000, 2000, 4000, 8000, 16000, 16000, 16000};
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        assert_int_equal(hlc_guard_key_failed(g, SA(a), t++), want[i]);
    /* Another address is its own. */
    assert_int_equal(hlc_guard_key_failed(g, SA(b), t), 0);
    /* Quiet for the window: a fresh start. */
    t += 60001;
    assert_int_equal(hlc_guard_key_failed(g, SA(a), t), 0);
    /* Bounded: a fifth address evicts the quietest (b), whose count restarts. */
    for (int i = 0; i < 12; i++)
        hlc_guard_key_failed(g, SA(a), ++t);
    char ip[32];
    for (int i = 0; i < 3; i++) {
        snprintf(ip, sizeof(ip), "127.0.9.%d", i + 1);
        struct sockaddr_storage c = v4(ip);
        hlc_guard_key_failed(g, SA(c), ++t);
    }
    assert_true(hlc_guard_key_failed(g, SA(a), ++t) > 0); /* still remembered */
    hlc_guard_free(g);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ipv6_per_64),
        cmocka_unit_test(test_deadlines),
        cmocka_unit_test(test_key_throttle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
