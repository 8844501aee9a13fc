/* ollama.h - Ollama endpoints on the fleet's machines: configured per
 * machine (a URL, or a port on the machine's address) or detected on port
 * 11434 when a machine is polled; version, installed models, loaded models
 * with their memory, up/down with the ollama_down alert.
 *
 * The parsers of Ollama's answers are pure (text in, structs out, hard
 * caps, no I/O), so the unit tests and the fuzzer reach them alone. The
 * probe runs from the hub with libcurl. All functions are thread-safe. */
#ifndef HLC_OLLAMA_H
#define HLC_OLLAMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct hlc_hub;
struct hlc_event;
struct hlc_buf;

#define HLC_OLLAMA_PORT 11434
#define HLC_OLLAMA_MAX_BODY (1024 * 1024) /* bytes of one answer; past it the answer is refused */
#define HLC_OLLAMA_MAX_MODELS 256         /* models of one list; past it the list is refused */

/* One model of GET /api/tags (installed) or GET /api/ps (loaded). Strings
 * are NUL-terminated, valid UTF-8 without control characters, "" when the
 * answer lacked them. */
struct hlc_ollama_model {
    char name[128];          /* "llama3.2:3b" (the "name", else "model" field; never empty) */
    int64_t size;            /* bytes on disk (tags) or in memory (ps), -1 unknown */
    int64_t size_vram;       /* ps: bytes of it in GPU memory, -1 unknown */
    char family[32];         /* details.family: "llama", "qwen2", ... */
    char parameter_size[16]; /* details.parameter_size: "8.0B" */
    char quantization[16];   /* details.quantization_level: "Q4_K_M" */
    char expires_at[40];     /* ps: when it is unloaded, RFC 3339 as Ollama says it */
    char modified_at[40];    /* tags: when it was pulled */
};

/* Parses GET /api/version ({"version": "0.5.7"}) into out: 0, HLC_ETOOBIG
 * (len > HLC_OLLAMA_MAX_BODY), HLC_EPARSE (not JSON, no printable version
 * of at most 63 bytes). Pure. */
int hlc_ollama_parse_version(const char *text, size_t len, char out[static 64]);

/* Parses a {"models": [...]} answer of GET /api/tags or GET /api/ps. A model
 * without a usable name, or with a field of the wrong type or over its size,
 * is skipped (*skipped counts them; may be NULL). *out is a heap array of
 * *n models (free() it; NULL when none). 0, HLC_ETOOBIG (len over
 * HLC_OLLAMA_MAX_BODY or more than HLC_OLLAMA_MAX_MODELS models), HLC_EPARSE
 * (not JSON, no models array). On failure *out is NULL and *n 0. Pure. */
int hlc_ollama_parse_models(const char *text, size_t len, struct hlc_ollama_model **out, size_t *n,
                            size_t *skipped);

/* ---- through a machine's SSH session ---------------------------------- */

/* The three calls, in the order the probe makes them. */
enum { HLC_OLLAMA_VERSION, HLC_OLLAMA_TAGS, HLC_OLLAMA_PS, HLC_OLLAMA_NCALLS };
extern const char *const hlc_ollama_paths[HLC_OLLAMA_NCALLS]; /* "/api/version", ... */

/* What the machine's probe printed for each call: "HLC-OLLAMA <call> <rc>"
 * (call = version, tags or ps; rc = the tool's exit status, 127 when the
 * machine has neither curl nor wget) and then the answer, up to the next
 * such line. */
struct hlc_ollama_parts {
    bool seen[HLC_OLLAMA_NCALLS];        /* the call's header was printed */
    int rc[HLC_OLLAMA_NCALLS];           /* its exit status (0..255) */
    const char *body[HLC_OLLAMA_NCALLS]; /* points into the output */
    size_t len[HLC_OLLAMA_NCALLS];
};
/* Splits the probe's output. A header seen twice keeps its first answer;
 * other lines before the first header are ignored. 0, or HLC_EPARSE when
 * no header was printed. Pure. */
int hlc_ollama_split(const char *out, size_t len, struct hlc_ollama_parts *p);

/* Appends to b the POSIX sh probe that asks Ollama on the machine's own
 * loopback, port `port`, with curl (else wget), each answer cut at
 * HLC_OLLAMA_MAX_BODY by curl (wget's, by the exec's output cap). The URL
 * goes through hlc_shell_quote(). 0 or
 * HLC_EINVAL (port out of range), HLC_ETOOBIG. */
int hlc_ollama_remote_script(struct hlc_buf *b, int port);

/* The models as the API shows them (new array): installed ones with
 * name, size, family, parameter_size, quantization, modified_at; loaded
 * ones (loaded = true) with name, size, size_vram, expires_at. */
json_t *hlc_ollama_models_json(const struct hlc_ollama_model *m, size_t n, bool loaded);

/* Probes machine server_id's endpoint now (unless disabled), records what
 * it saw, raises or resolves ollama_down, and returns the endpoint as the
 * API shows it (*out, new). HLC_ENOTFOUND when the machine is unknown. */
int hlc_ollama_probe(struct hlc_hub *hub, const char *server_id, json_t **out);

/* Saves machine server_id's configuration (url NULL = its address on
 * `port`; via "ssh": its own loopback on `port`, asked over its SSH
 * session), resolves an ollama_down alert the old one raised, and probes
 * the new one at once (unless disabled); *out as hlc_ollama_probe.
 * HLC_ENOTFOUND when the machine is unknown. */
int hlc_ollama_configure(struct hlc_hub *hub, const char *server_id, bool enabled, const char *url,
                         int port, const char *via, json_t **out);

/* The bus subscriber (worker; ud is the hub): a stored sample of a machine
 * probes its endpoint, at most once every HLC_OLLAMA_MIN_GAP_S per machine. */
#define HLC_OLLAMA_MIN_GAP_S 30
void hlc_ollama_on_event(void *hub, const struct hlc_event *ev);

int hlc_ollama_start(struct hlc_hub *hub);
void hlc_ollama_stop(struct hlc_hub *hub);

#endif
