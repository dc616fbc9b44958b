/* orgadmin_test.c: what organization admins may do with tokens (lib/auth/orgadmin.c), on a real
 * SQLite store: the admin check before any lookup, name and lifetime rules, revocation and
 * service accounts with the audit records that name the admin. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>
#include <sodium.h>

#include "orgadmin.h"

static struct store *st;
static struct auth a;
static char dir[] = "/tmp/pcc-orgadmin-XXXXXX";
static struct store_org admin_view, member_view; /* the org as its admin and a member see it */
static struct store_user admin, member;

static struct store_user add_user(const char *email, const char *role, const char *org_id)
{
    struct store_user u = {0};
    token_new_id("usr_", u.id);
    snprintf(u.email, sizeof u.email, "%s", email);
    snprintf(u.name, sizeof u.name, "%s", email);
    u.created_at = 1700000000;
    cr_assert_eq(store_user_create(st, &u), RC_OK);
    cr_assert_eq(store_membership_put(st, u.id, org_id, role, 1700000000), RC_OK);
    return u;
}

static void setup(void)
{
    char url[256], err[256] = "";
    cr_assert(sodium_init() >= 0);
    cr_assert(mkdtemp(dir));
    snprintf(url, sizeof url, "sqlite:%s/pcc.db", dir);
    cr_assert_eq(store_open(url, &st, err, sizeof err), RC_OK, "%s", err);
    int applied = -1;
    cr_assert_eq(store_migrate(st, &applied, err, sizeof err), RC_OK, "%s", err);
    struct digest_key key;
    randombytes_buf(key.bytes, sizeof key.bytes);
    cr_assert_eq(auth_init(&a, st, &key, NULL), RC_OK);
    struct store_org org = {0};
    token_new_id("org_", org.id);
    snprintf(org.name, sizeof org.name, "acme");
    snprintf(org.verbose_name, sizeof org.verbose_name, "Acme");
    org.created_at = 1700000000;
    cr_assert_eq(store_org_create(st, &org), RC_OK);
    admin = add_user("ada@example.com", "admin", org.id);
    member = add_user("bob@example.com", "member", org.id);
    cr_assert_eq(store_org_for_member(st, admin.id, "acme", &admin_view), RC_OK);
    cr_assert_eq(store_org_for_member(st, member.id, "acme", &member_view), RC_OK);
}

static void teardown(void)
{
    auth_release(&a);
    store_close(st);
}

TestSuite(orgadmin, .init = setup, .fini = teardown);

/* A token of user (bound to the org when bound), as the API would issue it. */
static struct store_token issue(const struct store_user *u, const char *name, int bound)
{
    struct auth_pat_spec spec = {
        .user_id = u->id, .name = name, .org_id = bound ? admin_view.id : NULL};
    char secret[TOKEN_BUF_SIZE], err[256] = "";
    struct store_token row;
    cr_assert_eq(auth_issue_pat_spec(&a, &spec, "127.0.0.1", secret, &row, err, sizeof err), RC_OK,
                 "%s", err);
    sodium_memzero(secret, sizeof secret);
    return row;
}

/* The newest audit event of the org named event, or a zeroed one. */
static struct store_audit last_event(const char *event)
{
    struct store_audit *list = NULL, found = {0};
    size_t n = 0;
    cr_assert_eq(store_audit_for_org(st, admin_view.id, 0, 100, &list, &n), RC_OK);
    for (size_t i = n; i-- > 0;)
        if (strcmp(list[i].event, event) == 0)
            found = list[i];
    store_free_list(list);
    return found;
}

