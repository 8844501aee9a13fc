/* api_credentials.c - write-only credentials and the hub's public SSH key. */
#include <string.h>

#include <sodium.h>

#include "api.h"
#include "credentials.h"
#include "credentials_internal.h"
#include "hlc/base.h"
#include "hlc/token.h"
#include "store.h"
#include "validate.h"

/* Largest secret accepted: an RSA-8192 private key in PEM is about 6.5 KiB. */
#define SECRET_MAX 16384

static const char *const kinds[] = {
    "ssh_private_key", "tailscale_api_key", "tailscale_oauth_client", "slack_webhook",
    "webhook_url",     "ntfy_url",          "ntfy_token",        NULL};

/* The secret: a string of 1..SECRET_MAX bytes; newlines allowed (PEM), NUL not. */
static bool
check_value(json_t *body, struct hlc_verr *e)
{
    json_t *v = json_object_get(body, "value");
    if (!v)
        return hlc_v_fail(e, "value", "value is required");
    if (!json_is_string(v))
        return hlc_v_fail(e, "value", "value must be a string");
    size_t n = json_string_length(v);
    if (n == 0)
        return hlc_v_fail(e, "value", "value may not be empty");
    if (n > SECRET_MAX)
        return hlc_v_fail(e, "value", "value is longer than %d bytes", SECRET_MAX);
    if (memchr(json_string_value(v), '\0', n))
        return hlc_v_fail(e, "value", "value contains a NUL character");
    return true;
}

/* Tailscale credentials go into an HTTP header or a form: one token of
 * visible ASCII; an OAuth client is CLIENT_ID:CLIENT_SECRET. */
static bool
check_tailscale_value(const char *kind, const char *value, struct hlc_verr *e)
{
    bool api = strcmp(kind, "tailscale_api_key") == 0;
    bool oauth = strcmp(kind, "tailscale_oauth_client") == 0;
    if (!api && !oauth)
        return true;
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
            return hlc_v_fail(e, "value", "value must be one token without spaces");
    const char *colon = strchr(value, ':');
    if (oauth && (!colon || colon == value || !colon[1]))
        return hlc_v_fail(e, "value", "an OAuth client is stored as CLIENT_ID:CLIENT_SECRET");
    return true;
}

/* Wipes a JSON string value in place (the request's copy of a secret). */
static void
wipe_string(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    if (json_is_string(v))
        sodium_memzero((char *)json_string_value(v), json_string_length(v));
}

