# cli-docs.py BIN_DIR [--check | --man DIR]: `make docs`. Regenerates docs/cli/ from the CLI's
# own --help (itself generated from the command table and each command's option table): the help
# block of every page, a new page for a new command, and the command list of docs/cli/README.md.
# The prose around the help block is kept. --check changes nothing and exits 1 if a page would
# change. --man DIR writes the man pages instead (`make man`): pipecat(1), one per command
# (pipecat-cloud-agent-logs(1), ...) and pccd(1), from the same --help texts.
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


def roff(text):
    """text escaped for troff, line by line."""
    out = []
    for line in text.split("\n"):
        line = line.replace("\\", "\\e").replace("-", "\\-")
        out.append("\\&" + line if line[:1] in (".", "'") else line)
    return "\n".join(out)


def man_page(name, summary, help_text, version, see_also):
    """A man page (section 1) from a --help text: usage, description, Options:, Examples:."""
    usage, _, rest = help_text.partition("\n\n")
    desc, _, rest = ("\n" + rest).partition("\nOptions:\n")
    opts, _, rest = rest.partition("\n\n")
    examples = rest.split("Examples:\n", 1)[1] if "Examples:\n" in rest else ""
    page = [f'.TH "{name.upper()}" "1" "" "pcc {version}" "pcc manual"',
            ".SH NAME", f"{name} \\- {roff(summary)}",
            ".SH SYNOPSIS", ".nf", roff(usage.removeprefix("usage: ")), ".fi"]
    if desc.strip():
        page += [".SH DESCRIPTION", ".nf", roff(desc.strip("\n")), ".fi"]
    rows = []
    for line in opts.split("\n"):
        if not line.strip():
            continue
        if line.startswith(" " * 27):
            rows[-1][1].append(line.strip())
        elif len(line) > 27 and line[26] == " ":  # "  SPEC(padded to 24) TEXT"
            rows.append([line[2:26].strip(), [line[27:].strip()]])
        else:  # a SPEC wider than the column stands alone; its text follows
            rows.append([line.strip(), []])
    if rows:
        page.append(".SH OPTIONS")
        for spec, text in rows:
            page += [".TP", f"\\fB{roff(spec)}\\fR", roff(" ".join(text))]
    if examples.strip():
        page += [".SH EXAMPLES", ".nf", roff(examples.strip("\n")), ".fi"]
    if see_also:
        page += [".SH SEE ALSO", ", ".join(f"\\fB{s}\\fR(1)" for s in see_also)]
    return "\n".join(page) + "\n"


def write_man(bin_dir, out):
    binary = str(Path(bin_dir) / "pipecat")
    out.mkdir(parents=True, exist_ok=True)
    version = subprocess.run([binary, "--version"], capture_output=True,
                             text=True).stdout.split()[-1]
    cmds = commands(binary)
    names = ["pipecat-cloud-" + "-".join(w) for w, _ in cmds]
    root = subprocess.run([binary, "--help"], capture_output=True, text=True).stdout
    root += "\n" + run(binary, [])
    (out / "pipecat.1").write_text(man_page("pipecat", "the Pipecat command-line client",
                                            root, version, names + ["pccd"]))
    for (words, summary), name in zip(cmds, names):
        (out / f"{name}.1").write_text(man_page(name, summary, run(binary, words), version,
                                                ["pipecat"]))
    pccd = str(Path(bin_dir) / "pccd")
    text = subprocess.run([pccd, "--help"], capture_output=True, text=True).stdout
    for sub, _ in entries(text, "commands"):
        sub_help = subprocess.run([pccd, sub, "--help"], capture_output=True, text=True).stdout
        text += f"\n\n{sub_help}"
    (out / "pccd.1").write_text(man_page("pccd", "the pcc server", text, version, ["pipecat"]))
    print(f"cli-docs: {len(cmds) + 2} man pages in {out}")


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: cli-docs.py BIN_DIR [--check | --man DIR]")
    if "--man" in sys.argv[2:]:
        write_man(sys.argv[1], Path(sys.argv[sys.argv.index("--man") + 1]))
        return
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
