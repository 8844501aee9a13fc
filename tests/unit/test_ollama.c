/* test_ollama.c - the pure parsers of Ollama's /api/version, /api/tags and
 * /api/ps answers (documented shapes, missing fields, bad entries, caps)
 * and the API's view of the models. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hlc/base.h"
#include "ollama.h"

/* GET /api/tags as Ollama's API document shows it. */
static const char tags[] =
    "{\"models\":[{\"name\":\"deepseek-r1:latest\",\"model\":\"deepseek-r1:latest\","
    "\"modified_at\":\"2025-05-10T08:06:48.639712648-07:00\",\"size\":4683075271,"
    "\"digest\":\"0a8c266910232fd3291e71e5ba1e058cc5af9d411192cf88b6d30e92b6e73163\","
    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"qwen2\","
    "\"families\":[\"qwen2\"],\"parameter_size\":\"7.6B\",\"quantization_level\":\"Q4_K_M\"}},"
    "{\"name\":\"llama3.2:latest\",\"model\":\"llama3.2:latest\","
    "\"modified_at\":\"2025-05-04T17:37:44.706015396-07:00\",\"size\":2019393189,"
    "\"digest\":\"a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72\","
    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"llama\","
    "\"families\":[\"llama\"],\"parameter_size\":\"3.2B\",\"quantization_level\":\"Q4_K_M\"}}]}";

/* GET /api/ps, with entries the parser must skip. */
static const char ps[] =
    "{\"models\":[{\"name\":\"gemma3\",\"model\":\"gemma3\",\"size\":6591830464,"
    "\"digest\":\"a2af6cc3eb7fa8be8504abaf9b04e88f17a119ec3f04a3addf55f92841195f5a\","
    "\"details\":{\"parent_model\":\"\",\"format\":\"gguf\",\"family\":\"gemma3\","
    "\"families\":[\"gemma3\"],\"parameter_size\":\"4.3B\",\"quantization_level\":\"Q4_K_M\"},"
    "\"expires_at\":\"2025-10-17T16:47:07.93355-07:00\",\"size_vram\":5333539264,"
    "\"context_length\":4096},"
    "{\"model\":\"only-model-field\",\"size\":10}," /* old Ollama: no name */
    "{\"size\":1},"                                 /* no name at all */
    "{\"name\":\"neg\",\"size\":-5},"               /* negative size */
    "{\"name\":\"ctl\\u0001x\"},"                   /* control character */
    "{\"name\":\"str\",\"size_vram\":\"big\"},"     /* wrong type */
    "{\"name\":\"det\",\"details\":[1]},"           /* details not an object */
    "7]}";

static void
test_version(void **state)
{
    (void)state;
    char v[64];
    static const char ok[] = "{\"version\":\"0.5.7\"}";
    assert_int_equal(hlc_ollama_parse_version(ok, strlen(ok), v), 0);
    assert_string_equal(v, "0.5.7");
    static const char *const bad[] = {"",
                                      "[]",
                                      "{}",
                                      "{\"version\":\"\"}",
                                      "{\"version\":5}",
                                      "{\"version\":\"a\\nb\"}",
                                      "<html>",
                                      "{\"version\":\"0.5.7\""};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(hlc_ollama_parse_version(bad[i], strlen(bad[i]), v), HLC_EPARSE);
        assert_string_equal(v, "");
    }
    char longv[200];
    snprintf(longv, sizeof(longv), "{\"version\":\"%080d\"}", 1);
    assert_int_equal(hlc_ollama_parse_version(longv, strlen(longv), v), HLC_EPARSE);
}

static void
test_tags(void **state)
{
    (void)state;
    struct hlc_ollama_model *m = NULL;
    size_t n = 0, skipped = 9;
    assert_int_equal(hlc_ollama_parse_models(tags, strlen(tags), &m, &n, &skipped), 0);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 0);
    assert_string_equal(m[0].name, "deepseek-r1:latest");
    assert_true(m[0].size == 4683075271LL);
    assert_true(m[0].size_vram == -1);
    assert_string_equal(m[0].family, "qwen2");
    assert_string_equal(m[0].parameter_size, "7.6B");
    assert_string_equal(m[0].quantization, "Q4_K_M");
    assert_string_equal(m[1].modified_at, "2025-05-04T17:37:44.706015396-07:00");
    json_t *j = hlc_ollama_models_json(m, n, false);
    assert_int_equal(json_array_size(j), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "name")),
                        "llama3.2:latest");
    assert_true(json_integer_value(json_object_get(json_array_get(j, 1), "size")) == 2019393189);
    assert_null(json_object_get(json_array_get(j, 0), "size_vram"));
    json_decref(j);
    free(m);
}

static void
test_ps_skips_bad_entries(void **state)
{
    (void)state;
    struct hlc_ollama_model *m = NULL;
    size_t n = 0, skipped = 0;
    assert_int_equal(hlc_ollama_parse_models(ps, strlen(ps), &m, &n, &skipped), 0);
    assert_int_equal(n, 2);
    assert_int_equal(skipped, 6);
    assert_string_equal(m[0].name, "gemma3");
    assert_true(m[0].size_vram == 5333539264LL);
    assert_string_equal(m[0].expires_at, "2025-10-17T16:47:07.93355-07:00");
    assert_string_equal(m[1].name, "only-model-field");
    assert_true(m[1].size_vram == -1);
    json_t *j = hlc_ollama_models_json(m, n, true);
    json_t *g = json_array_get(j, 0);
    assert_true(json_integer_value(json_object_get(g, "size_vram")) == 5333539264LL);
    assert_string_equal(json_string_value(json_object_get(g, "expires_at")),
                        "2025-10-17T16:47:07.93355-07:00");
    assert_true(json_is_null(json_object_get(json_array_get(j, 1), "size_vram")));
    assert_null(json_object_get(g, "family")); /* loaded models show memory, not details */
    json_decref(j);
    free(m);
}

