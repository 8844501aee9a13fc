/* static_files.h - serves the built dashboard (www/dist) with SPA fallback. */
#ifndef HLC_STATIC_FILES_H
#define HLC_STATIC_FILES_H

struct hlc_req;

/* Replies with the file under the hub's www_dir for r->path, index.html for
 * unknown non-file paths (client-side routes), or a built-in page saying
 * what the hub is when no dashboard has been built. Never leaves www_dir. */
int hlc_static_serve(struct hlc_req *r);

#endif
