/* secrets.c: secret sets and image pull secrets of an organization. Values are encrypted before
 * they are stored (auth_seal) and no endpoint ever returns one; only key names come back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"
#include "text.h"
#include "banned.h"

#define SECRET_VALUE_MAX 32768 /* bytes of one value */
#define IMAGE_PULL_KEY "auth"  /* the one key an image pull secret holds */
#define KIND_SECRET "secret"
#define KIND_IMAGE_PULL "imagePullSecret"

/* The JSON form of a set for lists and answers: never a value. */
static json_t *set_json(const struct store_secret_set *set)
{
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "name", set->name, "type", set->kind,
                            "region", set->region, "status", "ready", "createdAt",
                            api_time(set->created_at), "updatedAt", api_time(set->updated_at));
    if (obj && set->host[0])
        json_object_set_new(obj, "host", json_string(set->host));
    return obj;
}

static void set_not_found(struct http_request *req, struct http_response *res, const char *name,
                          const char *region)
{
    char msg[200];
    if (region)
        snprintf(msg, sizeof msg, "secret set '%.64s' not found in region '%s'", name, region);
    else
        snprintf(msg, sizeof msg, "secret set '%.64s' not found", name);
    http_error(req, res, RC_NOT_FOUND, msg);
}

/* Look up the set named in the path; on failure the 404 (an invalid name cannot exist) or 5xx
 * is in res. */
static enum rc find_set(struct http_request *req, struct http_response *res,
                        const struct store_org *org, struct store_secret_set *out)
{
    const char *name = http_param(req, "set");
    enum rc rc = text_is_secret_set_name(name)
                     ? store_secret_set_by_name(APP(req)->store, org->id, name, out)
                     : RC_NOT_FOUND;
    if (rc == RC_NOT_FOUND)
        set_not_found(req, res, name, NULL);
    else if (rc != RC_OK)
        api_store_error(req, res, rc);
    return rc;
}

void api_list_secret_sets(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    int failed;
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    const char *region = api_region_filter(req, res, &failed);
    if (failed)
        return;
    struct store_secret_set *sets = NULL;
    size_t count = 0;
    enum rc rc = store_secret_sets_for_org(APP(req)->store, org.id, region, &sets, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, set_json(&sets[i]));
    store_free_list(sets);
    api_reply(req, res, 200, json_pack("{s:o}", "sets", list));
}

void api_get_secret_set(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_secret_set set;
    int failed;
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    const char *region = api_region_filter(req, res, &failed);
    if (failed || find_set(req, res, &org, &set) != RC_OK)
        return;
    if (region && strcmp(region, set.region) != 0) {
        set_not_found(req, res, set.name, region);
        return;
    }
    if (strcmp(set.kind, KIND_IMAGE_PULL) == 0) {
        /* Code "400": the reference client's deploy takes exactly this as "it exists". */
        char msg[200];
        snprintf(msg, sizeof msg, "'%s' is an image pull secret: its contents cannot be listed",
                 set.name);
        http_error(req, res, RC_INVALID, msg);
        return;
    }
    struct store_secret *keys = NULL;
    size_t count = 0;
    enum rc rc = store_secret_names(APP(req)->store, set.id, &keys, &count);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    json_t *list = json_array();
    for (size_t i = 0; i < count; i++)
        json_array_append_new(list, json_pack("{s:s, s:o, s:o}", "fieldName", keys[i].name,
                                              "createdAt", api_time(keys[i].created_at),
                                              "updatedAt", api_time(keys[i].updated_at)));
    store_free_list(keys);
    json_t *reply = set_json(&set);
    if (reply)
        json_object_set_new(reply, "secrets", list);
    else
        json_decref(list);
    api_reply(req, res, 200, reply);
}

/* What a PUT asks for, read and checked from its body. */
struct secret_request {
    int image_pull;
    const char *key;    /* secret sets: the key; image pull secrets: IMAGE_PULL_KEY */
    const char *host;   /* image pull secrets only */
    const char *region; /* NULL: the set's region, or the organization's default */
    json_t *value;      /* the secretValue string, wiped after use */
};

/* An optional string field of at most max bytes: RC_NOT_FOUND when absent or null, RC_INVALID
 * (err naming it) for another type or length; empty strings pass when allow_empty is set. */
static enum rc optional_string(json_t *body, const char *field, size_t max, int allow_empty,
                               const char **out, char *err, size_t errlen)
{
    json_t *v = json_object_get(body, field);
    if (!v || json_is_null(v))
        return RC_NOT_FOUND;
    if (!json_is_string(v) || json_string_length(v) > max ||
        (!allow_empty && json_string_length(v) == 0)) {
        snprintf(err, errlen, "field \"%s\" must be a string of %s%zu bytes", field,
                 allow_empty ? "at most " : "1 to ", max);
        return RC_INVALID;
    }
    *out = json_string_value(v);
    return RC_OK;
}

