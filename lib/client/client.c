/* client.c: libcurl + jansson API client (see client.h). */
#include "client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <sodium.h>

#include "buf.h"
#include "json.h"
#include "banned.h"

struct client {
    CURL *curl;
    char *host;
    char *user_agent;
    char *auth_header; /* "Authorization: Bearer ..." or NULL; wiped on change and free */
    char curl_error[CURL_ERROR_SIZE];
};

static void wipe_free(char *s)
{
    if (s) {
        sodium_memzero(s, strlen(s));
        free(s);
    }
}

enum rc client_new(const char *api_host, const char *user_agent, struct client **out)
{
    *out = NULL;
    if (!api_host || (strncmp(api_host, "http://", 7) != 0 && strncmp(api_host, "https://", 8) != 0))
        return RC_INVALID;
    static int curl_ready;
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return RC_INTERNAL;
        curl_ready = 1;
    }
    struct client *c = calloc(1, sizeof *c);
    if (!c)
        return RC_NOMEM;
    c->host = strdup(api_host);
    c->user_agent = strdup(user_agent ? user_agent : "pcc");
    c->curl = curl_easy_init();
    if (!c->host || !c->user_agent || !c->curl) {
        client_free(c);
        return RC_NOMEM;
    }
    size_t n = strlen(c->host);
    while (n > 0 && c->host[n - 1] == '/')
        c->host[--n] = '\0';
    *out = c;
    return RC_OK;
}

void client_free(struct client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->host);
    free(c->user_agent);
    wipe_free(c->auth_header);
    free(c);
}

const char *client_host(const struct client *c) { return c->host; }

enum rc client_set_token(struct client *c, const char *token)
{
    wipe_free(c->auth_header);
    c->auth_header = NULL;
    if (!token || !*token)
        return RC_OK;
    struct buf b;
    buf_init(&b, 4096);
    enum rc rc = buf_addf(&b, "Authorization: Bearer %s", token);
    if (rc != RC_OK) {
        buf_release_secret(&b);
        return rc;
    }
    c->auth_header = buf_detach(&b, NULL);
    return c->auth_header ? RC_OK : RC_NOMEM;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buf *b = userdata;
    size_t n = size * nmemb;
    return buf_add(b, ptr, n) == RC_OK ? n : 0;
}

enum rc client_request(struct client *c, const char *method, const char *path,
                       const json_t *body, struct client_reply *reply, char *err,
                       size_t errlen)
{
    reply->status = 0;
    reply->body = NULL;
    struct buf url, resp;
    buf_init(&url, 8192);
    buf_init(&resp, CLIENT_MAX_REPLY_BYTES);
    char *payload = NULL;
    struct curl_slist *headers = NULL;
    enum rc rc = RC_OK;
    if ((rc = buf_addf(&url, "%s%s", c->host, path)) != RC_OK)
        goto out;
    headers = curl_slist_append(headers, "Accept: application/json");
    if (c->auth_header)
        headers = curl_slist_append(headers, c->auth_header);
    if (body) {
        headers = curl_slist_append(headers, "Content-Type: application/json");
        if (!(payload = json_to_string(body))) {
            rc = RC_NOMEM;
            goto out;
        }
    }
    CURL *h = c->curl;
    curl_easy_reset(h);
    c->curl_error[0] = '\0';
    curl_easy_setopt(h, CURLOPT_URL, buf_str(&url));
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->curl_error);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, CLIENT_TIMEOUT_SECONDS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    /* Never follow redirects: one could carry the bearer token to another host. */
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (payload)
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload);
    else if (strcmp(method, "GET") != 0)
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    if (strcmp(method, "GET") == 0)
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "cannot reach %s: %s", c->host,
                 c->curl_error[0] ? c->curl_error : curl_easy_strerror(cc));
        rc = RC_NETWORK;
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->status);
    if (resp.len > 0) {
        json_error_t jerr;
        reply->body = json_loadb(resp.data, resp.len, 0, &jerr);
        if (!reply->body) {
            snprintf(err, errlen, "%s answered HTTP %ld with a body that is not JSON", c->host,
                     reply->status);
            rc = RC_PROTOCOL;
        }
    }
out:
    curl_slist_free_all(headers); /* the list holds a copy of the Authorization header */
    if (payload) {
        sodium_memzero(payload, strlen(payload));
        free(payload);
    }
    buf_release(&url);
    buf_release_secret(&resp); /* replies can carry a new token */
    return rc;
}

void client_reply_release(struct client_reply *reply)
{
    json_decref(reply->body);
    reply->body = NULL;
}

const char *client_reply_error(const struct client_reply *reply)
{
    static const char *const fallback = "the server answered with an error";
    if (!reply->body)
        return fallback;
    const char *s = json_string_value(json_object_get(reply->body, "error"));
    if (!s)
        s = json_string_value(json_object_get(reply->body, "message"));
    return s && *s ? s : fallback;
}

enum rc client_escape_segment(const char *s, char *out, size_t size)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t j = 0;
    for (size_t i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        int plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.' || ch == '~';
        if (j + (plain ? 1 : 3) >= size)
            return RC_TOO_LARGE;
        if (plain) {
            out[j++] = (char)ch;
        } else {
            out[j++] = '%';
            out[j++] = hex[ch >> 4];
            out[j++] = hex[ch & 15];
        }
    }
    out[j] = '\0';
    return RC_OK;
}