Test(orgadmin, rules_for_names_and_lifetimes)
{
    static const struct {
        const char *name;
        enum rc want;
    } names[] = {{"ci", RC_OK},
                 {"deploy-bot-2", RC_OK},
                 {"0day", RC_OK},
                 {"", RC_INVALID},
                 {"-lead", RC_INVALID},
                 {"Upper", RC_INVALID},
                 {"has space", RC_INVALID},
                 {"a_b", RC_INVALID},
                 {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", RC_OK}, /* 48 */
                 {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", RC_INVALID}};
    char err[200];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        cr_expect_eq(orgadmin_check_sa_name(names[i].name, err, sizeof err), names[i].want, "%s",
                     names[i].name);
    cr_expect_str_eq(err, "name: 1-48 lowercase letters, digits and '-', not starting with '-'");
    static const struct {
        long long days;
        enum rc want;
    } days[] = {{1, RC_OK}, {3650, RC_OK}, {0, RC_INVALID}, {-1, RC_INVALID}, {3651, RC_INVALID}};
    for (size_t i = 0; i < sizeof days / sizeof days[0]; i++)
        cr_expect_eq(orgadmin_check_lifetime(days[i].days, "maxLifetimeDays", err, sizeof err),
                     days[i].want, "%lld", days[i].days);
    cr_expect(strncmp(err, "maxLifetimeDays: ", 17) == 0, "%s", err);
}

Test(orgadmin, a_member_is_refused_before_anything_is_looked_up)
{
    struct store_token mine = issue(&admin, "ada-ci", 0);
    const struct orgadmin_actor by = {member.id, NULL, "127.0.0.1"};
    struct store_org_token found;
    struct store_service_account acct;
    char real[200], made_up[200];
    cr_assert_eq(orgadmin_token_find(&a, &member_view, mine.id, &found, real, sizeof real),
                 RC_FORBIDDEN);
    cr_assert_eq(orgadmin_token_find(&a, &member_view, "tok_none", &found, made_up, sizeof made_up),
                 RC_FORBIDDEN);
    cr_expect_str_eq(real, made_up, "the answer does not depend on what exists");
    cr_expect(strstr(real, "you are a member"), "%s", real);
    cr_assert_eq(orgadmin_token_revoke(&a, &member_view, mine.id, &by, real, sizeof real),
                 RC_FORBIDDEN);
    cr_assert_eq(orgadmin_sa_create(&a, &member_view, "ci", &by, &acct, real, sizeof real),
                 RC_FORBIDDEN);
    struct store_token_policy p = {.require_expiry = 1};
    cr_assert_eq(orgadmin_policy_set(&a, &member_view, &p, &by, real, sizeof real), RC_FORBIDDEN);
    cr_assert_eq(store_token_by_id(st, admin.id, mine.id, &mine), RC_OK);
    cr_expect_eq(mine.revoked_at, 0, "still active");
}

/* What the organization does not own, a member's unbound token, is listed without its details
 * and cannot be revoked through it: the reason names the remedy. */
Test(orgadmin, a_members_unbound_token_is_seen_without_details_and_not_revoked)
{
    struct store_token bobs = issue(&member, "bob-anywhere", 0);
    cr_assert_eq(store_token_touch(st, bobs.id, 1700000100, "198.51.100.4", "bob-laptop/1"), RC_OK);
    const struct orgadmin_actor by = {admin.id, NULL, "192.0.2.1"};
    struct store_org_token found, *list = NULL;
    size_t n = 0;
    char err[300] = "";
    cr_assert_eq(orgadmin_token_find(&a, &admin_view, bobs.id, &found, err, sizeof err), RC_OK);
    cr_expect_eq(orgadmin_token_owned(&admin_view, &found), 0);
    cr_expect_str_eq(found.owner_email, "bob@example.com");
    cr_expect_str_eq(found.token.name, "");
    cr_expect_str_eq(found.token.last_used_ip, "");
    cr_expect_str_eq(found.token.last_used_agent, "");
    cr_expect_eq(found.token.last_used_at, 0);
    cr_assert_eq(orgadmin_tokens(&a, &admin_view, &list, &n, err, sizeof err), RC_OK);
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].token.id, bobs.id) == 0)
            cr_expect_str_eq(list[i].token.last_used_ip, "", "no address in the list either");
    store_free_list(list);
    cr_expect_eq(orgadmin_token_revoke(&a, &admin_view, bobs.id, &by, err, sizeof err),
                 RC_FORBIDDEN);
    cr_expect(strstr(err, "is not bound to organization 'acme'") != NULL, "%s", err);
    cr_expect(strstr(err, "remove the member") != NULL, "%s", err);
    cr_assert_eq(store_token_by_id(st, member.id, bobs.id, &bobs), RC_OK);
    cr_expect_eq(bobs.revoked_at, 0, "still active");
}

