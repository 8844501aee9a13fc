/* test_discover.c - the pure parsers of network discovery: CIDR, lines of
 * /proc/net/arp and of ieee-data's oui.txt, the SSH identification line;
 * and one probe of loopback (a listener that speaks SSH's first line). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "checks.h"
#include "discover.h"
#include "hlc/base.h"

static void
test_cidr(void **state)
{
    (void)state;
    uint32_t net;
    int p;
    assert_int_equal(hlc_discover_cidr_parse("192.168.1.0/24", &net, &p), 0);
    assert_int_equal(net, 0xc0a80100u);
    assert_int_equal(p, 24);
    /* host bits are cleared */
    assert_int_equal(hlc_discover_cidr_parse("10.1.2.3/22", &net, &p), 0);
    assert_int_equal(net, 0x0a010000u);
    assert_int_equal(hlc_discover_cidr_parse("0.0.0.0/0", &net, &p), 0);
    assert_int_equal(p, 0);
    assert_int_equal(net, 0);
    assert_int_equal(hlc_discover_cidr_parse("255.255.255.255/32", &net, &p), 0);
    assert_int_equal(net, 0xffffffffu);
    static const char *const bad[] = {
        "", "192.168.1.0", "192.168.1.0/", "192.168.1.0/33", "192.168.1/24", "192.168.1.0.0/24",
        "256.1.1.1/24", "01.1.1.1/24", "1.1.1.1/024", " 1.1.1.1/24", "1.1.1.1/24 ",
        "1.1.1.1/2a", "::1/128", "1.1.1.-1/24", "1111.1.1.1/24", "1.1.1.1//24", "a.b.c.d/8",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(hlc_discover_cidr_parse(bad[i], &net, &p), HLC_EINVAL);
    assert_int_equal(hlc_discover_cidr_parse(NULL, &net, &p), HLC_EINVAL);
}

static int
arp(const char *line, uint32_t *ip, char mac[18])
{
    return hlc_discover_arp_line(line, strlen(line), ip, mac);
}

