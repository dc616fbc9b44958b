/* toml_test.c: the TOML reader/writer: known parsed values, rejected documents with their
 * messages, round trips, and byte-for-byte agreement with Python toml 0.10.2 (fixtures made by
 * tests/unit/fixtures/toml/make_fixtures.py). Run from the repo root, or -DPCC_SOURCE_DIR. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "toml.h"

#include "banned.h"

#ifndef PCC_SOURCE_DIR
#define PCC_SOURCE_DIR "."
#endif
#define FIXTURE_DIR PCC_SOURCE_DIR "/tests/unit/fixtures/toml/"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* One expected value. path separates table keys with '/' (keys may contain dots). For arrays,
 * i is the length and str the string elements joined with '|' (NULL: not checked). */
struct expect {
    const char *path;
    enum toml_type type;
    const char *str;
    int64_t i;
    double f;
};

/* clang-format off */
#define S(p, v) {p, TOML_STRING, v, 0, 0}
#define I(p, v) {p, TOML_INT, NULL, v, 0}
#define F(p, v) {p, TOML_FLOAT, NULL, 0, v}
#define B(p, v) {p, TOML_BOOL, NULL, v, 0}
#define A(p, n, joined) {p, TOML_ARRAY, joined, n, 0}
#define T(p) {p, TOML_TABLE, NULL, 0, 0}
#define NONE(p) {p, TOML_NONE, NULL, 0, 0}
/* clang-format on */

static struct toml_table *parse_ok(const char *text, size_t len)
{
    struct toml_table *root = NULL;
    char err[256] = "";
    enum rc rc = toml_parse(text, len, &root, err, sizeof(err));
    cr_assert_eq(rc, RC_OK, "parse failed (%s): %s\n%.*s", rc_name(rc), err, (int)len, text);
    cr_assert_not_null(root);
    return root;
}

static char *dump(const struct toml_table *root, size_t *len)
{
    struct buf b = BUF_INIT;
    cr_assert_eq(toml_dump(root, &b), RC_OK);
    return buf_detach(&b, len);
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (run from the repo root or set PCC_SOURCE_DIR)", path);
    char *data = malloc(1 << 16);
    cr_assert_not_null(data);
    *len = fread(data, 1, 1 << 16, f);
    fclose(f);
    return data;
}

/* Walk path's tables; *key is set to the last component (in a static buffer). */
static const struct toml_table *walk(const struct toml_table *t, const char *path, const char **key)
{
    static char part[256];
    for (;;) {
        const char *slash = strchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : strlen(path);
        cr_assert_lt(n, sizeof(part));
        memcpy(part, path, n);
        part[n] = '\0';
        if (!slash) {
            *key = part;
            return t;
        }
        t = toml_get_table(t, part);
        cr_assert_not_null(t, "no table %s on the way to %s", part, path);
        path = slash + 1;
    }
}

static void check(const struct toml_table *root, const struct expect *e, const char *what)
{
    const char *key;
    const struct toml_table *t = walk(root, e->path, &key);
    cr_assert_eq(toml_type_of(t, key), e->type, "%s: type of %s", what, e->path);
    int64_t iv;
    double fv;
    bool bv;
    switch (e->type) {
    case TOML_STRING:
        cr_assert_str_eq(toml_get_string(t, key), e->str, "%s: %s", what, e->path);
        break;
    case TOML_INT:
        cr_assert_eq(toml_get_int(t, key, &iv), RC_OK);
        cr_assert_eq(iv, e->i, "%s: %s = %lld", what, e->path, (long long)iv);
        break;
    case TOML_FLOAT:
        cr_assert_eq(toml_get_double(t, key, &fv), RC_OK);
        if (isnan(e->f))
            cr_assert(isnan(fv), "%s: %s", what, e->path);
        else
            cr_assert(fv == e->f && signbit(fv) == signbit(e->f), "%s: %s = %.17g", what, e->path,
                      fv);
        break;
    case TOML_BOOL:
        cr_assert_eq(toml_get_bool(t, key, &bv), RC_OK);
        cr_assert_eq(bv, e->i != 0, "%s: %s", what, e->path);
        break;
    case TOML_ARRAY: {
        const struct toml_array *a = toml_get_array(t, key);
        cr_assert_eq(toml_array_len(a), (size_t)e->i, "%s: length of %s", what, e->path);
        if (!e->str)
            break;
        char joined[512] = "";
        size_t used = 0;
        for (size_t k = 0; k < toml_array_len(a); k++) {
            const char *s = toml_array_string(a, k);
            cr_assert_not_null(s, "%s: %s[%zu] is not a string", what, e->path, k);
            used += (size_t)snprintf(joined + used, sizeof(joined) - used, "%s%s", k ? "|" : "", s);
        }
        cr_assert_str_eq(joined, e->str, "%s: %s", what, e->path);
        break;
    }
    default: break;
    }
}

/* parse -> dump -> parse -> dump gives the same bytes twice. */
static void check_round_trip(const struct toml_table *root, const char *what)
{
    size_t len1, len2;
    char *once = dump(root, &len1);
    struct toml_table *again = parse_ok(once, len1);
    char *twice = dump(again, &len2);
    cr_assert_eq(len1, len2, "%s: round trip changed the length", what);
    cr_assert(memcmp(once, twice, len1) == 0, "%s: round trip changed\n%s\ninto\n%s", what, once,
              twice);
    free(once);
    free(twice);
    toml_free(again);
}

/* ---- fixtures written by Python toml.dumps -------------------------------------------- */

