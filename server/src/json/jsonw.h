/* jsonw.h - JSON text written straight into a buffer, for the hot paths
 * where building a jansson tree only to serialise it would cost more than the
 * work itself (a sample's latest row is written on every ingest). Output is
 * compact and matches what json_dumps(JSON_COMPACT | JSON_REAL_PRECISION(15))
 * writes for the same values; strings must be valid UTF-8 or the writer
 * fails, as json_dumps would. */
#ifndef HLC_JSONW_H
#define HLC_JSONW_H

#include <stdbool.h>
#include <stdint.h>

#include "hlc/base.h"

struct jsonw {
    struct hlc_buf b; /* the text so far */
    bool first;       /* no member/element written yet in the open container */
    bool bad;         /* a string was not valid UTF-8, or memory ran out */
};

void jsonw_init(struct jsonw *w);
/* Opens an object or array: as the top value, an array element (key NULL)
 * or an object member (key given). */
void jsonw_object(struct jsonw *w, const char *key);
void jsonw_array(struct jsonw *w, const char *key);
void jsonw_end_object(struct jsonw *w);
void jsonw_end_array(struct jsonw *w);
/* Members (key given) or array elements (key NULL). Keys are written as
 * given: callers pass literals that need no escaping. */
void jsonw_null(struct jsonw *w, const char *key);
void jsonw_bool(struct jsonw *w, const char *key, bool v);
void jsonw_int(struct jsonw *w, const char *key, int64_t v);
/* A non-finite value is written as null. */
void jsonw_real(struct jsonw *w, const char *key, double v);
/* NULL is written as null. */
void jsonw_str(struct jsonw *w, const char *key, const char *s);
/* The text (free() it), or NULL when the writer failed; resets w. */
char *jsonw_finish(struct jsonw *w);

#endif
