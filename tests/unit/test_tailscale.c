/* test_tailscale.c - the pure parsers of the Tailscale API device list and the
 * LocalAPI status (real-world shapes, missing fields, bounds), the machine
 * type and slug helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlc/base.h"
#include "tailscale.h"

/* An answer shaped as the public API docs show one (fields=all). */
static const char api_answer[] =
    "{\"devices\":[{"
    "\"addresses\":[\"100.87.74.78\",\"fd7a:115c:a1e0:ac82:4843:ca90:697d:c36e\"],"
    "\"id\":\"92960230385\",\"nodeId\":\"n292kg92CNTRL\",\"user\":\"amelie@example.com\","
    "\"name\":\"pangolin.tailfe8c.ts.net\",\"hostname\":\"pangolin\","
    "\"clientVersion\":\"v1.36.0\",\"updateAvailable\":true,\"os\":\"linux\","
    "\"created\":\"2022-12-01T05:23:30Z\",\"connectedToControl\":true,"
    "\"lastSeen\":\"2022-12-01T05:23:30Z\",\"keyExpiryDisabled\":false,"
    "\"expires\":\"2023-05-30T04:44:05Z\",\"authorized\":true,\"isExternal\":false,"
    "\"machineKey\":\"\",\"nodeKey\":\"nodekey:01234567\",\"blocksIncomingConnections\":false,"
    "\"enabledRoutes\":[\"10.0.0.0/16\"],\"advertisedRoutes\":[\"10.0.0.0/16\"],"
    "\"clientConnectivity\":{\"endpoints\":[\"199.9.14.201:59128\"],\"latency\":{\"Dallas\":"
    "{\"latencyMs\":60.46}},\"clientSupports\":{\"udp\":true}},"
    "\"tags\":[\"tag:golink\",\"tag:server\"],\"tailnetLockError\":\"\","
    "\"tailnetLockKey\":\"tlpub:01\",\"postureIdentity\":{\"serialNumbers\":[\"CP74LFQJXM\"]}},"
    /* an old client: no connectedToControl; empty and zero dates; few fields */
    "{\"nodeId\":\"nOld1CNTRL\",\"hostname\":\"Amelie's MacBook Pro\",\"os\":\"macOS\","
    "\"name\":\"amelies-macbook-pro.tailfe8c.ts.net\",\"addresses\":[\"100.64.0.9\"],"
    "\"lastSeen\":\"\",\"expires\":\"0001-01-01T00:00:00Z\",\"keyExpiryDisabled\":true,"
    "\"isExternal\":true},"
    /* unusable: no nodeId, a wrong type, a control character */
    "{\"hostname\":\"nonode\"},"
    "{\"nodeId\":\"nBad1CNTRL\",\"hostname\":42},"
    "{\"nodeId\":\"nBad2CNTRL\",\"hostname\":\"a\\u0007b\"},"
    "{\"nodeId\":\"n../etc\"}"
    "]}";

static void
test_api_devices(void **state)
{
    (void)state;
    struct hlc_ts_device *d = NULL;
    size_t n = 0, skipped = 0;
    assert_int_equal(hlc_ts_parse_devices(api_answer, strlen(api_answer), &d, &n, &skipped), 0);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 4);
    assert_string_equal(d[0].node_id, "n292kg92CNTRL");
    assert_string_equal(d[0].id, "92960230385");
    assert_string_equal(d[0].name, "pangolin.tailfe8c.ts.net");
    assert_string_equal(d[0].hostname, "pangolin");
    assert_string_equal(d[0].ipv4, "100.87.74.78");
    assert_string_equal(d[0].ipv6, "fd7a:115c:a1e0:ac82:4843:ca90:697d:c36e");
    assert_int_equal(d[0].naddrs, 2);
    assert_int_equal(d[0].online, 1);
    assert_int_equal(d[0].last_seen, 1669872210);
    assert_int_equal(d[0].expires, 1685421845);
    assert_int_equal(d[0].ntags, 2);
    assert_string_equal(d[0].tags[1], "tag:server");
    assert_string_equal(d[0].user, "amelie@example.com");
    assert_true(d[0].update_available);
    assert_true(d[0].authorized);
    assert_false(d[0].is_external);

    assert_string_equal(d[1].node_id, "nOld1CNTRL");
    assert_int_equal(d[1].online, -1);           /* no connectedToControl */
    assert_int_equal(d[1].last_seen, 0);         /* "" */
    assert_int_equal(d[1].expires, 0);           /* 0001-01-01 and disabled */
    assert_true(d[1].key_expiry_disabled);
    assert_true(d[1].is_external);
    assert_true(d[1].authorized);                /* not said: approved */
    assert_string_equal(d[1].ipv6, "");
    assert_string_equal(hlc_ts_machine_type(d[1].os), "workstation");
    free(d);
}

