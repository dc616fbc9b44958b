/* args.c: the one command-line parser of the CLI (each option row carries its help text, so
 * --help, docs/cli and shell completion come from the same table; it also takes the reference
 * client's multi-letter short forms such as -min), and the prompts that are only ever shown on
 * a terminal. */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "banned.h"

#define OPT_END_P(o) (!(o)->long_name && !(o)->short_name && !(o)->alias)
/* Help rows: the option forms padded to this width, then its text. */
#define SPEC_WIDTH 24

static const struct opt *find_long(const struct opt *opts, const char *name, size_t len)
{
    for (const struct opt *o = opts; !OPT_END_P(o); o++)
        if (o->long_name && strlen(o->long_name) == len && memcmp(o->long_name, name, len) == 0)
            return o;
    return NULL;
}

static const struct opt *find_alias(const struct opt *opts, const char *arg)
{
    for (const struct opt *o = opts; !OPT_END_P(o); o++)
        if (o->alias && strcmp(o->alias, arg) == 0)
            return o;
    return NULL;
}

static const struct opt *find_short(const struct opt *opts, char c)
{
    for (const struct opt *o = opts; !OPT_END_P(o); o++)
        if (o->short_name && o->short_name == c)
            return o;
    return NULL;
}

static void take(const struct opt *o, const char *value)
{
    if (o->value)
        *o->value = value;
    if (o->flag)
        *o->flag = 1;
}

/* "-o, --organization ORG" for one option row. */
static void opt_spec(const struct opt *o, char *out, size_t size)
{
    size_t n = 0;
    if (o->alias)
        n += (size_t)snprintf(out + n, size - n, "%s", o->alias);
    else if (o->short_name)
        n += (size_t)snprintf(out + n, size - n, "-%c", o->short_name);
    if (o->long_name && n < size)
        n += (size_t)snprintf(out + n, size - n, "%s--%s", n ? ", " : "", o->long_name);
    if (o->takes_value && n < size)
        snprintf(out + n, size - n, " %s", o->argh ? o->argh : "VALUE");
}

/* One row of the Options list: the forms, then the help text (each of its lines indented to
 * the text column); forms wider than the column stand on their own line. */
static void print_opt_row(FILE *f, const char *spec, const char *help)
{
    if (strlen(spec) > SPEC_WIDTH)
        fprintf(f, "  %s\n%*s", spec, SPEC_WIDTH + 3, "");
    else
        fprintf(f, "  %-*s ", SPEC_WIDTH, spec);
    for (const char *p = help; *p;) {
        const char *nl = strchr(p, '\n');
        int len = nl ? (int)(nl - p) : (int)strlen(p);
        fprintf(f, "%.*s\n", len, p);
        if (!nl || !nl[1])
            break;
        p = nl + 1;
        fprintf(f, "%*s", SPEC_WIDTH + 3, "");
    }
}

void args_help(const struct cli *cli, const struct opt *opts, FILE *f)
{
    const struct command *c = cli->cmd;
    if (!c)
        return;
    fprintf(f, "usage: %s %s%s%s%s%s\n\n", cli->prog, c->group, *c->group ? " " : "", c->name,
            c->synopsis && *c->synopsis ? " " : "", c->synopsis ? c->synopsis : "");
    fputs(c->description ? c->description : "", f);
    fputs("\nOptions:\n", f);
    char spec[160];
    for (const struct opt *o = opts; o && !OPT_END_P(o); o++) {
        if (!o->help)
            continue; /* hidden: deprecated spellings */
        opt_spec(o, spec, sizeof spec);
        print_opt_row(f, spec, o->help);
    }
    print_opt_row(f, "--json", "print machine-readable JSON on stdout");
    print_opt_row(f, "-h, --help", "show this help");
    if (c->examples && *c->examples)
        fprintf(f, "\nExamples:\n%s", c->examples);
}

/* The options for shell completion, one a line: every spelling (as git's
 * --git-completion-helper); hidden ones left out. */
static void print_completion(const struct opt *opts)
{
    for (const struct opt *o = opts; o && !OPT_END_P(o); o++) {
        if (!o->help)
            continue;
        if (o->long_name)
            printf("--%s\n", o->long_name);
        if (o->alias)
            printf("%s\n", o->alias);
        if (o->short_name)
            printf("-%c\n", o->short_name);
    }
    printf("--json\n--help\n");
}

/* Whether argv[1..] (up to "--") holds arg. */
static int has_arg(int argc, char **argv, const char *a, const char *b)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return 0;
        if (strcmp(argv[i], a) == 0 || (b && strcmp(argv[i], b) == 0))
            return 1;
    }
    return 0;
}

