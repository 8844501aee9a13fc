/* assign.h - removing a pack from a machine with cleanup: what the pack put
 * there is taken away, and nothing else.
 *
 * "What the pack wrote" is the pack's declared content (its SHA-256): a
 * file is removed only while its current hash is still that one (a file an
 * operator changed since, a symlink or anything not a regular file is left
 * and reported). A package the pack requires is removed (sudo -n apt-get
 * remove -y) only when no other pack assigned to the machine requires it
 * too. Until applies record what they wrote, the declared content stands in
 * for it. */
#ifndef HLC_PACKS_ASSIGN_H
#define HLC_PACKS_ASSIGN_H

#include <jansson.h>

#include "hlc/pack.h"

struct hlc_hub;

/* The cleanup script for pack p, sparing the packages named in `keep` (an
 * array of strings, may be NULL). Each line of its output is
 * "<F|P><item index> <outcome>". 0 and *script (heap), or HLC_EINVAL. */
int hlc_assign_cleanup_script(const struct hlc_pack *p, json_t *keep, char **script);

/* Parses that output into {files:[{path, outcome}], packages:[{name,
 * outcome}], removed, left} (new). Outcomes: removed, changed (left: the
 * hash differs), missing, not_regular (left), failed, kept (another pack
 * requires it), not_installed; an item the output does not mention is
 * "unknown". Pure. */
json_t *hlc_assign_cleanup_parse(const struct hlc_pack *p, json_t *keep, const char *out,
                                 size_t len);

/* Runs the cleanup of p on machine id in one SSH exec. 0 and *out as above,
 * or an error of hlc_remote_exec. */
int hlc_assign_cleanup(struct hlc_hub *hub, const char *id, const struct hlc_pack *p,
                       json_t *keep, json_t **out);

#endif
