# test_cli.py: the pipecat / pcc CLI against a real pccd: every auth, organizations and tokens
# command, credential and organization precedence, the credentials file and exit codes.
import json
import os
import pty
import re
import select
import stat
import termios
import threading
import time

import pytest
import toml

from conftest import (ALICE, BIN_DIR, Cli, assert_no_sanitizer_report, bad_checksum_token,
                      display_of, free_port, token_checksum_ok, well_formed_token)

REFERENCE_KEYS = {"token", "org", "refresh_token", "token_expires_at"}


def write_config(cli, data, mode=0o600, path=None):
    """Write a credentials file the way the reference client does (Python's toml module)."""
    path = path or cli.config_path
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(path, "w") as f:
        toml.dump(data, f)
    os.chmod(path, mode)
    return path


def read_config(cli, path=None):
    with open(path or cli.config_path) as f:
        return toml.load(f)


def mode_of(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def add_second_org(server):
    """alice also belongs to `aardvark`, created after acme: first by membership order (acme)
    differs from first by name (aardvark)."""
    server.user_add(ALICE, org="aardvark", org_name="Aardvark Labs")


def requests_during(server, fn):
    """Run fn() and return the API requests (method, path, status) the server saw meanwhile."""
    server.sync_log()
    before = len(server.request_log())
    result = fn()
    server.sync_log()
    seen = [r for r in server.request_log()[before:] if r[1] != "/healthz"]
    return result, seen


def lines_with(text, needle):
    return [line for line in text.splitlines() if needle in line]


def assert_usage_error(p):
    assert p.returncode == 2, p
    assert p.stderr.strip(), p
    assert p.stdout == "", p


# --- help, version, usage errors ------------------------------------------------------------

COMMANDS = {
    "auth": ["use-pat", "whoami", "status", "logout"],
    "organizations": ["list", "select"],
    "tokens": ["list", "create", "revoke"],
}


def test_version(shared_cli):
    p = shared_cli("--version")
    assert p.returncode == 0, p
    assert re.search(r"\b\d+\.\d+\.\d+\b", p.stdout), p.stdout


def test_help_at_every_level(shared_cli):
    # No server is needed for help: point the CLI at a closed port.
    env = {"PIPECAT_API_HOST": f"http://127.0.0.1:{free_port()}"}
    p = shared_cli("--help", env=env)
    assert p.returncode == 0 and "usage" in p.stdout.lower() and "cloud" in p.stdout, p
    p = shared_cli("cloud", "--help", env=env)
    assert p.returncode == 0 and "usage" in p.stdout.lower(), p
    for group in COMMANDS:
        assert group in p.stdout, (group, p.stdout)
    for group, commands in COMMANDS.items():
        g = shared_cli("cloud", group, "--help", env=env)
        assert g.returncode == 0 and "usage" in g.stdout.lower(), g
        for command in commands:
            assert command in g.stdout, (group, command, g.stdout)
            c = shared_cli("cloud", group, command, "--help", env=env)
            assert c.returncode == 0, c
            assert "usage" in c.stdout.lower() and command in c.stdout, c
    # -h as well
    assert shared_cli("cloud", "tokens", "create", "-h", env=env).stdout == \
        shared_cli("cloud", "tokens", "create", "--help", env=env).stdout


def test_help_options_are_documented(shared_cli):
    assert "--revoke" in shared_cli.cloud("auth", "logout", "--help").stdout
    assert "--name" in shared_cli.cloud("tokens", "create", "--help").stdout
    assert "-o" in shared_cli.cloud("organizations", "select", "--help").stdout
    assert "--json" in shared_cli.cloud("tokens", "list", "--help").stdout


@pytest.mark.parametrize("args", [
    [],
    ["cloud"],
    ["cloud", "auth"],
    ["bogus"],
    ["cloud", "bogus"],
    ["cloud", "auth", "bogus"],
    ["cloud", "auth", "whoami", "--bogus"],
    ["cloud", "organizations", "list", "-o"],
    ["cloud", "tokens", "create"],
    ["cloud", "tokens", "create", "--name"],
    ["cloud", "tokens", "revoke"],
    ["cloud", "tokens", "list", "extra-argument"],
])
def test_usage_errors_exit_2(shared_cli, args):
    p = shared_cli(*args, env={"PIPECAT_TOKEN": shared_cli.server.token})
    assert_usage_error(p)


@pytest.mark.parametrize("args", [
    ["auth", "whoami", "-o"],
    ["organizations", "list", "-o"],
    ["organizations", "select", "-o"],
    ["organizations", "list", "--organization"],
])
def test_option_without_value_is_named_as_such(shared_cli, args):
    # -o is a documented option of these commands: the error must not call it unknown.
    assert "-o" in shared_cli.cloud(*args[:2], "--help").stdout
    p = shared_cli.cloud(*args, env={"PIPECAT_TOKEN": shared_cli.server.token})
    assert_usage_error(p)
    assert "-o" in p.stderr, p.stderr
    assert "unknown" not in p.stderr.lower(), p.stderr


def test_usage_error_sends_no_request(shared_cli):
    p, seen = requests_during(shared_cli.server, lambda: shared_cli.cloud(
        "tokens", "create", env={"PIPECAT_TOKEN": shared_cli.server.token}))
    assert_usage_error(p)
    assert seen == []


# --- pcc alias and --json placement ---------------------------------------------------------


def test_pcc_alias_behaves_as_pipecat_cloud(shared_cli):
    env = {"PIPECAT_TOKEN": shared_cli.server.token}
    for args in (["auth", "whoami", "--json"], ["organizations", "list", "--json"],
                 ["tokens", "list", "--json"], ["auth", "whoami"]):
        a = shared_cli.cloud(*args, env=env)
        b = shared_cli(*args, env=env, prog="pcc")
        assert a.returncode == b.returncode == 0, (a, b)
        assert a.stdout == b.stdout, (a.stdout, b.stdout)
    assert_usage_error(shared_cli("bogus", prog="pcc"))
    h = shared_cli("--help", prog="pcc")
    assert h.returncode == 0 and "pcc" in h.stdout
    assert h.stdout.replace("pcc", "X") == \
        shared_cli.cloud("--help").stdout.replace("pipecat cloud", "X").replace("pcc", "X")


def test_json_flag_anywhere_after_cloud(shared_cli):
    env = {"PIPECAT_TOKEN": shared_cli.server.token}
    outs = [shared_cli(*args, env=env) for args in (
        ["cloud", "--json", "organizations", "list"],
        ["cloud", "organizations", "--json", "list"],
        ["cloud", "organizations", "list", "--json"],
    )]
    for p in outs:
        assert p.returncode == 0, p
    parsed = [json.loads(p.stdout) for p in outs]
    assert parsed[0] == parsed[1] == parsed[2]
    assert parsed[0]["active"] == "acme"


# --- auth use-pat ---------------------------------------------------------------------------


def test_use_pat_from_stdin_writes_reference_file(cli):
    assert not cli.config_path.parent.exists()
    p = cli.cloud("auth", "use-pat", stdin=cli.server.token + "\n")
    assert p.returncode == 0, p
    assert "Authenticated via PAT. Active organization: acme" in p.stdout
    assert cli.server.token not in p.stdout + p.stderr
    data = read_config(cli)
    # The reference keys, plus the active org's table (update_user_config creates it, the
    # reference client keeps default_public_key there).
    assert set(data) == REFERENCE_KEYS | {"acme"}, data
    assert data["acme"] == {}
    assert data["token"] == cli.server.token
    assert data["org"] == "acme"
    assert data["refresh_token"] == ""
    assert data["token_expires_at"] == 0
    assert mode_of(cli.config_path) == 0o600
    assert mode_of(cli.config_path.parent) == 0o700
    # the stored token is then used
    who = cli.cloud("auth", "whoami")
    assert who.returncode == 0, who
    assert f"Token Source: {cli.config_path}" in who.stdout


def test_use_pat_positional_argument_warns_about_shell_history(cli):
    p = cli.cloud("auth", "use-pat", cli.server.token)
    assert p.returncode == 0, p
    assert "history" in p.stderr.lower(), p.stderr
    assert read_config(cli)["token"] == cli.server.token


def test_use_pat_hidden_prompt_on_a_terminal(cli):
    """On a terminal the token is read with echo off, so it never shows on screen."""
    argv = [str(BIN_DIR / "pipecat"), "cloud", "auth", "use-pat"]
    env = cli.env()
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.chdir(str(cli.home))
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    out = b""

    def read_some(timeout):
        nonlocal out
        r, _, _ = select.select([fd], [], [], timeout)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return False
            if not chunk:
                return False
            out += chunk
        return True

    try:
        deadline = time.time() + 15
        while b"oken" not in out and time.time() < deadline:
            if not read_some(0.1):
                break
        assert b"oken" in out, f"no token prompt on the terminal: {out!r}"
        while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < deadline:
            read_some(0.02)
        assert not termios.tcgetattr(fd)[3] & termios.ECHO, "echo left on at the token prompt"
        os.write(fd, cli.server.token.encode() + b"\n")
        while time.time() < deadline + 15:
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
    assert_no_sanitizer_report(text, "pipecat cloud auth use-pat (terminal)")
    assert os.WEXITSTATUS(status) == 0, text
    assert cli.server.token not in text, "the token was echoed"
    assert "Authenticated via PAT. Active organization: acme" in text
    assert read_config(cli)["token"] == cli.server.token


@pytest.mark.parametrize("stdin", ["", "\n", "   \n"])
def test_use_pat_empty_input(shared_cli, stdin):
    p, seen = requests_during(shared_cli.server,
                              lambda: shared_cli.cloud("auth", "use-pat", stdin=stdin))
    assert p.returncode == 1, p
    assert "No token provided." in p.stderr
    assert p.stdout == ""
    assert seen == []
    assert not shared_cli.config_path.exists()


def test_use_pat_rejects_foreign_format_without_a_request(shared_cli):
    p, seen = requests_during(shared_cli.server, lambda: shared_cli.cloud(
        "auth", "use-pat", stdin="sk_live_0123456789abcdef\n"))
    assert p.returncode == 1, p
    assert "Invalid token format" in p.stderr
    assert seen == []
    assert not shared_cli.config_path.exists()
    assert not shared_cli.config_path.parent.exists()


def test_use_pat_detects_a_mistyped_token_without_a_request(shared_cli):
    bad = bad_checksum_token(shared_cli.server.token[8:40])
    p, seen = requests_during(shared_cli.server,
                              lambda: shared_cli.cloud("auth", "use-pat", stdin=bad + "\n"))
    assert p.returncode == 1, p
    assert "mistyped" in p.stderr, p.stderr
    assert seen == []
    assert not shared_cli.config_path.exists()


def test_use_pat_unknown_token_leaves_file_untouched(shared_cli):
    path = write_config(shared_cli, {"token": shared_cli.server.token, "org": "acme",
                                     "refresh_token": "", "token_expires_at": 0,
                                     "acme": {"default_public_key": "pk_abc"}})
    before = path.read_bytes()
    p, seen = requests_during(shared_cli.server, lambda: shared_cli.cloud(
        "auth", "use-pat", stdin=well_formed_token() + "\n"))
    assert p.returncode == 1, p
    assert "Invalid or expired token" in p.stderr
    assert seen and all(s[2] == "401" for s in seen), seen
    assert path.read_bytes() == before


def test_use_pat_accepts_other_pat_lengths(shared_cli):
    # Tokens issued elsewhere (the reference's fixtures: 32 hex chars) are not pinned to pcc's
    # length: the CLI asks the server, which rejects this one.
    foreign = "pcc_pat_" + "0123456789abcdef" * 2
    p, seen = requests_during(shared_cli.server,
                              lambda: shared_cli.cloud("auth", "use-pat", stdin=foreign + "\n"))
    assert p.returncode == 1, p
    assert "Invalid or expired token" in p.stderr
    assert ("GET", "/v1/organizations", "401") in seen, seen


def test_use_pat_keeps_a_valid_current_org(cli):
    add_second_org(cli.server)
    write_config(cli, {"org": "aardvark"})
    p = cli.use_pat()
    assert "Active organization: aardvark" in p.stdout
    assert read_config(cli)["org"] == "aardvark"


def test_use_pat_replaces_an_org_the_user_is_not_in(cli):
    add_second_org(cli.server)
    write_config(cli, {"org": "someone-elses"})
    p = cli.use_pat()
    assert "Active organization: acme" in p.stdout
    assert read_config(cli)["org"] == "acme"


def test_use_pat_preserves_reference_written_file(cli):
    old = well_formed_token()
    write_config(cli, {"token": old, "org": "acme", "refresh_token": "rt_old",
                       "token_expires_at": 1700000000.5,
                       "acme": {"default_public_key": "pk_live_123",
                                "default_public_key_name": "Pipecat Key"},
                       "other": {"default_public_key": "pk_other"}})
    cli.use_pat()
    data = read_config(cli)
    assert data["token"] == cli.server.token
    assert data["org"] == "acme"
    assert data["refresh_token"] == ""
    assert data["token_expires_at"] == 0
    assert data["acme"] == {"default_public_key": "pk_live_123",
                            "default_public_key_name": "Pipecat Key"}
    assert data["other"] == {"default_public_key": "pk_other"}
    assert mode_of(cli.config_path) == 0o600


def test_use_pat_honours_pipecat_config_path(cli, tmp_path):
    path = tmp_path / "elsewhere" / "nested" / "creds.toml"
    env = {"PIPECAT_CONFIG_PATH": str(path)}
    cli.use_pat(env=env)
    assert read_config(cli, path)["token"] == cli.server.token
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert not cli.config_path.exists()
    who = cli.cloud("auth", "whoami", env=env)
    assert f"Token Source: {path}" in who.stdout, who


# --- credentials file -----------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_readable_credentials_file_is_repaired_with_a_warning(shared_cli, mode):
    write_config(shared_cli, {"token": shared_cli.server.token, "org": "acme",
                              "refresh_token": "", "token_expires_at": 0}, mode=mode)
    p = shared_cli.cloud("auth", "whoami")
    assert p.returncode == 0, p
    assert mode_of(shared_cli.config_path) == 0o600
    assert "permission" in p.stderr.lower() or "0600" in p.stderr, p.stderr
    assert str(shared_cli.config_path) in p.stderr, p.stderr
    # once repaired, no more warning
    again = shared_cli.cloud("auth", "whoami")
    assert again.returncode == 0 and "permission" not in again.stderr.lower(), again


def test_rewrites_are_atomic(cli):
    add_second_org(cli.server)
    write_config(cli, {"token": cli.server.token, "org": "acme", "refresh_token": "",
                       "token_expires_at": 0, "acme": {"default_public_key": "pk_1"}})
    stop = threading.Event()
    reads, problems = [0], []

    def reader():
        while not stop.is_set():
            try:
                with open(cli.config_path) as f:
                    text = f.read()
                data = toml.loads(text)
                if data.get("token") != cli.server.token or \
                        data.get("org") not in ("acme", "aardvark") or \
                        data.get("acme") != {"default_public_key": "pk_1"}:
                    problems.append(text)
            except Exception as e:  # noqa: BLE001 - a missing or partial file is the failure
                problems.append(repr(e))
            reads[0] += 1
            time.sleep(0.002)  # leave the GIL to the thread driving the CLI

    t = threading.Thread(target=reader)
    t.start()
    try:
        previous = os.stat(cli.config_path).st_ino
        for i in range(50):
            org = "aardvark" if i % 2 == 0 else "acme"
            p = cli.cloud("organizations", "select", "-o", org)
            assert p.returncode == 0, p
            assert read_config(cli)["org"] == org
            # replaced by a rename of a new file (which exists beside the old one, so its
            # inode differs), never rewritten in place where a reader could see half of it
            inode = os.stat(cli.config_path).st_ino
            assert inode != previous, "the credentials file was rewritten in place"
            previous = inode
    finally:
        stop.set()
        t.join(30)
    assert not problems, problems[:3]
    assert reads[0] >= 50, reads  # the reader really ran alongside the writes
    # no temporary files (which would hold the token) are left behind
    assert sorted(os.listdir(cli.config_path.parent)) == [cli.config_path.name]
    assert mode_of(cli.config_path) == 0o600


def test_invalid_credentials_file_is_an_error(shared_cli):
    shared_cli.config_path.parent.mkdir(parents=True, mode=0o700)
    shared_cli.config_path.write_text('token = "unterminated\n')
    os.chmod(shared_cli.config_path, 0o600)
    p = shared_cli.cloud("auth", "whoami")
    assert p.returncode == 1, p
    assert str(shared_cli.config_path) in p.stderr, p.stderr


# --- auth whoami ----------------------------------------------------------------------------


def test_whoami_with_pipecat_token(shared_cli):
    p = shared_cli.cloud("auth", "whoami", env={"PIPECAT_TOKEN": shared_cli.server.token})
    assert p.returncode == 0, p
    assert ALICE in p.stdout
    assert "Active Organization: Acme Inc (acme)" in p.stdout
    assert "Auth Method: PAT" in p.stdout
    assert "Token Source: PIPECAT_TOKEN" in p.stdout
    daily = lines_with(p.stdout, "Daily")
    assert len(daily) == 1 and "N/A" in daily[0], p.stdout
    assert shared_cli.server.token not in p.stdout + p.stderr


def test_whoami_json(shared_cli):
    p = shared_cli.cloud("auth", "whoami", "--json",
                         env={"PIPECAT_TOKEN": shared_cli.server.token})
    assert p.returncode == 0, p
    data = json.loads(p.stdout)
    assert {"user", "email", "organization", "authMethod", "tokenSource"} <= set(data), data
    assert data["email"] == ALICE
    assert data["authMethod"] == "PAT"
    assert data["tokenSource"] == "PIPECAT_TOKEN"
    assert "acme" in json.dumps(data["organization"])
    assert shared_cli.server.token not in p.stdout


def test_whoami_masks_the_daily_key(cli):
    key = "dk_7f3a9c2e5b1d4f6a8c0e2b4d6f8a1c3e"
    cli.server.daily_key("acme", key)
    p = cli.cloud("auth", "whoami", env={"PIPECAT_TOKEN": cli.server.token})
    assert p.returncode == 0, p
    daily = lines_with(p.stdout, "Daily")
    assert len(daily) == 1 and "N/A" not in daily[0], p.stdout
    assert key not in p.stdout + p.stderr
    assert key[3:] not in p.stdout and key[-16:] not in p.stdout
    j = cli.cloud("auth", "whoami", "--json", env={"PIPECAT_TOKEN": cli.server.token})
    assert key not in j.stdout and key[-16:] not in j.stdout


def test_whoami_org_with_and_without_pipecat_org(cli):
    add_second_org(cli.server)
    env = {"PIPECAT_TOKEN": cli.server.token}
    p = cli.cloud("auth", "whoami", env=env)
    assert "Active Organization: Acme Inc (acme)" in p.stdout, p
    p = cli.cloud("auth", "whoami", env={**env, "PIPECAT_ORG": "aardvark"})
    assert "Active Organization: Aardvark Labs (aardvark)" in p.stdout, p
    p = cli.cloud("auth", "whoami", "-o", "acme", env={**env, "PIPECAT_ORG": "aardvark"})
    assert "Active Organization: Acme Inc (acme)" in p.stdout, p


def test_pipecat_token_takes_precedence_over_the_file(cli):
    env_tok = cli.server.create_token("env-tok")["token"]
    cli.use_pat()  # the file holds the e2e token
    p = cli.cloud("auth", "status", env={"PIPECAT_TOKEN": env_tok})
    assert p.returncode == 0, p
    assert "env-tok" in p.stdout and "PIPECAT_TOKEN" in p.stdout
    w = cli.cloud("auth", "whoami", "--json", env={"PIPECAT_TOKEN": env_tok})
    assert json.loads(w.stdout)["tokenSource"] == "PIPECAT_TOKEN"
    # a bad env token is not silently replaced by the file's good one
    bad = cli.cloud("auth", "status", env={"PIPECAT_TOKEN": well_formed_token()})
    assert bad.returncode == 1, bad
    # an empty PIPECAT_TOKEN counts as unset: the file is used
    p = cli.cloud("auth", "status", env={"PIPECAT_TOKEN": ""})
    assert p.returncode == 0, p
    assert "e2e" in p.stdout
    w = cli.cloud("auth", "whoami", env={"PIPECAT_TOKEN": ""})
    assert f"Token Source: {cli.config_path}" in w.stdout, w


# --- auth status ----------------------------------------------------------------------------


def test_status_when_authenticated(shared_cli):
    p = shared_cli.cloud("auth", "status", env={"PIPECAT_TOKEN": shared_cli.server.token})
    assert p.returncode == 0, p
    out = p.stdout
    assert "authenticated" in out.lower()
    assert ALICE in out
    assert "PIPECAT_TOKEN" in out
    assert shared_cli.server.url in out
    assert "e2e" in out
    assert shared_cli.server.token not in out + p.stderr
    j = shared_cli.cloud("auth", "status", "--json",
                         env={"PIPECAT_TOKEN": shared_cli.server.token})
    assert j.returncode == 0
    assert isinstance(json.loads(j.stdout), dict)


def test_status_without_a_token(shared_cli):
    p, seen = requests_during(shared_cli.server, lambda: shared_cli.cloud("auth", "status"))
    assert p.returncode == 1, p
    msg = p.stderr + p.stdout
    assert "not logged in" in msg.lower(), msg
    assert "PIPECAT_TOKEN" in msg or "use-pat" in msg, msg
    assert seen == []


def test_status_with_a_rejected_token(shared_cli):
    p = shared_cli.cloud("auth", "status", env={"PIPECAT_TOKEN": well_formed_token()})
    assert p.returncode == 1, p
    msg = p.stderr + p.stdout
    assert "rejected" in msg, msg
    assert shared_cli.server.url in msg, msg
    assert "pipecat cloud auth use-pat" in msg, msg


def test_unreachable_server_is_a_clear_failure(shared_cli):
    url = f"http://127.0.0.1:{free_port()}"
    p = shared_cli.cloud("auth", "whoami", env={"PIPECAT_TOKEN": shared_cli.server.token,
                                                "PIPECAT_API_HOST": url})
    assert p.returncode == 1, p
    assert url.split("//")[1] in p.stderr, p.stderr


def test_commands_need_credentials(shared_cli):
    for args in (["tokens", "list"], ["organizations", "list"], ["auth", "whoami"]):
        p = shared_cli.cloud(*args)
        assert p.returncode == 1, p
        assert "PIPECAT_TOKEN" in p.stderr or "use-pat" in p.stderr, p.stderr


# --- auth logout ----------------------------------------------------------------------------


def test_logout_removes_file_and_token_stays_valid(cli):
    cli.use_pat()
    p = cli.cloud("auth", "logout")
    assert p.returncode == 0, p
    assert not cli.config_path.exists()
    assert "revoke" in (p.stdout + p.stderr).lower()
    assert cli.server.get("/v1/users").status == 200
    assert cli.cloud("auth", "status").returncode == 1


def test_logout_revoke(cli):
    tok = cli.server.create_token("laptop")
    cli.use_pat(tok["token"])
    p = cli.cloud("auth", "logout", "--revoke")
    assert p.returncode == 0, p
    assert not cli.config_path.exists()
    assert cli.server.get("/v1/users", token=tok["token"]).status == 401
    assert cli.server.get("/v1/users").status == 200  # only that token was revoked
    s = cli.cloud("auth", "status", env={"PIPECAT_TOKEN": tok["token"]})
    assert s.returncode == 1, s
    assert "rejected" in s.stderr + s.stdout


# --- organizations --------------------------------------------------------------------------


def test_organizations_list(cli):
    add_second_org(cli.server)
    env = {"PIPECAT_TOKEN": cli.server.token}
    p = cli.cloud("organizations", "list", env=env)
    assert p.returncode == 0, p
    acme, = lines_with(p.stdout, "acme")
    aard, = lines_with(p.stdout, "aardvark")
    assert "Acme Inc" in acme and "(active)" in acme
    assert "Aardvark Labs" in aard and "(active)" not in aard
    p = cli.cloud("organizations", "list", env={**env, "PIPECAT_ORG": "aardvark"})
    assert "(active)" in lines_with(p.stdout, "aardvark")[0]
    assert "(active)" not in lines_with(p.stdout, "acme")[0]


def test_organizations_list_json(cli):
    add_second_org(cli.server)
    p = cli.cloud("organizations", "list", "--json", env={"PIPECAT_TOKEN": cli.server.token})
    assert p.returncode == 0, p
    data = json.loads(p.stdout)
    assert data["active"] == "acme"
    assert [o["name"] for o in data["organizations"]] == ["acme", "aardvark"]
    assert [o["verboseName"] for o in data["organizations"]] == ["Acme Inc", "Aardvark Labs"]


def active_org(cli, *args, env=None):
    p = cli.cloud("organizations", "list", "--json", *args, env=env)
    assert p.returncode == 0, p
    return json.loads(p.stdout)["active"]


def test_org_precedence(cli):
    add_second_org(cli.server)
    tok = {"PIPECAT_TOKEN": cli.server.token}
    # nothing set: the first organization the API lists (not the first by name)
    assert active_org(cli, env=tok) == "acme"
    # the file's org
    write_config(cli, {"org": "aardvark"})
    assert active_org(cli, env=tok) == "aardvark"
    # PIPECAT_ORG over the file
    write_config(cli, {"org": "acme"})
    assert active_org(cli, env={**tok, "PIPECAT_ORG": "aardvark"}) == "aardvark"
    # -o over PIPECAT_ORG
    assert active_org(cli, "-o", "acme", env={**tok, "PIPECAT_ORG": "aardvark"}) == "acme"
    assert active_org(cli, "--organization", "aardvark",
                      env={**tok, "PIPECAT_ORG": "acme"}) == "aardvark"


def test_organizations_select(cli):
    add_second_org(cli.server)
    cli.use_pat()
    data = read_config(cli)
    data.setdefault("acme", {})["default_public_key"] = "pk_keep"
    write_config(cli, data)
    p = cli.cloud("organizations", "select", "-o", "aardvark")
    assert p.returncode == 0, p
    assert "aardvark" in p.stdout
    data = read_config(cli)
    assert data["org"] == "aardvark"
    assert data["token"] == cli.server.token
    assert data["acme"]["default_public_key"] == "pk_keep"
    assert mode_of(cli.config_path) == 0o600
    assert active_org(cli) == "aardvark"
    assert "Aardvark Labs (aardvark)" in cli.cloud("auth", "whoami").stdout


def test_organizations_select_unknown_org(cli):
    cli.use_pat()
    before = cli.config_path.read_bytes()
    p = cli.cloud("organizations", "select", "-o", "nope-org")
    assert p.returncode == 1, p
    assert "nope-org" in p.stderr
    assert cli.config_path.read_bytes() == before


def test_organizations_select_needs_o_without_a_terminal(shared_cli):
    p = shared_cli.cloud("organizations", "select",
                         env={"PIPECAT_TOKEN": shared_cli.server.token})
    assert p.returncode == 2, p
    assert "-o" in p.stderr
    assert not shared_cli.config_path.exists()


# --- tokens ---------------------------------------------------------------------------------


def test_tokens_create_prints_only_the_token(cli):
    env = {"PIPECAT_TOKEN": cli.server.token}
    p = cli.cloud("tokens", "create", "--name", "ci-deploy", env=env)
    assert p.returncode == 0, p
    tok = p.stdout.strip()
    assert p.stdout == tok + "\n"
    assert token_checksum_ok(tok), tok
    assert "again" in p.stderr.lower(), p.stderr
    assert tok not in p.stderr
    me = cli.server.get("/v1/tokens/self", token=tok)
    assert me.status == 200 and me.body["name"] == "ci-deploy"


def test_tokens_create_json(cli):
    p = cli.cloud("tokens", "create", "--name", "json-tok", "--json",
                  env={"PIPECAT_TOKEN": cli.server.token})
    assert p.returncode == 0, p
    data = json.loads(p.stdout)
    assert data["name"] == "json-tok"
    assert token_checksum_ok(data["token"])
    assert data["display"] == display_of(data["token"])
    assert data["id"].startswith("tok_")
    assert cli.server.get("/v1/users", token=data["token"]).status == 200


def test_tokens_create_duplicate_name_fails(cli):
    env = {"PIPECAT_TOKEN": cli.server.token}
    assert cli.cloud("tokens", "create", "--name", "dup", env=env).returncode == 0
    p = cli.cloud("tokens", "create", "--name", "dup", env=env)
    assert p.returncode == 1, p
    assert p.stdout == ""
    assert "dup" in p.stderr


def test_tokens_list(cli):
    env = {"PIPECAT_TOKEN": cli.server.token}
    second = cli.server.create_token("second-one")
    p = cli.cloud("tokens", "list", env=env)
    assert p.returncode == 0, p
    server_list = cli.server.get("/v1/users/me/tokens").body["tokens"]
    assert len(server_list) == 2
    for t in server_list:
        row, = lines_with(p.stdout, t["id"])
        assert t["name"] in row and t["display"] in row, row
    for secret in (cli.server.token, second["token"]):
        assert secret not in p.stdout and secret[8:40] not in p.stdout
    j = cli.cloud("tokens", "list", "--json", env=env)
    data = json.loads(j.stdout)
    assert list(data) == ["tokens", "omitted"] and data["omitted"] == 0
    assert {t["id"] for t in data["tokens"]} == {t["id"] for t in server_list}
    assert all("token" not in t for t in data["tokens"])
    assert second["token"] not in j.stdout


def test_tokens_revoke_given_a_secret_instead_of_an_id(cli):
    # A common slip: passing the token itself. It must not end up in the server's log (the
    # harness checks the log at teardown) nor be echoed into CI logs by the CLI.
    tok = cli.server.create_token("slip")
    p = cli.cloud("tokens", "revoke", tok["token"], env={"PIPECAT_TOKEN": cli.server.token})
    assert p.returncode in (1, 2), p  # refused (as a usage error), never a success
    assert tok["token"] not in p.stdout + p.stderr, p
    cli.server.sync_log()
    assert tok["token"] not in cli.server.stderr, "pccd logged the secret from the path"


def test_tokens_revoke(cli):
    env = {"PIPECAT_TOKEN": cli.server.token}
    victim = cli.server.create_token("victim")
    p = cli.cloud("tokens", "revoke", victim["id"], env=env)
    assert p.returncode == 0, p
    assert cli.server.get("/v1/users", token=victim["token"]).status == 401
    assert victim["id"] not in cli.cloud("tokens", "list", env=env).stdout
    again = cli.cloud("tokens", "revoke", victim["id"], env=env)
    assert again.returncode == 1, again
    unknown = cli.cloud("tokens", "revoke", "tok_doesnotexist", env=env)
    assert unknown.returncode == 1, unknown
    assert unknown.stdout == ""
    assert "id" in unknown.stderr, unknown.stderr
    assert cli.server.get("/v1/users").status == 200


# --- server-side throttling as the CLI user sees it -----------------------------------------


def test_throttled_address_gets_a_clear_message(make_server, tmp_path):
    srv = make_server(serve_args=["--auth-fail-limit", "1"])
    cli = Cli(srv, tmp_path / "home")
    assert cli.cloud("auth", "status", env={"PIPECAT_TOKEN": well_formed_token()}).returncode == 1
    for args in (["auth", "status"], ["tokens", "list"]):
        p = cli.cloud(*args, env={"PIPECAT_TOKEN": srv.token})
        assert p.returncode == 1, p
        assert "too many" in p.stderr.lower(), p.stderr
        assert "rejected" not in p.stderr, "a throttled valid token is not a rejected one"
    p = cli.cloud("auth", "use-pat", stdin=srv.token + "\n")
    assert p.returncode == 1, p
    assert "too many" in p.stderr.lower(), p.stderr
    assert not cli.config_path.exists()


# --- larger and non-ASCII data through the CLI's HTTP client --------------------------------


def test_tokens_list_with_many_tokens(cli):
    # About 100 KB of JSON: more than any small fixed buffer in the client would hold.
    count = 250
    errors = []

    def create(start):
        for i in range(start, count, 8):
            r = cli.server.request("POST", "/v1/users/me/tokens",
                                   json_body={"name": f"bulk-{i:04d}-" + "n" * 60})
            if r.status != 201:
                errors.append(r)

    ts = [threading.Thread(target=create, args=(k,)) for k in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert not errors, errors[:3]
    env = {"PIPECAT_TOKEN": cli.server.token}
    j = cli.cloud("tokens", "list", "--json", env=env)
    assert j.returncode == 0, j.stderr
    data = json.loads(j.stdout)
    assert len(data["tokens"]) == count + 1
    assert sorted(t["name"] for t in data["tokens"] if t["name"].startswith("bulk-")) == \
        [f"bulk-{i:04d}-" + "n" * 60 for i in range(count)]
    p = cli.cloud("tokens", "list", env=env)
    assert p.returncode == 0, p.stderr
    assert sum(1 for line in p.stdout.splitlines() if "bulk-" in line) == count


def test_non_ascii_token_name_round_trips(cli):
    name = "déploiement ✓ 東京"
    env = {"PIPECAT_TOKEN": cli.server.token}
    p = cli.cloud("tokens", "create", "--name", name, "--json", env=env)
    assert p.returncode == 0, p
    assert json.loads(p.stdout)["name"] == name
    assert name in [t["name"] for t in cli.server.get("/v1/users/me/tokens").body["tokens"]]
    listed = cli.cloud("tokens", "list", env=env)
    assert name in listed.stdout, listed.stdout
    j = cli.cloud("tokens", "list", "--json", env=env)
    assert name in [t["name"] for t in json.loads(j.stdout)["tokens"]]


def test_api_host_by_name(shared_cli):
    # Users write localhost; it may resolve to ::1 first while pccd listens on 127.0.0.1.
    url = f"http://localhost:{shared_cli.server.port}"
    p = shared_cli.cloud("auth", "status", env={"PIPECAT_TOKEN": shared_cli.server.token,
                                                "PIPECAT_API_HOST": url})
    assert p.returncode == 0, p
    assert url in p.stdout
