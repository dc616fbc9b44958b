# test_platform_cli.py: the platform commands of the pipecat CLI (organizations keys and
# properties, default-region, regions, secrets, agent, deploy) against a real pccd: output,
# --json, exit codes (0/1/2), prompts only on a terminal, secrets never echoed, the deploy file,
# and the failure paths (unknown org, roles, missing secret sets, bad names and ranges).
import http.server
import json
import os
import pty
import re
import select
import threading
import time

import pytest
import toml

from conftest import ALICE, BIN_DIR, Cli, assert_no_sanitizer_report

BOB = "bob@example.com"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --- helpers --------------------------------------------------------------------------------


def tok(cli, token=None):
    """The environment of a CI job: only PIPECAT_TOKEN (no credentials file)."""
    return {"PIPECAT_TOKEN": token or cli.server.token}


def run(cli, *args, token=None, env=None, **kw):
    e = tok(cli, token)
    e.update(env or {})
    return cli.cloud(*args, env=e, **kw)


def ok(p):
    assert p.returncode == 0, f"exit {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    return p


def fails(p, code=1, *needles):
    assert p.returncode == code, \
        f"expected exit {code}, got {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}"
    assert p.stderr.strip(), p
    for n in needles:
        assert n.lower() in p.stderr.lower(), (n, p.stderr)
    return p


def as_json(p):
    ok(p)
    return json.loads(p.stdout)


def requests_during(server, fn):
    """Run fn() and return the API requests (method, path, status) the server saw meanwhile."""
    server.sync_log()
    before = len(server.request_log())
    result = fn()
    server.sync_log()
    seen = [r for r in server.request_log()[before:] if r[1] != "/healthz"]
    return result, seen


def read_config(cli):
    with open(cli.config_path) as f:
        return toml.load(f)


def add_member(server, email=BOB, org="acme"):
    """A second user, a plain member of org, and a PAT of theirs."""
    server.user_add(email, org=org)
    return server.token_create(email, "member")


def second_org(server):
    """carol, admin of her own organization `other`, and her PAT."""
    server.user_add("carol@example.com", org="other", org_name="Other Org")
    return server.token_create("carol@example.com", "carol")


def on_terminal(cli, args, answers, env=None, timeout=30):
    """Run `pipecat cloud ARGS` on a pseudo-terminal. answers: (text to wait for, line to type)
    pairs, in order. Returns (exit status, everything the terminal showed)."""
    argv = [str(BIN_DIR / "pipecat"), "cloud", *args]
    e = cli.env(env)
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.chdir(str(cli.home))
            os.execve(argv[0], argv, e)
        finally:
            os._exit(127)
    out = b""

    def read_some(t):
        nonlocal out
        r, _, _ = select.select([fd], [], [], t)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
        return True

    status = None
    try:
        deadline = time.time() + timeout
        for wait_for, line in answers:
            while wait_for.encode() not in out and time.time() < deadline:
                if not read_some(0.1):
                    break
            assert wait_for.encode() in out, f"never saw {wait_for!r}: {out!r}"
            out_len = len(out)
            os.write(fd, line.encode() + b"\n")
            # wait for the echo or the next output, so answers do not run ahead
            while len(out) == out_len and time.time() < deadline:
                if not read_some(0.1):
                    break
        while time.time() < deadline:
            if not read_some(0.2):
                break
        _, status = os.waitpid(pid, 0)
        pid = 0
    finally:
        if pid:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        os.close(fd)
    text = out.decode(errors="replace")
    assert_no_sanitizer_report(text, "pipecat cloud " + " ".join(args))
    return os.WEXITSTATUS(status), text


# --- help and usage -------------------------------------------------------------------------

PLATFORM = {
    ("organizations",): ["default-region"],
    ("organizations", "keys"): ["list", "create", "revoke", "use"],
    ("organizations", "properties"): ["list", "schema", "set"],
    ("regions",): ["list"],
    ("secrets",): ["set", "list", "unset", "delete", "image-pull-secret"],
    ("agent",): ["list", "status", "deployments", "logs", "sessions", "delete", "start", "stop"],
}


def test_every_platform_command_has_help(shared_cli):
    root = ok(shared_cli.cloud("--help")).stdout
    assert "deploy" in root and "secrets" in root and "agent" in root, root
    for group, commands in PLATFORM.items():
        g = ok(shared_cli.cloud(*group, "--help")).stdout
        for c in commands:
            assert f"\n  {c} " in g, (group, c, g)
            h = ok(shared_cli.cloud(*group, c, "--help")).stdout
            assert h.startswith(f"usage: pipecat cloud {' '.join(group)} {c}"), h
            assert "-o, --organization ORG" in h, h
            assert "--json" in h, h
    org = ok(shared_cli.cloud("organizations", "--help")).stdout
    assert "groups:" in org and "keys" in org and "properties" in org, org
    d = ok(shared_cli.cloud("deploy", "--help")).stdout
    for flag in ("-min, --min-agents", "-max, --max-agents", "-krisp, --enable-krisp",
                 "-nc, --no-credentials", "-y, --yes", "-f, --force", "--config-file",
                 "-c, --credentials", "-s, --secrets", "-r, --region", "-p, --profile",
                 "--max-session-duration", "--krisp-viva-audio-filter", "-b, --build-id"):
        assert flag in d, flag
    # pcc behaves the same
    assert ok(shared_cli("deploy", "--help", prog="pcc")).stdout.splitlines()[1:] == \
        d.splitlines()[1:]
    assert ok(shared_cli("deploy", "--help", prog="pcc")).stdout.startswith("usage: pcc deploy")


def test_nested_group_without_command_is_a_usage_error(shared_cli):
    p = shared_cli.cloud("organizations", "keys")
    assert p.returncode == 2 and "list" in p.stderr, p
    p = shared_cli.cloud("organizations", "keys", "bogus")
    assert p.returncode == 2 and "unknown command" in p.stderr, p


