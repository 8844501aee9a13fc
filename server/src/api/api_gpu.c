/* api_gpu.c - GET /api/v1/servers/{id}/gpus: a machine's GPUs now and
 * their history (each sample up to two days back, hourly averages past). */
#include "api.h"
#include "hub.h"
#include "store.h"

#define HOURS_DEFAULT 24
#define HOURS_MAX (24 * 365)
#define RAW_HOURS_MAX 48  /* past two days the history is hourly averages */
#define HISTORY_MAX 20000 /* readings: 16 GPUs x a day of one-minute polls fits */

int
hlc_api_gpus_get(struct hlc_req *r)
{
    const char *h = hlc_req_query(r, "hours");
    int64_t hours = HOURS_DEFAULT;
    if (h && hlc_parse_i64(h, 1, HOURS_MAX, &hours) != 0)
        return hlc_reply_error(r, 422, "VALIDATION_ERROR", "hours must be an integer 1-8760",
                               "hours");
    json_t *o = NULL;
    int rc = hlc_store_gpu_get(r->hub->store, r->params[0], hlc_now() - hours * 3600, HISTORY_MAX,
                               hours > RAW_HOURS_MAX, &o);
    if (rc == HLC_ENOTFOUND)
        return hlc_reply_error(r, 404, "NOT_FOUND", "no machine has that server_id", NULL);
    if (rc)
        return hlc_reply_err(r, rc, "reading GPUs");
    return hlc_reply_json(r, 200, o);
}
