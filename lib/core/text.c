/* text.c: validation of user-supplied text (see text.h). */
#include "text.h"

#include <string.h>
#include "banned.h"


int text_is_clean_utf8(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7f)
                return 0;
            i++;
            continue;
        }
        size_t n;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (len - i <= n) /* the sequence runs past the end */
            return 0;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
            (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
            return 0;
        i += n + 1;
    }
    return 1;
}

int text_is_slug(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 63 || s[len - 1] == '-')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (i > 0 && c == '-');
        if (!ok)
            return 0;
    }
    return 1;
}

int text_is_email(const char *s)
{
    size_t len = strlen(s);
    const char *at = strchr(s, '@');
    if (len < 3 || len > 254 || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static int is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

static int is_alnum(char c) { return is_lower_alnum(c) || (c >= 'A' && c <= 'Z'); }

/* [a-z0-9] then [-a-z0-9], not ending in '-', 1..max bytes. */
static int is_dns_label(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len == 0 || len > max || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return 0;
    return 1;
}

int text_is_service_name(const char *s) { return is_dns_label(s, TEXT_SERVICE_NAME_MAX); }

int text_is_region_code(const char *s) { return is_dns_label(s, TEXT_REGION_CODE_MAX); }

int text_is_secret_key(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > TEXT_SECRET_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '-')
            return 0;
    return 1;
}

int text_is_secret_set_name(const char *s)
{
    size_t len = strlen(s);
    return text_is_secret_key(s) && is_alnum(s[0]) && is_alnum(s[len - 1]);
}

int text_is_image_ref(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > TEXT_IMAGE_MAX)
        return 0;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    /* The tag belongs to the last path component: "host:5000/name" has none. */
    const char *last = strrchr(s, '/');
    last = last ? last + 1 : s;
    const char *digest = strchr(last, '@');
    const char *tag = strchr(last, ':');
    if (digest)
        return digest > last && digest[1] != '\0' && strchr(digest, ':') != NULL;
    return tag && tag > last && tag[1] != '\0' && !strchr(tag + 1, ':');
}

int text_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