static const struct expect credentials_pat[] = {
    S("token", "pcc_pat_0123456789abcdef0123456789abcdef"),
    S("org", "acme"),
    S("refresh_token", ""),
    I("token_expires_at", 0),
    T("acme"),
    S("acme/default_public_key", "pk_7f3c9a"),
    S("acme/default_public_key_name", "Pipecat Key"),
};

static const struct expect credentials_oauth[] = {
    S("token", "oat_2xYz"),
    S("org", "my org"),
    S("refresh_token", "ort_9AbC"),
    F("token_expires_at", 1732700000.123456),
    S("acme/default_public_key", "pk_1"),
    S("my org/default_public_key", "pk_2"),
    S("my org/default_public_key_name", "Key \"two\""),
    I("unknown/count", 3),
    F("unknown/ratio", 0.25),
    B("unknown/enabled", 1),
    A("unknown/tags", 2, "a|b"),
    I("unknown/deep/level", 2),
};

static const struct expect deploy[] = {
    S("agent_name", "my-agent"),
    S("image", "registry.example.com/my-agent:0.1"),
    S("secret_set", "my-secrets"),
    S("region", "us-west"),
    B("enable_krisp", 0),
    S("agent_profile", "agent-1x"),
    I("max_session_duration", 3600),
    I("scaling/min_agents", 0),
    I("scaling/max_agents", 5),
    S("krisp_viva/audio_filter", "tel"),
    S("build/context_dir", "."),
    S("build/dockerfile", "Dockerfile"),
    A("build/exclude/patterns", 3, "*.pyc|__pycache__/|.env"),
    S("docker/registry", "dockerhub"),
    B("docker/auto_latest", 1),
};

static const struct expect strings[] = {
    S("plain", "hello"),
    S("empty", ""),
    S("quotes", "say \"hi\""),
    S("apostrophe", "it's"),
    S("both", "it's \"both\""),
    S("backslash", "C:\\path\\to"),
    S("whitespace", "tab\there\nnew line\rcr"),
    S("unicode", "h\u00e9llo \u20ac \U0001F600 \u043a\u043b\u044e\u0447"),
    S("hash", "# not a comment"),
    S("key with spaces", "v"),
    S("dotted.key", "v"),
    S("", "empty key"),
    S("\u043a\u043b\u044e\u0447", "non-ASCII key"),
    S("bare-key_09", "v"),
};

static const struct expect numbers[] = {
    I("zero", 0),
    I("negative", -42),
    I("max", INT64_MAX),
    I("min", INT64_MIN),
    F("f_zero", 0.0),
    F("f_tenth", 0.1),
    F("f_whole", 123.0),
    F("f_big", 1e16),
    F("f_below_big", 1e15),
    F("f_small", 1e-5),
    F("f_above_small", 0.0001),
    F("f_epoch", 1732700000.123456),
    F("f_precise", 0.30000000000000004),
    F("f_tiny", 5e-324),
    F("f_huge", 1.7976931348623157e308),
    F("f_neg", -2.5e-7),
    F("f_inf", INFINITY),
    F("f_ninf", -INFINITY),
    F("f_nan", NAN),
    B("yes", 1),
    B("no", 0),
    A("ints", 3, NULL),
    A("floats", 2, NULL),
    A("bools", 2, NULL),
    A("nested", 2, NULL),
    A("empty", 0, ""),
};

static const struct expect tables[] = {
    S("title", "layout"),
    I("c/x", 1),
    T("empty"),
    S("with space/k", "v"),
    S("with space/sub table/k2", "v2"),
    I("mixed/v", 1),
    I("mixed/child/w", 2),
    B("a/b/c/d/deep", 1),
};

struct fixture {
    const char *file;
    const struct expect *expects;
    size_t n;
    size_t top_level_keys;
};

static const struct fixture fixtures[] = {
    {"credentials_pat.toml", credentials_pat, COUNT(credentials_pat), 5},
    {"credentials_oauth.toml", credentials_oauth, COUNT(credentials_oauth), 7},
    {"deploy.toml", deploy, COUNT(deploy), 11},
    {"strings.toml", strings, COUNT(strings), 14},
    {"numbers.toml", numbers, COUNT(numbers), 26},
    {"tables.toml", tables, COUNT(tables), 6},
};

Test(toml, python_fixtures_parse_and_serialize_identically)
{
    for (size_t f = 0; f < COUNT(fixtures); f++) {
        char path[512];
        snprintf(path, sizeof(path), FIXTURE_DIR "%s", fixtures[f].file);
        size_t len, outlen;
        char *text = read_file(path, &len);
        struct toml_table *root = parse_ok(text, len);
        cr_assert_eq(toml_count(root), fixtures[f].top_level_keys, "%s", fixtures[f].file);
        for (size_t i = 0; i < fixtures[f].n; i++)
            check(root, &fixtures[f].expects[i], fixtures[f].file);
        char *out = dump(root, &outlen);
        cr_assert(outlen == len && memcmp(out, text, len) == 0,
                  "%s: our output differs from Python's:\n%s\n--- expected ---\n%.*s",
                  fixtures[f].file, out, (int)len, text);
        check_round_trip(root, fixtures[f].file);
        free(out);
        free(text);
        toml_free(root);
    }
}