@pytest.mark.parametrize("args,needle", [
    (["secrets", "set"], "usage"),
    (["secrets", "set", "bad name!", "A=1", "-s"], "invalid secret set name"),
    (["secrets", "set", "-bad", "A=1", "-s"], "unknown option"),
    (["secrets", "set", "s" * 65, "A=1", "-s"], "invalid secret set name"),
    (["secrets", "set", "s", "bad.key=1", "-s"], "invalid key 'bad.key'"),
    (["secrets", "set", "s", "K" * 65 + "=1", "-s"], "invalid key"),
    (["secrets", "set", "s", "NOEQUALS", "-s"], "not KEY=VALUE"),
    (["secrets", "set", "s", "-s"], "no secrets given"),
    (["secrets", "set", "s", "A=1", "A=2", "-s"], "given twice"),
    (["secrets", "set", "s", "A=-", "B=-", "-s"], "only one value"),
    (["secrets", "unset", "s"], "usage"),
    (["secrets", "unset", "s", "bad key", "-s"], "invalid key"),
    (["secrets", "delete", "bad/name", "-s"], "invalid secret set name"),
    (["secrets", "image-pull-secret", "n"], "usage"),
    (["secrets", "image-pull-secret", "n", "https://ghcr.io", "u:p", "-s"], "host"),
    (["secrets", "image-pull-secret", "n", "ghcr.io", "nocolon", "-s"], "USER:PASS"),
    (["secrets", "list", "a", "b"], "unexpected argument"),
    (["deploy", "--yes"], "no agent name"),
    (["deploy", "Bad_Name", "repo/img:1.0", "--yes"], "invalid agent name"),
    (["deploy", "a" * 55, "repo/img:1.0", "--yes"], "invalid agent name"),
    (["deploy", "-agent", "repo/img:1.0", "--yes"], "unknown option"),
    (["deploy", "my-agent", "--yes"], "no image"),
    (["deploy", "my-agent", "--build-dir", ".", "--yes"], "not supported"),
    (["deploy", "my-agent", "repo/img", "--yes"], "invalid image"),
    (["deploy", "my-agent", "repo/img:1.0", "-b", "bld_1", "--yes"], "not both"),
    (["deploy", "my-agent", "repo/img:1.0", "-min", "-1", "--yes"], "--min-agents"),
    (["deploy", "my-agent", "repo/img:1.0", "--min-agents", "x", "--yes"], "--min-agents"),
    (["deploy", "my-agent", "repo/img:1.0", "-max", "0", "--yes"], "--max-agents"),
    (["deploy", "my-agent", "repo/img:1.0", "-min", "5", "-max", "2", "--yes"],
     "at least --min-agents"),
    (["deploy", "my-agent", "repo/img:1.0", "--max-session-duration", "59", "--yes"],
     "60 to 14400"),
    (["deploy", "my-agent", "repo/img:1.0", "--max-session-duration", "14401", "--yes"],
     "60 to 14400"),
    (["deploy", "my-agent", "repo/img:1.0", "--krisp-viva-audio-filter", "loud", "--yes"],
     "tel or pro"),
    (["deploy", "my-agent", "repo/img:1.0", "-c", "pull", "-nc", "--yes"], "not both"),
    (["deploy", "my-agent", "repo/img:1.0", "--timeout", "0", "--yes"], "--timeout"),
    (["deploy", "my-agent", "repo/img:1.0", "--bogus", "--yes"], "unknown option '--bogus'"),
    (["deploy", "a", "b:1", "c"], "unexpected argument"),
    (["agent", "status"], "usage"),
    (["agent", "logs", "a", "-l", "LOUD"], "--level"),
    (["agent", "logs", "a", "-f", "XML"], "--format"),
    (["agent", "logs", "a", "-n", "0"], "--limit"),
    (["agent", "logs", "a", "-n"], "needs a value"),
    (["agent", "stop", "a", "-f"], "--session-id"),
    (["agent", "start", "a", "-d", "{bad", "-f"], "--data is not valid JSON"),
    (["agent", "start", "a", "-p", "{}", "-f"], "--use-daily"),
    (["agent", "start", "a", "-D", "-p", "[1]", "-f"], "JSON object"),
    (["agent", "delete"], "usage"),
    (["organizations", "keys", "create", "-n", "k", "-t", "weird"], "--type"),
    (["organizations", "keys", "create", "-n", "k", "-t", "private", "-d"], "public key"),
    (["organizations", "keys", "list", "extra"], "unexpected argument"),
    (["organizations", "properties", "set", "defaultRegion"], "usage"),
    (["organizations", "default-region", "a", "b"], "unexpected argument"),
    (["regions", "list", "-o"], "needs a value"),
])
def test_usage_errors_exit_2_without_a_request(shared_cli, args, needle):
    p, seen = requests_during(shared_cli.server, lambda: run(shared_cli, *args))
    fails(p, 2, needle)
    assert p.stdout == "", p
    assert seen == [], seen


@pytest.mark.parametrize("args,flag", [
    (["secrets", "set", "s", "A=1"], "--skip"),
    (["secrets", "unset", "s", "A"], "--skip"),
    (["secrets", "delete", "s"], "--skip"),
    (["agent", "delete", "my-agent"], "--force"),
    (["agent", "start", "my-agent"], "--force"),
    (["agent", "stop", "my-agent", "-s", "sess"], "--force"),
    (["deploy", "my-agent", "repo/img:1.0"], "--yes"),
    (["organizations", "keys", "create"], "--name"),
])
def test_no_prompt_without_a_terminal(shared_cli, args, flag):
    """stdin is not a terminal: nothing is asked, nothing is sent, exit 2 names the flag."""
    p, seen = requests_during(shared_cli.server, lambda: run(shared_cli, *args, stdin="y\n"))
    fails(p, 2, flag, "terminal")
    assert p.stdout == ""
    assert seen == [], seen


def test_unknown_organization_is_named(shared_cli):
    for args in (["organizations", "keys", "list"], ["organizations", "properties", "list"],
                 ["organizations", "default-region"], ["regions", "list"],
                 ["secrets", "list"], ["agent", "list"], ["agent", "status", "x"],
                 ["secrets", "delete", "x", "-s"], ["agent", "delete", "x", "-f"]):
        p = run(shared_cli, *args, "-o", "nope")
        fails(p, 1, "organization 'nope' not found")
        assert p.stdout == ""
    p = run(shared_cli, "regions", "list", env={"PIPECAT_ORG": "nope"})
    fails(p, 1, "organization 'nope' not found")


def test_not_logged_in_exits_1(shared_cli):
    p = shared_cli.cloud("agent", "list")
    fails(p, 1, "not logged in")


# --- regions, properties, default region ---------------------------------------------------


def test_regions_list(shared_cli):
    p = ok(run(shared_cli, "regions", "list"))
    assert p.stdout.splitlines()[0].split() == ["CODE", "NAME"], p.stdout
    assert "us-west" in p.stdout
    regions = as_json(run(shared_cli, "regions", "list", "--json"))["regions"]
    assert regions and all(isinstance(r["code"], str) and isinstance(r["display_name"], str)
                           for r in regions)
    assert "us-west" in [r["code"] for r in regions]