static void
test_empty_and_refused(void **state)
{
    (void)state;
    struct hlc_ollama_model *m = (void *)1;
    size_t n = 7;
    static const char none[] = "{\"models\":[]}", nul[] = "{\"models\":null}";
    assert_int_equal(hlc_ollama_parse_models(none, strlen(none), &m, &n, NULL), 0);
    assert_null(m);
    assert_int_equal(n, 0);
    assert_int_equal(hlc_ollama_parse_models(nul, strlen(nul), &m, &n, NULL), 0);
    assert_null(m);
    static const char *const bad[] = {
        "", "null", "{}", "{\"models\":{}}", "{\"models\":[", "{\"models\":[],\"models\":[]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(hlc_ollama_parse_models(bad[i], strlen(bad[i]), &m, &n, NULL), HLC_EPARSE);
        assert_null(m);
        assert_int_equal(n, 0);
    }
    /* Over the model cap: the whole list is refused, nothing half-kept. */
    struct hlc_buf b;
    hlc_buf_init(&b, HLC_OLLAMA_MAX_BODY);
    hlc_buf_appendf(&b, "{\"models\":[");
    for (int i = 0; i <= HLC_OLLAMA_MAX_MODELS; i++)
        hlc_buf_appendf(&b, "%s{\"name\":\"m%d\"}", i ? "," : "", i);
    hlc_buf_appendf(&b, "]}");
    assert_int_equal(hlc_ollama_parse_models(b.data, b.len, &m, &n, NULL), HLC_ETOOBIG);
    assert_null(m);
    /* Over the size cap: refused before it is read. */
    char *big = hlc_xcalloc(1, HLC_OLLAMA_MAX_BODY + 2);
    memset(big, ' ', HLC_OLLAMA_MAX_BODY + 1);
    char v[64];
    assert_int_equal(hlc_ollama_parse_models(big, HLC_OLLAMA_MAX_BODY + 1, &m, &n, NULL),
                     HLC_ETOOBIG);
    assert_int_equal(hlc_ollama_parse_version(big, HLC_OLLAMA_MAX_BODY + 1, v), HLC_ETOOBIG);
    free(big);
    hlc_buf_release(&b);
    /* A name of 127 bytes fits, 128 does not. */
    char one[400];
    snprintf(one, sizeof(one), "{\"models\":[{\"name\":\"%0127d\"},{\"name\":\"%0128d\"}]}", 0, 0);
    size_t skipped = 0;
    assert_int_equal(hlc_ollama_parse_models(one, strlen(one), &m, &n, &skipped), 0);
    assert_int_equal(n, 1);
    assert_int_equal(skipped, 1);
    assert_int_equal(strlen(m[0].name), 127);
    free(m);
}

static void
test_split_remote_output(void **state)
{
    (void)state;
    static const char out[] = "motd noise\n"
                              "HLC-OLLAMA version 0\n{\"version\":\"0.5.7\"}\n"
                              "HLC-OLLAMA tags 0\n{\"models\":\n[]}\n"
                              "HLC-OLLAMA version 0\n{\"version\":\"9\"}\n" /* a repeat: ignored */
                              "HLC-OLLAMA ps 7\n\n"
                              "HLC-OLLAMA nope 0\nHLC-OLLAMA ps x\n";
    struct hlc_ollama_parts p;
    assert_int_equal(hlc_ollama_split(out, strlen(out), &p), 0);
    assert_true(p.seen[HLC_OLLAMA_VERSION] && p.seen[HLC_OLLAMA_TAGS] && p.seen[HLC_OLLAMA_PS]);
    char v[64];
    assert_int_equal(hlc_ollama_parse_version(p.body[0], p.len[0], v), 0);
    assert_string_equal(v, "0.5.7");
    struct hlc_ollama_model *m = NULL;
    size_t n = 9;
    assert_int_equal(hlc_ollama_parse_models(p.body[1], p.len[1], &m, &n, NULL), 0);
    assert_int_equal(n, 0);
    assert_int_equal(p.rc[HLC_OLLAMA_PS], 7);
    assert_int_equal(p.rc[HLC_OLLAMA_TAGS], 0);
    assert_int_equal(hlc_ollama_split("no header\n", 10, &p), HLC_EPARSE);
    assert_int_equal(hlc_ollama_split("HLC-OLLAMA ps 256\n", 18, &p), HLC_EPARSE);

    /* The probe script: the quoted loopback URL, curl's own cap. */
    struct hlc_buf b;
    hlc_buf_init(&b, 8192);
    assert_int_equal(hlc_ollama_remote_script(&b, 11434), 0);
    assert_non_null(strstr(b.data, "u='http://127.0.0.1:11434'\n"));
    assert_non_null(strstr(b.data, "--max-filesize 1048576"));
    hlc_buf_release(&b);
    hlc_buf_init(&b, 8192);
    assert_int_equal(hlc_ollama_remote_script(&b, 0), HLC_EINVAL);
    assert_int_equal(hlc_ollama_remote_script(&b, 65536), HLC_EINVAL);
    hlc_buf_release(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_version),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_ps_skips_bad_entries),
        cmocka_unit_test(test_empty_and_refused),
        cmocka_unit_test(test_split_remote_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
