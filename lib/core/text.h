/* text.h: checks on user-supplied text (names, emails, slugs) before it is stored. */
#ifndef PCC_TEXT_H
#define PCC_TEXT_H

#include <stddef.h>

/* 1 when (s, len) is valid UTF-8 (no overlongs, no surrogates) without C0/C1 controls or DEL. */
int text_is_clean_utf8(const char *s, size_t len);
/* 1 when s is an organization slug: [a-z0-9] then [a-z0-9-], 1..63 bytes, no trailing '-'. */
int text_is_slug(const char *s);
/* 1 when s looks like an email address: local@domain, printable ASCII, 3..254 bytes. */
int text_is_email(const char *s);

#endif
