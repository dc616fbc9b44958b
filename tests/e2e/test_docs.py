# test_docs.py: the CLI's --help texts and its pages under docs/cli/ agree (docs/engineering.md rule 21),
# and every route the documentation names (`METHOD /path`) is served by pccd.
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


# --- every route named in the documentation exists ------------------------------------------

# docs/runtime.md names the endpoints pccd calls (the container engine's, Kubernetes', the agent
# container's), not the ones it serves.
NOT_PCCD = {REPO / "docs" / "runtime.md"}
DOC_FILES = sorted(set((REPO / "docs").rglob("*.md")) - NOT_PCCD) + [REPO / "README.md"]
METHODS = "GET|POST|PUT|PATCH|DELETE|HEAD"
# `GET /v1/users`, `GET/POST .../apiKeys`, `GET|POST /v1/...`: one or more methods, then a path
# from the root or relative to the organization (`...` is /v1/organizations/{org} throughout
# the documentation). The path stops at an optional query (`?`, `[`) or the end of the span.
ROUTE_RE = re.compile(r"\b((?:%s)(?:[/|](?:%s))*) +((?:\.\.\.)?/[A-Za-z0-9_{}.\-/]*)"
                      % (METHODS, METHODS))
ORG_PREFIX = "/v1/organizations/{org}"


def documented_routes():
    """{(method, path): [where, ...]} for every route the documentation names."""
    found = {}
    for f in DOC_FILES:
        for n, line in enumerate(f.read_text().splitlines(), 1):
            for m in ROUTE_RE.finditer(line):
                path = m.group(2).rstrip(".")
                if path.startswith("..."):
                    path = ORG_PREFIX + path[3:]
                for method in re.split(r"[/|]", m.group(1)):
                    where = f"{f.relative_to(REPO)}:{n}"
                    found.setdefault((method, path), []).append(where)
    return found


ROUTES = documented_routes()


def test_the_documentation_names_routes():
    assert len(ROUTES) > 40, sorted(ROUTES)
    assert ("GET", "/v1/organizations") in ROUTES
    assert ("DELETE", "/v1/organizations/{org}/secrets/{set}/{key}") in ROUTES


@pytest.mark.parametrize("method, path", sorted(ROUTES), ids=lambda v: v)
def test_every_documented_route_exists(shared_server, method, path):
    """pccd's router answers an unknown path with 404 "no such endpoint" and a known path
    with another method with 405; any other answer (401 before authentication, the handler's
    own 400 or 404) means the route is there. No token is sent, so nothing is changed."""
    concrete = re.sub(r"\{[^}/]+\}", "p1", path)
    r = shared_server.request(method, concrete, token=None, check_json=False,
                              json_body={} if method in ("POST", "PUT", "PATCH") else None)
    where = ", ".join(ROUTES[(method, path)])
    assert r.status != 405, f"{method} {path} ({where}): pccd serves that path, not that method"
    assert not (r.status == 404 and isinstance(r.body, dict)
                and r.body.get("error") == "no such endpoint"), \
        f"{method} {path} ({where}): no such route in pccd"


def test_the_project_cites_only_its_own_files():
    """The repository stands alone: nothing in it points at design notes kept outside it."""
    outside = ["../" + "shared", "STYLE" + ".md", "DESIGN" + ".md", "API-" + "COMPAT"]
    files = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                           check=True).stdout.split()
    found = []
    for name in files:
        path = REPO / name
        if path.suffix in (".png", ".gz") or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found += [f"{name}: {w}" for w in outside if w in text]
    assert not found, "cites files outside the repository:\n" + "\n".join(found)
