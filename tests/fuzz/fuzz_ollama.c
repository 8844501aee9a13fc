/* fuzz_ollama.c - libFuzzer harness for the parsers of Ollama's answers:
 * any input either parses into models that keep the invariants the store
 * and the dashboard rely on (a name, strings terminated within their fields
 * and free of control characters, sizes -1 or more, counts within the cap),
 * or is refused with HLC_EPARSE / HLC_ETOOBIG with nothing returned; the
 * remote probe's output splits into answers inside the input. The first
 * byte picks the parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hlc/base.h"
#include "ollama.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_str(const char *s, size_t cap)
{
    if (!memchr(s, '\0', cap))
        abort();
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] & 4) {
        struct hlc_ollama_parts p;
        if (hlc_ollama_split(text, len, &p) == 0)
            for (int i = 0; i < HLC_OLLAMA_NCALLS; i++)
                if (p.seen[i] && (p.body[i] < text || p.body[i] + p.len[i] > text + len ||
                                  p.rc[i] < 0 || p.rc[i] > 255))
                    abort();
        return 0;
    }
    if (data[0] & 1) {
        char v[64];
        int rc = hlc_ollama_parse_version(text, len, v);
        if (rc == 0) {
            check_str(v, sizeof(v));
            if (!v[0])
                abort();
        } else if ((rc != HLC_EPARSE && rc != HLC_ETOOBIG) || v[0]) {
            abort();
        }
        return 0;
    }
    struct hlc_ollama_model *m = NULL;
    size_t n = 0, skipped = 0;
    int rc = hlc_ollama_parse_models(text, len, &m, &n, &skipped);
    if (rc != 0) {
        if ((rc != HLC_EPARSE && rc != HLC_ETOOBIG) || m || n)
            abort();
        return 0;
    }
    if (n + skipped > HLC_OLLAMA_MAX_MODELS || (n == 0) != (m == NULL))
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct hlc_ollama_model *x = &m[i];
        check_str(x->name, sizeof(x->name));
        if (!x->name[0] || x->size < -1 || x->size_vram < -1)
            abort();
        check_str(x->family, sizeof(x->family));
        check_str(x->parameter_size, sizeof(x->parameter_size));
        check_str(x->quantization, sizeof(x->quantization));
        check_str(x->expires_at, sizeof(x->expires_at));
        check_str(x->modified_at, sizeof(x->modified_at));
    }
    json_t *j = hlc_ollama_models_json(m, n, data[0] & 2);
    if (json_array_size(j) != n)
        abort();
    json_decref(j);
    free(m);
    return 0;
}