/* The same data built through the setters (as the CLI writes it) gives Python's bytes. */
Test(toml, setters_produce_python_layout)
{
    struct toml_table *root = toml_new(), *acme;
    cr_assert_not_null(root);
    /* insertion order deliberately puts the table first: values are still written first */
    cr_assert_eq(toml_ensure_table(root, "acme", &acme), RC_OK);
    cr_assert_eq(toml_set_string(root, "token", "pcc_pat_0123456789abcdef0123456789abcdef"), RC_OK);
    cr_assert_eq(toml_set_string(root, "org", "acme"), RC_OK);
    cr_assert_eq(toml_set_string(root, "refresh_token", ""), RC_OK);
    cr_assert_eq(toml_set_int(root, "token_expires_at", 0), RC_OK);
    cr_assert_eq(toml_set_string(acme, "default_public_key", "pk_7f3c9a"), RC_OK);
    cr_assert_eq(toml_set_string(acme, "default_public_key_name", "Pipecat Key"), RC_OK);

    size_t len, outlen;
    char *want = read_file(FIXTURE_DIR "credentials_pat.toml", &len);
    char *out = dump(root, &outlen);
    cr_assert(outlen == len && memcmp(out, want, len) == 0, "got:\n%s", out);
    free(out);
    free(want);
    toml_free(root);

    root = toml_new();
    struct toml_table *build, *exclude, *docker;
    const char *patterns[] = {"*.pyc", "__pycache__/", ".env"};
    cr_assert_eq(toml_set_string(root, "agent_name", "my-agent"), RC_OK);
    cr_assert_eq(toml_ensure_table(root, "build", &build), RC_OK);
    cr_assert_eq(toml_set_string(build, "context_dir", "."), RC_OK);
    cr_assert_eq(toml_ensure_table(build, "exclude", &exclude), RC_OK);
    cr_assert_eq(toml_set_strings(exclude, "patterns", patterns, 3), RC_OK);
    cr_assert_eq(toml_ensure_table(root, "docker", &docker), RC_OK);
    cr_assert_eq(toml_set_bool(docker, "auto_latest", true), RC_OK);
    cr_assert_eq(toml_set_double(root, "ratio", 0.5), RC_OK);
    out = dump(root, &outlen);
    /* /usr/bin/python3 -c 'import toml; print(toml.dumps({"agent_name": "my-agent", "build":
     *   {"context_dir": ".", "exclude": {"patterns": ["*.pyc", "__pycache__/", ".env"]}},
     *   "docker": {"auto_latest": True}, "ratio": 0.5}), end="")' */
    cr_assert_str_eq(out, "agent_name = \"my-agent\"\n"
                          "ratio = 0.5\n"
                          "\n"
                          "[build]\n"
                          "context_dir = \".\"\n"
                          "\n"
                          "[docker]\n"
                          "auto_latest = true\n"
                          "\n"
                          "[build.exclude]\n"
                          "patterns = [ \"*.pyc\", \"__pycache__/\", \".env\",]\n");
    free(out);
    toml_free(root);
}

/* Floats as Python's repr writes them (shortest round trip), after toml's exponent tweak.
 * Generated with: toml.dumps({"x": v}) for each v (inputs as hex floats, so they are exact). */
static const struct {
    double v;
    const char *python;
} float_vectors[] = {
    {0.0, "0.0"},
    {-0.0, "-0.0"},
    {0x1.0000000000000p+0, "1.0"},
    {-0x1.0000000000000p+0, "-1.0"},
    {0x1.999999999999ap-4, "0.1"},
    {0x1.3333333333334p-2, "0.30000000000000004"},
    {0x1.5555555555555p-2, "0.3333333333333333"},
    {0x1.5555555555555p-1, "0.6666666666666666"},
    {0x1.9000000000000p+6, "100.0"},
    {0x1.c6bf526340000p+49, "1000000000000000.0"},
    {0x1.1c37937e08000p+53, "1e+16"},
    {0x1.6345785d8a000p+56, "1e+17"},
    {0x1.0f0cf064dd592p+73, "1e+22"},
    {0x1.52d02c7e14af6p+76, "1e+23"},
    {0x1.0000000000000p+53, "9007199254740992.0"},
    {0x1.b69b4ba630f35p+56, "1.2345678901234568e+17"},
    {0x1.a36e2eb1c432dp-14, "0.0001"},
    {0x1.4f8b588e368f1p-17, "1e-5"},
    {0x1.f75104d551d69p-17, "1.5e-5"},
    {0x1.01f31f46ed246p-13, "0.000123"},
    {0x0.0000000000001p-1022, "5e-324"},
    {0x1.0000000000000p-1022, "2.2250738585072014e-308"},
    {0x1.fffffffffffffp+1023, "1.7976931348623157e+308"},
    {0x1.9d1b9d807e6b4p+30, "1732700000.123456"},
    {0x1.9d1b9d8000000p+30, "1732700000.0"},
    {-0x1.0c6f7a0b5ed8dp-22, "-2.5e-7"},
    {0x1.921fb54442d18p+1, "3.141592653589793"},
    {0x1.249ad2594c37dp+332, "1e+100"},
    {0x1.147f19dd7eb02p-332, "1.2345e-100"},
    {0x1.1666666666666p+2, "4.35"},
    {0x1.3333333333333p-2, "0.3"},
    {-0x1.74de452e6b438p+811, "-1.989032661366619e+244"},
    {0x1.3270e269e0d37p+594, "7.761117632285041e+178"},
    {0x1.c7fd0a6a3a450p-826, "3.980498358697587e-249"},
    {-0x1.f0824128b2f33p+292, "-1.5432835417340557e+88"},
    {0x1.8e811892f902bp-638, "1.3647584518757569e-192"},
    {0x1.675cc81e74ef5p-144, "6.294675241195386e-44"},
    {0x1.c172411e20b8fp-38, "6.387016158513563e-12"},
    {INFINITY, "inf"},
    {-INFINITY, "-inf"},
    {NAN, "nan"},
};

