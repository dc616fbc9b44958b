/* regions.c: the configured regions (GET .../regions) and organization properties
 * (GET/PATCH .../properties, GET .../properties/schema): defaultRegion is the one property. */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "text.h"
#include "banned.h"

#define PROPERTY_DEFAULT_REGION "defaultRegion"

/* The regions of a pccd started without --regions. */
static const struct api_region default_regions[] = {
    {"us-west", "US West"},
    {"us-east", "US East"},
    {"eu-central", "EU Central"},
    {"ap-south", "Asia Pacific South"},
};
#define DEFAULT_REGION_COUNT (sizeof default_regions / sizeof default_regions[0])

enum rc api_regions_parse(const char *list, struct api_region out[API_MAX_REGIONS], size_t *count,
                          char *err, size_t errlen)
{
    if (!list || !*list) {
        memcpy(out, default_regions, sizeof default_regions);
        *count = DEFAULT_REGION_COUNT;
        return RC_OK;
    }
    size_t n = 0;
    const char *p = list;
    for (;;) {
        size_t len = strcspn(p, ",");
        char entry[STORE_REGION_SIZE + API_REGION_NAME_SIZE + 2];
        if (len >= sizeof entry) {
            snprintf(err, errlen, "region entry '%.40s...' is too long", p);
            return RC_INVALID;
        }
        memcpy(entry, p, len);
        entry[len] = '\0';
        char *name = strchr(entry, '=');
        if (name)
            *name++ = '\0';
        if (!text_is_region_code(entry)) {
            snprintf(err, errlen, "region code '%s' must be 1-%d of a-z, 0-9 and '-'", entry,
                     TEXT_REGION_CODE_MAX);
            return RC_INVALID;
        }
        if (name && (!*name || strlen(name) >= API_REGION_NAME_SIZE ||
                     !text_is_clean_utf8(name, strlen(name)))) {
            snprintf(err, errlen, "region '%s': the display name must be 1-%d characters of text",
                     entry, API_REGION_NAME_SIZE - 1);
            return RC_INVALID;
        }
        for (size_t i = 0; i < n; i++)
            if (strcmp(out[i].code, entry) == 0) {
                snprintf(err, errlen, "region '%s' is listed twice", entry);
                return RC_INVALID;
            }
        if (n == API_MAX_REGIONS) {
            snprintf(err, errlen, "at most %d regions", API_MAX_REGIONS);
            return RC_INVALID;
        }
        store_copy_field(out[n].code, sizeof out[n].code, entry);
        store_copy_field(out[n].display_name, sizeof out[n].display_name, name ? name : entry);
        n++;
        if (!p[len])
            break;
        p += len + 1;
    }
    *count = n;
    return RC_OK;
}

const struct api_region *api_regions(struct api_app *app, size_t *count)
{
    if (app->region_count) {
        *count = app->region_count;
        return app->regions;
    }
    *count = DEFAULT_REGION_COUNT;
    return default_regions;
}

int api_region_known(struct api_app *app, const char *code)
{
    size_t n;
    const struct api_region *r = api_regions(app, &n);
    for (size_t i = 0; code && i < n; i++)
        if (strcmp(r[i].code, code) == 0)
            return 1;
    return 0;
}

void api_unknown_region(struct http_request *req, struct http_response *res, const char *field,
                        const char *code)
{
    size_t n;
    const struct api_region *r = api_regions(APP(req), &n);
    char known[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof known; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 r[i].code);
    char msg[400];
    snprintf(msg, sizeof msg, "field \"%s\": unknown region '%.40s'; available regions: %s", field,
             code, known);
    http_error(req, res, RC_INVALID, msg);
}

const char *api_region_filter(struct http_request *req, struct http_response *res, int *failed)
{
    const char *region = http_query(req, "region");
    *failed = 0;
    if (!region || !*region)
        return NULL;
    if (!api_region_known(APP(req), region)) {
        api_unknown_region(req, res, "region", region);
        *failed = 1;
        return NULL;
    }
    return region;
}