int args_parse(struct cli *cli, int argc, char **argv, const struct opt *opts, const char **pos,
               int max_pos, int *npos)
{
    int n = 0, only_positional = 0;
    /* Help wins over any error in the same command line, as it always has. */
    if (has_arg(argc, argv, "-h", "--help")) {
        args_help(cli, opts, stdout);
        return EXIT_HELP;
    }
    if (has_arg(argc, argv, ARGS_COMPLETION_FLAG, NULL)) {
        print_completion(opts);
        return EXIT_HELP;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct opt *o;
        if (only_positional || a[0] != '-' || a[1] == '\0') {
            if (n >= max_pos) {
                out_error(cli, "unexpected argument '%s' (see --help)", a);
                return EXIT_USAGE;
            }
            pos[n++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_positional = 1;
            continue;
        }
        if ((o = find_alias(opts, a)) != NULL) {
            if (o->takes_value) {
                if (i + 1 >= argc) {
                    out_error(cli, "option %s needs a value (see --help)", a);
                    return EXIT_USAGE;
                }
                take(o, argv[++i]);
            } else {
                take(o, NULL);
            }
            continue;
        }
        if (a[1] == '-') {
            const char *name = a + 2, *eq = strchr(name, '=');
            size_t len = eq ? (size_t)(eq - name) : strlen(name);
            if (!(o = find_long(opts, name, len))) {
                out_error(cli, "unknown option '%.*s' (see --help)", (int)(len + 2), a);
                return EXIT_USAGE;
            }
            if (!o->takes_value) {
                if (eq) {
                    out_error(cli, "option --%s takes no value (see --help)", o->long_name);
                    return EXIT_USAGE;
                }
                take(o, NULL);
            } else if (eq) {
                take(o, eq + 1);
            } else if (i + 1 < argc) {
                take(o, argv[++i]);
            } else {
                out_error(cli, "option %s needs a value (see --help)", a);
                return EXIT_USAGE;
            }
            continue;
        }
        /* A cluster of short options: -fy, -n5, -n 5. */
        for (const char *p = a + 1; *p; p++) {
            if (!(o = find_short(opts, *p))) {
                out_error(cli, "unknown option '-%c' (see --help)", *p);
                return EXIT_USAGE;
            }
            if (!o->takes_value) {
                take(o, NULL);
                continue;
            }
            if (p[1]) {
                take(o, p + 1);
            } else if (i + 1 < argc) {
                take(o, argv[++i]);
            } else {
                out_error(cli, "option -%c needs a value (see --help)", *p);
                return EXIT_USAGE;
            }
            break;
        }
    }
    *npos = n;
    return EXIT_OK;
}

int args_usage(struct cli *cli)
{
    const struct command *c = cli->cmd;
    if (c)
        out_error(cli, "usage: %s %s%s%s %s (see --help)", cli->prog, c->group,
                  *c->group ? " " : "", c->name, c->synopsis ? c->synopsis : "");
    return EXIT_USAGE;
}

int args_parse_org(struct cli *cli, int argc, char **argv, const char **org, const char **pos,
                   int max_pos, int *npos)
{
    const struct opt opts[] = {OPT_ORG(org), OPT_END()};
    return args_parse(cli, argc, argv, opts, pos, max_pos, npos);
}

int args_int(struct cli *cli, const char *option, const char *text, long min, long max, long *out)
{
    char *end = NULL;
    long v = text && *text ? strtol(text, &end, 10) : 0;
    if (!text || !*text || *end || v < min || v > max) {
        if (max == LONG_MAX)
            out_error(cli, "%s must be a whole number of at least %ld, not '%s'", option, min,
                      text ? text : "");
        else
            out_error(cli, "%s must be a whole number from %ld to %ld, not '%s'", option, min, max,
                      text ? text : "");
        return EXIT_USAGE;
    }
    *out = v;
    return EXIT_OK;
}

/* --- prompts ------------------------------------------------------------------------------ */

int stdin_is_terminal(void) { return isatty(STDIN_FILENO); }

char *ask_line(const char *prompt)
{
    fputs(prompt, stderr);
    fflush(stderr);
    return read_stdin_line();
}

int ask_yes_no(const char *question, int default_yes)
{
    char prompt[600];
    snprintf(prompt, sizeof prompt, "%s [%s]: ", question, default_yes ? "Y/n" : "y/N");
    char *answer = ask_line(prompt);
    int yes = default_yes;
    if (!answer) {
        yes = 0;
    } else if (answer[0]) {
        yes = strcmp(answer, "y") == 0 || strcmp(answer, "Y") == 0 || strcmp(answer, "yes") == 0 ||
              strcmp(answer, "Yes") == 0 || strcmp(answer, "YES") == 0;
    }
    free(answer);
    return yes;
}

int ask_confirm(struct cli *cli, const char *question, int default_yes, const char *flag)
{
    if (!stdin_is_terminal()) {
        out_error(cli, "%s: no terminal to confirm on; pass %s to proceed without asking", question,
                  flag);
        return EXIT_USAGE;
    }
    if (!ask_yes_no(question, default_yes)) {
        out_note(cli, "Aborted: nothing was changed.");
        return EXIT_FAIL;
    }
    return EXIT_OK;
}

int confirm_unless(struct cli *cli, int skip, const char *flag, int default_yes, const char *fmt,
                   ...)
{
    if (skip)
        return EXIT_OK;
    char question[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(question, sizeof question, fmt, ap);
    va_end(ap);
    return ask_confirm(cli, question, default_yes, flag);
}

int ask_pick(struct cli *cli, const char *title, const char *const *labels, size_t n,
             const char *instead, size_t *choice)
{
    if (!stdin_is_terminal()) {
        out_error(cli, "%s: no terminal to choose on; pass %s", title, instead);
        return EXIT_USAGE;
    }
    fprintf(stderr, "%s:\n", title);
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "  %zu) %s\n", i + 1, labels[i]);
    char prompt[64];
    snprintf(prompt, sizeof prompt, "Choose [1-%zu]: ", n);
    char *answer = ask_line(prompt);
    char *end = NULL;
    long pick = answer ? strtol(answer, &end, 10) : 0;
    int ok = answer && end != answer && !*end && pick >= 1 && (size_t)pick <= n;
    free(answer);
    if (!ok) {
        out_error(cli, "no valid choice made; nothing was changed");
        return EXIT_FAIL;
    }
    *choice = (size_t)pick - 1;
    return EXIT_OK;
}
