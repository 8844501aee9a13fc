/* packs_internal.h - what the packs service's files (packs.c, apply.c) share. */
#ifndef HLC_PACKS_INTERNAL_H
#define HLC_PACKS_INTERNAL_H

#include <jansson.h>

/* The names of the HLC_PACK_* mismatch bits set in m, as a new JSON array
 * of strings (empty when none). Can't fail short of out-of-memory. */
json_t *packs_mismatch_json(unsigned m);

#endif
