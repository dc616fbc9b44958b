# test_oauth_cli.py: `pipecat cloud auth login` end to end: the CLI prints the authorization URL,
# the test plays the browser (signs in, posts the consent form with its CSRF field, follows the
# redirect to the CLI's loopback listener), and the CLI exchanges the code, stores the tokens and
# uses them; the transparent refresh of an expiring access token (with rotation, so the old
# refresh token is spent) and `auth logout` revoking the session on the server.
import html
import json
import re
import socket
import subprocess
import time
import urllib.parse
import urllib.request

import pytest
import toml

from conftest import BIN_DIR, TIMEOUT, assert_no_sanitizer_report, http_request
from test_oauth import FORM, sign_in

URL_RE = re.compile(r"(http://\S+/oauth/authorize\?\S+)")
RUNNING = []


@pytest.fixture(autouse=True)
def no_login_left_behind():
    """A failed test must not leave a login listening on 8400 for two minutes."""
    yield
    while RUNNING:
        proc = RUNNING.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=TIMEOUT)


class Login:
    """A running `pipecat cloud auth login --no-browser`, up to the printed URL."""

    def __init__(self, cli, *args, env=None):
        self.cli = cli
        self.proc = subprocess.Popen(
            [str(BIN_DIR / "pipecat"), "cloud", "auth", "login", "--no-browser", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=cli.env(env), cwd=str(cli.home))
        RUNNING.append(self.proc)
        self.err = ""
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.err += line
            m = URL_RE.search(line)
            if m:
                self.url = m.group(1)
                break
        else:
            self.proc.kill()
        assert hasattr(self, "url"), self.err
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.url).query))
        self.query = q
        self.redirect = q["redirect_uri"]

    def finish(self):
        out, err = self.proc.communicate(timeout=TIMEOUT)
        self.err += err
        assert_no_sanitizer_report(self.err, "pipecat cloud auth login")
        return self.proc.returncode, out, self.err


