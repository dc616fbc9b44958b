# test_docs.py: the CLI's --help texts and its pages under docs/cli/ agree (STYLE.md rule 16).
import re
import subprocess
from pathlib import Path

import pytest

from conftest import BIN_DIR, REPO

PAGES = sorted((REPO / "docs" / "cli").glob("*-*.md"))


def test_every_command_has_a_page():
    listed = subprocess.run([str(BIN_DIR / "pipecat"), "cloud", "--help"], capture_output=True,
                            text=True).stdout
    groups = re.findall(r"^  (\S+)\s", listed.split("groups:")[1], re.M)
    commands = []
    for g in groups:
        out = subprocess.run([str(BIN_DIR / "pipecat"), "cloud", g, "--help"],
                             capture_output=True, text=True).stdout
        commands += [f"{g}-{c}" for c in re.findall(r"^  (\S+)\s", out.split("commands:")[1],
                                                    re.M)]
    assert commands, listed
    assert sorted(commands) == sorted(p.stem for p in PAGES)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_shows_the_current_help(page):
    group, command = page.stem.split("-", 1)
    help_text = subprocess.run([str(BIN_DIR / "pipecat"), "cloud", group, command, "--help"],
                               capture_output=True, text=True, check=True).stdout
    assert "```\n" + help_text + "```" in page.read_text(), \
        f"{page} does not show the output of `pipecat cloud {group} {command} --help`"