static enum rc read_secret_request(json_t *body, const char *set_name, struct secret_request *r,
                                   char *err, size_t errlen)
{
    const char *name = NULL, *value = NULL;
    json_t *flag = json_object_get(body, "isImagePullSecret");
    memset(r, 0, sizeof *r);
    if (flag && !json_is_null(flag) && !json_is_boolean(flag)) {
        snprintf(err, errlen, "field \"isImagePullSecret\" must be true or false");
        return RC_INVALID;
    }
    r->image_pull = json_is_true(flag);
    enum rc rc = optional_string(body, "name", STORE_SET_NAME_SIZE, 0, &name, err, errlen);
    if (rc == RC_INVALID)
        return rc;
    if (rc == RC_OK && strcmp(name, set_name) != 0) {
        snprintf(err, errlen, "field \"name\" ('%.64s') differs from the set in the path", name);
        return RC_INVALID;
    }
    if ((rc = optional_string(body, "region", STORE_REGION_SIZE, 0, &r->region, err, errlen)) ==
        RC_INVALID)
        return rc;
    if ((rc = optional_string(body, "secretValue", SECRET_VALUE_MAX, !r->image_pull, &value, err,
                              errlen)) == RC_INVALID)
        return rc;
    if (rc == RC_NOT_FOUND) {
        snprintf(err, errlen, "field \"secretValue\" is required");
        return RC_INVALID;
    }
    r->value = json_object_get(body, "secretValue");
    if (r->image_pull) {
        if (json_object_get(body, "secretKey")) {
            snprintf(err, errlen, "field \"secretKey\" is not allowed for an image pull secret");
            return RC_INVALID;
        }
        rc = optional_string(body, "host", STORE_HOST_SIZE - 1, 0, &r->host, err, errlen);
        if (rc == RC_NOT_FOUND)
            snprintf(err, errlen, "field \"host\" is required for an image pull secret");
        if (rc != RC_OK)
            return RC_INVALID;
        for (const char *p = r->host; *p; p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f) {
                snprintf(err, errlen, "field \"host\" must be a registry host without spaces");
                return RC_INVALID;
            }
        r->key = IMAGE_PULL_KEY;
        return RC_OK;
    }
    if (json_object_get(body, "host")) {
        snprintf(err, errlen, "field \"host\" is only for image pull secrets");
        return RC_INVALID;
    }
    rc = optional_string(body, "secretKey", TEXT_SECRET_NAME_MAX, 0, &r->key, err, errlen);
    if (rc == RC_NOT_FOUND || (rc == RC_OK && !text_is_secret_key(r->key))) {
        snprintf(err, errlen, "field \"secretKey\" must be 1 to %d of a-z, A-Z, 0-9, '_' and '-'",
                 TEXT_SECRET_NAME_MAX);
        return RC_INVALID;
    }
    return rc;
}

/* Choose the region of the PUT: an existing set keeps its own (naming another is a 409 in
 * res); a new one takes the request's or the organization's default. */
static enum rc choose_region(struct http_request *req, struct http_response *res,
                             const struct store_org *org, const struct secret_request *r,
                             const struct store_secret_set *existing, int exists,
                             char region[STORE_REGION_SIZE])
{
    char msg[300];
    if (exists && strcmp(existing->kind, r->image_pull ? KIND_IMAGE_PULL : KIND_SECRET) != 0) {
        snprintf(
            msg, sizeof msg, "'%s' is %s; its type cannot change (delete it first)", existing->name,
            strcmp(existing->kind, KIND_SECRET) == 0 ? "a secret set" : "an image pull secret");
        http_error(req, res, RC_INVALID, msg);
        return RC_INVALID;
    }
    if (exists && r->region && strcmp(r->region, existing->region) != 0) {
        snprintf(msg, sizeof msg,
                 "secret set '%s' lives in region '%s', not '%.40s': a set "
                 "lives in one region (delete it first to move it)",
                 existing->name, existing->region, r->region);
        http_error(req, res, RC_CONFLICT, msg);
        return RC_CONFLICT;
    }
    if (exists) {
        store_copy_field(region, STORE_REGION_SIZE, existing->region);
        return RC_OK;
    }
    if (r->region) {
        if (!api_region_known(APP(req), r->region)) {
            api_unknown_region(req, res, "region", r->region);
            return RC_INVALID;
        }
        store_copy_field(region, STORE_REGION_SIZE, r->region);
        return RC_OK;
    }
    enum rc rc = api_default_region(APP(req), org, region);
    if (rc != RC_OK)
        api_store_error(req, res, rc);
    return rc;
}