static void
test_arp(void **state)
{
    (void)state;
    uint32_t ip = 0;
    char mac[18];
    assert_int_equal(
        arp("IP address       HW type     Flags       HW address            Mask     Device\n",
            &ip, mac),
        HLC_ENOTFOUND);
    assert_int_equal(
        arp("10.77.0.11       0x1         0x2         AA:bb:cc:00:11:22     *        veth0\n", &ip,
            mac),
        0);
    assert_int_equal(ip, 0x0a4d000bu);
    assert_string_equal(mac, "aa:bb:cc:00:11:22");
    /* permanent + complete */
    assert_int_equal(arp("10.0.0.1 0x1 0x6 02:00:00:00:00:01 * eth0", &ip, mac), 0);
    /* incomplete: no address yet */
    assert_int_equal(arp("10.77.0.99 0x1 0x0 00:00:00:00:00:00 * veth0\n", &ip, mac),
                     HLC_ENOTFOUND);
    assert_int_equal(arp("10.77.0.99 0x1 0x2 00:00:00:00:00:00 * veth0\n", &ip, mac),
                     HLC_ENOTFOUND);
    static const char *const bad[] = {
        "", "10.0.0.1 0x1 0x2 aa:bb:cc:00:11:22 *", "10.0.0.256 0x1 0x2 aa:bb:cc:00:11:22 * e",
        "10.0.0.1 0x1 2 aa:bb:cc:00:11:22 * e", "10.0.0.1 0x1 0x2 aa:bb:cc:00:11 * e",
        "10.0.0.1 0x1 0x2 aa-bb-cc-00-11-22 * e", "10.0.0.1 0x1 0xzz aa:bb:cc:00:11:22 * e",
        "10.0.0.1 0x1 0x2 aa:bb:cc:00:11:2g * e", "10.0.0 0x1 0x2 aa:bb:cc:00:11:22 * e",
        "10.0.0.1.5 0x1 0x2 aa:bb:cc:00:11:22 * e",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(arp(bad[i], &ip, mac), HLC_EPARSE);
}

static void
test_oui(void **state)
{
    (void)state;
    char prefix[7], vendor[HLC_DISCOVER_VENDOR_MAX + 1];
    const char *l = "00-22-72   (hex)\t\tAmerican Micro-Fuel Device Corp.\r\n";
    assert_int_equal(hlc_discover_oui_line(l, strlen(l), prefix, vendor), 0);
    assert_string_equal(prefix, "002272");
    assert_string_equal(vendor, "American Micro-Fuel Device Corp.");
    l = "a8-5e-45   (hex)\t\tASUSTek COMPUTER INC.\n";
    assert_int_equal(hlc_discover_oui_line(l, strlen(l), prefix, vendor), 0);
    assert_string_equal(prefix, "A85E45");
    l = "00-00-0C   (hex)\t\tCisco \xc3\xa9Systems\n"; /* non-ASCII becomes '?' */
    assert_int_equal(hlc_discover_oui_line(l, strlen(l), prefix, vendor), 0);
    assert_string_equal(vendor, "Cisco ??Systems");
    char longl[400];
    snprintf(longl, sizeof(longl), "00-00-0C   (hex)\t\t%0300d\n", 7);
    assert_int_equal(hlc_discover_oui_line(longl, strlen(longl), prefix, vendor), 0);
    assert_int_equal(strlen(vendor), HLC_DISCOVER_VENDOR_MAX);
    static const char *const other[] = {
        "000000     (base 16)\t\tXEROX CORPORATION\n", "\t\t\t\tSTAMFORD CT 06904\n",
        "OUI/MA-L                                                    Organization\n", "",
        "00-00-0G   (hex)\t\tX\n", "00-00-00   (hex)\t\t\r\n", "00-00-00(hex) X\n",
        "00:00:00   (hex)\t\tX\n", "00-00-00   (HEX)\t\tX\n",
    };
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        assert_int_equal(hlc_discover_oui_line(other[i], strlen(other[i]), prefix, vendor),
                         HLC_ENOTFOUND);
}

static int
banner(const char *s, char out[HLC_DISCOVER_BANNER_MAX + 1])
{
    return hlc_discover_ssh_banner(s, strlen(s), out);
}

static void
test_banner(void **state)
{
    (void)state;
    char out[HLC_DISCOVER_BANNER_MAX + 1];
    assert_int_equal(banner("SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n", out), 0);
    assert_string_equal(out, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3");
    assert_int_equal(banner("SSH-2.0-dropbear_2022.83\n\0\0\0key", out), 0);
    assert_string_equal(out, "SSH-2.0-dropbear_2022.83");
    assert_int_equal(banner("SSH-2.0-x\x01y\n", out), 0);
    assert_string_equal(out, "SSH-2.0-x?y");
    /* more may come */
    assert_int_equal(banner("", out), 1);
    assert_int_equal(banner("SS", out), 1);
    assert_int_equal(banner("SSH-2.0-Open", out), 1);
    /* not SSH, or too long */
    assert_int_equal(banner("HTTP/1.1 400 Bad Request\r\n", out), HLC_EPARSE);
    assert_int_equal(banner("X", out), HLC_EPARSE);
    assert_int_equal(banner("SSH\n", out), HLC_EPARSE);
    char longb[300];
    memset(longb, 'a', sizeof(longb));
    memcpy(longb, "SSH-", 4);
    assert_int_equal(hlc_discover_ssh_banner(longb, sizeof(longb), out), HLC_EPARSE);
    longb[HLC_DISCOVER_BANNER_MAX] = '\n';
    assert_int_equal(hlc_discover_ssh_banner(longb, sizeof(longb), out), 0);
    assert_int_equal(strlen(out), HLC_DISCOVER_BANNER_MAX);
    longb[HLC_DISCOVER_BANNER_MAX] = 'a';
    longb[HLC_DISCOVER_BANNER_MAX + 1] = '\n';
    assert_int_equal(hlc_discover_ssh_banner(longb, sizeof(longb), out), HLC_EPARSE);
}

/* The echo request both ping checks and discovery send, and the reply test. */
static void
test_echo(void **state)
{
    (void)state;
    unsigned char pkt[24];
    size_t n = hlc_check_echo_request(pkt, false, 0x0102, "HomelabCmd disc");
    assert_int_equal(n, 8 + 15);
    assert_int_equal(pkt[0], 8); /* ICMP_ECHO */
    assert_int_equal(pkt[6], 1);
    assert_int_equal(pkt[7], 2);
    assert_memory_equal(pkt + 8, "HomelabCmd disc", 15);
    n = hlc_check_echo_request(pkt, true, 7, "a tag longer than sixteen bytes");
    assert_int_equal(n, 24);
    assert_int_equal(pkt[0], 128); /* ICMP6_ECHO_REQUEST */
    unsigned char reply[8] = {0, 0, 0, 0, 0x12, 0x34, 0x01, 0x02};
    assert_true(hlc_check_echo_reply(reply, 8, false, 0x0102));
    assert_false(hlc_check_echo_reply(reply, 8, false, 0x0103));
    assert_false(hlc_check_echo_reply(reply, 7, false, 0x0102));
    assert_false(hlc_check_echo_reply(reply, 8, true, 0x0102)); /* not ICMP6_ECHO_REPLY */
    reply[0] = 129;
    assert_true(hlc_check_echo_reply(reply, 8, true, 0x0102));
}

/* A /32 of loopback probed over TCP (no ICMP): 127.0.0.1 answers (an accept
 * or a reset) and is found live within the limit, with no MAC (loopback has
 * no neighbour entry). The namespaces of test_discover.py check the rest. */
static void
test_probe_loopback(void **state)
{
    (void)state;
    struct hlc_discover_cfg cfg = {
        .net = 0x7f000001u, .prefix = 32, .time_limit_ms = 1500, .icmp = false,
        .resolve = false, .arp_path = "/nonexistent", .oui_path = "/nonexistent"};
    struct hlc_discover_result r;
    assert_int_equal(hlc_discover_probe(&cfg, &r), 0);
    assert_int_equal(r.probed, 1);
    assert_int_equal(r.nhosts, 1);
    assert_string_equal(r.hosts[0].ip_text, "127.0.0.1");
    assert_string_equal(r.hosts[0].mac, "");
    assert_false(r.timed_out);
    hlc_discover_result_release(&r);
    /* refused configurations */
    cfg.prefix = 21;
    assert_int_equal(hlc_discover_probe(&cfg, &r), HLC_EINVAL);
    hlc_discover_result_release(&r);
    cfg.prefix = 24;
    cfg.time_limit_ms = 10;
    assert_int_equal(hlc_discover_probe(&cfg, &r), HLC_EINVAL);
    hlc_discover_result_release(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_arp),
        cmocka_unit_test(test_oui),
        cmocka_unit_test(test_banner),
        cmocka_unit_test(test_echo),
        cmocka_unit_test(test_probe_loopback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
