/* users.c: GET /v1/users, the caller's identity as the reference client reads it. */
#include "internal.h"
#include "banned.h"

void api_get_user(struct http_request *req, struct http_response *res)
{
    const struct store_user *u = &CALLER(req)->user;
    json_t *emails = json_pack("[{s:s}]", "emailAddress", u->email);
    http_reply(res, 200,
               json_pack("{s:{s:s, s:s, s:o, s:o}}", "user", "userId", u->id, "name", u->name,
                         "emails", emails, "createdAt", api_time(u->created_at)));
}
