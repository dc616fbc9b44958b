/* token_fuzz.c: libFuzzer target for the token parsers that see untrusted bytes (bearer
 * headers on the server, pasted tokens in the CLI) and the display form. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "token.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Copy into an exact-size heap block so ASan catches any read past len. */
    char *s = malloc(size ? size : 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    enum token_kind kind;
    enum rc parsed = token_parse(s, size, &kind);
    enum rc offline = token_check_pat_offline(s, size);
    /* A token the server accepts as a PAT must also pass the CLI's offline check. */
    if (parsed == RC_OK && kind == TOKEN_KIND_PAT && offline != RC_OK)
        abort();
    char display[TOKEN_DISPLAY_SIZE];
    token_display(s, size, display);
    if (strlen(display) >= TOKEN_DISPLAY_SIZE)
        abort();
    free(s);
    return 0;
}