def test_properties_and_default_region(cli):
    p = ok(run(cli, "organizations", "properties", "list"))
    assert "defaultRegion" in p.stdout and "us-west" in p.stdout, p.stdout
    props = as_json(run(cli, "organizations", "properties", "list", "--json"))
    assert props == {"organization": "acme", "properties": {"defaultRegion": "us-west"}}
    schema = as_json(run(cli, "organizations", "properties", "schema", "--json"))["properties"]
    assert "eu-central" in schema["defaultRegion"]["availableValues"]
    s = ok(run(cli, "organizations", "properties", "schema")).stdout
    assert "defaultRegion" in s and "eu-central" in s, s
    show = ok(run(cli, "organizations", "default-region")).stdout
    assert "Default region: us-west" in show, show
    assert "eu-central" in show, show

    p = ok(run(cli, "organizations", "default-region", "eu-central"))
    assert p.stdout == "Default region set to eu-central\n", p.stdout
    assert "Default region: eu-central" in ok(run(cli, "organizations", "default-region")).stdout
    d = as_json(run(cli, "organizations", "default-region", "--json"))
    assert d["defaultRegion"] == "eu-central" and "us-west" in d["availableRegions"]

    p = ok(run(cli, "organizations", "properties", "set", "defaultRegion", "us-east"))
    assert "Property defaultRegion set to us-east" in p.stdout
    assert as_json(run(cli, "organizations", "properties", "list", "--json"))["properties"] == \
        {"defaultRegion": "us-east"}
    # wrong values are refused by the server, with its message
    fails(run(cli, "organizations", "default-region", "mars-1"), 1, "mars-1")
    fails(run(cli, "organizations", "properties", "set", "colour", "blue"), 1)
    assert "us-east" in ok(run(cli, "organizations", "default-region")).stdout


def test_member_cannot_change_properties(cli):
    bob = add_member(cli.server)
    p = run(cli, "organizations", "default-region", "eu-central", token=bob)
    fails(p, 1, "admin")
    # but may read them
    assert "us-west" in ok(run(cli, "organizations", "default-region", token=bob)).stdout


# --- API keys -------------------------------------------------------------------------------


def test_keys_create_list_use_revoke(cli):
    cli.use_pat()
    p = ok(cli.cloud("organizations", "keys", "create", "--name", "web app", "--default"))
    key = p.stdout.split("\n")[1].split()[2]
    assert key.startswith("pk_"), p.stdout
    conf = read_config(cli)
    assert conf["acme"] == {"default_public_key": key, "default_public_key_name": "web app"}
    assert conf["org"] == "acme"

    p = ok(cli.cloud("organizations", "keys", "list"))
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["NAME", "ID", "KEY", "TYPE", "CREATED", "STATUS"], p.stdout
    row = next(line for line in lines if key in line)
    assert "active (default)" in row and "public" in row, row

    # a second key, not the default (no terminal: no question)
    second = as_json(cli.cloud("organizations", "keys", "create", "-n", "mobile", "--json"))
    assert second["key"].startswith("pk_") and second["default"] is False
    assert second["organization"] == "acme"
    listed = as_json(cli.cloud("organizations", "keys", "list", "--json"))
    assert listed["organization"] == "acme"
    by_name = {k["name"]: k for k in listed["keys"]}
    assert by_name["web app"]["default"] is True and by_name["mobile"]["default"] is False
    assert by_name["mobile"]["key"] == second["key"]
    assert all(k["revoked"] is False for k in listed["keys"])

    # keys use, by id and by name
    p = ok(cli.cloud("organizations", "keys", "use", second["id"]))
    assert "mobile" in p.stdout
    assert read_config(cli)["acme"] == {"default_public_key": second["key"],
                                       "default_public_key_name": "mobile"}
    ok(cli.cloud("organizations", "keys", "use", "web app"))
    assert read_config(cli)["acme"]["default_public_key"] == key

    # revoking the default clears it; the key stays listed as revoked
    web_id = by_name["web app"]["id"]
    p = ok(cli.cloud("organizations", "keys", "revoke", web_id))
    assert f"API key with ID '{web_id}' revoked successfully." in p.stdout
    assert "default" in p.stderr
    assert "default_public_key" not in read_config(cli).get("acme", {})
    listed = as_json(cli.cloud("organizations", "keys", "list", "--json"))["keys"]
    assert {k["name"]: k["revoked"] for k in listed} == {"web app": True, "mobile": False}
    assert "revoked" in ok(cli.cloud("organizations", "keys", "list")).stdout
    # a revoked key can be neither revoked again nor used
    fails(cli.cloud("organizations", "keys", "revoke", web_id), 1, "revoked")
    fails(cli.cloud("organizations", "keys", "use", web_id), 1, "revoked")
    fails(cli.cloud("organizations", "keys", "use", "no-such-key"), 1, "no API key")
    # the hidden, deprecated alias still works
    p = ok(cli.cloud("organizations", "keys", "delete", second["id"]))
    assert "deprecated" in p.stderr


def test_keys_revoke_and_use_need_an_id_without_a_terminal(cli):
    ok(run(cli, "organizations", "keys", "create", "-n", "k"))
    for cmd in ("revoke", "use"):
        p = run(cli, "organizations", "keys", cmd)
        fails(p, 2, "terminal", "ID")


def test_keys_use_picker_on_a_terminal(cli):
    cli.use_pat()
    k = as_json(cli.cloud("organizations", "keys", "create", "-n", "picked", "--json"))
    status, text = on_terminal(cli, ["organizations", "keys", "use"], [("Choose", "1")])
    assert status == 0, text
    assert "picked" in text
    assert read_config(cli)["acme"]["default_public_key"] == k["key"]


def test_keys_create_asks_for_name_and_default_on_a_terminal(cli):
    cli.use_pat()
    status, text = on_terminal(cli, ["organizations", "keys", "create"],
                               [("Name of the new key", "from-tty"), ("default", "y")])
    assert status == 0, text
    conf = read_config(cli)["acme"]
    assert conf["default_public_key_name"] == "from-tty"
    assert conf["default_public_key"] in text


def test_private_key_shown_once_then_only_by_display_form(cli):
    p = ok(run(cli, "organizations", "keys", "create", "-n", "server", "--type", "private"))
    secret = p.stdout.strip()
    assert p.stdout == secret + "\n" and secret.startswith("sk_"), p.stdout
    assert "not be shown again" in p.stderr
    listed = ok(run(cli, "organizations", "keys", "list"))
    assert secret not in listed.stdout and "private" in listed.stdout
    j = as_json(run(cli, "organizations", "keys", "list", "--json"))
    assert secret not in json.dumps(j)
    (row,) = [k for k in j["keys"] if k["name"] == "server"]
    assert row["type"] == "private" and row["key"] and row["key"] != secret
    # a private key cannot become the default for agent start
    fails(run(cli, "organizations", "keys", "use", "server"), 1, "private")


def test_member_cannot_create_or_revoke_keys(cli):
    key = as_json(run(cli, "organizations", "keys", "create", "-n", "admin-made", "--json"))
    bob = add_member(cli.server)
    p = run(cli, "organizations", "keys", "create", "-n", "mine", token=bob)
    fails(p, 1, "admin")
    assert "pk_" not in p.stdout + p.stderr
    fails(run(cli, "organizations", "keys", "revoke", key["id"], token=bob), 1, "admin")
    # members see the keys (the reference client's `keys use` needs them)
    assert key["key"] in ok(run(cli, "organizations", "keys", "list", token=bob)).stdout


def test_keys_of_another_org_with_o(cli):
    carol = second_org(cli.server)
    # alice is not a member of `other`
    fails(run(cli, "organizations", "keys", "list", "-o", "other"), 1,
          "organization 'other' not found")
    k = as_json(run(cli, "organizations", "keys", "create", "-n", "c", "--json", "-o", "other",
                    token=carol))
    assert k["organization"] == "other"