Test(toml, floats_match_python_repr_and_read_back_exactly)
{
    for (size_t i = 0; i < COUNT(float_vectors); i++) {
        struct toml_table *root = toml_new();
        cr_assert_eq(toml_set_double(root, "x", float_vectors[i].v), RC_OK);
        char want[64];
        snprintf(want, sizeof(want), "x = %s\n", float_vectors[i].python);
        size_t len;
        char *out = dump(root, &len);
        cr_assert_str_eq(out, want, "vector %zu", i);
        struct toml_table *back = parse_ok(out, len);
        double v;
        cr_assert_eq(toml_get_double(back, "x", &v), RC_OK);
        if (isnan(float_vectors[i].v))
            cr_assert(isnan(v));
        else
            cr_assert(v == float_vectors[i].v && signbit(v) == signbit(float_vectors[i].v),
                      "vector %zu read back as %a", i, v);
        free(out);
        toml_free(back);
        toml_free(root);
    }
}

/* ---- valid documents using syntax Python never writes --------------------------------- */

struct valid_case {
    const char *name;
    const char *text;
    struct expect e[10];
};

static const struct valid_case valid_cases[] = {
    {"empty document", "", {NONE("a")}},
    {"only comments and blank lines", "# hello\n\n   \t\n# bye", {NONE("a")}},
    {"comments after values",
     "a = 1 # one\n[t] # table\nb = \"#\" # hash\n",
     {I("a", 1), S("t/b", "#")}},
    {"CRLF line endings",
     "a = 1\r\n[t]\r\nb = '''\r\nx\r\ny'''\r\n",
     {I("a", 1), S("t/b", "x\ny")}},
    {"UTF-8 byte order mark",
     "\xEF\xBB\xBF"
     "a = 1\n",
     {I("a", 1)}},
    {"no final newline", "a = true", {B("a", 1)}},
    {"whitespace around everything",
     "  a\t=\t1  \n [ t . \"u v\" ] \n b=2",
     {I("a", 1), I("t/u v/b", 2)}},
    {"basic string escapes",
     "a = \"\\b\\t\\n\\f\\r\\\"\\\\\"\nb = \"\\u00e9\\u20AC\\U0001F600\"\n",
     {S("a", "\b\t\n\f\r\"\\"), S("b", "\u00e9\u20ac\U0001F600")}},
    {"literal strings",
     "a = 'C:\\temp\\x'\nb = ''\nc = '\"q\"'\n",
     {S("a", "C:\\temp\\x"), S("b", ""), S("c", "\"q\"")}},
    {"multi-line basic strings",
     "a = \"\"\"\nline 1\nline 2\"\"\"\nb = \"\"\"one \\\n   two \\\n\n  three\"\"\"\n"
     "c = \"\"\"q\"\"\"\"\"\nd = \"\"\"\"q\"\"\"\n",
     {S("a", "line 1\nline 2"), S("b", "one two three"), S("c", "q\"\""), S("d", "\"q")}},
    {"multi-line literal strings",
     "a = '''\nraw \\n text\n'''\nb = '''it''s'''\n",
     {S("a", "raw \\n text\n"), S("b", "it''s")}},
    {"tab inside strings", "a = \"x\ty\"\nb = 'x\ty'\n", {S("a", "x\ty"), S("b", "x\ty")}},
    {"integer forms",
     "a = +17\nb = -0\nc = 1_000_000\nd = 0xDEAD_beef\ne = 0o755\nf = 0b1101\n"
     "g = 9_223_372_036_854_775_807\nh = -9223372036854775808\n",
     {I("a", 17), I("b", 0), I("c", 1000000), I("d", 0xDEADBEEF), I("e", 0755), I("f", 13),
      I("g", INT64_MAX), I("h", INT64_MIN)}},
    {"float forms",
     "a = +1.5\nb = -0.0\nc = 1e10\nd = 1E-2\ne = 6.02_2e+2_3\nf = 0e0\ng = 3_1.4_1\n",
     {F("a", 1.5), F("b", -0.0), F("c", 1e10), F("d", 0.01), F("e", 6.022e23), F("f", 0.0),
      F("g", 31.41)}},
    {"special floats",
     "a = inf\nb = +inf\nc = -inf\nd = nan\ne = -nan\nf = 1e999\n",
     {F("a", INFINITY), F("b", INFINITY), F("c", -INFINITY), F("d", NAN), F("e", NAN),
      F("f", INFINITY)}},
    {"arrays",
     "a = [\n  \"x\", # first\n  'y',\n\n  \"\"\"z\"\"\", # trailing comma\n]\n"
     "b = [ [1, 2], [\"mixed\", 1.5, true], [] ]\nc = []\n",
     {A("a", 3, "x|y|z"), A("b", 3, NULL), A("c", 0, "")}},
    {"inline tables",
     "a = {}\nb = { x = 1, y.z = \"s\", \"q k\" = { n = true } }\n",
     {T("a"), I("b/x", 1), S("b/y/z", "s"), B("b/q k/n", 1)}},
    {"dotted keys",
     "a.b.c = 1\na.b.d = 2\n\"x.y\".z = 3\n[t]\nu.v = 4\n",
     {I("a/b/c", 1), I("a/b/d", 2), I("x.y/z", 3), I("t/u/v", 4)}},
    {"headers in any order",
     "[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b]\nz = 3\n[a.q]\n",
     {I("a/b/c/x", 1), I("a/y", 2), I("a/b/z", 3), T("a/q")}},
    {"sub-table under a dotted-key table",
     "[f]\napple.color = 'red'\n[f.apple.texture]\n"
     "smooth = true\n",
     {S("f/apple/color", "red"), B("f/apple/texture/smooth", 1)}},
    {"quoted and literal keys",
     "\"\" = 1\n'lit key' = 2\n\"\\u00e9\" = 3\n'a.b' = 4\n",
     {I("", 1), I("lit key", 2), I("\u00e9", 3), I("a.b", 4)}},
    {"bare keys that look like numbers or words",
     "1234 = 1\ntrue = 2\ninf = 3\n-_- = 4\n",
     {I("1234", 1), I("true", 2), I("inf", 3), I("-_-", 4)}},
};

