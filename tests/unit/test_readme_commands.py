"""Every `copytrade …` command the README and the docs show exists, with the options they
give it (read from the Typer app's own command tree, nothing run)."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import typer

from config.settings import ROOT
from core.cli import app

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def commands() -> list[tuple[str, str]]:
    """(file, command line) for every line of a code block that starts with `copytrade `,
    continuation lines joined."""
    found = []
    for path in DOCS:
        text = path.read_text()
        for block in re.findall(r"```[a-z]*\n(.*?)```", text, re.S):
            joined = re.sub(r"\\\n\s*", " ", block)
            for line in joined.splitlines():
                line = line.strip()
                if line.startswith("copytrade ") and "─" not in line:  # not a diagram
                    found.append((path.name, line.split("  #")[0].split(" #")[0].strip()))
    return found


def resolve(line: str) -> tuple[Any, list[str]]:
    """The command a line names (typer's own click objects) and the options it passes."""
    words = shlex.split(line.replace("…", "X"))[1:]
    cmd: Any = typer.main.get_command(app)
    while hasattr(cmd, "commands") and words and words[0] in cmd.commands:
        cmd = cmd.commands[words.pop(0)]
    return cmd, [w.split("=")[0] for w in words if w.startswith("--")]


@pytest.mark.parametrize(("where", "line"), commands())
def test_a_documented_command_exists_with_its_options(where: str, line: str) -> None:
    cmd, options = resolve(line)
    assert not hasattr(cmd, "commands"), f"{where}: `{line}` names no command"
    known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
    unknown = [o for o in options if o not in known]
    assert not unknown, f"{where}: `{line}`: {unknown} not options of {cmd.name}"


def test_the_docs_show_commands() -> None:
    assert len(commands()) > 30
