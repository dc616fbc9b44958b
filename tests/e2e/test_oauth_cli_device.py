# test_oauth_cli_device.py: `pipecat cloud auth login --headless` end to end: the CLI prints the
# verification URL and user code, the test approves (or denies) the code through the dashboard's
# /device forms as a signed-in browser would, and the CLI, polling the token endpoint, stores
# the login like `auth login`; expiry (by the server's test clock) and denial end it with a clear
# message. Also the browser flow's timeout, which tests may only shorten.
import re
import subprocess
import time

import pytest
import toml

from conftest import BIN_DIR, TIMEOUT, Cli, assert_no_sanitizer_report
from test_oauth import sign_in
# The running logins and the autouse fixture that kills any a failed test leaves behind.
from test_oauth_cli import RUNNING, no_login_left_behind  # noqa: F401
from test_oauth_device import decide, text_of

CODE_RE = re.compile(r"^\s+([BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4})\s*$")
class Headless:
    """A running `pipecat cloud auth login --headless`, up to the printed code."""

    def __init__(self, cli, *args, env=None):
        self.proc = subprocess.Popen(
            [str(BIN_DIR / "pipecat"), "cloud", "auth", "login", "--headless", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=cli.env(env), cwd=str(cli.home))
        RUNNING.append(self.proc)
        self.err = ""
        self.code = None
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.err += line
            m = CODE_RE.match(line)
            if m and not self.code:
                self.code = m.group(1)
            if line.startswith("Waiting for approval"):
                break
        assert self.code, self.err

    def finish(self):
        out, err = self.proc.communicate(timeout=TIMEOUT + 30)
        self.err += err
        assert_no_sanitizer_report(self.err, "pipecat cloud auth login --headless")
        return self.proc.returncode, out, self.err


def test_headless_login_approved_in_the_dashboard(cli):
    cookie = sign_in(cli.server)
    lg = Headless(cli)
    url = cli.server.url + "/device"
    assert f"open this URL in a browser on any device:\n\n    {url}\n" in lg.err, lg.err
    assert f"{url}?user_code={lg.code}" in lg.err, lg.err
    assert "expires in 600 seconds" in lg.err
    assert lg.proc.poll() is None  # waiting
    done = decide(cli.server, cookie, lg.code)
    assert "Device connected" in text_of(done), done
    before = time.time()
    rc, out, err = lg.finish()
    assert rc == 0, (out, err)
    assert "Authentication successful! Active organization: acme" in out, out
    conf = toml.load(cli.config_path)
    assert conf["token"].startswith("pcc_oat_") and conf["refresh_token"].startswith("pcc_ort_")
    assert conf["org"] == "acme"
    assert before + 3500 < conf["token_expires_at"] < time.time() + 3700
    who = cli.cloud("auth", "whoami")
    assert who.returncode == 0 and "Auth Method: OAuth" in who.stdout, who
    # The device code is spent: the secret never reached the terminal, only the user code.
    assert "pcc_oat_" not in err and "pcc_ort_" not in err


def test_headless_login_denied(cli):
    cookie = sign_in(cli.server)
    lg = Headless(cli)
    decide(cli.server, cookie, lg.code, decision="deny")
    rc, out, err = lg.finish()
    assert rc == 1, (out, err)
    assert "Authorization was denied." in err, err
    assert not cli.config_path.exists()


def test_headless_login_stops_when_the_code_expires(clocked, tmp_path):
    srv, clock = clocked
    cli = Cli(srv, tmp_path / "home")
    lg = Headless(cli)
    clock.advance(601)
    rc, out, err = lg.finish()
    assert rc == 1, (out, err)
    assert "The code expired before it was approved." in err, err
    assert "auth login --headless" in err
    assert not cli.config_path.exists()


def test_login_times_out_with_a_clear_message(cli):
    start = time.monotonic()
    p = cli.cloud("auth", "login", "--no-browser", env={"PIPECAT_LOGIN_TIMEOUT": "2"})
    took = time.monotonic() - start
    assert p.returncode == 1, p
    assert "Waiting for the sign-in (up to 2 seconds)" in p.stderr, p.stderr
    assert "Authentication timed out: no sign-in came back within 2 seconds." in p.stderr
    assert "--headless" in p.stderr
    assert 1.5 < took < 30, took
    assert not cli.config_path.exists()


@pytest.mark.parametrize("value", ["500", "120", "0", "-5", "2x"])
def test_login_timeout_cannot_be_lengthened_or_garbled(cli, value):
    proc = subprocess.Popen(
        [str(BIN_DIR / "pipecat"), "cloud", "auth", "login", "--no-browser"],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=cli.env({"PIPECAT_LOGIN_TIMEOUT": value}), cwd=str(cli.home))
    RUNNING.append(proc)
    seen = ""
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and "Waiting" not in seen:
        line = proc.stderr.readline()
        if not line:
            break
        seen += line
    assert "Waiting for the sign-in (up to 120 seconds)" in seen, seen