Test(toml, valid_documents_parse_to_known_values)
{
    for (size_t c = 0; c < COUNT(valid_cases); c++) {
        const struct valid_case *vc = &valid_cases[c];
        struct toml_table *root = parse_ok(vc->text, strlen(vc->text));
        for (size_t i = 0; i < COUNT(vc->e) && vc->e[i].path; i++)
            check(root, &vc->e[i], vc->name);
        check_round_trip(root, vc->name);
        toml_free(root);
    }
}

/* toml.dumps writes {"a": {"x": {"v": 1}}, "b": {"v": 1, "y": {"w": 1}}} with [a.x] before
 * [b.y], and after a re-read with [b.y] first, for good. We write that stable form at once, so
 * a rewrite never reorders the file (found by fuzz/toml_fuzz.c). */
Test(toml, layout_is_a_fixed_point_where_python_is_not)
{
    struct toml_table *root = toml_new(), *a, *x, *b, *y;
    cr_assert_eq(toml_ensure_table(root, "a", &a), RC_OK);
    cr_assert_eq(toml_ensure_table(a, "x", &x), RC_OK);
    cr_assert_eq(toml_set_int(x, "v", 1), RC_OK);
    cr_assert_eq(toml_ensure_table(root, "b", &b), RC_OK);
    cr_assert_eq(toml_set_int(b, "v", 1), RC_OK);
    cr_assert_eq(toml_ensure_table(b, "y", &y), RC_OK);
    cr_assert_eq(toml_set_int(y, "w", 1), RC_OK);
    size_t len;
    char *out = dump(root, &len);
    /* toml.dumps(toml.loads(toml.dumps(M))) */
    cr_assert_str_eq(out, "[b]\nv = 1\n\n[b.y]\nw = 1\n\n[a.x]\nv = 1\n");
    check_round_trip(root, "implied table first");
    free(out);
    toml_free(root);
}

Test(toml, key_order_is_file_order)
{
    const char *text = "zeta = 1\nalpha = 2\n[m]\n[b]\nmid = 3\n";
    struct toml_table *root = parse_ok(text, strlen(text));
    const char *want[] = {"zeta", "alpha", "m", "b"};
    cr_assert_eq(toml_count(root), 4);
    for (size_t i = 0; i < 4; i++)
        cr_assert_str_eq(toml_key_at(root, i), want[i]);
    cr_assert_null(toml_key_at(root, 4));
    toml_free(root);
}

/* ---- invalid documents ------------------------------------------------------------------ */

struct invalid_case {
    const char *text;
    size_t len; /* 0: strlen(text) */
    const char *message;
};

