/* main.c: the pipecat CLI: `pipecat cloud GROUP COMMAND ...`, or `pcc GROUP COMMAND ...`.
 * Dispatches through the commands[] table; each command lives in cmd_<group>.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "cli.h"
#include "banned.h"

#define H_OPTS "\nOptions:\n"
#define H_JSON "  --json                   print machine-readable JSON on stdout\n"
#define H_ORG "  -o, --organization ORG   act on ORG instead of the active organization\n"
#define H_HELP "  -h, --help               show this help\n"
#define H_CONFIG                                                                              \
    "  --config-file FILE       the deploy file to read the agent name from (default\n"      \
    "                           $PIPECAT_DEPLOY_CONFIG_PATH, else ./pcc-deploy.toml)\n"
#define H_KEY_ID                                                                              \
    "KEY_ID is the key's id or name as `organizations keys list` shows them; without it,\n"    \
    "pick from a list (terminal only).\n"

const struct command cli_commands[] = {
    {"auth", "login", cmd_auth_login, "sign in through the browser, or with a code (OAuth)",
     "usage: %s auth login [--no-browser | --headless]\n\n"
     "Sign in through the browser: the CLI opens the sign-in page of the server (or prints\n"
     "its URL), you approve access, and the browser hands the answer back to the CLI on\n"
     "http://127.0.0.1:8400-8404/oauth_callback (OAuth 2.0 authorization code with PKCE).\n"
     "Gives up after 120 seconds. With --headless (a machine without a browser, or one\n"
     "whose browser cannot reach 127.0.0.1 here) the CLI prints a URL and a short code\n"
     "instead: open the URL on any device, sign in and enter the code; the CLI waits until\n"
     "the code is approved, denied or expires (OAuth 2.0 device authorization grant).\n"
     "The access token, the refresh token that renews it, its expiry and the active\n"
     "organization are stored in the credentials file.\n" H_OPTS
     "  --no-browser             do not try to open a browser; only print the URL\n"
     "  --headless               sign in with a code entered on another device\n" H_JSON
     H_HELP},
    {"auth", "use-pat", cmd_auth_use_pat, "validate a personal access token and store it",
     "usage: %s auth use-pat [TOKEN]\n\n"
     "Validate a personal access token against the API, then store it (with the active\n"
     "organization) in the credentials file. The token is read from a hidden prompt on a\n"
     "terminal, or from the first line of standard input when it is piped:\n"
     "    echo \"$PIPECAT_TOKEN\" | pipecat cloud auth use-pat\n"
     "Passing TOKEN as an argument still works but leaks it to shell history.\n" H_OPTS H_JSON
     H_HELP},
    {"auth", "whoami", cmd_auth_whoami, "show the user, organization and credential in use",
     "usage: %s auth whoami [-o ORG]\n\n"
     "Show the signed-in user, the active organization, how the CLI authenticates (PAT or\n"
     "OAuth) and where the token came from (PIPECAT_TOKEN or the credentials file).\n" H_OPTS
     H_ORG H_JSON H_HELP},
    {"auth", "status", cmd_auth_status, "check that the stored or given token works",
     "usage: %s auth status\n\n"
     "Check the token in use against the API. Exits 0 when it is accepted, 1 when there is\n"
     "no token or the server rejects it.\n" H_OPTS H_JSON H_HELP},
    {"auth", "logout", cmd_auth_logout, "remove local credentials (optionally revoke the token)",
     "usage: %s auth logout [--revoke]\n\n"
     "Remove the credentials file. After `auth login` the session (its access and refresh\n"
     "tokens) is first revoked on the server. A personal access token stays valid until it\n"
     "is revoked; --revoke revokes it on the server first.\n" H_OPTS
     "  --revoke                 revoke the token server-side before removing it\n" H_JSON
     H_HELP},
    {"organizations", "list", cmd_orgs_list, "list your organizations",
     "usage: %s organizations list\n\n"
     "List the organizations you belong to; the active one is marked.\n" H_OPTS H_ORG H_JSON
     H_HELP},
    {"organizations", "select", cmd_orgs_select, "choose the active organization",
     "usage: %s organizations select [-o ORG]\n\n"
     "Store ORG as the active organization. Without -o, pick from a list (terminal only).\n"
     H_OPTS H_ORG H_JSON H_HELP},
    {"tokens", "list", cmd_tokens_list, "list your personal access tokens",
     "usage: %s tokens list [--service-account NAME [-o ORG]]\n\n"
     "List your active personal access tokens: id, name, display form, scopes, the\n"
     "organization a token is bound to, expiry, and its last use (time and address).\n"
     "Secrets are never shown again after creation.\n" H_OPTS
     "  --service-account NAME   list the tokens of the organization's service account NAME\n"
     "                           (organization admins)\n" H_ORG H_JSON H_HELP},
    {"tokens", "create", cmd_tokens_create, "create a personal access token",
     "usage: %s tokens create --name NAME [--scopes LIST] [-o ORG] [--expires-in DAYS]\n\n"
     "Create a personal access token. It is printed once, alone on standard output, so\n"
     "    TOKEN=$(pipecat cloud tokens create --name ci-deploy --scopes deploy --expires-in 90)\n"
     "captures it. Use one token per pipeline so each can be revoked alone.\n" H_OPTS
     "  -n, --name NAME          a descriptive name (required)\n"
     "  -s, --scopes LIST        comma-separated: read (no writes), deploy (read, agents,\n"
     "                           deploys, sessions), secrets (read, secrets), full (default)\n"
     "  -o, --organization ORG   bind the token to ORG: other organizations are invisible\n"
     "                           to it\n"
     "  --expires-in DAYS        expire after DAYS days (e.g. 7, 30, 60, 90); default never\n"
     "  --expires-at DATE        expire at DATE (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SSZ)\n"
     "  --service-account NAME   create the token for the service account NAME of ORG (or\n"
     "                           the active organization; organization admins)\n" H_JSON
     H_HELP},
    {"tokens", "revoke", cmd_tokens_revoke, "revoke a personal access token",
     "usage: %s tokens revoke ID [--service-account NAME [-o ORG] [--yes]]\n\n"
     "Revoke the token with id ID (see `tokens list`). It stops working at once. A service\n"
     "account's token: asks to confirm unless --yes (needed without a terminal).\n" H_OPTS
     "  --service-account NAME   revoke a token of the organization's service account NAME\n"
     "  -y, --yes                do not ask for confirmation\n" H_ORG H_JSON H_HELP},
    {"tokens", "rotate", cmd_tokens_rotate, "give a token a new secret, keeping its identity",
     "usage: %s tokens rotate ID [--grace DURATION]\n\n"
     "Give token ID a new secret, printed once on standard output; its id, name, scopes,\n"
     "organization and expiry stay. The old secret keeps working for the grace period\n"
     "(default 0: it stops at once; at most 7d), long enough to update CI:\n"
     "    NEW=$(pipecat cloud tokens rotate tok_... --grace 1h)\n"
     "    echo \"$NEW\" | pipecat cloud auth use-pat\n" H_OPTS
     "  -g, --grace DURATION     how long the old secret keeps working: 90s, 15m, 1h, 2d\n"
     "  --service-account NAME   rotate a token of the organization's service account NAME\n"
     H_ORG H_JSON H_HELP},
    {"tokens", "report-leaked", cmd_tokens_report_leaked, "revoke tokens found exposed",
     "usage: %s tokens report-leaked < FILE\n\n"
     "Report tokens found where they should not be (a public repository, a log, a chat),\n"
     "one per line on standard input. Each one that is valid is revoked at once and its\n"
     "owner sees the report in their audit log. Needs no credential; the answer never says\n"
     "which tokens were valid.\n" H_OPTS H_JSON H_HELP},
    {"audit", "list", cmd_audit_list, "show audit events: yours, or an organization's",
     "usage: %s audit list [--org | -o ORG] [--limit N] [--before ID]\n\n"
     "Show audit events, newest first: your own (tokens created, rotated, revoked, used\n"
     "after expiry or from a new address, scope refusals), or with --org those of the\n"
     "active organization (or ORG; admins), including API key and membership changes.\n"
     "Events never contain a secret.\n" H_OPTS
     "  --org                    the active organization's events instead of yours\n"
     H_ORG
     "  -n, --limit N            at most N events (1-200, default 50)\n"
     "  --before ID              events older than event ID (paging)\n" H_JSON H_HELP},
    {"organizations", "invite", cmd_orgs_invite, "invite someone to join the organization",
     "usage: %s organizations invite EMAIL [--role member|admin] [-o ORG]\n\n"
     "Invite EMAIL into the organization as member (default) or admin. Nobody joins without\n"
     "consent: the person accepts with `organizations invitations accept` or on the\n"
     "dashboard's Invitations page, within 7 days, once their address is confirmed. The\n"
     "answer is the same whether or not the address has an account. Needs the admin role.\n"
     H_OPTS "  -r, --role ROLE          member (default) or admin\n" H_ORG H_JSON H_HELP},
    {"organizations invitations", "list", cmd_invitations_list,
     "list the invitations addressed to you",
     "usage: %s organizations invitations list\n\n"
     "List the pending invitations to join organizations that are addressed to your email\n"
     "address (none while the address is not confirmed), with who invited you and when each\n"
     "expires.\n" H_OPTS H_JSON H_HELP},
    {"organizations invitations", "accept", cmd_invitations_accept,
     "accept an invitation: join its organization",
     "usage: %s organizations invitations accept ID\n\n"
     "Accept invitation ID (see `organizations invitations list`): you become a member of\n"
     "its organization with the role it names. An expired invitation cannot be accepted.\n"
     "Needs an unbound token with the full scope.\n" H_OPTS H_JSON H_HELP},
    {"organizations invitations", "decline", cmd_invitations_decline,
     "decline an invitation",
     "usage: %s organizations invitations decline ID\n\n"
     "Decline invitation ID (see `organizations invitations list`); its organization's\n"
     "admins can invite you again.\n" H_OPTS H_JSON H_HELP},
    {"organizations tokens", "list", cmd_org_tokens_list,
     "list the tokens that can act in the organization",
     "usage: %s organizations tokens list [-o ORG]\n\n"
     "List every active token that can act in the organization. What it owns (tokens bound\n"
     "to it, its service accounts' tokens) is shown with owner, scopes, expiry and last use;\n"
     "a member's unbound token only as \"has access through membership\" (revoking it is\n"
     "its owner's business: remove the member instead). Needs the admin role.\n" H_OPTS H_ORG
     H_JSON H_HELP},
    {"organizations tokens", "revoke", cmd_org_tokens_revoke,
     "revoke a token that can act in the organization",
     "usage: %s organizations tokens revoke ID [--yes] [-o ORG]\n\n"
     "Revoke token ID (see `organizations tokens list`), bound to the organization or of\n"
     "one of its service accounts: it stops working everywhere, at once, and its owner sees\n"
     "who revoked it in their audit log. A member's unbound token is refused (403): only\n"
     "its owner revokes it. Asks to confirm unless --yes (needed without a terminal).\n"
     "Needs the admin role.\n" H_OPTS
     "  -y, --yes                do not ask for confirmation\n" H_ORG H_JSON H_HELP},
    {"organizations", "token-policy", cmd_org_token_policy,
     "show or set what tokens must meet to act in the organization",
     "usage: %s organizations token-policy [--require-expiry yes|no]\n"
     "       [--max-lifetime-days N] [--require-binding yes|no] [-o ORG]\n\n"
     "Without options, show the organization's token policy. With options, change it (admin\n"
     "role). A token outside the policy is not revoked: it gets 403 in this organization.\n"
     H_OPTS
     "  --require-expiry yes|no  refuse tokens that never expire\n"
     "  --max-lifetime-days N    refuse tokens valid for more than N days (0: no limit)\n"
     "  --require-binding yes|no refuse tokens not bound to this organization\n" H_ORG H_JSON
     H_HELP},
    {"service-accounts", "create", cmd_sa_create, "create a service account",
     "usage: %s service-accounts create NAME [-o ORG]\n\n"
     "Create service account NAME (lowercase letters, digits, '-') in the organization: a\n"
     "non-human member whose tokens its admins manage, for pipelines that must not depend on\n"
     "one person's account. Give it tokens with `tokens create --service-account NAME`.\n"
     "Needs the admin role.\n" H_OPTS H_ORG H_JSON H_HELP},
    {"service-accounts", "list", cmd_sa_list, "list the organization's service accounts",
     "usage: %s service-accounts list [-o ORG]\n\n"
     "List the organization's service accounts. Needs the admin role.\n" H_OPTS H_ORG H_JSON
     H_HELP},
    {"service-accounts", "delete", cmd_sa_delete, "delete a service account and its tokens",
     "usage: %s service-accounts delete NAME [--yes] [-o ORG]\n\n"
     "Delete service account NAME; all its tokens stop working at once. Asks to confirm\n"
     "unless --yes (needed without a terminal). Needs the admin role.\n" H_OPTS
     "  -y, --yes                do not ask for confirmation\n" H_ORG H_JSON H_HELP},
    {"organizations", "default-region", cmd_orgs_default_region,
     "show or set the organization's default region",
     "usage: %s organizations default-region [REGION] [-o ORG]\n\n"
     "Without REGION, show the organization's default region and the regions available.\n"
     "With REGION, make it the default: agents and secret sets created without --region are\n"
     "placed there. Needs the admin role.\n" H_OPTS H_ORG H_JSON H_HELP},
    {"organizations keys", "list", cmd_keys_list, "list the organization's API keys",
     "usage: %s organizations keys list [-o ORG]\n\n"
     "List the organization's API keys: name, id, key, creation time and status. Public keys\n"
     "(pk_...) are shown in full, as they are meant to ship inside client apps; private keys\n"
     "only by their display form. Your default key for `agent start` is marked.\n" H_OPTS H_ORG
     H_JSON H_HELP},
    {"organizations keys", "create", cmd_keys_create, "create an API key",
     "usage: %s organizations keys create [-n NAME] [-d] [-t TYPE] [-o ORG]\n\n"
     "Create a public API key (pk_...), the credential of `agent start` and of client apps.\n"
     "Without --name the name is asked for (terminal only). With --default the key becomes\n"
     "this organization's default in the credentials file; on a terminal you are asked.\n"
     "--type private creates a private key (sk_...) for the management API instead: it is\n"
     "printed once, alone on standard output. Needs the admin role.\n" H_OPTS
     "  -n, --name NAME          a descriptive name for the key\n"
     "  -d, --default            make it this organization's default key\n"
     "  -t, --type TYPE          public (default) or private\n" H_ORG H_JSON H_HELP},
    {"organizations keys", "revoke", cmd_keys_revoke, "revoke an API key",
     "usage: %s organizations keys revoke [KEY_ID] [-o ORG]\n\n"
     "Revoke an API key: it stops working at once and stays listed as revoked. If it was\n"
     "your default key, the default is removed from the credentials file. Needs the admin\n"
     "role.\n" H_KEY_ID H_OPTS H_ORG H_JSON H_HELP},
    {"organizations keys", "delete", cmd_keys_delete, NULL,
     "usage: %s organizations keys delete [KEY_ID] [-o ORG]\n\n"
     "Deprecated: use `organizations keys revoke`, which this runs.\n" H_OPTS H_ORG H_JSON
     H_HELP},
    {"organizations keys", "use", cmd_keys_use, "make an API key the default for agent start",
     "usage: %s organizations keys use [KEY_ID] [-o ORG]\n\n"
     "Make an API key this organization's default for `agent start`: its key and name are\n"
     "stored as default_public_key and default_public_key_name in the organization's table\n"
     "of the credentials file.\n" H_KEY_ID H_OPTS H_ORG H_JSON H_HELP},
    {"organizations properties", "list", cmd_props_list, "show the organization's properties",
     "usage: %s organizations properties list [-o ORG]\n\n"
     "Show the organization's properties and their current values.\n" H_OPTS H_ORG H_JSON
     H_HELP},
    {"organizations properties", "schema", cmd_props_schema,
     "describe the properties that can be set",
     "usage: %s organizations properties schema [-o ORG]\n\n"
     "Describe every organization property: type, current value, default, whether it can be\n"
     "changed, what it means and the values it accepts.\n" H_OPTS H_ORG H_JSON H_HELP},
    {"organizations properties", "set", cmd_props_set, "set an organization property",
     "usage: %s organizations properties set NAME VALUE [-o ORG]\n\n"
     "Set property NAME to VALUE, for example\n"
     "    pipecat cloud organizations properties set defaultRegion eu-central\n"
     "See `organizations properties schema` for the names and values. Needs the admin role.\n"
     H_OPTS H_ORG H_JSON H_HELP},
    {"regions", "list", cmd_regions_list, "list the regions agents can run in",
     "usage: %s regions list [-o ORG]\n\n"
     "List the regions agents and secret sets can be placed in: code and name.\n" H_OPTS H_ORG
     H_JSON H_HELP},
    {"secrets", "set", cmd_secrets_set, "create a secret set or set keys in it",
     "usage: %s secrets set NAME [KEY=VALUE ...] [-f FILE] [-r REGION] [-s] [-o ORG]\n\n"
     "Create secret set NAME, or add or replace keys in it (one request per key). Values come\n"
     "from KEY=VALUE arguments or from FILE: one KEY=VALUE per line, # comments and blank lines\n"
     "ignored, surrounding double quotes stripped. A VALUE of - is read from standard input\n"
     "(a hidden prompt on a terminal), which keeps it out of shell history:\n"
     "    printf %%s \"$OPENAI_KEY\" | pipecat cloud secrets set my-secrets OPENAI_API_KEY=- -s\n"
     "Keys are 1-64 characters of A-Z a-z 0-9 _ -. A preview shows each key with at most the\n"
     "first 4 characters of its value and asks to confirm, again before replacing existing\n"
     "keys; --skip answers yes and is needed without a terminal. Agents see new values after\n"
     "a redeploy.\n" H_OPTS
     "  -f, --file FILE          read KEY=VALUE lines from FILE (not with KEY=VALUE arguments)\n"
     "  -r, --region REGION      region of a new set (default: the organization's default)\n"
     "  -s, --skip               do not ask for confirmation\n" H_ORG H_JSON H_HELP},
    {"secrets", "list", cmd_secrets_list, "list secret sets, or the keys of one",
     "usage: %s secrets list [NAME] [-s] [-r REGION] [-o ORG]\n\n"
     "Without NAME, list the secret sets and image pull secrets: name, region and type. With\n"
     "NAME, list the key names of that set. Values are never shown.\n" H_OPTS
     "  -s, --sets               only secret sets (leave out image pull secrets)\n"
     "  -r, --region REGION      only those in REGION\n" H_ORG H_JSON H_HELP},
    {"secrets", "unset", cmd_secrets_unset, "remove a key from a secret set",
     "usage: %s secrets unset NAME KEY [-s] [-o ORG]\n\n"
     "Remove KEY from secret set NAME. Asks to confirm unless --skip (needed without a\n"
     "terminal).\n" H_OPTS "  -s, --skip               do not ask for confirmation\n" H_ORG
     H_JSON H_HELP},
    {"secrets", "delete", cmd_secrets_delete, "delete a secret set",
     "usage: %s secrets delete NAME [-s] [-o ORG]\n\n"
     "Delete secret set (or image pull secret) NAME with all its keys. Asks to confirm unless\n"
     "--skip (needed without a terminal).\n" H_OPTS
     "  -s, --skip               do not ask for confirmation\n" H_ORG H_JSON H_HELP},
    {"secrets", "image-pull-secret", cmd_secrets_image_pull_secret,
     "store registry credentials for pulling images",
     "usage: %s secrets image-pull-secret NAME HOST [USER:PASS] [OPTIONS]\n\n"
     "Store the credentials for pulling images from registry HOST as image pull secret NAME;\n"
     "`deploy --credentials NAME` uses it. The credentials come from the USER:PASS argument,\n"
     "from prompts for user name and (hidden) password on a terminal, or else from the first\n"
     "line of standard input:\n"
     "    echo \"$REGISTRY_USER:$REGISTRY_TOKEN\" | pipecat cloud secrets image-pull-secret \\\n"
     "        ghcr ghcr.io -s\n"
     "They are sent base64-encoded; with --encode they are sent as given (already base64).\n"
     "Replacing an existing one asks to confirm unless --skip.\n" H_OPTS
     "  -e, --encode             the credentials are already base64-encoded: send as given\n"
     "  -r, --region REGION      region of the secret (default: the organization's default)\n"
     "  -s, --skip               do not ask for confirmation\n" H_ORG H_JSON H_HELP},
    {"agent", "list", cmd_agent_list, "list the organization's agents",
     "usage: %s agent list [-r REGION] [-o ORG]\n\n"
     "List the organization's agents: name, region, id, active deployment, creation and\n"
     "update time.\n" H_OPTS "  -r, --region REGION      only agents in REGION\n" H_ORG H_JSON
     H_HELP},
    {"agent", "status", cmd_agent_status, "show an agent's deployment status",
     "usage: %s agent status NAME [-o ORG]\n\n"
     "Show agent NAME: readiness, image, profile, scaling, session count, revisions, health,\n"
     "conditions and errors. Exits 0 when the agent exists, ready or not.\n" H_OPTS H_ORG
     H_JSON H_HELP},
    {"agent", "deployments", cmd_agent_deployments, "list an agent's deployments",
     "usage: %s agent deployments NAME [-o ORG]\n\n"
     "List the deployments of agent NAME: id, node type, image, creation and update time.\n"
     H_OPTS H_ORG H_JSON H_HELP},
    {"agent", "logs", cmd_agent_logs, "show an agent's logs",
     "usage: %s agent logs NAME [OPTIONS]\n\n"
     "Show the logs of agent NAME, one entry per line (timestamp, then the message).\n" H_OPTS
     "  -l, --level LEVEL        only entries of LEVEL: DEBUG, INFO, WARNING, ERROR, CRITICAL\n"
     "  -f, --format FORMAT      TEXT (default), or JSON: one {\"timestamp\", \"log\"} per line\n"
     "  -n, --limit LIMIT        how many entries to fetch, 1-10000 (default 100)\n"
     "  -d, --deployment ID      only entries of deployment ID\n"
     "  -s, --session-id ID      only entries of session ID\n" H_ORG H_JSON H_HELP},
    {"agent", "sessions", cmd_agent_sessions, "list an agent's sessions, or show one",
     "usage: %s agent sessions [NAME] [-i SESSION_ID] [--config-file FILE] [-o ORG]\n\n"
     "List the sessions of agent NAME with a summary (count, durations, bot start times, cold\n"
     "starts), or with --id show one session in detail. NAME defaults to agent_name in the\n"
     "deploy file.\n" H_OPTS "  -i, --id SESSION_ID      show this session only\n" H_CONFIG
     H_ORG H_JSON H_HELP},
    {"agent", "delete", cmd_agent_delete, "delete an agent",
     "usage: %s agent delete NAME [-f] [-o ORG]\n\n"
     "Delete agent NAME and its deployments. Active sessions are not interrupted. Asks to\n"
     "confirm unless --force (needed without a terminal).\n" H_OPTS
     "  -f, --force              do not ask for confirmation\n" H_ORG H_JSON H_HELP},
    {"agent", "start", cmd_agent_start, "start a session of an agent",
     "usage: %s agent start [NAME] [-k KEY] [-d JSON] [-D [-p JSON]] [-f] [-o ORG]\n\n"
     "Start a session of agent NAME (default: agent_name in the deploy file) through the\n"
     "public start endpoint, authenticated with a public API key: --api-key, else the\n"
     "organization's default key (see `organizations keys use`). The agent must be ready.\n"
     "Asks to confirm unless --force (needed without a terminal).\n" H_OPTS
     "  -k, --api-key KEY        the public API key (pk_...) to start with\n"
     "  -d, --data JSON          JSON passed to the bot as its body\n"
     "  -D, --use-daily          create a Daily room for the session\n"
     "  -p, --daily-properties JSON\n"
     "                           Daily room properties (with --use-daily)\n"
     "  -f, --force              do not ask for confirmation\n" H_CONFIG H_ORG H_JSON H_HELP},
    {"agent", "stop", cmd_agent_stop, "stop a session of an agent",
     "usage: %s agent stop [NAME] -s SESSION_ID [-f] [-o ORG]\n\n"
     "Stop session SESSION_ID of agent NAME (default: agent_name in the deploy file). Asks to\n"
     "confirm unless --force (needed without a terminal).\n" H_OPTS
     "  -s, --session-id ID      the session to stop (required)\n"
     "  -f, --force              do not ask for confirmation\n" H_CONFIG H_ORG H_JSON H_HELP},
    {"", "deploy", cmd_deploy, "deploy an agent image, or update a deployed agent",
     "usage: %s deploy [AGENT_NAME] [IMAGE] [OPTIONS]\n\n"
     "Create agent AGENT_NAME running IMAGE (repository:tag), or update it. Arguments and\n"
     "options override the deploy file, pcc-deploy.toml (see --config-file). Before anything\n"
     "changes, the plan is shown and confirmed; --yes answers yes and is needed without a\n"
     "terminal:\n"
     "    pipecat cloud deploy my-agent repo/img:1.0 --yes\n"
     "Then it waits until the deployment is ready (a progress indicator on a terminal) and\n"
     "exits 0, or 1 if it failed or is not ready within --timeout.\n" H_OPTS
     "  --config-file FILE       the deploy file (default $PIPECAT_DEPLOY_CONFIG_PATH, else\n"
     "                           ./pcc-deploy.toml if it exists)\n"
     "  -c, --credentials NAME   image pull secret for a private registry\n"
     "  -nc, --no-credentials    the image is public: deploy without --credentials\n"
     "  -s, --secrets NAME       secret set passed to the agent as environment variables\n"
     "  -r, --region REGION      region of a new agent (default: the organization's default)\n"
     "  -min, --min-agents N     agents kept running, at least 0 (default 0)\n"
     "  -max, --max-agents N     upper bound of agents, at least 1 and at least --min-agents\n"
     "  -p, --profile PROFILE    agent profile: agent-1x (default), agent-2x, agent-3x\n"
     "  --max-session-duration SECONDS\n"
     "                           longest session, 60-14400 (default 7200)\n"
     "  --krisp-viva-audio-filter FILTER\n"
     "                           enable Krisp VIVA noise filtering: tel or pro\n"
     "  -krisp, --enable-krisp   enable Krisp noise cancellation (deprecated)\n"
     "  -b, --build-id ID        deploy a cloud build instead of IMAGE\n"
     "  -d, --build-dir DIR, --dockerfile FILE\n"
     "                           cloud builds from source: not supported by this client\n"
     "  -f, --force              make a new deployment even if nothing changed (implies --yes)\n"
     "  -y, --yes                do not ask for confirmation\n"
     "  --timeout SECONDS        how long to wait for readiness (default 600)\n" H_ORG H_JSON
     H_HELP},
};
const size_t cli_command_count = sizeof cli_commands / sizeof cli_commands[0];

static const struct {
    const char *name;
    const char *summary;
} groups[] = {
    {"auth", "authenticate the CLI: browser login, personal access tokens, whoami, logout"},
    {"organizations", "list and select organizations, their API keys and properties"},
    {"organizations keys", "manage the organization's API keys"},
    {"organizations properties", "show and set the organization's properties"},
    {"organizations tokens", "oversee the tokens that can act in the organization"},
    {"organizations invitations", "answer the invitations to join organizations"},
    {"tokens", "manage your personal access tokens"},
    {"service-accounts", "manage the organization's service accounts"},
    {"audit", "read the audit log"},
    {"regions", "list the regions agents can run in"},
    {"secrets", "manage secret sets and image pull secrets"},
    {"agent", "inspect, start, stop and delete deployed agents"},
};
#define GROUP_COUNT (sizeof groups / sizeof groups[0])

/* The direct subgroups and commands of group path ("" is the top level), as help lists. */
static size_t list_width(const char *path)
{
    size_t width = *path ? 10 : 15, plen = strlen(path);
    for (size_t i = 0; i < GROUP_COUNT; i++) {
        const char *g = groups[i].name;
        if (!*path && !strchr(g, ' ') && strlen(g) > width)
            width = strlen(g) + 1;
        if (*path && strncmp(g, path, plen) == 0 && g[plen] == ' ' &&
            strlen(g + plen + 1) >= width)
            width = strlen(g + plen + 1) + 1;
    }
    for (size_t i = 0; i < cli_command_count; i++)
        if (cli_commands[i].summary && strcmp(cli_commands[i].group, path) == 0 &&
            strlen(cli_commands[i].name) >= width)
            width = strlen(cli_commands[i].name) + 1;
    return width;
}

