"""The documentation covers what the package has: every command, every condition operator,
every error code, every survey column and code; and the README's examples are commands that
exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click

from cli.main import main
from engine.errors import catalogue
from engine.rulebook.conditions import CONDITION_KEYS, EXPRESSION_KEYS
from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS
from household_models.vocab import messages, vocabulary
from tests.helpers import ROOT, run

DOCS = ROOT / "docs"


def docs_text() -> str:
    return "\n".join(p.read_text("utf-8") for p in sorted(DOCS.glob("*.md")))


def commands(group: click.Group, prefix: str = "giamngheo") -> list[str]:
    out = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            out += commands(command, f"{prefix} {name}")
        else:
            out.append(f"{prefix} {name}")
    return out


def test_every_command_is_documented() -> None:
    text = (DOCS / "commands.md").read_text("utf-8")
    missing = [c for c in commands(main) if f"`{c}`" not in text]
    assert missing == []
    assert "giamngheo test" in commands(main)


def test_every_condition_operator_is_documented() -> None:
    text = (DOCS / "rulebook.md").read_text("utf-8")
    missing = [k for k in (*CONDITION_KEYS, *EXPRESSION_KEYS) if f"{k}:" not in text]
    assert missing == []


def test_every_error_code_and_exit_code_is_documented() -> None:
    text = (DOCS / "errors.md").read_text("utf-8")
    missing = [code for code in (*catalogue(), *messages()) if f"`{code}`" not in text]
    assert missing == []
    for exit_code in range(5):
        assert re.search(rf"^\| {exit_code} \|", text, re.M), exit_code


def test_every_column_and_code_is_documented() -> None:
    text = (DOCS / "input-format.md").read_text("utf-8")
    for spec in (*HOUSEHOLD_SPECS, *MEMBER_SPECS):
        assert f"| `{spec.name}` | {spec.vi} |" in text, spec.name
    for domain, codes in vocabulary()["codes"].items():
        assert f"**`{domain}`**" in text, domain
        for code, entry in codes.items():
            assert f"| `{code}` | {entry['vi']} | {entry['en']} |" in text, (domain, code)


def test_docs_links_resolve() -> None:
    for page in [ROOT / "README.md", *DOCS.glob("*.md")]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text("utf-8")):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.name}: {target}"


def test_readme_examples_are_real_commands() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    known = commands(main)
    for line in re.findall(r"^(giamngheo [a-z]+(?: [a-z]+)?)", readme, re.M):
        assert any(line.startswith(c) or c.startswith(line) for c in known), line


def test_every_readme_command_runs_as_written(tmp_path: Path, monkeypatch: Any) -> None:
    """The README's commands, from a folder laid out like the repository root."""
    readme = (ROOT / "README.md").read_text("utf-8")
    for folder in ("examples", "rules", "tests"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"```sh\n(.*?)```", readme, re.S)
    lines = [line.split("#")[0].strip() for block in blocks
             for line in block.replace("\\\n", " ").splitlines()]  # fmt: skip
    commands = [line for line in lines if line.startswith("giamngheo ")]
    assert len(commands) >= 6
    # ``giamngheo serve`` serves until stopped: here its server answers one page, then stops,
    # and the browser it would open is noted instead
    import webbrowser

    import uvicorn
    from fastapi.testclient import TestClient

    served: list[int] = []

    def serve_once(server: Any) -> None:
        server.started = True
        with TestClient(server.config.app) as client:
            served.append(client.get("/").status_code)

    monkeypatch.setattr(uvicorn.Server, "run", serve_once)
    monkeypatch.setattr(webbrowser, "open", lambda url: served.append(url))
    for line in commands:
        code, out = run(*shlex.split(line)[1:])
        assert code == 0, (line, out)
    assert 200 in served  # the page of ``giamngheo serve`` answered
    for block in re.findall(r"```python\n(.*?)```", readme, re.S):
        exec(compile(block, "README.md", "exec"), {})  # noqa: S102 - the README's own example


def test_every_limit_is_documented_with_its_value() -> None:
    from engine.loader import problems, yamlio
    from engine.trace import replay
    from household_models import readers, vocab

    text = (DOCS / "input-format.md").read_text("utf-8")
    for module, name in ((readers, "MAX_INPUT_BYTES"), (readers, "MAX_COLUMNS"),
                         (readers, "MAX_SHEET_BYTES"), (vocab, "MAX_DIGITS"),
                         (problems, "MAX_VALUE_DIGITS"), (yamlio, "MAX_YAML_NODES"),
                         (yamlio, "MAX_YAML_DEPTH"), (replay, "MAX_TRACE_BYTES"),
                         (problems, "MAX_PROBLEMS")):  # fmt: skip
        value = f"{getattr(module, name):,}"
        assert re.search(rf"\| `{name}` \| {re.escape(value)} ", text), name
