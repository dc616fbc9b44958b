# cli-docs.py BIN_DIR [--check]: `make docs`. Regenerates docs/cli/ from the CLI's own --help
# (itself generated from the command table and each command's option table): the help block of
# every page, a new page for a new command, and the command list of docs/cli/README.md. The
# prose around the help block is kept. --check changes nothing and exits 1 if a page would change.
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs" / "cli"


def run(binary, words):
    p = subprocess.run([binary, "cloud", *words, "--help"], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"cli-docs: `pipecat cloud {' '.join(words)} --help` failed: {p.stderr}")
    return p.stdout


def entries(text, heading):
    """(name, summary) listed under `heading:` in a help text, up to the next blank line."""
    if f"\n{heading}:\n" not in "\n" + text:
        return []
    block = ("\n" + text).split(f"\n{heading}:\n", 1)[1].split("\n\n", 1)[0]
    return re.findall(r"^  (\S+)\s+(.*)$", block, re.M)


def commands(binary):
    """[(words, summary)] in the order `pipecat cloud --help` and the group helps list them."""
    found = []

    def walk(words):
        text = run(binary, words)
        for name, summary in entries(text, "commands"):
            found.append((words + [name], summary))
        for name, _ in entries(text, "groups"):
            walk(words + [name])

    walk([])
    return found


def page_text(old, words, summary, help_text):
    block = "```\n" + help_text + "```\n"
    if old is None:
        title = "# pipecat cloud " + " ".join(words)
        return f"{title}\n\n{summary[0].upper()}{summary[1:]}.\n\n{block}"
    # The first fenced block is the help; everything else is kept.
    return re.sub(r"```\n.*?```\n", lambda _: block, old, count=1, flags=re.S)


def readme_text(old, cmds):
    rows = "".join(f"| `{' '.join(w)}` | [{'-'.join(w)}.md]({'-'.join(w)}.md) |\n"
                   for w, _ in cmds)
    head, sep, rest = old.partition("| command | page |\n|---|---|\n")
    tail = re.sub(r"^(\|.*\n)*", "", rest, count=1)
    return head + sep + rows + tail


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: cli-docs.py BIN_DIR [--check]")
    binary = str(Path(sys.argv[1]) / "pipecat")
    check = "--check" in sys.argv[2:]
    cmds = commands(binary)
    stale = []
    wanted = {"README.md"}
    for words, summary in cmds:
        path = DOCS / ("-".join(words) + ".md")
        wanted.add(path.name)
        old = path.read_text() if path.exists() else None
        new = page_text(old, words, summary, run(binary, words))
        if new != old:
            stale.append(path)
            if not check:
                path.write_text(new)
    readme = DOCS / "README.md"
    old = readme.read_text()
    new = readme_text(old, cmds)
    if new != old:
        stale.append(readme)
        if not check:
            readme.write_text(new)
    orphans = sorted(p.name for p in DOCS.glob("*.md") if p.name not in wanted)
    for p in stale:
        print(f"cli-docs: {'stale' if check else 'wrote'} {p.relative_to(REPO)}")
    for name in orphans:
        print(f"cli-docs: docs/cli/{name} documents no command (remove it)")
    sys.exit(1 if check and (stale or orphans) else 0)


if __name__ == "__main__":
    main()
