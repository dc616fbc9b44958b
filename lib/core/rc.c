/* rc.c: lookups into the error table declared in rc.h. */
#include "rc.h"

struct rc_entry {
    const char *name;
    const char *message;
    int status;
    const char *code;
};

static const struct rc_entry rc_entries[RC__COUNT] = {
#define RC_ROW(name, msg, status, code) {#name, msg, status, code},
    RC_TABLE(RC_ROW)
#undef RC_ROW
};

static const struct rc_entry *entry(enum rc rc)
{
    if ((unsigned)rc >= RC__COUNT)
        rc = RC_INTERNAL;
    return &rc_entries[rc];
}

const char *rc_message(enum rc rc) { return entry(rc)->message; }
int rc_http_status(enum rc rc) { return entry(rc)->status; }
const char *rc_api_code(enum rc rc) { return entry(rc)->code; }
const char *rc_name(enum rc rc) { return entry(rc)->name; }

int rc_is_refusal(enum rc rc)
{
    return rc == RC_NOT_IMPLEMENTED || rc == RC_NO_BUILDS || rc == RC_NO_RUNTIME;
}