static void
test_api_refusals(void **state)
{
    (void)state;
    struct hlc_ts_device *d = (void *)1;
    size_t n = 7;
    assert_int_equal(hlc_ts_parse_devices("nope", 4, &d, &n, NULL), HLC_EPARSE);
    assert_null(d);
    assert_int_equal(n, 0);
    assert_int_equal(hlc_ts_parse_devices("{\"devices\":{}}", 14, &d, &n, NULL), HLC_EPARSE);
    assert_int_equal(hlc_ts_parse_devices("[]", 2, &d, &n, NULL), HLC_EPARSE);
    assert_int_equal(hlc_ts_parse_devices("{\"devices\":[]}", 14, &d, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(hlc_ts_parse_devices("x", HLC_TS_MAX_BODY + 1, &d, &n, NULL), HLC_ETOOBIG);
    const char nul[] = "{\"devices\":[]}\0";
    assert_int_equal(hlc_ts_parse_devices(nul, sizeof(nul), &d, &n, NULL), HLC_EPARSE);

    /* More devices than the cap: refused whole. */
    size_t cap = (HLC_TS_MAX_DEVICES + 1) * 4 + 32;
    char *big = hlc_xmalloc(cap);
    size_t len = (size_t)snprintf(big, cap, "{\"devices\":[");
    for (int i = 0; i <= HLC_TS_MAX_DEVICES; i++)
        len += (size_t)snprintf(big + len, cap - len, "%s{}", i ? "," : "");
    len += (size_t)snprintf(big + len, cap - len, "]}");
    assert_int_equal(hlc_ts_parse_devices(big, len, &d, &n, NULL), HLC_ETOOBIG);
    free(big);
}

static void
test_caps_cut_tags_and_addresses(void **state)
{
    (void)state;
    char text[4096];
    size_t len = (size_t)snprintf(text, sizeof(text),
                                  "{\"devices\":[{\"nodeId\":\"nCap1\",\"addresses\":[");
    for (int i = 0; i < 6; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"100.64.0.%d\"", i ? "," : "",
                                i + 1);
    len += (size_t)snprintf(text + len, sizeof(text) - len, ",\"not-an-ip\"],\"tags\":[");
    for (int i = 0; i < 20; i++)
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s\"tag:t%d\"", i ? "," : "", i);
    len += (size_t)snprintf(text + len, sizeof(text) - len,
                            "],\"name\":\"bad name.ts.net.\",\"lastSeen\":\"garbage\"}]}");
    struct hlc_ts_device *d = NULL;
    size_t n = 0;
    assert_int_equal(hlc_ts_parse_devices(text, len, &d, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_int_equal(d[0].naddrs, HLC_TS_MAX_ADDRS);
    assert_int_equal(d[0].ntags, HLC_TS_MAX_TAGS);
    assert_true(d[0].truncated);
    assert_string_equal(d[0].name, "");   /* not a DNS name */
    assert_int_equal(d[0].last_seen, 0);  /* not a date: unknown */
    free(d);
}

static const char status_answer[] =
    "{\"Version\":\"1.76.1-t1234\",\"BackendState\":\"Running\","
    "\"TailscaleIPs\":[\"100.101.102.103\",\"fd7a:115c:a1e0::1\"],"
    "\"Self\":{\"ID\":\"nSelf1CNTRL\",\"PublicKey\":\"nodekey:aa\",\"HostName\":\"hub\","
    "\"DNSName\":\"hub.tail4a1b2c.ts.net.\",\"OS\":\"linux\",\"UserID\":1,"
    "\"TailscaleIPs\":[\"100.101.102.103\",\"fd7a:115c:a1e0::1\"],\"Online\":true,"
    "\"LastSeen\":\"0001-01-01T00:00:00Z\",\"KeyExpiry\":\"2027-03-01T10:00:00Z\"},"
    "\"Peer\":{"
    "\"nodekey:bb\":{\"ID\":\"nPeer1CNTRL\",\"HostName\":\"nas\",\"DNSName\":\"nas.tail4a1b2c.ts.net.\","
    "\"OS\":\"linux\",\"TailscaleIPs\":[\"100.64.0.5\"],\"Tags\":[\"tag:server\"],"
    "\"Online\":false,\"LastSeen\":\"2026-12-01T08:00:00.123456789Z\"},"
    "\"nodekey:cc\":{\"ID\":\"nPeer2CNTRL\",\"HostName\":\"phone\",\"DNSName\":\"phone.tail4a1b2c.ts.net.\","
    "\"OS\":\"iOS\",\"TailscaleIPs\":null,\"Online\":true,\"KeyExpiry\":\"2026-12-20T00:00:00Z\"},"
    "\"nodekey:dd\":{\"HostName\":\"no-id\"}},"
    "\"User\":{\"1\":{\"ID\":1,\"LoginName\":\"amelie@example.com\"}}}";

static void
test_local_status(void **state)
{
    (void)state;
    struct hlc_ts_device *d = NULL;
    size_t n = 0, skipped = 0;
    assert_int_equal(hlc_ts_parse_status(status_answer, strlen(status_answer), &d, &n, &skipped),
                     0);
    assert_int_equal(n, 3);
    assert_int_equal(skipped, 1);
    assert_true(d[0].is_self);
    assert_string_equal(d[0].node_id, "nSelf1CNTRL");
    assert_string_equal(d[0].name, "hub.tail4a1b2c.ts.net"); /* trailing dot gone */
    assert_int_equal(d[0].last_seen, 0);
    assert_false(d[0].key_expiry_disabled);
    assert_int_equal(d[0].expires, 1803895200);
    const struct hlc_ts_device *nas = NULL, *phone = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(d[i].node_id, "nPeer1CNTRL") == 0)
            nas = &d[i];
        if (strcmp(d[i].node_id, "nPeer2CNTRL") == 0)
            phone = &d[i];
    }
    assert_non_null(nas);
    assert_non_null(phone);
    assert_int_equal(nas->online, 0);
    assert_int_equal(nas->last_seen, 1796112000); /* fractional seconds dropped */
    assert_true(nas->key_expiry_disabled);         /* no KeyExpiry */
    assert_string_equal(nas->tags[0], "tag:server");
    assert_string_equal(nas->ipv4, "100.64.0.5");
    assert_int_equal(phone->naddrs, 0);
    assert_int_equal(phone->online, 1);
    free(d);

    assert_int_equal(hlc_ts_parse_status("{\"Peer\":[]}", 11, &d, &n, NULL), HLC_EPARSE);
    assert_int_equal(hlc_ts_parse_status("{}", 2, &d, &n, NULL), HLC_EPARSE);
    assert_int_equal(hlc_ts_parse_status("{\"Self\":null,\"Peer\":null}", 25, &d, &n, NULL), 0);
    assert_int_equal(n, 0);
    free(d);
}

static void
test_types_and_slugs(void **state)
{
    (void)state;
    assert_string_equal(hlc_ts_machine_type("linux"), "server");
    assert_string_equal(hlc_ts_machine_type(""), "server");
    assert_string_equal(hlc_ts_machine_type("windows"), "workstation");
    assert_string_equal(hlc_ts_machine_type("android"), "workstation");
    assert_string_equal(hlc_ts_machine_type("iOS"), "workstation");
    char s[64];
    hlc_ts_slug("Amelie's MacBook Pro", s);
    assert_string_equal(s, "amelie-s-macbook-pro");
    hlc_ts_slug("--NAS__01--", s);
    assert_string_equal(s, "nas-01");
    hlc_ts_slug("\xc3\xa9t\xc3\xa9", s);
    assert_string_equal(s, "t");
    hlc_ts_slug("", s);
    assert_string_equal(s, "device");
    hlc_ts_slug("!!!", s);
    assert_string_equal(s, "device");
    char longname[200];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    hlc_ts_slug(longname, s);
    assert_int_equal(strlen(s), 63);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_api_devices),
        cmocka_unit_test(test_api_refusals),
        cmocka_unit_test(test_caps_cut_tags_and_addresses),
        cmocka_unit_test(test_local_status),
        cmocka_unit_test(test_types_and_slugs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