# --- secrets --------------------------------------------------------------------------------


def test_secrets_set_list_unset_delete(cli):
    value = "sk-live-0123456789abcdef"
    p = ok(run(cli, "secrets", "set", "my-secrets", f"OPENAI_API_KEY={value}", "PORT=8080",
               "--skip"))
    assert "Secret set 'my-secrets' created successfully in us-west" in p.stdout, p.stdout
    assert value not in p.stdout + p.stderr

    p = ok(run(cli, "secrets", "list"))
    assert p.stdout.splitlines()[0].split() == ["NAME", "REGION", "TYPE", "STATUS"], p.stdout
    assert "my-secrets" in p.stdout and "Secret Set" in p.stdout
    sets = as_json(run(cli, "secrets", "list", "--json"))["sets"]
    assert [(s["name"], s["region"], s["type"]) for s in sets] == \
        [("my-secrets", "us-west", "secret")]

    p = ok(run(cli, "secrets", "list", "my-secrets"))
    assert p.stdout.split() == ["KEY", "OPENAI_API_KEY", "PORT"], p.stdout
    assert value not in p.stdout
    j = as_json(run(cli, "secrets", "list", "my-secrets", "--json"))
    assert j == {"name": "my-secrets", "region": "us-west", "keys": ["OPENAI_API_KEY", "PORT"]}

    # adding and replacing keys: "modified"
    j = as_json(run(cli, "secrets", "set", "my-secrets", "PORT=9090", "NEW=1", "-s", "--json"))
    assert j == {"name": "my-secrets", "region": "us-west", "created": False,
                 "keys": ["PORT", "NEW"]}
    assert "modified" in ok(run(cli, "secrets", "set", "my-secrets", "NEW=2", "-s")).stdout

    p = ok(run(cli, "secrets", "unset", "my-secrets", "NEW", "--skip"))
    assert "Secret 'NEW' deleted successfully from secret set 'my-secrets'" in p.stdout
    fails(run(cli, "secrets", "unset", "my-secrets", "NEW", "-s"), 1, "not found")
    assert "NEW" not in ok(run(cli, "secrets", "list", "my-secrets")).stdout

    p = ok(run(cli, "secrets", "delete", "my-secrets", "--skip"))
    assert "Secret set 'my-secrets' deleted successfully" in p.stdout
    fails(run(cli, "secrets", "delete", "my-secrets", "-s"), 1, "no secret set named")
    fails(run(cli, "secrets", "list", "my-secrets"), 1, "not found")
    p = ok(run(cli, "secrets", "list"))
    assert "No secret sets" in p.stdout
    assert as_json(run(cli, "secrets", "list", "--json"))["sets"] == []


def test_secrets_set_from_file_and_stdin(cli):
    env_file = cli.home / "prod.env"
    cli.home.mkdir(parents=True, exist_ok=True)
    env_file.write_text('# production\n\nDB_URL="postgres://u:p@db/x"\n  API_TOKEN = abc=def \n'
                        "EMPTY=\n")
    p = ok(run(cli, "secrets", "set", "prod", "-f", str(env_file), "-s"))
    assert "created" in p.stdout
    assert "postgres" not in p.stdout + p.stderr and "abc=def" not in p.stdout + p.stderr
    assert as_json(run(cli, "secrets", "list", "prod", "--json"))["keys"] == \
        ["API_TOKEN", "DB_URL", "EMPTY"]
    # a value from standard input, with a newline inside
    p = ok(run(cli, "secrets", "set", "prod", "CERT=-", "-s", stdin="line1\nline2\n"))
    assert "line1" not in p.stdout + p.stderr
    assert "CERT" in as_json(run(cli, "secrets", "list", "prod", "--json"))["keys"]
    # a file and pairs do not mix; a bad line is named
    fails(run(cli, "secrets", "set", "prod", "A=1", "-f", str(env_file), "-s"), 2, "not both")
    bad = cli.home / "bad.env"
    bad.write_text("GOOD=1\nthis is not a pair\n")
    fails(run(cli, "secrets", "set", "prod", "-f", str(bad), "-s"), 2, "bad.env:2")
    fails(run(cli, "secrets", "set", "prod", "-f", str(cli.home / "missing.env"), "-s"), 1,
          "missing.env")


def test_secrets_set_preview_on_a_terminal_masks_values(cli):
    cli.use_pat()
    value = "supersecretvalue-123456"
    status, text = on_terminal(cli, ["secrets", "set", "tty-set", f"TOKEN={value}", "X=ab"],
                               [("with 2 keys?", "y")])
    assert status == 0, text
    assert value not in text and "ab\r" not in text, text
    assert "supe..." in text, text
    assert "created successfully" in text
    # replacing asks twice; answering no to the second changes nothing
    status, text = on_terminal(cli, ["secrets", "set", "tty-set", "TOKEN=other-value-xyz"],
                               [("with 1 key?", "y"), ("Replace", "n")])
    assert status == 1, text
    assert "Aborted" in text


def test_secrets_set_value_from_a_hidden_prompt(cli):
    cli.use_pat()
    value = "typed-secret-value-0987"
    status, text = on_terminal(cli, ["secrets", "set", "typed", "TOKEN=-"],
                               [("Value for TOKEN: ", value), ("with 1 key?", "y")])
    assert status == 0, text
    assert value not in text, "the value was echoed"
    assert "type..." in text and "created successfully" in text
    assert as_json(cli.cloud("secrets", "list", "typed", "--json"))["keys"] == ["TOKEN"]


def test_secrets_region(cli):
    p = ok(run(cli, "secrets", "set", "eu-set", "A=1", "-r", "eu-central", "-s"))
    assert "in eu-central" in p.stdout
    assert as_json(run(cli, "secrets", "list", "-r", "eu-central", "--json"))["sets"][0][
        "name"] == "eu-set"
    assert as_json(run(cli, "secrets", "list", "-r", "us-west", "--json"))["sets"] == []
    fails(run(cli, "secrets", "set", "x", "A=1", "-r", "mars-1", "-s"), 2,
          "invalid region 'mars-1'", "us-west")
    fails(run(cli, "secrets", "list", "-r", "mars-1"), 2, "invalid region")
    # a set lives in one region
    fails(run(cli, "secrets", "set", "eu-set", "B=1", "-r", "us-west", "-s"), 1, "eu-central")


