# test_docs.py: the CLI's --help texts and its pages under docs/cli/ agree (STYLE.md rule 16).
import re
import subprocess
from functools import lru_cache

import pytest

from conftest import BIN_DIR, REPO

# One page per command: <group>-<command>.md, nested groups joined by '-'
# (organizations-keys-list.md), a top-level command under its own name (deploy.md).
PAGES = sorted(p for p in (REPO / "docs" / "cli").glob("*.md") if p.name != "README.md")


def help_of(words):
    p = subprocess.run([str(BIN_DIR / "pipecat"), "cloud", *words, "--help"],
                       capture_output=True, text=True)
    assert p.returncode == 0, (words, p.stderr)
    return p.stdout


def entries(text, heading):
    """The names listed under `heading:` in a help text, up to the next blank line."""
    if f"\n{heading}:\n" not in "\n" + text:
        return []
    block = ("\n" + text).split(f"\n{heading}:\n", 1)[1].split("\n\n", 1)[0]
    names = re.findall(r"^  (\S+)\s", block, re.M)
    assert len(names) == len(block.splitlines()), f"malformed {heading} list:\n{block}"
    return names


@lru_cache(maxsize=None)
def commands():
    """{page stem: the command's words}, walking every group from `pipecat cloud --help`."""
    found = {}

    def walk(words):
        text = help_of(words)
        for c in entries(text, "commands"):
            found["-".join(words + [c])] = tuple(words + [c])
        for g in entries(text, "groups"):
            walk(words + [g])

    walk([])
    return found


def test_every_command_has_a_page():
    found = commands()
    assert len(found) > 10, found
    assert sorted(found) == sorted(p.stem for p in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_shows_the_current_help(page):
    words = commands().get(page.stem)
    assert words, f"{page} documents no command listed by `pipecat cloud ... --help`"
    help_text = help_of(list(words))
    assert "```\n" + help_text + "```" in page.read_text(), \
        f"{page} does not show the output of `pipecat cloud {' '.join(words)} --help`"


def test_pages_are_generated():
    """`make docs` has been run: no page, nor the list in docs/cli/README.md, would change."""
    p = subprocess.run(["python3", str(REPO / "scripts" / "cli-docs.py"), str(BIN_DIR), "--check"],
                       capture_output=True, text=True)
    assert p.returncode == 0, "docs/cli is out of date; run `make docs`:\n" + p.stdout + p.stderr
