"""``giamngheo explain``: how one household's class and support came about, clause by clause;
and the replay of a recorded trace."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path
from typing import Any

import click

from cli.console import say, word
from cli.options import as_of_option, lang_option, rulebook, rules_option
from engine.errors import CheckFailed, TraceError
from engine.files import check_target, write_text
from engine.rulebook import Rulebook
from engine.trace.build import build_trace, to_json
from engine.trace.render import render_text, render_trace_html
from engine.trace.replay import MAX_TRACE_BYTES, read_trace, replay
from household_models import parse_batch, read_survey


@click.command("explain")
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--household", "household_id", help="the household id (mã hộ) to explain")
@as_of_option(required=False)
@lang_option()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text",
              show_default=True, help="text for people, json for machines (the trace), html "
              "for a page that opens offline")  # fmt: skip
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="write to this file instead of the screen")  # fmt: skip
@click.option("--replay", "replay_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="re-run a JSON trace and check it gives the same bytes")  # fmt: skip
@rules_option()
@click.option("--registry", "registry_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="explain a household as recorded in this registry (with "
              "--round): from its stored inputs and rulebook, after rules/ changed and the "
              "survey files are gone")  # fmt: skip
@click.option("--round", "round_name", default=None, help="the review round (with --registry)")
def explain_cmd(inputs: tuple[Path, ...], household_id: str | None, as_of: dt.date | None,
                lang: str, fmt: str, output: Path | None, replay_path: Path | None,
                rules_dir: Path | None, registry_path: Path | None,
                round_name: str | None) -> None:  # fmt: skip
    """Explain how one household's class and support came about, clause by clause.

    \b
    Examples:
      giamngheo explain survey.xlsx --household HY-001 --as-of 2025-06-30
      giamngheo explain survey.xlsx --household HY-001 --as-of 2025-06-30 --lang en
      giamngheo explain survey.xlsx --household HY-001 --as-of 2025-06-30 --format json -o t.json
      giamngheo explain --replay t.json
      giamngheo explain --registry hungyen.duckdb --round 2024 --household HY-001
    """
    if replay_path is not None:
        _replay(replay_path, rules_dir)
        return
    if registry_path is not None:
        if not household_id or not round_name or inputs or as_of is not None:
            raise click.UsageError("with --registry give --round and --household (no INPUTS, "
                                   "no --as-of: they are the recorded ones)")  # fmt: skip
        if output is not None:
            check_target(output, [registry_path])
        trace, book, note = _from_registry(registry_path, round_name, household_id)
    else:
        if not inputs or not household_id or as_of is None:
            raise click.UsageError("give INPUTS, --household and --as-of (or --replay FILE, "
                                   "or --registry with --round)")  # fmt: skip
        book = rulebook(rules_dir, as_of)
        if output is not None:
            check_target(output, inputs)
        batch = parse_batch(read_survey(list(inputs)))
        trace, note = build_trace(batch, book, as_of, household_id).trace, None
    _show(trace, book, lang, fmt, output)
    if note is not None:
        say(note)


def _from_registry(path: Path, round_name: str,
                   household_id: str) -> tuple[dict[str, Any], Rulebook, str]:  # fmt: skip
    from engine.registry.replay import rebuild
    from engine.registry.store import open_registry

    reg = open_registry(path, write=True)
    try:
        rebuilt = rebuild(reg, round_name, household_id)
    finally:
        reg.close()
    key = "trace_pinned" if rebuilt.recorded_sha256 is None else "trace_same"
    return rebuilt.trace, rebuilt.book, word(key, sha=rebuilt.sha256)


def _show(trace: dict[str, Any], book: Rulebook, lang: str, fmt: str,
          output: Path | None) -> None:  # fmt: skip
    if fmt == "json":
        text = to_json(trace)
    elif fmt == "html":
        text = render_trace_html(trace, book.sources, lang)
    else:
        text = render_text(trace, book.sources, lang)
    if output is None:
        click.echo(text, nl=False)
        return
    write_text(output, text)
    say(word("written", path=output))


def _replay(path: Path, rules_dir: Path | None) -> None:
    book = rulebook(rules_dir)
    try:
        if path.stat().st_size > MAX_TRACE_BYTES:
            raise TraceError("trace_unreadable", path=path,
                             detail=f"larger than {MAX_TRACE_BYTES:,} bytes")  # fmt: skip
        recorded = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TraceError("trace_unreadable", path=path, detail=exc) from None
    again = replay(read_trace(recorded, str(path)), book)
    if again == recorded:
        click.echo(word("identical", path=path, bytes=len(recorded.encode())))
        return
    diff = difflib.unified_diff(recorded.splitlines(), again.splitlines(), "recorded",
                                "replayed", lineterm="", n=1)  # fmt: skip
    click.echo("\n".join(list(diff)[:60]))
    raise CheckFailed("replay_differs", path=path)
