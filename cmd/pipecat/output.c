/* output.c: how the CLI talks to people and scripts: messages on stderr, results on stdout,
 * colour only on a terminal (and never with NO_COLOR), tables, JSON, and hidden prompts. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "buf.h"
#include "cli.h"
#include "timefmt.h"
#include "banned.h"

#define RED "\033[31m"
#define YELLOW "\033[33m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static void vmessage(int color, const char *tint, const char *label, const char *fmt, va_list ap)
{
    if (label)
        fprintf(stderr, "%s%s%s", color ? tint : "", label, color ? RESET : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void out_error(struct cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cli->color_err, RED, "Error: ", fmt, ap);
    va_end(ap);
}

void out_warn(struct cli *cli, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(cli->color_err, YELLOW, "Warning: ", fmt, ap);
    va_end(ap);
}

void out_note(struct cli *cli, const char *fmt, ...)
{
    (void)cli;
    va_list ap;
    va_start(ap, fmt);
    vmessage(0, "", NULL, fmt, ap);
    va_end(ap);
}

void out_field(struct cli *cli, const char *label, const char *value)
{
    printf("%s%s:%s %s\n", cli->color_out ? BOLD : "", label, cli->color_out ? RESET : "", value);
}

void out_json(json_t *v)
{
    json_dumpf(v, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(v);
}

/* Display width of UTF-8 text: code points, which is right for the names pcc stores. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            w++;
    return w;
}

void out_table(struct cli *cli, size_t ncols, const char *const headers[], const char *const *cells,
               size_t nrows)
{
    size_t width[16] = {0};
    if (ncols > 16)
        ncols = 16;
    for (size_t c = 0; c < ncols; c++) {
        width[c] = text_width(headers[c]);
        for (size_t r = 0; r < nrows; r++) {
            size_t w = text_width(cells[r * ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    }
    for (size_t c = 0; c < ncols; c++)
        printf("%s%s%s%*s", cli->color_out ? BOLD : "", headers[c], cli->color_out ? RESET : "",
               c + 1 < ncols ? (int)(width[c] - text_width(headers[c]) + 2) : 0, "");
    putchar('\n');
    for (size_t r = 0; r < nrows; r++) {
        for (size_t c = 0; c < ncols; c++) {
            const char *cell = cells[r * ncols + c];
            printf("%s%*s", cell, c + 1 < ncols ? (int)(width[c] - text_width(cell) + 2) : 0, "");
        }
        putchar('\n');
    }
}

char *read_stdin_line(void)
{
    struct buf b;
    buf_init(&b, 4096);
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n')
        if (buf_addc(&b, (char)ch) != RC_OK) {
            buf_release_secret(&b);
            return NULL;
        }
    if (ch == EOF && b.len == 0) {
        buf_release(&b);
        return NULL;
    }
    if (b.len && b.data[b.len - 1] == '\r')
        b.data[--b.len] = '\0';
    return buf_detach(&b, NULL);
}

char *prompt_hidden(const char *prompt)
{
    struct termios old, quiet;
    int tty = tcgetattr(STDIN_FILENO, &old) == 0;
    /* Echo goes off before the prompt appears, so nothing typed after the prompt is flushed
     * or shown; restoring must not discard what follows the answer either. */
    if (tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    fputs(prompt, stderr);
    fflush(stderr);
    char *line = read_stdin_line();
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
        fputc('\n', stderr);
    }
    return line;
}

const char *out_when(const json_t *iso, char *buf, size_t size)
{
    return out_when_text(json_string_value(iso), buf, size);
}

const char *out_when_text(const char *s, char *buf, size_t size)
{
    int64_t t;
    if (!s || timefmt_parse(s, strlen(s), &t) != RC_OK) {
        snprintf(buf, size, "%s", s ? s : "never");
        return buf;
    }
    /* "YYYY-MM-DDTHH:MM" -> "YYYY-MM-DD HH:MM UTC" */
    snprintf(buf, size, "%.10s %.5s UTC", s, s + 11);
    return buf;
}

const char *col_when(const json_t *value, const json_t *row, void *ctx, char *buf, size_t size)
{
    (void)row;
    (void)ctx;
    return out_when(value, buf, size);
}

const char *col_mask(const json_t *value, const json_t *row, void *ctx, char *buf, size_t size)
{
    (void)row;
    (void)ctx;
    const char *v = json_string_value(value);
    return v ? out_mask(v, buf, size) : "";
}

#define CELL_SIZE 512 /* a cell longer than this is cut */

/* The member of o at path: names joined by '.' ("manifest.spec.image"). */
static const json_t *member(const json_t *o, const char *path)
{
    char name[128];
    while (o && *path) {
        size_t n = strcspn(path, ".");
        snprintf(name, sizeof name, "%.*s", (int)n, path);
        o = json_object_get(o, name);
        path += n + (path[n] == '.');
    }
    return o;
}

int out_rows(struct cli *cli, const struct column *cols, const json_t *rows, void *ctx)
{
    int is_object = json_is_object(rows);
    size_t ncols = 0, n = is_object ? json_object_size(rows) : json_array_size(rows);
    while (cols[ncols].header)
        ncols++;
    const char **cells = calloc(n * ncols + 1, sizeof *cells);
    char(*text)[CELL_SIZE] = calloc(n * ncols + 1, sizeof *text);
    const json_t **items = calloc(n + 1, sizeof *items);
    const char **names = calloc(n + 1, sizeof *names);
    const char *headers[16];
    int status = EXIT_FAIL;
    if (!cells || !text || !items || !names || ncols > 16)
        goto out;
    if (is_object) {
        size_t r = 0;
        const char *name;
        json_t *v;
        json_object_foreach((json_t *)rows, name, v)
        {
            names[r] = name;
            items[r++] = v;
        }
    } else {
        for (size_t r = 0; r < n; r++)
            items[r] = json_array_get(rows, r);
    }
    for (size_t c = 0; c < ncols; c++)
        headers[c] = cols[c].header;
    for (size_t r = 0; r < n; r++) {
        for (size_t c = 0; c < ncols; c++) {
            char *buf = text[r * ncols + c];
            const char *cell;
            if (cols[c].field && strcmp(cols[c].field, COLUMN_NAME) == 0) {
                cell = names[r] ? names[r] : "";
            } else {
                const json_t *v = cols[c].field ? member(items[r], cols[c].field) : items[r];
                cell = cols[c].format ? cols[c].format(v, items[r], ctx, buf, CELL_SIZE)
                                      : json_text(v, buf, CELL_SIZE, "");
            }
            cells[r * ncols + c] = cell ? cell : "";
        }
    }
    out_table(cli, ncols, headers, cells, n);
    status = EXIT_OK;
out:
    free(cells);
    free(text);
    free(items);
    free(names);
    return status;
}
