# test_completion.py: shell completion, `help`, `version` and the man pages, all answered from
# the command and option tables that --help and docs/cli come from (no server needed).
import shutil
import subprocess
import sys

import pytest

from conftest import BIN_DIR, REPO

PIPECAT = str(BIN_DIR / "pipecat")
PCC = str(BIN_DIR / "pcc")


def run(*args, prog=PIPECAT):
    return subprocess.run([prog, *args], capture_output=True, text=True)


def candidates(*words, prog=PIPECAT):
    ask = [prog, "__complete"] if prog == PCC else [prog, "cloud", "__complete"]
    p = subprocess.run([*ask, *words], capture_output=True, text=True)
    assert p.returncode == 0, p
    return p.stdout.split()


def test_complete_walks_groups_commands_and_options():
    top = candidates()
    assert {"deploy", "auth", "organizations", "agent", "help", "version"} <= set(top), top
    assert "__complete" not in top
    assert set(candidates("organizations")) >= {"list", "select", "keys", "properties"}
    assert candidates("organizations", "keys") == ["list", "create", "revoke", "use"]
    # Options come from the command's own table, hidden spellings left out.
    deploy = candidates("deploy", "my-agent")
    for flag in ("--min-agents", "-min", "-nc", "--yes", "-y", "--organization", "--json"):
        assert flag in deploy, (flag, deploy)
    assert "--min-instances" not in deploy and "--dockerfile" not in deploy
    # Options already typed do not lead the walk astray.
    assert "--limit" in candidates("agent", "--json", "logs", "x", "-n", "5")
    assert candidates("bogus") == []
    assert candidates("agent", "logs", prog=PCC) == candidates("agent", "logs")


@pytest.mark.skipif(not shutil.which("bash"), reason="no bash")
def test_bash_script_completes():
    script = run("cloud", "completion", "bash").stdout

    def complete(line):
        words = line.split(" ")
        prog = PCC if words[0] == "pcc" else PIPECAT
        words[0] = prog
        arr = " ".join(f"'{w}'" for w in words)
        code = (f"{script}\nCOMP_WORDS=({arr}); COMP_CWORD={len(words) - 1}; _pipecat; "
                "printf '%s\\n' \"${COMPREPLY[@]}\"")
        p = subprocess.run(["bash", "-c", code], capture_output=True, text=True)
        assert p.returncode == 0, p
        return p.stdout.split()

    assert complete("pipecat ") == ["cloud", "help", "version", "--help", "--version"]
    assert complete("pipecat cloud ag") == ["agent"]
    assert complete("pipecat cloud agent lo") == ["logs"]
    assert complete("pipecat cloud agent logs x --li") == ["--limit"]
    assert complete("pcc organizations keys c") == ["create"]
    assert complete("pcc deploy -m") == ["-min", "-max"]


def test_every_shell_gets_a_script_and_others_a_usage_error():
    for shell in ("bash", "zsh", "fish"):
        p = run("cloud", "completion", shell)
        assert p.returncode == 0 and "__complete" in p.stdout, p
    assert run("completion", "bash", prog=PCC).stdout == \
        run("cloud", "completion", "bash").stdout
    p = run("cloud", "completion", "tcsh")
    assert p.returncode == 2 and "bash, zsh or fish" in p.stderr, p
    assert run("cloud", "completion").returncode == 2
    if shutil.which("bash"):
        p = subprocess.run(["bash", "-n"], input=run("cloud", "completion", "bash").stdout,
                           capture_output=True, text=True)
        assert p.returncode == 0, p


def test_help_and_version_commands():
    assert run("cloud", "help", "agent", "logs").stdout == \
        run("cloud", "agent", "logs", "--help").stdout
    assert run("help", "agent", "logs").stdout == run("cloud", "agent", "logs", "--help").stdout
    assert run("help", "cloud", "secrets").stdout == run("cloud", "secrets", "--help").stdout
    assert run("cloud", "help").stdout == run("cloud", "--help").stdout
    assert run("help").stdout == run("--help").stdout
    p = run("cloud", "help", "bogus")
    assert p.returncode == 2 and "unknown command group" in p.stderr, p
    version = run("--version").stdout
    assert version.startswith("pipecat (pcc) ")
    assert run("version").stdout == run("cloud", "version").stdout == version
    assert run("version", prog=PCC).stdout == version


def test_man_pages_are_generated_for_every_command(tmp_path):
    p = subprocess.run([sys.executable, str(REPO / "scripts" / "cli-docs.py"), str(BIN_DIR),
                        "--man", str(tmp_path)], capture_output=True, text=True)
    assert p.returncode == 0, p
    pages = {f.name for f in tmp_path.glob("*.1")}
    docs = {f"pipecat-cloud-{f.stem}.1" for f in (REPO / "docs" / "cli").glob("*.md")
            if f.name != "README.md"}
    assert docs <= pages and {"pipecat.1", "pccd.1"} <= pages, pages ^ docs
    logs = (tmp_path / "pipecat-cloud-agent-logs.1").read_text()
    assert ".SH OPTIONS" in logs and "\\-\\-limit LIMIT" in logs, logs
    assert logs.startswith('.TH "PIPECAT-CLOUD-AGENT-LOGS" "1"'), logs