static void list_entries(FILE *f, const char *path)
{
    size_t plen = strlen(path);
    int width = (int)list_width(path);
    int any = 0;
    for (size_t i = 0; i < cli_command_count; i++) {
        const struct command *c = &cli_commands[i];
        if (!c->summary || strcmp(c->group, path) != 0)
            continue;
        if (!any++)
            fprintf(f, "commands:\n");
        fprintf(f, "  %-*s %s\n", width, c->name, c->summary);
    }
    int groups_listed = 0;
    for (size_t i = 0; i < GROUP_COUNT; i++) {
        const char *g = groups[i].name, *shown;
        if (!*path)
            shown = strchr(g, ' ') ? NULL : g;
        else
            shown = strncmp(g, path, plen) == 0 && g[plen] == ' ' ? g + plen + 1 : NULL;
        if (!shown)
            continue;
        if (!groups_listed++)
            fprintf(f, "%sgroups:\n", any ? "\n" : "");
        fprintf(f, "  %-*s %s\n", width, shown, groups[i].summary);
    }
}

static void usage_root(FILE *f, const struct cli *cli)
{
    fprintf(f, "usage: %s GROUP COMMAND [OPTIONS]\n\n"
               "Pipecat Cloud command-line client (pcc %s).\n\n",
            cli->prog, PCC_CLI_VERSION);
    list_entries(f, "");
    fprintf(f, "\nEnvironment: PIPECAT_API_HOST (server, default %s), PIPECAT_TOKEN,\n"
               "PIPECAT_ORG, PIPECAT_CONFIG_PATH (credentials file). Run `%s GROUP --help`.\n",
            DEFAULT_API_HOST, cli->prog);
}

