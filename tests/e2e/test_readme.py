# test_readme.py: the README's commands run as shown. `make run`'s own script starts pccd in a
# scratch directory laid out like the repository (build/, var/), then every shell block of
# README.md runs in order, verbatim but for the address (the test's free port for 8787).
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import (BIN_DIR, REPO, TIMEOUT, assert_no_sanitizer_report, free_port,
                      http_request, sqlite_only)

pytestmark = sqlite_only  # make run serves SQLite; running it twice would prove nothing more

FENCE_RE = re.compile(r"^(\s*)```(\S*)\s*$")
SKIP_RE = re.compile(r"<!--\s*readme-test:\s*skip\b")
SHELL_INFO = {"", "sh", "bash", "shell"}


def shell_blocks(text):
    """[(line number, info string, body, skipped)] for every fenced block of the README."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        m = FENCE_RE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, info, start = m.group(1), m.group(2), i
        body = []
        i += 1
        while i < len(lines) and not FENCE_RE.match(lines[i]):
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        before = "\n".join(lines[max(0, start - 2):start])
        blocks.append((start + 1, info, "\n".join(body), bool(SKIP_RE.search(before))))
        i += 1
    return blocks


def runnable(text):
    return [(n, body) for n, info, body, skipped in shell_blocks(text)
            if info in SHELL_INFO and not skipped]


def test_block_finder_sees_what_a_reader_sees():
    text = ("a\n```\nls\n```\n<!-- readme-test: skip (browser) -->\n```\nopen x\n```\n"
            "```yaml\nk: v\n```\n1. step\n\n   ```sh\n   echo hi\n   ```\n")
    assert runnable(text) == [(2, "ls"), (14, "echo hi")]


class MakeRun:
    """scripts/run.sh (what `make run` runs after building) in a directory shaped like the
    repository: build/ -> the binaries under test, var/ made by the script."""

    def __init__(self, root):
        self.root = root
        (root / "home").mkdir()
        os.symlink(BIN_DIR, root / "build")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {"PATH": os.environ["PATH"], "HOME": str(root / "home"), "LANG": "C.UTF-8",
                    "PCCD_LISTEN": f"127.0.0.1:{self.port}"}
        self.proc = None

    def run(self, wait=False):
        argv = ["sh", str(REPO / "scripts" / "run.sh"), "build"]
        if wait:
            return subprocess.run(argv, cwd=self.root, env=self.env, capture_output=True,
                                  text=True, timeout=TIMEOUT)
        self.proc = subprocess.Popen(argv, cwd=self.root, env=self.env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"make run exited: {self.proc.communicate()}"
            try:
                if http_request(self.url, "GET", "/healthz").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        pytest.fail("make run's pccd did not answer /healthz")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            out, err = self.proc.communicate(timeout=TIMEOUT)
            assert_no_sanitizer_report(err, "make run's pccd")
            return out, err
        return "", ""

    def tokens(self):
        p = subprocess.run([str(BIN_DIR / "pccd"), "token", "list", "--data", "var", "--user",
                            "demo@example.com"], cwd=self.root, env=self.env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        assert p.returncode == 0, p.stderr
        return p.stdout


@pytest.fixture
def make_run(tmp_path):
    m = MakeRun(tmp_path)
    yield m
    m.stop()


def test_every_readme_shell_block_runs_as_shown(make_run):
    make_run.run()
    blocks = runnable((REPO / "README.md").read_text())
    assert len(blocks) >= 3, "the README's quick start has no runnable blocks"
    script = ["set -euo pipefail"]
    for line, body in blocks:
        script.append(f"echo '== README.md line {line}' >&2")
        script.append(body.replace("127.0.0.1:8787", f"127.0.0.1:{make_run.port}"))
    p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=make_run.root,
                       env=make_run.env, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=300)
    assert_no_sanitizer_report(p.stderr, "the README's commands")
    assert p.returncode == 0, \
        f"a README command failed (exit {p.returncode}):\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}"
    # What the reader is told to expect: whoami names the demo user, the token is stored.
    assert "demo@example.com" in p.stdout
    assert (make_run.root / "home" / ".config" / "pipecatcloud" / "pipecatcloud.toml").is_file()


def test_make_run_again_while_serving_makes_no_token(make_run):
    make_run.run()
    token_file = make_run.root / "var" / "demo-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    before = make_run.tokens()
    again = make_run.run(wait=True)
    assert again.returncode == 0, again.stderr
    assert "already serving" in again.stderr
    assert "pcc_pat_" not in again.stdout + again.stderr, "the second run printed a token"
    assert make_run.tokens() == before, "the second run made a token"
    # The first server is still the one answering.
    assert make_run.proc.poll() is None


def test_make_run_refuses_a_port_held_by_something_else(tmp_path):
    m = MakeRun(tmp_path)
    other = subprocess.Popen(["/usr/bin/python3", "-m", "http.server", "--bind", "127.0.0.1",
                              str(m.port)], cwd=tmp_path, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            try:
                if http_request(m.url, "GET", "/", check_json=False).status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        p = m.run(wait=True)
        assert p.returncode == 1
        assert "something other than pccd" in p.stderr
        assert not (tmp_path / "var" / "demo-token").exists(), "a token was made for nothing"
    finally:
        other.terminate()
        other.wait(timeout=TIMEOUT)