def browser_consent(server, cookie, url, decision="approve"):
    """Open the authorization URL as the signed-in browser, press a button, and follow the
    redirect to the CLI's loopback callback; returns the callback page."""
    parts = urllib.parse.urlsplit(url)
    page = http_request(server.url, "GET", parts.path + "?" + parts.query, token=None,
                        check_json=False, headers={"Cookie": cookie})
    assert page.status == 200, page
    # Not no-referrer: Chromium would post the form with "Origin: null" (refused as CSRF).
    assert page.header("Referrer-Policy") == "same-origin"
    fields = {k: html.unescape(v) for k, v in re.findall(
        r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', page.raw.decode())}
    assert "csrf" in fields, fields
    fields["decision"] = decision
    r = http_request(server.url, "POST", "/oauth/authorize", token=None, check_json=False,
                     body=urllib.parse.urlencode(fields),
                     headers={**FORM, "Cookie": cookie, "Origin": server.url})
    assert r.status in (302, 303), r
    location = r.header("Location")
    assert location.startswith("http://127.0.0.1:840"), location
    with urllib.request.urlopen(location, timeout=TIMEOUT) as back:
        return back.status, back.read().decode()


def login(cli, cookie):
    lg = Login(cli)
    assert lg.query["code_challenge_method"] == "S256"
    assert len(lg.query["code_challenge"]) == 43
    assert lg.redirect.startswith("http://127.0.0.1:840") and \
        lg.redirect.endswith("/oauth_callback")
    status, page = browser_consent(cli.server, cookie, lg.url)
    assert status == 200 and "Signed in" in page, page
    rc, out, err = lg.finish()
    assert rc == 0, (out, err)
    assert "Authentication successful!" in out, out
    assert str(cli.config_path) in out, out
    return toml.load(cli.config_path)


def refresh_grant(server, refresh_token):
    return http_request(server.url, "POST", "/oauth/token", token=None, headers=FORM,
                        body=urllib.parse.urlencode({"grant_type": "refresh_token",
                                                     "refresh_token": refresh_token,
                                                     "client_id": "pipecat-cli"}))


def expire_in_file(cli, when):
    text = cli.config_path.read_text()
    text, n = re.subn(r"(?m)^token_expires_at = .*$", f"token_expires_at = {when!r}", text)
    assert n == 1, text
    cli.config_path.write_text(text)


def test_login_stores_an_oauth_session_and_logout_revokes_it(cli):
    cookie = sign_in(cli.server)
    before = time.time()
    conf = login(cli, cookie)
    assert conf["token"].startswith("pcc_oat_"), conf
    assert conf["refresh_token"].startswith("pcc_ort_"), conf
    assert conf["org"] == "acme"
    assert isinstance(conf["token_expires_at"], float), conf
    assert before + 3500 < conf["token_expires_at"] < time.time() + 3700
    assert (cli.config_path.stat().st_mode & 0o777) == 0o600

    who = cli.cloud("auth", "whoami")
    assert who.returncode == 0, who
    assert "Auth Method: OAuth" in who.stdout, who.stdout
    assert "acme" in who.stdout

    out = cli.cloud("auth", "logout")
    assert out.returncode == 0, out
    assert "Logged out and session revoked." in out.stdout, out.stdout
    assert not cli.config_path.exists()
    assert http_request(cli.server.url, "GET", "/v1/users", token=conf["token"]).status == 401
    assert refresh_grant(cli.server, conf["refresh_token"]).status == 400


def test_login_json(cli):
    cookie = sign_in(cli.server)
    lg = Login(cli, "--json")
    browser_consent(cli.server, cookie, lg.url)
    rc, out, err = lg.finish()
    assert rc == 0, (out, err)
    assert json.loads(out) == {"authenticated": True, "authMethod": "OAuth",
                               "organization": "acme", "configPath": str(cli.config_path)}


def test_a_wrong_state_is_refused(cli):
    lg = Login(cli)
    port = urllib.parse.urlsplit(lg.redirect).port
    q = urllib.parse.urlencode({"code": "x" * 43, "state": "not-the-state"})
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/oauth_callback?{q}",
                                timeout=TIMEOUT) as back:
        assert back.status == 200
    rc, out, err = lg.finish()
    assert rc == 1, (out, err)
    assert "state" in err, err
    assert not cli.config_path.exists()


def test_other_paths_are_ignored_until_the_callback(cli):
    lg = Login(cli)
    port = urllib.parse.urlsplit(lg.redirect).port
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{port}/favicon.ico", timeout=TIMEOUT)
        raise AssertionError("expected a 404")
    except urllib.error.HTTPError as e:
        assert e.code == 404
    assert lg.proc.poll() is None
    q = urllib.parse.urlencode({"error": "access_denied", "state": lg.query["state"]})
    urllib.request.urlopen(f"http://127.0.0.1:{port}/oauth_callback?{q}", timeout=TIMEOUT)
    rc, out, err = lg.finish()
    assert rc == 1 and "Authorization was denied." in err, (out, err)


def test_a_denial_is_reported(cli):
    cookie = sign_in(cli.server)
    lg = Login(cli)
    status, page = browser_consent(cli.server, cookie, lg.url, decision="deny")
    assert status == 200
    rc, out, err = lg.finish()
    assert rc == 1, (out, err)
    assert "Authorization was denied." in err, err
    assert not cli.config_path.exists()


def test_a_busy_port_moves_the_listener_on(cli):
    blocker, taken = None, None
    for port in range(8400, 8404):  # the first port the CLI could take (others may be busy)
        blocker = socket.socket()
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # ports in TIME_WAIT
        try:
            blocker.bind(("127.0.0.1", port))
            blocker.listen(1)
            taken = port
            break
        except OSError:
            blocker.close()
    if taken is None:
        pytest.skip("ports 8400-8403 are all in use")
    try:
        lg = Login(cli)
        assert lg.redirect.startswith("http://127.0.0.1:840"), lg.redirect
        assert urllib.parse.urlsplit(lg.redirect).port > taken, lg.redirect
    finally:
        blocker.close()


def test_an_expiring_token_is_refreshed_and_rotated(clocked, tmp_path):
    from conftest import Cli
    srv, clock = clocked
    cli = Cli(srv, tmp_path / "home")
    cookie = sign_in(cli.server)
    first = login(cli, cookie)
    expire_in_file(cli, time.time() - 5.0)
    who = cli.cloud("auth", "whoami")
    assert who.returncode == 0, who
    assert "Auth Method: OAuth" in who.stdout
    second = toml.load(cli.config_path)
    assert second["token"].startswith("pcc_oat_") and second["token"] != first["token"]
    assert second["refresh_token"].startswith("pcc_ort_")
    assert second["refresh_token"] != first["refresh_token"]
    assert isinstance(second["token_expires_at"], float)
    assert second["token_expires_at"] > time.time() + 3500
    assert second["org"] == first["org"]
    # Not due any more: a second command does not refresh again.
    assert cli.cloud("auth", "whoami").returncode == 0
    assert toml.load(cli.config_path)["refresh_token"] == second["refresh_token"]
    # The old refresh token was spent; presenting it again after the 60 s in which parallel
    # refreshes get the same answer revokes the whole login.
    clock.advance(61)
    again = refresh_grant(cli.server, first["refresh_token"])
    assert again.status == 400 and again.body["error"] == "invalid_grant", again
    dead = cli.cloud("auth", "whoami")
    assert dead.returncode == 1
    assert "auth login" in dead.stderr, dead.stderr


def test_a_failed_refresh_asks_for_a_new_login(cli):
    cookie = sign_in(cli.server)
    conf = login(cli, cookie)
    # Spend the stored refresh token behind the CLI's back, and its successor too: the login
    # has moved on (a repeat within 60 s of the first use would get the same answer again).
    second = refresh_grant(cli.server, conf["refresh_token"])
    assert second.status == 200
    assert refresh_grant(cli.server, second.body["refresh_token"]).status == 200
    expire_in_file(cli, time.time() - 5.0)
    p = cli.cloud("auth", "whoami")
    assert p.returncode == 1, p
    assert "your login expired: run `pipecat cloud auth login`" in p.stderr, p.stderr
    assert toml.load(cli.config_path)["token"] == conf["token"]


def test_refresh_with_the_server_clock(make_server, tmp_path):
    from conftest import Cli
    clock = tmp_path / "clock"
    clock.write_text("0")
    srv = make_server(serve_args=["--test-clock-file", str(clock), "--oauth-access-ttl", "120"],
                      start=False)
    srv.env["PCCD_ALLOW_TEST_CLOCK"] = "1"
    srv.start()
    cli = Cli(srv, tmp_path / "home")
    cookie = sign_in(srv)
    first = login(cli, cookie)
    assert first["token_expires_at"] < time.time() + 130
    # The server's clock moves past the access token's expiry; the CLI's file says the same.
    clock.write_text("200")
    assert http_request(srv.url, "GET", "/v1/users", token=first["token"]).status == 401
    expire_in_file(cli, time.time() - 1.0)
    who = cli.cloud("auth", "whoami")
    assert who.returncode == 0, who
    second = toml.load(cli.config_path)
    assert second["token"] != first["token"]
    assert http_request(srv.url, "GET", "/v1/users", token=second["token"]).status == 200


def test_pat_logout_does_not_call_auth_logout(cli):
    cli.use_pat()
    out = cli.cloud("auth", "logout")
    assert out.returncode == 0, out
    cli.server.sync_log()
    assert "/auth/logout" not in [path for _, path, _ in cli.server.request_log()]


def test_commands_started_together_refresh_only_once(cli):
    cookie = sign_in(cli.server)
    login(cli, cookie)
    expire_in_file(cli, time.time() - 5.0)
    procs = [subprocess.Popen([str(BIN_DIR / "pipecat"), "cloud", "auth", "whoami"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=cli.env(),
                              cwd=str(cli.home)) for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=TIMEOUT)
        assert_no_sanitizer_report(err, "pipecat cloud auth whoami")
        assert p.returncode == 0, (out, err)
    # Had two of them spent the same refresh token, the server would have revoked the login.
    final = toml.load(cli.config_path)
    assert http_request(cli.server.url, "GET", "/v1/users", token=final["token"]).status == 200
    assert refresh_grant(cli.server, final["refresh_token"]).status == 200
