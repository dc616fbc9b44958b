/* text.h: checks on user-supplied text (names, emails, slugs) before it is stored. */
#ifndef PCC_TEXT_H
#define PCC_TEXT_H

#include <stddef.h>

/* 1 when (s, len) is valid UTF-8 (no overlongs, no surrogates) without C0/C1 controls or DEL. */
int text_is_clean_utf8(const char *s, size_t len);
/* The value of one hexadecimal digit (either case), or -1 for any other character. */
int text_hex_value(char c);
/* 1 when s is an organization slug: [a-z0-9] then [a-z0-9-], 1..63 bytes, no trailing '-'. */
int text_is_slug(const char *s);
/* 1 when s looks like an email address: local@domain, printable ASCII, 3..254 bytes. */
int text_is_email(const char *s);

#define TEXT_SERVICE_NAME_MAX 54
#define TEXT_SECRET_NAME_MAX 64 /* secret set names and secret key names */
#define TEXT_REGION_CODE_MAX 31
#define TEXT_IMAGE_MAX 512

/* 1 when s is a service (agent) name: [a-z0-9], then [-a-z0-9], not ending in '-', 1..54 bytes. */
int text_is_service_name(const char *s);
/* 1 when s is a secret set name: [a-zA-Z0-9], then [a-zA-Z0-9_-], ending in [a-zA-Z0-9],
 * 1..64 bytes. */
int text_is_secret_set_name(const char *s);
/* 1 when s is a secret key name: 1..64 bytes of [a-zA-Z0-9_-]. */
int text_is_secret_key(const char *s);
/* 1 when s is a region code: [a-z0-9], then [a-z0-9-], not ending in '-', 1..31 bytes. */
int text_is_region_code(const char *s);
/* 1 when s is a container image reference with a tag or digest ("repo/name:tag",
 * "host:5000/name:tag", "name@sha256:..."): printable ASCII without spaces, 1..512 bytes. */
int text_is_image_ref(const char *s);

#endif