/* The stored defaultRegion if it is still configured, else "". */
static enum rc stored_default_region(struct api_app *app, const struct store_org *org,
                                     char out[STORE_REGION_SIZE])
{
    struct store_property *props = NULL;
    size_t count = 0;
    out[0] = '\0';
    enum rc rc = store_org_properties(app->store, org->id, &props, &count);
    for (size_t i = 0; rc == RC_OK && i < count; i++)
        if (strcmp(props[i].name, PROPERTY_DEFAULT_REGION) == 0 &&
            api_region_known(app, props[i].value))
            store_copy_field(out, STORE_REGION_SIZE, props[i].value);
    store_free_list(props);
    return rc;
}

enum rc api_default_region(struct api_app *app, const struct store_org *org,
                           char out[STORE_REGION_SIZE])
{
    enum rc rc = stored_default_region(app, org, out);
    if (rc == RC_OK && !out[0]) {
        size_t n;
        const struct api_region *r = api_regions(app, &n);
        store_copy_field(out, STORE_REGION_SIZE, n ? r[0].code : "");
    }
    return rc;
}

void api_list_regions(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    size_t n;
    const struct api_region *r = api_regions(APP(req), &n);
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:s, s:s}", "code", r[i].code, "display_name", r[i].display_name));
    api_reply(req, res, 200, json_pack("{s:o}", "regions", list));
}

/* {"properties": {"defaultRegion": "..."}}, the answer of GET and PATCH. */
static void reply_properties(struct http_request *req, struct http_response *res,
                             const struct store_org *org)
{
    char region[STORE_REGION_SIZE];
    enum rc rc = api_default_region(APP(req), org, region);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    api_reply(req, res, 200, json_pack("{s:{s:s}}", "properties", PROPERTY_DEFAULT_REGION, region));
}

void api_get_properties(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (api_member_org(req, res, &org) == RC_OK)
        reply_properties(req, res, &org);
}

void api_get_properties_schema(struct http_request *req, struct http_response *res)
{
    struct store_org org;
    if (api_member_org(req, res, &org) != RC_OK)
        return;
    /* currentValue is the region in effect: the stored one, else the default (never null,
     * which the reference client would print as "Default region: None"). */
    char current[STORE_REGION_SIZE];
    enum rc rc = api_default_region(APP(req), &org, current);
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        return;
    }
    size_t n;
    const struct api_region *r = api_regions(APP(req), &n);
    json_t *available = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(available, json_string(r[i].code));
    api_reply(req, res, 200,
              json_pack("{s:{s:{s:s, s:s, s:b, s:o, s:s, s:o}}}", "properties",
                        PROPERTY_DEFAULT_REGION, "type", "string", "description",
                        "Region that agents, secret sets and builds use when none is given",
                        "readOnly", 0, "currentValue",
                        current[0] ? json_string(current) : json_null(), "default",
                        n ? r[0].code : "", "availableValues", available));
}

void api_patch_properties(struct http_request *req, struct http_response *res)
{
    static const char *const fields[] = {PROPERTY_DEFAULT_REGION, NULL};
    struct store_org org;
    json_t *body = NULL;
    if (api_member_org(req, res, &org) != RC_OK ||
        api_require_admin(req, res, &org, "changing organization properties") != RC_OK)
        return;
    if (!(body = http_json_body(req, res, fields)))
        return;
    char err[256];
    const char *region = NULL;
    enum rc rc = json_get_string(body, PROPERTY_DEFAULT_REGION, 1, STORE_REGION_SIZE - 1, &region,
                                 err, sizeof err);
    if (rc == RC_NOT_FOUND) {
        http_error(req, res, RC_INVALID, "no property given: send {\"defaultRegion\": \"...\"}");
        goto out;
    }
    if (rc != RC_OK) {
        http_error(req, res, rc, err);
        goto out;
    }
    if (!api_region_known(APP(req), region)) {
        api_unknown_region(req, res, PROPERTY_DEFAULT_REGION, region);
        goto out;
    }
    rc = store_org_property_put(APP(req)->store, org.id, PROPERTY_DEFAULT_REGION, region,
                                auth_now(&APP(req)->auth));
    if (rc != RC_OK) {
        api_store_error(req, res, rc);
        goto out;
    }
    api_audit(req, "properties.updated", org.id,
              json_pack("{s:s}", PROPERTY_DEFAULT_REGION, region));
    reply_properties(req, res, &org);
out:
    json_decref(body);
}
