/* fuzz_checks.c - libFuzzer harness for the two parsers of service-check
 * answers from outside: a machine's probe output (text from its shell) and
 * a resolver's DNS answer (a datagram). The first byte picks the parser and,
 * for DNS, the query id's low byte. Whatever comes in, the parsers stay in
 * bounds, keep their caps, and hand back only IP literals as addresses; the
 * judge then reads the result without tripping. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "hlc/base.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_addrs(const struct hlc_probe_out *po)
{
    if (po->naddrs < 0 || po->naddrs > HLC_CHECK_MAX_ADDRS)
        abort();
    for (int i = 0; i < po->naddrs; i++) {
        unsigned char x[16];
        if (!memchr(po->addrs[i], '\0', sizeof(po->addrs[i])) ||
            (inet_pton(AF_INET, po->addrs[i], x) != 1 && inet_pton(AF_INET6, po->addrs[i], x) != 1))
            abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct hlc_probe_out po;
    struct hlc_check_spec sp;
    memset(&sp, 0, sizeof(sp));
    sp.status_min = 200;
    sp.status_max = 399;
    memcpy(sp.keyword, "ok", 3);
    memcpy(sp.expect, "10.0.0.1", 9);
    hlc_probe_out_init(&po);
    int rc;
    if (data[0] & 1) {
        /* Copied so the parser sees exactly `size - 1` bytes with no NUL after. */
        char *text = malloc(size - 1 ? size - 1 : 1);
        memcpy(text, data + 1, size - 1);
        rc = hlc_check_probe_parse(text, size - 1, &po);
        if (rc != 0 && rc != HLC_EPARSE)
            abort();
        if (po.body && (po.body < text || po.body + po.body_len > text + size - 1))
            abort();
        if (!memchr(po.tool, '\0', sizeof(po.tool)) || !memchr(po.error, '\0', sizeof(po.error)))
            abort();
        if (po.code != -1 && (po.code < 100 || po.code > 999))
            abort();
        check_addrs(&po);
        sp.type = (enum hlc_check_type)((data[0] >> 1) % 3);
        struct hlc_check_result res;
        hlc_check_judge(&sp, &po, &res);
        if (!res.ok && !res.error[0])
            abort();
        free(text);
    } else {
        uint8_t *dgram = malloc(size - 1 ? size - 1 : 1);
        memcpy(dgram, data + 1, size - 1);
        uint16_t id = size > 2 ? (uint16_t)(data[1] << 8 | data[2]) : 0;
        int qtype = data[0] & 2 ? HLC_DNS_AAAA : HLC_DNS_A;
        rc = hlc_dns_answer_parse(dgram, size - 1, id, qtype, &po);
        if (rc != 0 && rc != HLC_EPARSE)
            abort();
        if (rc == 0 && (po.rcode < 0 || po.rcode > 15))
            abort();
        check_addrs(&po);
        free(dgram);
    }
    return 0;
}