void api_put_secret(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {
        "name", "isImagePullSecret", "secretKey", "secretValue", "host", "region", NULL};
    struct api_app *app = APP(req);
    struct store_org org;
    struct store_secret_set existing, set = {0};
    struct store_secret secret = {0};
    struct secret_request r = {0};
    char *cipher = NULL, err[300] = "";
    json_t *body = NULL;
    const char *name = http_param(req, "set");
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    if (!text_is_secret_set_name(name)) {
        snprintf(err, sizeof err,
                 "secret set name '%.64s' must be 1 to %d of a-z, A-Z, 0-9, "
                 "'_' and '-', starting and ending with a letter or digit",
                 name, TEXT_SECRET_NAME_MAX);
        http_error(req, res, RC_INVALID, err);
        return;
    }
    if (!(body = http_json_body(req, res, fields)))
        return;
    enum rc rc = read_secret_request(body, name, &r, err, sizeof err);
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    rc = store_secret_set_by_name(app->store, org.id, name, &existing);
    if (rc != RC_OK && rc != RC_NOT_FOUND) {
        api_store_error(req, res, rc);
        goto out;
    }
    if ((rc = choose_region(req, res, &org, &r, &existing, rc == RC_OK, set.region)) != RC_OK)
        goto out;
    int64_t now = auth_now(&app->auth);
    token_new_id("set_", set.id);
    store_copy_field(set.org_id, sizeof set.org_id, org.id);
    store_copy_field(set.name, sizeof set.name, name);
    store_copy_field(set.kind, sizeof set.kind, r.image_pull ? KIND_IMAGE_PULL : KIND_SECRET);
    store_copy_field(set.host, sizeof set.host, r.host);
    set.created_at = set.updated_at = now;
    store_copy_field(secret.name, sizeof secret.name, r.key);
    secret.created_at = secret.updated_at = now;
    if ((rc = auth_seal(&app->auth, json_string_value(r.value), json_string_length(r.value),
                        secret.nonce, &cipher)) != RC_OK) {
        http_error(req, res, rc, NULL);
        goto out;
    }
    rc = store_secret_put(app->store, &set, &secret, cipher);
    if (rc == RC_CONFLICT) {
        snprintf(err, sizeof err, "secret set '%s' was changed at the same time; try again", name);
        http_error(req, res, RC_CONFLICT, err);
        goto out;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        goto out;
    }
    json_t *detail = json_pack("{s:s, s:s, s:s}", "set", set.name, "type", set.kind, "region",
                               set.region);
    if (detail && !r.image_pull)
        json_object_set_new(detail, "key", json_string(r.key));
    api_audit(req, "secret.set", org.id, detail);
    api_reply(req, res, 200,
              json_pack("{s:s, s:s, s:s, s:s}", "status", "OK", "name", set.name, "type", set.kind,
                        "region", set.region));
out:
    if (r.value) /* the value must not linger in freed memory */
        sodium_memzero((char *)json_string_value(r.value), json_string_length(r.value));
    free(cipher);
    json_decref(body);
}

void api_delete_secret(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_secret_set set;
    if (api_member_org(req, res, &org) != RC_OK || find_set(req, res, &org, &set) != RC_OK)
        return;
    const char *key = http_param(req, "key");
    char msg[200];
    if (strcmp(set.kind, KIND_IMAGE_PULL) == 0) {
        snprintf(msg, sizeof msg, "'%s' is an image pull secret: delete the whole set", set.name);
        http_error(req, res, RC_INVALID, msg);
        return;
    }
    int set_deleted = 0;
    enum rc rc = text_is_secret_key(key)
                     ? store_secret_delete(APP(req)->store, set.id, key, auth_now(&APP(req)->auth),
                                           &set_deleted)
                     : RC_NOT_FOUND;
    if (rc == RC_NOT_FOUND) {
        snprintf(msg, sizeof msg, "secret '%.64s' not found in secret set '%s'", key, set.name);
        http_error(req, res, RC_NOT_FOUND, msg);
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    /* A set holds at least one key: the last one takes the set with it, so lists, reads and
     * deploys never meet an empty set (which the reference client takes for a missing one). */
    api_audit(req, "secret.deleted", org.id,
              json_pack("{s:s, s:s, s:b}", "set", set.name, "key", key, "setDeleted", set_deleted));
    api_reply(req, res, 200,
              json_pack("{s:s, s:s, s:s, s:b, s:b}", "status", "OK", "name", set.name, "key", key,
                        "deleted", 1, "setDeleted", set_deleted));
}

void api_delete_secret_set(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    struct store_secret_set set;
    if (api_member_org(req, res, &org) != RC_OK || find_set(req, res, &org, &set) != RC_OK)
        return;
    enum rc rc = store_secret_set_delete(APP(req)->store, org.id, set.name);
    if (rc == RC_NOT_FOUND) { /* deleted meanwhile */
        set_not_found(req, res, set.name, NULL);
        return;
    }
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    api_audit(req, "secret.deleted", org.id,
              json_pack("{s:s, s:s}", "set", set.name, "type", set.kind));
    api_reply(req, res, 200,
              json_pack("{s:s, s:s, s:b}", "status", "OK", "name", set.name, "deleted", 1));
}