def test_image_pull_secret(cli):
    p = ok(run(cli, "secrets", "image-pull-secret", "ghcr", "ghcr.io", "-s",
               stdin="robot:hunter2-token\n"))
    assert "Image pull secret 'ghcr' for ghcr.io created successfully in us-west." in p.stdout
    assert "hunter2" not in p.stdout + p.stderr
    sets = as_json(run(cli, "secrets", "list", "--json"))["sets"]
    assert [(s["name"], s["type"]) for s in sets] == [("ghcr", "imagePullSecret")]
    assert "Image Pull Secret" in ok(run(cli, "secrets", "list")).stdout
    # -s/--sets leaves image pull secrets out
    assert as_json(run(cli, "secrets", "list", "-s", "--json"))["sets"] == []
    # replacing asks, so without a terminal it needs --skip
    fails(run(cli, "secrets", "image-pull-secret", "ghcr", "ghcr.io", stdin="a:b\n"), 2,
          "--skip")
    p = ok(run(cli, "secrets", "image-pull-secret", "ghcr", "ghcr.io", "YWJjOmRlZg==", "-e",
               "-s"))
    assert "updated" in p.stdout and "history" in p.stderr
    fails(run(cli, "secrets", "image-pull-secret", "ghcr", "ghcr.io", "-s", stdin=""), 2,
          "no credentials")
    # its contents cannot be listed; and a secret set cannot become an image pull secret
    fails(run(cli, "secrets", "list", "ghcr"), 1, "image pull secret")
    ok(run(cli, "secrets", "set", "plain", "A=1", "-s"))
    fails(run(cli, "secrets", "image-pull-secret", "plain", "ghcr.io", "u:p", "-s"), 1,
          "type cannot change")


# --- deploy and agents ----------------------------------------------------------------------


def test_ci_deploy_with_only_pipecat_token(cli):
    """The README's CI example: no credentials file, only PIPECAT_TOKEN."""
    assert not cli.config_path.exists()
    p = ok(run(cli, "deploy", "my-agent", "repo/img:1.0", "--yes"))
    # This pccd has no agent runtime: the deployment is recorded, and nothing claims it runs.
    assert "Agent deployment 'my-agent' is recorded; this pccd has no agent runtime" in p.stdout
    assert "is ready" not in p.stdout and "Start a session" not in p.stderr, p
    assert "\r" not in p.stderr, "a progress indicator without a terminal"
    assert not cli.config_path.exists()
    p = ok(run(cli, "agent", "list"))
    assert p.stdout.splitlines()[0].split()[:2] == ["NAME", "REGION"]
    assert "my-agent" in p.stdout and "us-west" in p.stdout
    p = ok(run(cli, "agent", "status", "my-agent"))
    assert "Ready: no (no agent runtime attached)" in p.stdout, p.stdout
    assert "Image: repo/img:1.0" in p.stdout and "Start a session" not in p.stderr
    st = as_json(run(cli, "agent", "status", "my-agent", "--json"))
    assert st["ready"] is True
    assert st["autoScaling"]["minReplicas"] == 0
    # the same through pcc
    assert "my-agent" in ok(cli("agent", "list", prog="pcc", env=tok(cli))).stdout


def test_deploy_json_create_then_update(cli):
    j = as_json(run(cli, "deploy", "svc", "repo/img:1.0", "-y", "--json"))
    # Recorded, but no runtime runs it on this pccd: --json does not call it ready either.
    assert j["name"] == "svc" and j["action"] == "created" and j["ready"] is False
    assert j["organization"] == "acme"
    assert j["status"]["runtime"] == "none"
    j = as_json(run(cli, "deploy", "svc", "repo/img:2.0", "-y", "--json", "-min", "1", "-max",
                    "3", "-nc", "-krisp"))
    assert j["action"] == "updated"
    st = as_json(run(cli, "agent", "status", "svc", "--json"))
    assert st["autoScaling"] == {"minReplicas": 1, "maxReplicas": 3}
    assert st["deployment"]["manifest"]["spec"]["image"] == "repo/img:2.0"
    deps = as_json(run(cli, "agent", "deployments", "svc", "--json"))["deployments"]
    assert len(deps) >= 2
    assert {d["manifest"]["spec"]["image"] for d in deps} >= {"repo/img:1.0", "repo/img:2.0"}
    table = ok(run(cli, "agent", "deployments", "svc")).stdout
    assert "repo/img:2.0" in table and table.startswith("ID")
    # --force makes a new deployment of an unchanged config, and implies --yes
    ok(run(cli, "deploy", "svc", "repo/img:2.0", "-min", "1", "-max", "3", "--force"))
    assert len(as_json(run(cli, "agent", "deployments", "svc", "--json"))["deployments"]) > \
        len(deps)


def test_deploy_options_reach_the_server(cli):
    # a secret set in another region than the agent is refused before anything changes
    ok(run(cli, "secrets", "set", "us-secrets", "A=1", "-s"))
    fails(run(cli, "deploy", "full", "r/i:1", "-s", "us-secrets", "-r", "eu-central", "--yes"),
          1, "region")
    assert as_json(run(cli, "agent", "list", "--json"))["services"] == []
    ok(run(cli, "secrets", "set", "app-secrets", "A=1", "-r", "eu-central", "-s"))
    ok(run(cli, "secrets", "image-pull-secret", "pull", "ghcr.io", "u:p", "-r", "eu-central",
           "-s"))
    ok(run(cli, "deploy", "full", "ghcr.io/acme/bot:3", "--credentials", "pull", "--secrets",
           "app-secrets", "--region", "eu-central", "--min-agents", "2", "--max-agents", "4",
           "--profile", "agent-2x", "--max-session-duration", "600",
           "--krisp-viva-audio-filter", "pro", "--yes"))
    st = as_json(run(cli, "agent", "status", "full", "--json"))
    spec = st["deployment"]["manifest"]["spec"]
    assert spec["image"] == "ghcr.io/acme/bot:3"
    assert spec["maxSessionDurationSeconds"] == 600
    assert st["agentProfile"] == "agent-2x"
    assert st["autoScaling"] == {"minReplicas": 2, "maxReplicas": 4}
    assert st["krispViva"]["audioFilter"] == "pro"
    text = ok(run(cli, "agent", "status", "full")).stdout
    assert "Krisp VIVA: Enabled (pro)" in text and "Max Session Duration: 600s" in text
    assert "Secret Sets: app-secrets" in text and "Image Pull Secret: pull" in text, text
    listed = as_json(run(cli, "agent", "list", "-r", "eu-central", "--json"))["services"]
    assert [s["name"] for s in listed] == ["full"]
    assert as_json(run(cli, "agent", "list", "-r", "us-west", "--json"))["services"] == []
    fails(run(cli, "agent", "list", "-r", "mars-1"), 2, "invalid region")


def test_deploy_with_missing_secret_set_or_pull_secret_changes_nothing(cli):
    p = run(cli, "deploy", "my-agent", "repo/img:1.0", "--secrets", "absent", "--yes")
    fails(p, 1, "secret set 'absent' not found", "secrets set absent")
    p = run(cli, "deploy", "my-agent", "repo/img:1.0", "--credentials", "nopull", "--yes")
    fails(p, 1, "image pull secret 'nopull' not found")
    ok(run(cli, "secrets", "set", "plain", "A=1", "-s"))
    fails(run(cli, "deploy", "my-agent", "repo/img:1.0", "-c", "plain", "--yes"), 1,
          "not an image pull secret")
    assert as_json(run(cli, "agent", "list", "--json"))["services"] == []
    fails(run(cli, "agent", "status", "my-agent"), 1, "no agent named 'my-agent'")


