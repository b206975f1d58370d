"""``giamngheo review``: the registry of review rounds (record, close, history, flows, support,
verify, export)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from cli.console import say, word
from cli.options import (
    as_of_option,
    cluster_option,
    lang_option,
    rulebook,
    rules_option,
    verify_options,
)
from engine.errors import RegistryError
from engine.registry import history
from engine.registry.store import open_registry
from engine.text import format_number
from household_models.vocab import code_label

if TYPE_CHECKING:
    from engine.results.classify import BatchResult
    from household_models.batch import ParsedBatch
    from household_models.side import SideTable

# The commands that classify, write files or rebuild traces load those modules (and pandas)
# when they run, so that ``review history`` and ``review flows`` start in a fraction of a second.

F = TypeVar("F", bound=Callable[..., Any])


def registry_option(required: bool = True) -> Callable[[F], F]:
    return click.option("--registry", "registry_path", required=required,
                        type=click.Path(path_type=Path, dir_okay=False),
                        help="the registry file (DuckDB), e.g. hungyen.duckdb")  # fmt: skip


def round_option(required: bool = True) -> Callable[[F], F]:
    return click.option("--round", "round_name", required=required,
                        help="the review round's name, e.g. 2025")  # fmt: skip


@click.group("review")
def review_group() -> None:
    """The registry of review rounds: every decision kept across years.

    \b
    Examples:
      giamngheo review record survey-2025.xlsx --registry hungyen.duckdb --round 2025 \\
          --as-of 2025-10-15 -o results-2025.xlsx
      giamngheo review close --registry hungyen.duckdb --round 2025
      giamngheo review history --registry hungyen.duckdb --household HY-00123
      giamngheo review flows --registry hungyen.duckdb --round 2025 --format json
      giamngheo review verify --registry hungyen.duckdb
    """


def _side(path: Path | None, name: str) -> SideTable | None:
    if path is None:
        return None
    from household_models.side import read_side_table

    table = read_side_table(path, name)
    _refuse_bad_rows(table, path)
    return table


def _refuse_bad_rows(table: SideTable, path: Path) -> None:
    if not table.errors:
        return
    for e in table.errors[:50]:
        say(f"  {e['file']} [{e['sheet']}] dòng/row {e['row']} {e['column']} '{e['value']}': "
            f"{e['message_vi']} / {e['message_en']}", style="red")  # fmt: skip
    raise RegistryError("registry_rows_invalid", table=table.name, path=path,
                        count=len(table.errors))  # fmt: skip


@review_group.command("record")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@registry_option()
@round_option()
@as_of_option()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="also write the results, as classify -o does")  # fmt: skip
@click.option("--decisions", "decisions_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="the commune's decisions: household, recognised class, "
              "decision number and date (.xlsx, .csv, .parquet)")  # fmt: skip
@click.option("--events", "events_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="household changes since the last round: moved in or out, "
              "split, merged, dissolved (.xlsx, .csv, .parquet)")  # fmt: skip
@click.option("--kind", type=click.Choice(["annual", "regular", "complaint"]), default="annual",
              show_default=True, help="the review this recording comes from: the annual "
              "review (định kỳ), a regular one during the year (thường xuyên) or a complaint "
              "(khiếu nại)")  # fmt: skip
@lang_option("language of the texts of the results")
@rules_option()
@verify_options
@cluster_option()
def record_cmd(inputs: tuple[Path, ...], registry_path: Path, round_name: str, as_of: dt.date,
               output: Path | None, decisions_path: Path | None, events_path: Path | None,
               kind: str, lang: str, rules_dir: Path | None, verify: float,
               verify_max: int, cluster: str | None) -> None:  # fmt: skip
    """Classify a survey batch as classify does and record it in a round of the registry.

    The households' previous status and the date they left the list come from the earlier
    rounds; recording a household again in an open round adds an assessment that supersedes
    the earlier one. A partitioned dataset folder (as classify takes) is recorded partition
    by partition, here or on Dask with --cluster, in one transaction.
    """
    done = record_inputs(list(inputs), registry_path, round_name, as_of, output=output,
                         decisions_path=decisions_path, events_path=events_path, kind=kind,
                         lang=lang, rules_dir=rules_dir, verify=verify, verify_max=verify_max,
                         cluster=cluster)  # fmt: skip
    say(word("review_recorded", registry=registry_path, round=round_name, **{
        k: done[k] for k in ("recording", "households", "superseded", "listed")}))  # fmt: skip
    for flow, n in sorted(done["flows"].items()):
        say(word("review_flows_line", flow=_flow(flow), households=int(n)))


def record_inputs(inputs: list[Path], registry_path: Path, round_name: str, as_of: dt.date, *,
                  output: Path | None = None, decisions_path: Path | None = None,
                  events_path: Path | None = None, kind: str = "annual", lang: str = "vi",
                  rules_dir: Path | None = None, verify: float = 0.01,
                  verify_max: int | None = None, cluster: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Classify the survey files (or a partitioned dataset folder) as ``classify`` does and
    record them in a round: what ``review record`` does (and the page's registry tab).
    Returns what was recorded."""
    from cli.classify import classify_and_report
    from engine.evaluators import CROSSCHECK_MAX
    from engine.files import check_target
    from engine.registry.record import begin_round, check_decisions, prepare_batch, record
    from engine.results.outputs import output_paths

    verify_max = CROSSCHECK_MAX if verify_max is None else verify_max
    options = {"kind": kind, "verify": verify, "verify_max": verify_max, "lang": lang,
               "decisions": decisions_path.name if decisions_path else None,
               "events": events_path.name if events_path else None}  # fmt: skip
    if len(inputs) == 1 and inputs[0].is_dir():
        from cli.national import record_dataset_inputs

        if decisions_path is not None or events_path is not None:
            raise click.UsageError(word("dataset_side_tables"))
        return record_dataset_inputs(inputs[0], registry_path, round_name, as_of, output=output,
                                     options=options, lang=lang, rules_dir=rules_dir,
                                     verify=verify, verify_max=verify_max, cluster=cluster)  # fmt: skip
    if cluster is not None:
        raise click.UsageError(word("cluster_needs_dataset"))
    started = time.perf_counter()
    book = rulebook(rules_dir, as_of)
    if output is not None:
        for target in output_paths(output).values():
            check_target(target, [*inputs, registry_path])
    decisions, events = _side(decisions_path, "decisions"), _side(events_path, "events")
    reg = open_registry(registry_path, write=True, create=True)
    plan = None
    try:
        plan = begin_round(reg, round_name, as_of)

        done: dict[str, Any] = {}

        def prepare(batch: ParsedBatch) -> ParsedBatch:
            assert plan is not None
            return prepare_batch(reg, plan, batch)

        def classified(batch: ParsedBatch, result: BatchResult) -> None:
            """Recorded before the outputs are written (their last rows are inserted while
            the outputs are), committed once they are and the cross-check agreed."""
            assert plan is not None
            if decisions is not None and decisions_path is not None:
                check_decisions(decisions, batch, round_name)
                _refuse_bad_rows(decisions, decisions_path)
            side = [p for p in (decisions_path, events_path) if p is not None]
            done.update(record(reg, plan, batch, result, book, [*inputs, *side], options,
                               decisions, events))  # fmt: skip

        classify_and_report(inputs, output, book, as_of, lang, "vectorised", verify, verify_max,
                            os.cpu_count() or 1, None, started, prepare, classified)  # fmt: skip
        reg.commit()
    finally:
        if plan is not None:
            plan.close()
        reg.close()
    return done


