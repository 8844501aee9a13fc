/* jsonr.h - JSON text read into jansson values without jansson's reader,
 * whose lexer calls a function and appends to a buffer for every byte (about
 * 150 instructions a byte, the largest cost of a heartbeat). Every request
 * body and heartbeat comes through here. It accepts and refuses what
 * json_loadb(text, len, JSON_REJECT_DUPLICATES, &err) does and builds equal
 * values (tests/unit/test_jsonr.c and tests/fuzz/fuzz_json.c hold it to
 * that): RFC 8259 text whose top value is an object or an array, valid UTF-8,
 * no \u0000, no duplicate keys, integers within int64, finite reals, at most
 * JSONR_MAX_DEPTH nested values. One difference: a NUL byte anywhere is
 * refused, where jansson lets one through right after a number or a literal
 * ("[1\0]" reads as [1]: its reader's push-back drops it). */
#ifndef HLC_JSONR_H
#define HLC_JSONR_H

#include <stddef.h>

#include <jansson.h>

/* jansson's own limit (JSON_PARSER_MAX_DEPTH in its load.c): every value,
 * scalars included, counts one level. */
#define JSONR_MAX_DEPTH 2048

struct jsonr_error {
    int line;      /* 1-based line of the offending byte */
    int column;    /* 1-based byte column on that line */
    char text[96]; /* what is wrong there */
};

/* The object or array text[0..len) holds (a new reference), or NULL with
 * err filled. text need not be NUL-terminated. */
json_t *jsonr_parse(const char *text, size_t len, struct jsonr_error *err);

#endif