def test_deploy_region_must_exist(cli):
    p, seen = requests_during(cli.server, lambda: run(cli, "deploy", "a", "r/i:1", "-r",
                                                      "mars-1", "--yes"))
    fails(p, 2, "invalid region 'mars-1'")
    assert [r[0] for r in seen] == ["GET"] * len(seen), seen
    assert not any("/services" in r[1] for r in seen), seen


def test_deploy_file(cli):
    cli.home.mkdir(parents=True, exist_ok=True)
    (cli.home / "pcc-deploy.toml").write_text(
        'agent_name = "from-file"\nimage = "repo/file:1.0"\nagent_profile = "agent-1x"\n'
        "max_session_duration = 900\n\n[scaling]\nmin_agents = 1\nmax_agents = 2\n\n"
        '[krisp_viva]\naudio_filter = "tel"\n\n[build]\ncontext_dir = "."\n\n'
        '[docker]\nregistry = "dockerhub"\n')
    ok(run(cli, "deploy", "--yes"))
    st = as_json(run(cli, "agent", "status", "from-file", "--json"))
    assert st["autoScaling"] == {"minReplicas": 1, "maxReplicas": 2}
    assert st["deployment"]["manifest"]["spec"]["image"] == "repo/file:1.0"
    assert st["deployment"]["manifest"]["spec"]["maxSessionDurationSeconds"] == 900
    # arguments override the file
    ok(run(cli, "deploy", "from-file", "repo/file:2.0", "-max", "5", "--yes"))
    st = as_json(run(cli, "agent", "status", "from-file", "--json"))
    assert st["deployment"]["manifest"]["spec"]["image"] == "repo/file:2.0"
    assert st["autoScaling"] == {"minReplicas": 1, "maxReplicas": 5}
    # commands that take an agent name fall back to the file
    assert as_json(run(cli, "agent", "sessions", "--json"))["agent"] == "from-file"
    # --config-file and PIPECAT_DEPLOY_CONFIG_PATH
    other = cli.home / "other.toml"
    other.write_text('agent_name = "other-file"\nimage = "repo/other:1"\n')
    ok(run(cli, "deploy", "--config-file", str(other), "--yes"))
    ok(run(cli, "deploy", "--yes", env={"PIPECAT_DEPLOY_CONFIG_PATH": str(other)}))
    names = {s["name"] for s in as_json(run(cli, "agent", "list", "--json"))["services"]}
    assert names == {"from-file", "other-file"}
    fails(run(cli, "deploy", "--config-file", str(cli.home / "nope.toml"), "--yes"), 1,
          "nope.toml")
    fails(run(cli, "deploy", "--yes", env={"PIPECAT_DEPLOY_CONFIG_PATH": "/nonexistent.toml"}),
          1, "nonexistent.toml")


@pytest.mark.parametrize("content,needle", [
    ('agent_name = "a"\nimage = "r/i:1"\ncolour = "blue"\n', "unknown key 'colour'"),
    ('agent_name = "a"\nimage = "r/i:1"\n[scaling]\nmin_agent = 1\n', "[scaling] 'min_agent'"),
    ('agent_name = "a"\nimage = "r/i:1"\n[krisp_viva]\nfilter = "tel"\n', "'filter'"),
    ('agent_name = "a"\nimage = "r/i:1"\n[krisp_viva]\naudio_filter = "x"\n', "tel or pro"),
    ('agent_name = "a"\nimage = "r/i"\n', "r/i"),
    ('agent_name = "a"\nimage = "r/i:1"\nbuild_id = "b"\n', "exclude each other"),
    ('agent_name = 5\nimage = "r/i:1"\n', "agent_name must be a string"),
    ('agent_name = "a"\nimage = "r/i:1"\nmax_session_duration = 30\n', "60 to 14400"),
    ('agent_name = "a"\nimage = "r/i:1"\nmax_session_duration = "600"\n', "integer"),
    ('agent_name = "a"\nimage = "r/i:1"\nenable_krisp = "yes"\n', "true or false"),
    ('agent_name = "a"\nimage = "r/i:1"\nwebsocket_auth = "maybe"\n', "none or token"),
    ('agent_name = "a"\nimage = "r/i:1"\n[scaling]\nmin_agents = 3\nmax_agents = 2\n',
     "at least min_agents"),
    ('agent_name = "a"\nimage = "r/i:1"\n[scaling]\nmax_agents = 0\n', "max_agents"),
    ('agent_name = "a"\nimage = "r/i:1"\nscaling = 3\n', "must be a table"),
    ('agent_name = "a"\nimage = "r/i:1"\n[build.exclude]\npatterns = [1]\n', "patterns"),
    ('agent_name = "a"\nimage = [\n', "invalid deploy file"),
])
def test_deploy_file_errors(shared_cli, content, needle):
    path = shared_cli.home / "pcc-deploy.toml"
    path.write_text(content)
    p, seen = requests_during(shared_cli.server, lambda: run(shared_cli, "deploy", "--yes"))
    fails(p, 1, needle)
    assert seen == []


def test_deploy_file_deprecated_scaling_aliases(cli):
    cli.home.mkdir(parents=True, exist_ok=True)
    (cli.home / "pcc-deploy.toml").write_text(
        'agent_name = "alias"\nimage = "r/i:1"\n[scaling]\nmin_instances = 1\nmax_instances = 2\n')
    p = ok(run(cli, "deploy", "--yes"))
    assert "deprecated" in p.stderr
    st = as_json(run(cli, "agent", "status", "alias", "--json"))
    assert st["autoScaling"] == {"minReplicas": 1, "maxReplicas": 2}


def test_deploy_asks_on_a_terminal(cli):
    cli.use_pat()
    status, text = on_terminal(cli, ["deploy", "tty-agent", "repo/img:1.0", "-nc"],
                               [("Deploy agent 'tty-agent'?", "n")])
    assert status == 1 and "Aborted" in text, text
    assert as_json(run(cli, "agent", "list", "--json"))["services"] == []
    status, text = on_terminal(cli, ["deploy", "tty-agent", "repo/img:1.0", "-nc"],
                               [("Deploy agent 'tty-agent'?", "y")])
    assert status == 0, text
    text = ANSI.sub("", text)
    assert "Create agent 'tty-agent'" in text and "Image: repo/img:1.0" in text
    assert "is recorded" in text and "is ready" not in text