int
hlc_api_credentials_create(struct hlc_req *r)
{
    int ret;
    json_t *body = hlc_req_json(r, &ret);
    if (!body)
        return ret;
    static const char *const allowed[] = {"kind", "value", "server_id", "ssh_user", NULL};
    struct hlc_verr e;
    char *publine = NULL, *fp = NULL, *sealed = NULL;
    json_t *list = NULL;
    if (!hlc_v_known_keys(body, allowed, &e) || !hlc_v_enum(body, "kind", true, kinds, &e) ||
        !check_value(body, &e) ||
        !hlc_v_string(body, "server_id", false, true, 63, hlc_valid_slug,
                      "a lowercase slug (a-z, 0-9, -)", &e) ||
        !hlc_v_string(body, "ssh_user", false, true, 32, hlc_valid_ssh_user,
                      "a user name (a-z, 0-9, _ . -)", &e)) {
        ret = hlc_reply_verr(r, &e);
        goto out;
    }
    const char *kind = json_string_value(json_object_get(body, "kind"));
    const char *value = json_string_value(json_object_get(body, "value"));
    const char *server_id = json_string_value(json_object_get(body, "server_id"));
    const char *ssh_user = json_string_value(json_object_get(body, "ssh_user"));
    bool is_ssh = strcmp(kind, "ssh_private_key") == 0;
    if (ssh_user && !is_ssh) {
        hlc_v_fail(&e, "ssh_user", "ssh_user only applies to kind ssh_private_key");
        ret = hlc_reply_verr(r, &e);
        goto out;
    }
    if (is_ssh && hlc_credentials_ssh_describe(value, &publine, &fp) != 0) {
        hlc_v_fail(&e, "value",
                   "value is not an OpenSSH or PEM private key without a passphrase "
                   "(remove one with: ssh-keygen -p -N '' -f KEY)");
        ret = hlc_reply_verr(r, &e);
        goto out;
    }
    if (!hlc_api_check_channel_secret(kind, value, "value", &e) ||
        !check_tailscale_value(kind, value, &e)) {
        ret = hlc_reply_verr(r, &e);
        goto out;
    }
    if (!is_ssh && server_id) {
        hlc_v_fail(&e, "server_id", "only SSH keys can be scoped to one machine");
        ret = hlc_reply_verr(r, &e);
        goto out;
    }
    char kid[9], id[37];
    int rc = hlc_credentials_seal(r->hub->keyring, value, &sealed, kid);
    if (rc != 0) {
        ret = hlc_reply_err(r, rc, "sealing the credential");
        goto out;
    }
    hlc_uuid4(id);
    struct hlc_cred_row row = {
        .id = id,
        .kind = kind,
        .server_id = server_id,
        .ssh_user = ssh_user,
        .public_key = publine,
        .sealed = sealed,
        .key_id = kid,
    };
    rc = hlc_store_cred_insert(r->hub->store, &row, true);
    if (rc == HLC_ENOTFOUND) {
        hlc_v_fail(&e, "server_id", "no machine has that server_id");
        ret = hlc_reply_verr(r, &e);
        goto out;
    }
    if (rc == 0)
        rc = hlc_store_cred_list(r->hub->store, &list);
    if (rc != 0) {
        ret = hlc_reply_err(r, rc, "storing the credential");
        goto out;
    }
    json_t *meta = NULL;
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it) {
        if (strcmp(json_string_value(json_object_get(it, "id")), id) == 0)
            meta = json_incref(it);
    }
    if (meta && fp)
        json_object_set_new(meta, "fingerprint", json_string(fp));
    ret = meta ? hlc_reply_json(r, 201, meta)
               : hlc_reply_err(r, HLC_ENOTFOUND, "reading the credential back");
out:
    wipe_string(body, "value");
    if (r->body.data) /* the raw request held the secret too */
        sodium_memzero(r->body.data, r->body.len);
    json_decref(body);
    json_decref(list);
    free(publine);
    free(fp);
    free(sealed);
    return ret;
}

int
hlc_api_credentials_list(struct hlc_req *r)
{
    json_t *list = NULL;
    int rc = hlc_store_cred_list(r->hub->store, &list);
    if (rc != 0)
        return hlc_reply_err(r, rc, "listing credentials");
    size_t n = json_array_size(list);
    return hlc_reply_json(r, 200, json_pack("{s:o, s:I}", "credentials", list, "total",
                                            (json_int_t)n));
}

int
hlc_api_credentials_delete(struct hlc_req *r)
{
    int rc = hlc_store_cred_delete(r->hub->store, r->params[0]);
    if (rc == HLC_ESTATE)
        return hlc_reply_error(r, 409, "CONFLICT",
                               "the hub's own SSH identity cannot be deleted", NULL);
    if (rc != 0)
        return hlc_reply_err(r, rc, "deleting the credential");
    return hlc_reply_empty(r, 204);
}

int
hlc_api_ssh_public_key(struct hlc_req *r)
{
    char *line = NULL;
    int rc = hlc_credentials_public_key(r->hub, &line);
    if (rc != 0)
        return hlc_reply_err(r, rc, "reading the hub's SSH key");
    char *hint = hlc_xasprintf(
        "mkdir -p ~/.ssh && chmod 700 ~/.ssh && echo '%s' >> ~/.ssh/authorized_keys && "
        "chmod 600 ~/.ssh/authorized_keys",
        line);
    json_t *body = json_pack("{s:s, s:s, s:s}", "public_key", line, "authorized_keys_line", line,
                             "install_hint", hint);
    free(hint);
    free(line);
    return hlc_reply_json(r, 200, body);
}