static void usage_group(FILE *f, const struct cli *cli, const char *group)
{
    fprintf(f, "usage: %s %s COMMAND [OPTIONS]\n\n", cli->prog, group);
    list_entries(f, group);
    fprintf(f, "\nRun `%s %s COMMAND --help` for a command's options.\n", cli->prog, group);
}

static int is_group(const char *name)
{
    for (size_t i = 0; i < GROUP_COUNT; i++)
        if (strcmp(groups[i].name, name) == 0)
            return 1;
    return 0;
}

static int use_color(FILE *f)
{
    const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
    return isatty(fileno(f)) && !(no && *no) && !(term && strcmp(term, "dumb") == 0);
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "Error: cannot initialise libsodium\n");
        return EXIT_FAIL;
    }
    struct cli cli = {.prog = "pipecat cloud"};
    /* The CA bundle for https:// hosts, as OpenSSL-based clients (the official one included)
     * and the curl tool read it; libcurl itself reads neither variable. */
    const char *ca = getenv("SSL_CERT_FILE");
    client_use_ca_file(ca && *ca ? ca : getenv("CURL_CA_BUNDLE"));
    client_use_ca_dir(getenv("SSL_CERT_DIR"));
    cli.color_out = use_color(stdout);
    cli.color_err = use_color(stderr);

    /* `pcc` behaves as `pipecat cloud`. */
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    int i = 1;
    if (strcmp(base, "pcc") == 0) {
        cli.prog = "pcc";
    } else {
        if (i < argc && strcmp(argv[i], "--version") == 0) {
            printf("pipecat (pcc) %s\n", PCC_CLI_VERSION);
            return EXIT_OK;
        }
        if (i >= argc || strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fprintf(i >= argc ? stderr : stdout,
                    "usage: pipecat cloud GROUP COMMAND [OPTIONS]\n\n"
                    "The Pipecat command-line client. Its `cloud` commands manage Pipecat Cloud\n"
                    "(or a self-hosted pccd). Run `pipecat cloud --help`.\n");
            return i >= argc ? EXIT_USAGE : EXIT_OK;
        }
        if (strcmp(argv[i], "cloud") != 0) {
            fprintf(stderr, "Error: unknown command '%s': try `pipecat cloud --help`\n", argv[i]);
            return EXIT_USAGE;
        }
        i++;
    }

    /* --json may stand anywhere after `cloud`: take it out before command parsing. */
    int n = 0;
    char **args = argv + i;
    int nargs = argc - i;
    for (int k = 0; k < nargs; k++) {
        if (strcmp(args[k], "--") == 0) {
            while (k < nargs)
                args[n++] = args[k++];
            break;
        }
        if (strcmp(args[k], "--json") == 0)
            cli.json = 1;
        else
            args[n++] = args[k];
    }
    nargs = n;

    if (nargs == 0) {
        usage_root(stderr, &cli);
        return EXIT_USAGE;
    }
    if (strcmp(args[0], "--help") == 0 || strcmp(args[0], "-h") == 0) {
        usage_root(stdout, &cli);
        return EXIT_OK;
    }
    if (strcmp(args[0], "--version") == 0) {
        printf("pipecat (pcc) %s\n", PCC_CLI_VERSION);
        return EXIT_OK;
    }
    /* Walk down nested groups ("organizations keys") to a command. */
    char path[128] = "";
    for (int k = 0;; k++) {
        if (k >= nargs) {
            usage_group(stderr, &cli, path);
            return EXIT_USAGE;
        }
        if (k > 0 && (strcmp(args[k], "--help") == 0 || strcmp(args[k], "-h") == 0)) {
            usage_group(stdout, &cli, path);
            return EXIT_OK;
        }
        for (size_t c = 0; c < cli_command_count; c++) {
            const struct command *cmd = &cli_commands[c];
            if (strcmp(cmd->group, path) != 0 || strcmp(cmd->name, args[k]) != 0)
                continue;
            if (wants_help(nargs - k, args + k)) {
                printf(cmd->help, cli.prog);
                return EXIT_OK;
            }
            return cmd->run(&cli, nargs - k, args + k);
        }
        char sub[128];
        snprintf(sub, sizeof sub, "%s%s%s", path, *path ? " " : "", args[k]);
        if (is_group(sub)) {
            snprintf(path, sizeof path, "%s", sub);
            continue;
        }
        if (!*path) {
            fprintf(stderr, "Error: unknown command group '%s'\n\n", args[k]);
            usage_root(stderr, &cli);
        } else {
            fprintf(stderr, "Error: unknown command '%s %s'\n\n", path, args[k]);
            usage_group(stderr, &cli, path);
        }
        return EXIT_USAGE;
    }
}
