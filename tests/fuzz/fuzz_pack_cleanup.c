/* fuzz_pack_cleanup.c - libFuzzer harness for the removal cleanup's output
 * parser: any bytes a machine sends give one outcome per file and package of
 * the pack, from the known set, with consistent counts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "assign.h"
#include "hlc/pack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char pack_yaml[] =
    "name: f\n"
    "files:\n"
    "  - {path: /etc/a.conf, content: \"a\\n\"}\n"
    "  - {path: /etc/b.conf, content: \"b\\n\", mode: \"0600\"}\n"
    "  - {path: /etc/c.conf, mode: \"0600\"}\n"
    "packages: {present: [git, htop, vim], absent: [telnet]}\n";

static bool
known(const char *o)
{
    static const char *const all[] = {"removed", "changed", "missing", "not_regular", "failed",
                                      "kept", "not_installed", "unknown", NULL};
    for (int i = 0; o && all[i]; i++)
        if (strcmp(o, all[i]) == 0)
            return true;
    return false;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct hlc_pack *p;
    static json_t *keep;
    if (!p && hlc_pack_load("f.yaml", pack_yaml, sizeof(pack_yaml) - 1, &p, NULL) != 0)
        abort();
    if (!keep)
        keep = json_pack("[s]", "vim");
    json_t *r = hlc_assign_cleanup_parse(p, keep, (const char *)data, size);
    json_t *files = json_object_get(r, "files"), *pkgs = json_object_get(r, "packages");
    if (json_array_size(files) != 2 || json_array_size(pkgs) != 3)
        abort();
    long removed = 0;
    size_t i;
    json_t *v;
    json_array_foreach(files, i, v)
    {
        const char *o = json_string_value(json_object_get(v, "outcome"));
        if (!known(o))
            abort();
        removed += strcmp(o, "removed") == 0;
    }
    json_array_foreach(pkgs, i, v)
    {
        const char *o = json_string_value(json_object_get(v, "outcome"));
        if (!known(o) || (i == 2 && strcmp(o, "kept") != 0))
            abort();
        removed += strcmp(o, "removed") == 0;
    }
    if (json_integer_value(json_object_get(r, "removed")) != removed)
        abort();
    json_decref(r);
    return 0;
}