static const struct invalid_case invalid_cases[] = {
    {"token = \"a\"\norg = \"x\"\norg = \"y\"\n", 0, "line 3: duplicate key \"org\""},
    {"[a]\nx = 1\n[b]\n[a]\n", 0, "line 4: table [a] defined twice"},
    {"[\"my org\"]\n[\"my org\"]\n", 0, "line 2: table [\"my org\"] defined twice"},
    {"[a.b]\n[a.b]\n", 0, "line 2: table [a.b] defined twice"},
    {"a = 1\n[a]\n", 0, "line 2: key \"a\" is already defined as a value"},
    {"a = 1\n[a.b]\n", 0, "line 2: key \"a\" is already defined as a value"},
    {"a = 1\na.b = 2\n", 0, "line 2: key \"a\" is already defined as a value"},
    {"a.b = 1\n[a]\n", 0, "line 2: table [a] was already defined by dotted keys"},
    {"[a.b]\nx = 1\n[a]\nb.y = 2\n", 0, "line 4: table \"b\" has its own [header]"},
    {"a = {x = 1}\n[a]\n", 0, "line 2: inline table [a] cannot be extended"},
    {"a = {x = 1}\na.y = 2\n", 0, "line 2: inline table \"a\" cannot be extended"},
    {"a = {x = 1, x = 2}\n", 0, "line 1: duplicate key \"x\""},
    {"a = {x = 1,}\n", 0, "line 1: trailing comma in inline table"},
    {"a = {x = 1,\n y = 2}\n", 0, "line 1: an inline table must be on one line"},
    {"a = \"x\x01y\"\n", 0, "line 1: control character 0x01 in string"},
    {"\n\na = 'x\x7fy'\n", 0, "line 3: control character 0x7F in string"},
    {"a = \"\"\"x\ny\x1bz\"\"\"\n", 0, "line 2: control character 0x1B in string"},
    {"a = \"x\ry\"\n", 0, "line 1: unterminated string"},
    {"# c\x01mment\n", 0, "line 1: control character 0x01 in comment"},
    {"a = 1\nb = \"\xC3\x28\"\n", 0, "line 2: invalid UTF-8"},
    {"a = \"\xED\xA0\x80\"\n", 0, "line 1: invalid UTF-8"},     /* encoded surrogate */
    {"a = \"\xC0\xAF\"\n", 0, "line 1: invalid UTF-8"},         /* overlong */
    {"a = \"\xF4\x90\x80\x80\"\n", 0, "line 1: invalid UTF-8"}, /* above U+10FFFF */
    {"a = \"x\0y\"\n", 10, "line 1: control character 0x00 in string"},
    {"a = 1\0\n", 7, "line 1: expected end of line after the value, found byte 0x00"},
    {"a = \"abc", 0, "line 1: unterminated string"},
    {"a = 'abc\n'", 0, "line 1: unterminated string"},
    {"a = \"\"\"abc\n\n", 0, "line 1: unterminated multi-line string"},
    {"a = '''x''''''\n", 0, "too many quotes"},
    {"a = \"\\q\"\n", 0, "line 1: invalid escape sequence"},
    {"a = \"\\u12\"\n", 0, "line 1: \\u escape needs 4 hex digits"},
    {"a = \"\\uD800\"\n", 0, "line 1: escape \\uD800 is not a Unicode scalar value"},
    {"a = \"\\U00110000\"\n", 0, "is not a Unicode scalar value"},
    {"a = \"\\u0000\"\n", 0, "line 1: NUL characters"},
    {"a = \"\"\"x\\ y\"\"\"\n", 0, "line 1: a backslash may only be followed by spaces"},
    {"\"\"\"k\"\"\" = 1\n", 0, "line 1: a key cannot be a multi-line string"},
    {"a =\n", 0, "line 1: expected a value, found end of line"},
    {"a = 1 2\n", 0, "line 1: expected end of line after the value, found '2'"},
    {"a = 1\r", 0, "line 1: expected end of line after the value, found byte 0x0D"},
    {"= 1\n", 0, "line 1: expected a key, found '='"},
    {"a b = 1\n", 0, "line 1: expected '=' after key \"a\", found 'b'"},
    {"a. = 1\n", 0, "line 1: expected a key, found '='"},
    {"[a\n", 0, "line 1: expected ']' to close the table header"},
    {"[]\n", 0, "line 1: expected a key, found ']'"},
    {"[a] x = 1\n", 0, "line 1: expected end of line after the table header, found 'x'"},
    {"[[a]]\n", 0, "line 1: arrays of tables ([[...]]) are not supported"},
    {"a = [{x = 1}]\n", 0, "line 1: arrays of tables are not supported"},
    {"a = [1, 2\n", 0, "unterminated array"},
    {"a = [1 2]\n", 0, "line 1: expected ',' or ']' in array, found '2'"},
    {"a = [,]\n", 0, "line 1: expected a value, found ','"},
    {"a = tru\n", 0, "line 1: expected a value, found 't'"},
    {"a = True\n", 0, "line 1: expected a value, found 'T'"},
    {"a = 01\n", 0, "line 1: leading zeros are not allowed in 01"},
    {"a = -01.5\n", 0, "leading zeros are not allowed"},
    {"a = 1__0\n", 0, "line 1: invalid number 1__0"},
    {"a = _1\n", 0, "line 1: expected a value, found '_'"},
    {"a = 1_\n", 0, "line 1: invalid number 1_"},
    {"a = 1.\n", 0, "line 1: invalid number 1."},
    {"a = .5\n", 0, "line 1: expected a value, found '.'"},
    {"a = 1.e5\n", 0, "invalid number"},
    {"a = 1e\n", 0, "line 1: invalid number 1e"},
    {"a = 1e_5\n", 0, "invalid number"},
    {"a = 0x\n", 0, "invalid number"},
    {"a = 0xG1\n", 0, "invalid number"},
    {"a = 0b102\n", 0, "invalid number"},
    {"a = +0x10\n", 0, "invalid number"},
    {"a = 0X10\n", 0, "invalid number"},
    {"a = infinity\n", 0, "line 1: invalid value infinity"},
    {"a = 9223372036854775808\n", 0, "line 1: integer 9223372036854775808 is out of range"},
    {"a = -9223372036854775809\n", 0, "is out of range"},
    {"a = 0x8000000000000000\n", 0, "is out of range"},
    {"a = 1979-05-27\n", 0, "line 1: dates and times are not supported"},
    {"a = 1979-05-27T07:32:00Z\n", 0, "dates and times are not supported"},
    {"a = 07:32:00\n", 0, "dates and times are not supported"},
};

Test(toml, invalid_documents_are_rejected_with_line_numbers)
{
    for (size_t c = 0; c < COUNT(invalid_cases); c++) {
        const struct invalid_case *ic = &invalid_cases[c];
        size_t len = ic->len ? ic->len : strlen(ic->text);
        /* an exact-size heap copy: ASan flags any read past len */
        char *copy = malloc(len ? len : 1);
        memcpy(copy, ic->text, len);
        struct toml_table *root = (struct toml_table *)&root;
        char err[256] = "";
        enum rc rc = toml_parse(copy, len, &root, err, sizeof(err));
        cr_expect_eq(rc, RC_PARSE, "case %zu accepted (%s): %s", c, rc_name(rc), ic->text);
        cr_expect_null(root, "case %zu", c);
        cr_expect(strstr(err, ic->message) != NULL, "case %zu: got \"%s\", want \"%s\"", c, err,
                  ic->message);
        free(copy);
    }
}