Test(orgadmin, an_admin_revokes_a_members_token_and_the_audit_names_the_admin)
{
    struct store_token bobs = issue(&member, "bob-laptop", 1); /* bound: the organization's */
    const struct orgadmin_actor by = {admin.id, NULL, "192.0.2.1"};
    struct store_org_token found;
    char err[200] = "";
    cr_assert_eq(orgadmin_token_find(&a, &admin_view, bobs.id, &found, err, sizeof err), RC_OK);
    cr_expect_str_eq(found.owner_email, "bob@example.com");
    cr_expect_str_eq(found.token.name, "bob-laptop");
    cr_assert_eq(orgadmin_token_revoke(&a, &admin_view, bobs.id, &by, err, sizeof err), RC_OK);
    struct store_audit ev = last_event("token.revoked");
    cr_expect_str_eq(ev.user_id, member.id, "the owner's log");
    cr_expect_str_eq(ev.token_id, bobs.id);
    char want[128];
    snprintf(want, sizeof want, "{\"reason\":\"admin\",\"by\":\"%s\"}", admin.id);
    cr_expect_str_eq(ev.detail, want);
    cr_expect_eq(orgadmin_token_revoke(&a, &admin_view, bobs.id, &by, err, sizeof err),
                 RC_NOT_FOUND, "already revoked");
    cr_expect_str_eq(err, "no active token that can act in this organization has that id");
}

Test(orgadmin, service_accounts_live_and_die_with_their_tokens)
{
    const struct orgadmin_actor by = {admin.id, "tok_admins", "192.0.2.1"};
    struct store_service_account acct, again, found;
    char err[256] = "", secret[TOKEN_BUF_SIZE];
    cr_assert_eq(orgadmin_sa_create(&a, &admin_view, "ci", &by, &acct, err, sizeof err), RC_OK,
                 "%s", err);
    cr_expect_eq(orgadmin_sa_create(&a, &admin_view, "ci", &by, &again, err, sizeof err),
                 RC_CONFLICT);
    cr_expect_str_eq(err, "organization 'acme' already has a service account named 'ci'");
    struct store_audit ev = last_event("service_account.created");
    cr_expect_str_eq(ev.user_id, admin.id, "the admin who acted");
    cr_expect_str_eq(ev.token_id, "tok_admins", "through which token");
    cr_expect_eq(orgadmin_sa_find(&a, &admin_view, "nope", &found, err, sizeof err), RC_NOT_FOUND);
    cr_assert_eq(orgadmin_sa_find(&a, &admin_view, "ci", &found, err, sizeof err), RC_OK);

    /* Its tokens are bound to the organization and must meet its policy. */
    struct store_token_policy p = {.max_lifetime_days = 30};
    cr_assert_eq(orgadmin_policy_set(&a, &admin_view, &p, &by, err, sizeof err), RC_OK);
    cr_expect_neq(admin_view.token_policy.updated_at, 0);
    struct auth_pat_spec forever = {.name = "forever"};
    struct store_token row;
    cr_expect_eq(
        orgadmin_sa_issue(&a, &admin_view, &found, &forever, &by, secret, &row, err, sizeof err),
        RC_INVALID);
    cr_expect(strstr(err, "only accepts tokens that expire"), "%s", err);
    struct auth_pat_spec week = {.name = "week", .expires_at = auth_now(&a) + 7 * 86400};
    cr_assert_eq(
        orgadmin_sa_issue(&a, &admin_view, &found, &week, &by, secret, &row, err, sizeof err),
        RC_OK, "%s", err);
    sodium_memzero(secret, sizeof secret);
    cr_expect_str_eq(row.org_id, admin_view.id, "bound to the organization");
    cr_expect_str_eq(row.user_id, found.user_id);
    size_t count = 0;
    cr_assert_eq(orgadmin_sa_token_count(&a, &found, &count), RC_OK);
    cr_expect_eq(count, 1);

    cr_assert_eq(orgadmin_sa_delete(&a, &admin_view, &found, &by, err, sizeof err), RC_OK);
    cr_expect_eq(orgadmin_sa_find(&a, &admin_view, "ci", &again, err, sizeof err), RC_NOT_FOUND);
    cr_expect_eq(orgadmin_sa_token_count(&a, &found, &count) == RC_OK ? count : 0, 0,
                 "its tokens went with it");
    ev = last_event("membership.removed");
    char want[96];
    snprintf(want, sizeof want, "{\"userId\":\"%s\"}", found.user_id);
    cr_expect_str_eq(ev.detail, want);
}