def test_agent_lifecycle(cli):
    ok(run(cli, "deploy", "life", "repo/img:1.0", "--yes"))
    p = ok(run(cli, "agent", "sessions", "life"))
    assert "No sessions" in p.stdout
    assert as_json(run(cli, "agent", "sessions", "life", "--json")) == \
        {"agent": "life", "sessions": []}
    fails(run(cli, "agent", "sessions", "life", "--id", "sess_nope"), 1, "not found")
    ok(run(cli, "agent", "logs", "life"))
    assert as_json(run(cli, "agent", "logs", "life", "--json"))["agent"] == "life"
    ok(run(cli, "agent", "logs", "life", "-l", "error", "-f", "json", "-n", "5"))
    fails(run(cli, "agent", "stop", "life", "-s", "sess_nope", "-f"), 1, "not found")

    p = ok(run(cli, "agent", "delete", "life", "--force"))
    assert "Agent 'life' deleted successfully" in p.stdout
    fails(run(cli, "agent", "status", "life"), 1, "no agent named 'life'")
    fails(run(cli, "agent", "delete", "life", "-f"), 1, "not found")
    fails(run(cli, "agent", "logs", "life"), 1, "no agent named")
    fails(run(cli, "agent", "deployments", "life"), 1, "no agent named")
    p = ok(run(cli, "agent", "list"))
    assert "No agents found" in p.stdout


def test_dot_segments_are_refused(cli):
    """'..' as a name would make the path name another resource: refused, nothing deleted."""
    ok(run(cli, "deploy", "keep-me", "r/i:1", "--yes"))
    for args in (["agent", "stop", "keep-me", "-s", "..", "-f"], ["agent", "delete", "..", "-f"],
                 ["agent", "status", ""], ["agent", "logs", "."],
                 ["organizations", "keys", "revoke", ".."]):
        p, seen = requests_during(cli.server, lambda: run(cli, *args))
        assert p.returncode in (1, 2), p
        assert not any(r[0] == "DELETE" for r in seen), seen
        assert not any(".." in r[1] or r[1].endswith("/services/") for r in seen), seen
    assert ok(run(cli, "agent", "status", "keep-me"))


def test_agent_start_needs_a_public_key(cli):
    cli.use_pat()
    ok(cli.cloud("deploy", "starter", "repo/img:1.0", "--yes"))
    p, seen = requests_during(cli.server, lambda: cli.cloud("agent", "start", "starter", "-f"))
    fails(p, 2, "--api-key", "keys use")
    assert not any(r[1].startswith("/v1/public/") for r in seen), seen


def test_agent_start_without_runtime_is_503(cli):
    cli.use_pat()
    ok(cli.cloud("deploy", "starter", "repo/img:1.0", "--yes"))
    ok(cli.cloud("organizations", "keys", "create", "-n", "start", "--default"))
    p, seen = requests_during(cli.server, lambda: cli.cloud("agent", "start", "starter", "-f"))
    fails(p, 1, "starter", "503")
    assert ("POST", "/v1/public/starter/start", "503") in seen, seen
    # the same with --api-key and data
    key = read_config(cli)["acme"]["default_public_key"]
    p = cli.cloud("agent", "start", "starter", "-f", "--api-key", key, "-d", '{"a": 1}', "-D")
    fails(p, 1, "503")
    # the key is never printed
    assert key not in p.stdout + p.stderr


def test_agent_start_with_a_key_of_another_org(cli):
    carol = second_org(cli.server)
    other_key = as_json(run(cli, "organizations", "keys", "create", "-n", "o", "--json",
                            token=carol))["key"]
    ok(run(cli, "deploy", "starter", "repo/img:1.0", "--yes"))
    p, seen = requests_during(cli.server, lambda: run(cli, "agent", "start", "starter", "-f",
                                                      "-k", other_key))
    # the key's organization has no such agent: the same answer as a missing agent
    fails(p, 1, "API key's organization")
    assert ("POST", "/v1/public/starter/start", "404") in seen, seen
    assert other_key not in p.stdout + p.stderr
    # a revoked key of the right org is refused too
    mine = as_json(run(cli, "organizations", "keys", "create", "-n", "r", "--json"))
    ok(run(cli, "organizations", "keys", "revoke", mine["id"]))
    p = run(cli, "agent", "start", "starter", "-f", "-k", mine["key"])
    fails(p, 1, "rejected")


def test_agent_start_on_missing_agent(cli):
    k = as_json(run(cli, "organizations", "keys", "create", "-n", "k", "--json"))["key"]
    fails(run(cli, "agent", "start", "ghost", "-f", "-k", k), 1, "no agent named 'ghost'")


def test_agent_start_uses_the_default_key_of_the_org_given_with_o(cli):
    """keys use -o X stores the key in [X]; agent start -o X reads it from there."""
    cli.use_pat()
    cli.server.user_add(ALICE, org="beta", org_name="Beta")
    ok(cli.cloud("organizations", "keys", "create", "-n", "b", "-d", "-o", "beta"))
    conf = read_config(cli)
    assert conf["org"] == "acme" and conf["beta"]["default_public_key"].startswith("pk_")
    assert "default_public_key" not in conf.get("acme", {})
    ok(cli.cloud("deploy", "b-agent", "repo/img:1.0", "--yes", "-o", "beta"))
    p, seen = requests_during(cli.server, lambda: cli.cloud("agent", "start", "b-agent", "-f",
                                                            "-o", "beta"))
    assert ("POST", "/v1/public/b-agent/start", "503") in seen, (p, seen)
    # acme has no default key
    fails(cli.cloud("agent", "start", "b-agent", "-f"), 2, "--api-key")


def test_member_can_deploy_but_not_into_an_unknown_org(cli):
    bob = add_member(cli.server)
    p, seen = requests_during(cli.server, lambda: run(cli, "deploy", "x", "r/i:1", "--yes", "-o",
                                                      "nope", token=bob))
    fails(p, 1, "organization 'nope' not found")
    assert not any(r[0] in ("POST", "PUT") for r in seen), seen
    # deploying needs membership, not the admin role
    ok(run(cli, "deploy", "bobs", "r/i:1", "--yes", token=bob))
    assert [s["name"] for s in as_json(run(cli, "agent", "list", "--json"))["services"]] == \
        ["bobs"]


# --- deploy readiness against a stub -----------------------------------------------------------
# pccd without a runtime is ready at once, so the waiting, failing and timing-out paths of
# deploy (the readiness rules of docs/api/services.md) cannot be produced for real: this stub answers the
# deploy sequence with a scripted series of status bodies.


class StubApi:
    def __init__(self, statuses):
        self.statuses = list(statuses)
        self.created = False
        self.polls = 0
        self.requests = []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                stub.requests.append(("GET", self.path))
                if self.path == "/v1/organizations":
                    return self.reply(200, {"organizations": [
                        {"name": "acme", "verboseName": "Acme", "role": "admin"}]})
                if self.path == "/v1/organizations/acme/properties":
                    return self.reply(200, {"properties": {"defaultRegion": "us-west"}})
                if self.path == "/v1/organizations/acme/services/slow":
                    if not stub.created:
                        return self.reply(404, {"error": "service 'slow' not found",
                                                "code": "404"})
                    i = min(stub.polls, len(stub.statuses) - 1)
                    stub.polls += 1
                    return self.reply(200, {"body": stub.statuses[i]})
                self.reply(404, {"error": "no such endpoint", "code": "404"})

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                stub.requests.append(("POST", self.path, json.loads(self.rfile.read(n))))
                stub.created = True
                self.reply(200, {"status": "OK"})

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.token = "pcc_pat_stub"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def status(ready=False, available=None, desired="dep_2", reconciled="dep_2", **extra):
    body = {"ready": ready, "available": ready if available is None else available,
            "desiredDeploymentId": desired, "reconciledDeploymentId": reconciled,
            "activeDeploymentId": "dep_1", "autoScaling": {"minReplicas": 0, "maxReplicas": 1}}
    body.update(extra)
    return body