Test(toml, limits_are_enforced)
{
    struct toml_table *root = NULL;
    char err[256];

    /* size */
    size_t big = TOML_MAX_SIZE + 1;
    char *text = malloc(big);
    memset(text, '\n', big);
    cr_assert_eq(toml_parse(text, big, &root, err, sizeof(err)), RC_TOO_LARGE);
    cr_assert(strstr(err, "larger than") != NULL, "%s", err);
    cr_assert_eq(toml_parse(text, big - 1, &root, err, sizeof(err)), RC_OK, "%s", err);
    toml_free(root);
    free(text);

    /* nesting of arrays: TOML_MAX_DEPTH is fine, one more is not */
    char deep[4 * TOML_MAX_DEPTH + 16];
    for (int extra = 0; extra < 2; extra++) {
        int d = TOML_MAX_DEPTH + extra;
        size_t n = (size_t)snprintf(deep, sizeof(deep), "a = ");
        for (int i = 0; i < d; i++)
            deep[n++] = '[';
        for (int i = 0; i < d; i++)
            deep[n++] = ']';
        enum rc rc = toml_parse(deep, n, &root, err, sizeof(err));
        if (extra) {
            cr_assert_eq(rc, RC_PARSE);
            cr_assert(strstr(err, "nested more than") != NULL, "%s", err);
        } else {
            cr_assert_eq(rc, RC_OK, "%s", err);
            check_round_trip(root, "deep arrays");
            toml_free(root);
        }
    }

    /* nesting of tables */
    struct buf b = BUF_INIT;
    buf_adds(&b, "[t");
    for (int i = 1; i < TOML_MAX_DEPTH; i++)
        buf_adds(&b, ".t");
    buf_adds(&b, "]\nx.y = 1\n");
    cr_assert_eq(toml_parse(b.data, b.len, &root, err, sizeof(err)), RC_PARSE);
    cr_assert(strstr(err, "line 2: tables nested more than") != NULL, "%s", err);
    buf_release(&b);

    /* keys per table */
    for (int i = 0; i <= TOML_MAX_KEYS; i++)
        buf_addf(&b, "k%d = %d\n", i, i);
    cr_assert_eq(toml_parse(b.data, b.len, &root, err, sizeof(err)), RC_PARSE);
    cr_assert(strstr(err, "more than 10000 keys") != NULL, "%s", err);
    buf_release(&b);

    /* number length */
    buf_adds(&b, "a = 1");
    for (int i = 0; i < TOML_MAX_NUMBER; i++)
        buf_adds(&b, "0");
    cr_assert_eq(toml_parse(b.data, b.len, &root, err, sizeof(err)), RC_PARSE);
    cr_assert(strstr(err, "longer than") != NULL, "%s", err);
    buf_release(&b);

    /* a document that escaping would grow past what the parser reads back is not written */
    buf_adds(&b, "a = \"");
    for (size_t i = 0; i < TOML_MAX_SIZE / 2 + 16; i++)
        buf_addc(&b, '\t');
    buf_adds(&b, "\"\n");
    root = parse_ok(b.data, b.len);
    struct buf out = BUF_INIT;
    cr_assert_eq(toml_dump(root, &out), RC_TOO_LARGE);
    cr_assert_eq(out.len, 0);
    buf_release(&out);
    buf_release(&b);
    toml_free(root);
}

/* ---- document API ----------------------------------------------------------------------- */

Test(toml, typed_getters_distinguish_absent_and_wrong_type)
{
    const char *text = "s = \"x\"\ni = 7\nf = 2.5\nb = false\n[t]\n";
    struct toml_table *root = parse_ok(text, strlen(text));
    int64_t i;
    double f;
    bool b;
    cr_assert_eq(toml_get_int(root, "i", &i), RC_OK);
    cr_assert_eq(i, 7);
    cr_assert_eq(toml_get_int(root, "f", &i), RC_INVALID);
    cr_assert_eq(toml_get_int(root, "nope", &i), RC_NOT_FOUND);
    cr_assert_eq(toml_get_double(root, "i", &f), RC_OK, "an integer reads as a double");
    cr_assert_eq(f, 7.0);
    cr_assert_eq(toml_get_double(root, "s", &f), RC_INVALID);
    cr_assert_eq(toml_get_bool(root, "b", &b), RC_OK);
    cr_assert_eq(b, false);
    cr_assert_eq(toml_get_bool(root, "i", &b), RC_INVALID);
    cr_assert_null(toml_get_string(root, "i"));
    cr_assert_null(toml_get_string(root, "nope"));
    cr_assert_null(toml_get_table(root, "s"));
    cr_assert_not_null(toml_get_table(root, "t"));
    cr_assert_null(toml_get_array(root, "t"));
    cr_assert_eq(toml_type_of(root, "t"), TOML_TABLE);
    cr_assert_eq(toml_type_of(root, "nope"), TOML_NONE);
    cr_assert_eq(toml_array_len(NULL), 0);
    cr_assert_null(toml_array_string(NULL, 0));
    cr_assert_eq(toml_array_type(NULL, 0), TOML_NONE);
    toml_free(root);
    toml_free(NULL);
}

Test(toml, mixed_arrays_expose_element_types)
{
    const char *text = "a = [\"s\", 1, [2]]\n";
    struct toml_table *root = parse_ok(text, strlen(text));
    const struct toml_array *a = toml_get_array(root, "a");
    cr_assert_eq(toml_array_len(a), 3);
    cr_assert_eq(toml_array_type(a, 0), TOML_STRING);
    cr_assert_eq(toml_array_type(a, 1), TOML_INT);
    cr_assert_eq(toml_array_type(a, 2), TOML_ARRAY);
    cr_assert_eq(toml_array_type(a, 3), TOML_NONE);
    cr_assert_str_eq(toml_array_string(a, 0), "s");
    cr_assert_null(toml_array_string(a, 1));
    toml_free(root);
}