@review_group.command("close")
@registry_option()
@round_option()
def close_cmd(registry_path: Path, round_name: str) -> None:
    """Close (seal) a round: nothing more is recorded in it; its root hash is kept."""
    from engine.registry.record import close_round

    reg = open_registry(registry_path, write=True)
    try:
        root = close_round(reg, round_name)
    finally:
        reg.close()
    say(word("review_closed", round=round_name, root=root))


@review_group.command("history")
@registry_option()
@click.option("--household", "household_id", required=True, help="the household id (mã hộ)")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True)  # fmt: skip
def history_cmd(registry_path: Path, household_id: str, fmt: str) -> None:
    """Every round of one household: class, statuses, what was recommended, what was given."""
    reg = open_registry(registry_path)
    try:
        rounds = history.household_history(reg, household_id)
    finally:
        reg.close()
    if fmt == "json":
        click.echo(json.dumps({"household_id": household_id, "rounds": rounds},
                              ensure_ascii=False, indent=2))  # fmt: skip
        return
    for r in rounds:
        engine = "" if r["class"] == r["recognised_class"] else \
            word("review_history_engine", cls=_class(r["class"]))  # fmt: skip
        click.echo(word("review_history_round", round=r["round"], as_of=r["as_of"],
                        recognised=_class(r["recognised_class"]), engine=engine,
                        flow=_flow(r["flow"])))  # fmt: skip
        if r["decision_no"]:
            click.echo(word("review_history_decision", number=r["decision_no"],
                            date=r["decision_date"] or "—"))  # fmt: skip
        if r["statuses"]:
            click.echo(word("review_history_statuses", statuses=r["statuses"]))
        click.echo(word("review_history_recommended", actions=r["recommendations"] or "—"))
        if not r["delivered"]:
            click.echo(word("review_history_none"))
        for d in r["delivered"]:
            member = f"[{d['member_no']}]" if d["member_no"] is not None else ""
            amount = f"{format_number(d['amount_vnd'])} đồng" if d["amount_vnd"] else ""
            click.echo(word("review_history_delivered", action=d["action_id"], member=member,
                            date=d["delivered_on"], amount=amount,
                            programme=d["programme"] or "—"))  # fmt: skip