@pytest.fixture
def stub(tmp_path):
    made = []

    def make(statuses):
        s = StubApi(statuses)
        made.append(s)
        return s, Cli(s, tmp_path / "home")

    yield make
    for s in made:
        s.close()


def stub_deploy(cli, *extra, **kw):
    return cli.cloud("deploy", "slow", "repo/img:1.0", "--yes", *extra,
                     env={"PIPECAT_TOKEN": "pcc_pat_stub"}, **kw)


def test_deploy_waits_for_reconciliation_and_readiness(stub):
    api, cli = stub([status(reconciled="dep_1"), status(available=True), status(ready=True)])
    p = ok(stub_deploy(cli))
    assert "is ready" in p.stdout
    assert api.polls == 3, api.polls
    assert "\r" not in p.stderr and "Waiting" not in p.stderr, p.stderr
    (post,) = [r for r in api.requests if r[0] == "POST"]
    assert post[1] == "/v1/organizations/acme/services"
    assert post[2] == {"serviceName": "slow", "image": "repo/img:1.0",
                       "autoScaling": {"minAgents": 0}, "enableKrisp": False, "krispViva": {}}


def test_deploy_progress_indicator_on_a_terminal(stub):
    api, cli = stub([status(), status(), status(ready=True)])
    code, text = on_terminal(cli, ["deploy", "slow", "repo/img:1.0", "--yes"], [],
                             env={"PIPECAT_TOKEN": "pcc_pat_stub"})
    assert code == 0, text
    assert "Waiting for agent 'slow' to be ready" in text and "\r" in text, text
    assert "is ready" in text


def test_deploy_errors_fail_at_once(stub):
    api, cli = stub([status(errors=[{"code": "PCC_IMAGE_NOT_FOUND",
                                     "message": "image repo/img:1.0 not found"}])])
    p = stub_deploy(cli)
    fails(p, 1, "PCC_IMAGE_NOT_FOUND", "image repo/img:1.0 not found")
    assert api.polls == 1


def test_deploy_failed_revision_fails_at_once(stub):
    api, cli = stub([status(currentRevision={"deploymentID": "dep_2", "phase": "Failed"})])
    fails(stub_deploy(cli), 1, "Failed")
    assert api.polls == 1


def test_deploy_timeout(stub):
    api, cli = stub([status(available=False, conditions=[
        {"type": "Progressing", "status": "True"}])])
    start = time.time()
    p = stub_deploy(cli, "--timeout", "3", "--json")
    fails(p, 1, "not ready after 3s", "rolling out", "agent status slow")
    assert p.stdout == ""
    assert 2.5 < time.time() - start < 15
    assert api.polls >= 2


# --- review fixes: a redeploy keeps what it does not name; unset of the last key -------------


def test_redeploy_keeps_the_scaling_and_options_it_does_not_name(cli):
    ok(run(cli, "secrets", "set", "app-secrets", "A=1", "-s"))
    ok(run(cli, "secrets", "image-pull-secret", "pull", "ghcr.io", "u:p", "-s"))
    ok(run(cli, "deploy", "bot", "ghcr.io/acme/bot:1", "--credentials", "pull", "--secrets",
           "app-secrets", "--min-agents", "2", "--max-agents", "5", "--profile", "agent-2x",
           "--max-session-duration", "600", "--krisp-viva-audio-filter", "tel", "--yes"))

    # A new image and nothing else: the plan says what stays, and it stays.
    p = ok(run(cli, "deploy", "bot", "ghcr.io/acme/bot:2", "--yes"))
    for line in ("Min agents: unchanged (2)", "Max agents: unchanged (5)",
                 "Secret set: unchanged (app-secrets)", "Image pull secret: unchanged (pull)",
                 "Profile: unchanged (agent-2x)", "Max session duration: unchanged (600s)",
                 "Krisp VIVA: unchanged (Enabled (tel))"):
        assert line in p.stdout, (line, p.stdout)
    st = as_json(run(cli, "agent", "status", "bot", "--json"))
    spec = st["deployment"]["manifest"]["spec"]
    assert spec["image"] == "ghcr.io/acme/bot:2"
    assert st["autoScaling"] == {"minReplicas": 2, "maxReplicas": 5}
    assert spec["envFromSecretNames"] == ["app-secrets"]
    assert spec["imagePullSecretName"] == "pull"
    assert st["agentProfile"] == "agent-2x" and st["maxSessionDuration"] == 600
    assert st["krispViva"] == {"audioFilter": "tel"}

    # Naming one bound changes that one only; --no-credentials drops the pull secret.
    ok(run(cli, "deploy", "bot", "ghcr.io/acme/bot:2", "--max-agents", "7", "-nc", "--yes"))
    st = as_json(run(cli, "agent", "status", "bot", "--json"))
    assert st["autoScaling"] == {"minReplicas": 2, "maxReplicas": 7}
    assert "imagePullSecretName" not in st["deployment"]["manifest"]["spec"]
    assert st["deployment"]["manifest"]["spec"]["envFromSecretNames"] == ["app-secrets"]
    text = ok(run(cli, "agent", "status", "bot")).stdout
    assert "Max Agents: 7" in text or "Max agents: 7" in text, text


def test_unsetting_the_last_key_deletes_the_set(cli):
    ok(run(cli, "secrets", "set", "solo", "ONLY=1", "-s"))
    p = ok(run(cli, "secrets", "unset", "solo", "ONLY", "--skip"))
    assert "Secret 'ONLY' deleted successfully from secret set 'solo'" in p.stdout
    assert "It was the last key: secret set 'solo' has been deleted" in p.stdout, p.stdout
    assert "No secret sets" in ok(run(cli, "secrets", "list")).stdout
    fails(run(cli, "secrets", "list", "solo"), 1, "not found")
    fails(run(cli, "deploy", "bot", "repo/img:1.0", "--secrets", "solo", "--yes"), 1,
          "secret set 'solo' not found")
    ok(run(cli, "secrets", "set", "pair", "A=1", "B=2", "-s"))
    j = as_json(run(cli, "secrets", "unset", "pair", "A", "-s", "--json"))
    assert j == {"name": "pair", "key": "A", "deleted": True, "setDeleted": False}
    j = as_json(run(cli, "secrets", "unset", "pair", "B", "-s", "--json"))
    assert j == {"name": "pair", "key": "B", "deleted": True, "setDeleted": True}