Test(toml, setters_replace_in_place_and_keep_unknown_data)
{
    const char *text = "token = \"old\"\nextra = 1\norg = \"a\"\n[a]\nk = 1\n[other]\nz = [1, 2]\n";
    struct toml_table *root = parse_ok(text, strlen(text));
    cr_assert_eq(toml_set_string(root, "token", "new"), RC_OK);
    cr_assert_eq(toml_set_int(root, "org", 5), RC_OK, "a value may change type");
    cr_assert_eq(toml_set_bool(root, "added", true), RC_OK);
    const char *want[] = {"token", "extra", "org", "a", "other", "added"};
    cr_assert_eq(toml_count(root), COUNT(want));
    for (size_t i = 0; i < COUNT(want); i++)
        cr_assert_str_eq(toml_key_at(root, i), want[i]);
    size_t len;
    char *out = dump(root, &len);
    cr_assert_str_eq(out, "token = \"new\"\nextra = 1\norg = 5\nadded = true\n\n[a]\nk = 1\n\n"
                          "[other]\nz = [ 1, 2,]\n");
    free(out);

    cr_assert(toml_remove(root, "extra"));
    cr_assert_not(toml_remove(root, "extra"));
    cr_assert_eq(toml_count(root), COUNT(want) - 1);
    cr_assert_str_eq(toml_key_at(root, 1), "org");

    struct toml_table *t = NULL;
    cr_assert_eq(toml_ensure_table(root, "a", &t), RC_OK);
    cr_assert_eq(toml_type_of(t, "k"), TOML_INT, "the existing table is returned");
    cr_assert_eq(toml_ensure_table(root, "token", &t), RC_CONFLICT);
    cr_assert_eq(toml_set_string(root, "a", "replaces the table"), RC_OK);
    cr_assert_str_eq(toml_get_string(root, "a"), "replaces the table");
    toml_free(root);
}

Test(toml, setters_reject_invalid_utf8_and_depth)
{
    struct toml_table *root = toml_new(), *t = root;
    cr_assert_eq(toml_set_string(root, "k", "bad \xff"), RC_INVALID);
    cr_assert_eq(toml_set_string(root, "bad \xc3", "v"), RC_INVALID);
    const char *items[] = {"ok", "\xe2\x82"};
    cr_assert_eq(toml_set_strings(root, "k", items, 2), RC_INVALID);
    cr_assert_eq(toml_count(root), 0, "nothing half-written");
    for (int i = 0; i < TOML_MAX_DEPTH; i++)
        cr_assert_eq(toml_ensure_table(t, "d", &t), RC_OK);
    cr_assert_eq(toml_ensure_table(t, "d", &t), RC_TOO_LARGE);
    check_round_trip(root, "deepest tables");
    toml_free(root);
}

Test(toml, control_characters_are_escaped_so_they_read_back)
{
    /* Python's toml 0.10.2 garbles these ("\x01" becomes "x01"); we escape them properly. */
    const char *value = "a\x01"
                        "b\x1f"
                        "c\x7f"
                        "d\b\f\"\\\t\n\r";
    struct toml_table *root = toml_new();
    cr_assert_eq(toml_set_string(root, "k\x02", value), RC_OK);
    size_t len;
    char *out = dump(root, &len);
    cr_assert_str_eq(out, "\"k\\u0002\" = \"a\\u0001b\\u001fc\\u007fd\\b\\f\\\"\\\\\\t\\n\\r\"\n");
    struct toml_table *back = parse_ok(out, len);
    cr_assert_str_eq(toml_get_string(back, "k\x02"), value);
    free(out);
    toml_free(back);
    toml_free(root);
}

Test(toml, dump_respects_the_buffer_cap_and_leaves_it_unchanged)
{
    const char *text = "a = \"0123456789\"\n[t]\nb = 1\n";
    struct toml_table *root = parse_ok(text, strlen(text));
    struct buf b;
    buf_init(&b, 20);
    cr_assert_eq(buf_adds(&b, "keep"), RC_OK);
    cr_assert_eq(toml_dump(root, &b), RC_TOO_LARGE);
    cr_assert_str_eq(buf_str(&b), "keep");
    buf_release(&b);

    buf_init(&b, 0);
    cr_assert_eq(buf_adds(&b, "# header\n"), RC_OK);
    cr_assert_eq(toml_dump(root, &b), RC_OK);
    cr_assert_str_eq(buf_str(&b), "# header\na = \"0123456789\"\n\n[t]\nb = 1\n",
                     "appends after what the buffer held");
    buf_release(&b);

    struct toml_table *empty = toml_new();
    buf_init(&b, 0);
    cr_assert_eq(toml_dump(empty, &b), RC_OK);
    cr_assert_eq(b.len, 0);
    buf_release(&b);
    toml_free(empty);
    toml_free(root);
}

Test(toml, parse_errors_without_an_error_buffer)
{
    struct toml_table *root;
    cr_assert_eq(toml_parse("a = ", 4, &root, NULL, 0), RC_PARSE);
    cr_assert_null(root);
    char tiny[8];
    cr_assert_eq(toml_parse("a = 1\na = 2\n", 12, &root, tiny, sizeof(tiny)), RC_PARSE);
    cr_assert_str_eq(tiny, "line 2:", "truncated, still NUL-terminated");
}