def _flow(code: str) -> str:
    try:
        return f"{word('flow.' + code)} ({code})"
    except KeyError:
        return code


def _class(code: str) -> str:
    """A class as people read it: its Vietnamese label, then its code."""
    label = code_label("previous_status", code)
    return f"{label} ({code})" if label != code else code


@review_group.command("flows")
@registry_option()
@round_option()
@click.option("--format", "fmt", type=click.Choice(["text", "json", "xlsx"]), default="text",
              show_default=True)  # fmt: skip
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="write to this file (required for xlsx)")  # fmt: skip
def flows_cmd(registry_path: Path, round_name: str, fmt: str, output: Path | None) -> None:
    """The flows of poor and near-poor households in a round, by district and commune."""
    if fmt == "xlsx" and output is None:
        raise click.UsageError("--format xlsx needs -o FILE.xlsx")
    if output is not None:
        from engine.files import check_target

        check_target(output, [registry_path])
    reg = open_registry(registry_path)
    try:
        history.require_round(reg, round_name)
        data = history.flows(reg, round_name)
    finally:
        reg.close()
    if fmt == "xlsx":
        assert output is not None
        import pandas as pd

        from engine.files import write_tables

        for path in write_tables({"flows": pd.DataFrame(data["rows"])}, output, workbook=True):
            say(word("written", path=path))
        return
    text = json.dumps(data, ensure_ascii=False, indent=2) if fmt == "json" else _flows_text(data)
    if output is None:
        click.echo(text)
        return
    from engine.files import write_text

    say(word("written", path=write_text(output, text + "\n")))


def _flows_text(data: dict[str, Any]) -> str:
    """One right-aligned table per list and unit: district, commune and the flow keys."""
    parts: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in data["rows"]:
        parts.setdefault((row["list"], row["unit"]), []).append(row)
    lines = [f"{data['round']} ({data['as_of']}), kỳ trước / previous: "
             f"{data['previous_round'] or '—'}"]
    for (lst, unit), rows in parts.items():
        header = ["district", "commune", *history.FLOW_KEYS[lst]]
        cells = [header] + [[
            "Tổng / total" if r["level"] == "total" else r["district"], r["commune"],
            *(str(r[k]) for k in header[2:])] for r in rows]  # fmt: skip
        widths = [max(len(c[i]) for c in cells) for i in range(len(header))]
        lines.append(f"\n{lst} / {unit}")
        lines += [" ".join(c.rjust(w) for c, w in zip(line, widths, strict=True))
                  for line in cells]  # fmt: skip
    return "\n".join(lines)


@review_group.command("support")
@registry_option()
@round_option()
@click.argument("table", type=click.Path(path_type=Path, dir_okay=False))
@rules_option()
def support_cmd(registry_path: Path, round_name: str, table: Path,
                rules_dir: Path | None) -> None:  # fmt: skip
    """Record support actually delivered (household, member, action, date, amount,
    programme, decision number) against a round."""
    from engine.registry.support import record_support
    from household_models.side import read_side_table

    rows = read_side_table(table, "support")
    reg = open_registry(registry_path, write=True)
    try:
        history.require_round(reg, round_name)
        n = record_support(reg, round_name, rows, table, rulebook(rules_dir))
        _refuse_bad_rows(rows, table)
    finally:
        reg.close()
    say(word("review_support", rows=n, round=round_name))


@review_group.command("verify")
@registry_option()
def verify_cmd(registry_path: Path) -> None:
    """Recompute every hash of the registry; exit 1 naming the first row that differs."""
    from engine.registry import audit

    reg = open_registry(registry_path)
    try:
        found = audit.verify(reg)
    finally:
        reg.close()
    say(word("review_verified", **found))


@review_group.command("export")
@registry_option()
@round_option()
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="folder to write the round's tables (Parquet) and manifest.json into")  # fmt: skip
@click.option("--without-names", is_flag=True, help="leave the names and id numbers out")
def export_cmd(registry_path: Path, round_name: str, output: Path, without_names: bool) -> None:
    """Write every table of a round as Parquet, with a manifest of SHA-256 sums."""
    from engine.registry import audit

    reg = open_registry(registry_path)
    try:
        written = audit.export(reg, round_name, output, not without_names)
    finally:
        reg.close()
    say(word("review_exported", round=round_name, files=len(written),
             names=word("review_without_names") if without_names else ""))  # fmt: skip
    say(word("written", path=output / "manifest.json"))

