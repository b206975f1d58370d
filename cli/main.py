"""giamngheo command line."""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from engine import OutputError, RulebookError, classify, default_rulebook, load_rulebook
from engine.outputs import output_paths, write_result
from engine.recommend import format_number
from engine.rulebook import provisional_items
from household_models import SurveyReadError, parse_batch, read_survey

PROGRESS_THRESHOLD = 50_000
log = logging.getLogger("giamngheo")


def _date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO date such as 2025-06-30") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="giamngheo")
def main() -> None:
    """giamngheo: phân loại hộ nghèo đa chiều và đề xuất hỗ trợ (Hưng Yên).

    Multidimensional poverty classification and support planning.
    """


@main.command("classify")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="results file: .xlsx (sheets results, errors, summary, recommendations, departments), "
    ".csv or .parquet (one file per table beside it)",
)
@click.option(
    "--as-of",
    "as_of",
    required=True,
    callback=_date,
    help="evaluation date (ISO, e.g. 2025-06-30): picks the standard and parameters",
)
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    default="vi",
    show_default=True,
    help="language of the texts: reasons, actions, triggers, department names",
)
@click.option(
    "--rules",
    "rules_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="rulebook folder (default: the bundled rules/)",
)
@click.option(
    "--engine",
    type=click.Choice(["vectorised", "durable"]),
    default="vectorised",
    show_default=True,
    help="vectorised (fast, whole batch) or durable (durable_rules, household by household)",
)
@click.option(
    "--verify",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="share of households re-evaluated on durable_rules as a cross-check (0 disables)",
)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=None,
    help="worker processes for durable_rules (default: the number of CPUs)",
)
@click.option(
    "--chunk-size",
    type=click.IntRange(1000, None),
    default=None,
    help="classify a Parquet pair larger than memory this many households at a time "
    "(same results; output .parquet or .csv)",
)
@click.option("--scenario", "scenario_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="classify under a policy scenario (YAML, as for simulate) "
              "instead of the rules in force")  # fmt: skip
def classify_cmd(inputs: tuple[Path, ...], output: Path, as_of: dt.date, lang: str,
                 rules_dir: Path | None, engine: str, verify: float,
                 processes: int | None, chunk_size: int | None,
                 scenario_file: Path | None) -> None:  # fmt: skip
    """Classify every household of a survey batch.

    \b
    Examples:
      giamngheo classify survey.xlsx -o results.xlsx --as-of 2025-06-30
      giamngheo classify households.csv members.csv -o results.csv --as-of 2025-06-30
      giamngheo classify survey.xlsx -o results.xlsx --as-of 2025-06-30 --engine durable
      giamngheo classify survey.parquet survey.members.parquet -o results.parquet \\
          --as-of 2025-06-30 --verify 0
      giamngheo classify survey.xlsx -o results.xlsx --as-of 2025-06-30 \\
          --scenario examples/scenarios/rural_line_1800k.yaml
    """
    import os
    console = Console(stderr=True)
    started = time.perf_counter()
    resolved = None
    try:
        book = load_rulebook(rules_dir) if rules_dir else default_rulebook()
        book.version_at(as_of)
        if scenario_file is not None:
            from engine.scenario import load_scenario

            if chunk_size is not None:
                raise click.BadParameter("a scenario is classified in one pass; drop "
                                         "--chunk-size", param_hint="--scenario")  # fmt: skip
            resolved = load_scenario(scenario_file, book).apply(book, as_of)
    except RulebookError as exc:
        if scenario_file is not None:
            console.print("Kịch bản không hợp lệ / invalid scenario", style="red")
            console.print(str(exc), markup=False, soft_wrap=True)
            sys.exit(2)
        console.print(f"[red]{exc}[/red]")
        sys.exit(3)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None
    if chunk_size is not None:
        _classify_in_chunks(console, list(inputs), output, book, as_of, chunk_size, lang,
                            verify, processes or os.cpu_count() or 1, started)  # fmt: skip
        return
    try:
        output_paths(output)  # reject an unsupported output name before any work
        raw = read_survey(list(inputs))
        large = len(raw.households.frame) >= PROGRESS_THRESHOLD
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, disable=not large, transient=True) as progress:  # fmt: skip
            task = progress.add_task("Kiểm tra dữ liệu / validating", total=3)
            batch = parse_batch(raw)
            progress.update(task, advance=1, description="Phân loại / classifying")
            result = classify(batch, book, as_of, lang=lang, engine=engine, verify=verify,
                              processes=processes or os.cpu_count() or 1,
                              resolved=resolved)  # fmt: skip
            progress.update(task, advance=1, description="Ghi kết quả / writing")
            written = write_result(result, output)
            progress.update(task, advance=1)
    except SurveyReadError as exc:
        console.print("Không đọc được đầu vào / cannot read the input", style="red")
        console.print(str(exc), markup=False)
        sys.exit(2)
    except OutputError as exc:
        console.print(f"[red]{exc}[/red]")
        sys.exit(2)
    elapsed = time.perf_counter() - started
    _print_counts(console, result.class_counts, result.resolved.classification.classes)
    n_err = len(result.errors)
    console.print(
        f"{len(result.results)} hộ / households, {result.n_members} thành viên / members, "
        f"{n_err} lỗi đầu vào / input errors; {result.resolved.version.label['vi']} "
        f"({result.resolved.rulebook_version}), ngày đánh giá / as of {as_of}; {elapsed:.1f} s",
        markup=False,
    )
    total = result.departments.iloc[-1]
    console.print(
        f"{int(total['recommendations'])} đề xuất hỗ trợ / recommendations cho "
        f"{int(total['households'])} hộ / households; chi phí ước tính năm đầu / estimated "
        f"first-year cost {format_number(int(total['first_year_cost_vnd']))} đồng; "
        f"vốn vay / loans {format_number(int(total['loan_volume_vnd']))} đồng",
        markup=False,
    )
    if result.verified:
        what = ("bộ máy durable_rules / durable_rules engine" if engine == "durable" else
                "kiểm tra chéo / cross-check on durable_rules")  # fmt: skip
        console.print(f"{what}: {result.verified} hộ / households, {result.disagreements} khác biệt "
                      "/ disagreements", markup=False,
                      style="red" if result.disagreements else None)  # fmt: skip
    for path in written:
        console.print(f"→ {path}", markup=False)
    log.info("classified %d households", len(result.results))
    if result.disagreements:
        sys.exit(1)


@main.command("explain")
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--household", "household_id", help="the household id (mã hộ) to explain")
@click.option("--as-of", "as_of", callback=_date, help="evaluation date (ISO, e.g. 2025-06-30)")
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text",
              show_default=True, help="text for people, json for machines (the trace), html "
              "for a page that opens offline")  # fmt: skip
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="write to this file instead of the screen")  # fmt: skip
@click.option("--replay", "replay_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="re-run a JSON trace and check it gives the same bytes")  # fmt: skip
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="rulebook folder (default: the bundled rules/)")  # fmt: skip
def explain_cmd(inputs: tuple[Path, ...], household_id: str | None, as_of: dt.date | None,
                lang: str, fmt: str, output: Path | None, replay_path: Path | None,
                rules_dir: Path | None) -> None:  # fmt: skip
    """Explain how one household's class and support came about, clause by clause.

    \b
    Examples:
      giamngheo explain survey.xlsx --household HY-001 --as-of 2025-06-30
      giamngheo explain survey.xlsx --household HY-001 --as-of 2025-06-30 --lang en
      giamngheo explain survey.xlsx --household HY-001 --as-of 2025-06-30 --format json -o t.json
      giamngheo explain --replay t.json
    """
    import json

    from engine.explain import render_html, render_text
    from engine.trace import TraceError, build_trace, replay, to_json

    console = Console(stderr=True)
    try:
        book = load_rulebook(rules_dir) if rules_dir else default_rulebook()
    except RulebookError as exc:
        console.print(str(exc), markup=False)
        sys.exit(3)
    if replay_path is not None:
        try:
            recorded = replay_path.read_text("utf-8")
            again = replay(json.loads(recorded), book)
        except (OSError, ValueError, KeyError, TraceError) as exc:
            console.print(f"Không phát lại được / cannot replay {replay_path}: {exc}", markup=False)
            sys.exit(2)
        if again == recorded:
            click.echo(f"giống hệt / identical: {replay_path} ({len(recorded.encode())} bytes)")
            return
        import difflib

        diff = difflib.unified_diff(recorded.splitlines(), again.splitlines(), "recorded",
                                    "replayed", lineterm="", n=1)  # fmt: skip
        click.echo("\n".join(list(diff)[:60]))
        console.print("KHÁC / DIFFERENT: the replay does not give the recorded trace", markup=False)
        sys.exit(1)
    if not inputs or not household_id or as_of is None:
        raise click.UsageError("give INPUTS, --household and --as-of (or --replay FILE)")
    try:
        book.version_at(as_of)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--as-of") from None
    try:
        batch = parse_batch(read_survey(list(inputs)))
        explained = build_trace(batch, book, as_of, household_id)
    except SurveyReadError as exc:
        console.print("Không đọc được đầu vào / cannot read the input", style="red")
        console.print(str(exc), markup=False)
        sys.exit(2)
    except TraceError as exc:
        console.print(str(exc), markup=False)
        sys.exit(2)
    trace = explained.trace
    if fmt == "json":
        text = to_json(trace)
    elif fmt == "html":
        text = render_html(trace, book.sources, lang)
    else:
        text = render_text(trace, book.sources, lang)
    if output is None:
        click.echo(text, nl=False)
        return
    from engine.outputs import write_text

    write_text(output, text)
    console.print(f"→ {output}", markup=False)


@main.command("simulate")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_files", multiple=True, required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="scenario YAML (repeat for several); see examples/scenarios/")  # fmt: skip
@click.option("--as-of", "as_of", required=True, callback=_date, help="evaluation date (ISO)")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="report: .xlsx (scenarios, classes, transitions, indicators, costs, "
              "costs_by_district, alkire_foster, movers) or .html (a page with charts that "
              "opens offline)")  # fmt: skip
@click.option("--lang", type=click.Choice(["vi", "en"]), default="vi", show_default=True)
def simulate_cmd(inputs: tuple[Path, ...], scenario_files: tuple[Path, ...], as_of: dt.date,
                 output: Path, lang: str) -> None:  # fmt: skip
    """Compare the baseline with policy scenarios on the same batch.

    \b
    Example:
      giamngheo simulate survey.xlsx --scenario examples/scenarios/rural_line_1800k.yaml \\
          --as-of 2025-06-30 -o report.xlsx
    """
    from engine.outputs import write_tables
    from engine.scenario import load_scenario
    from engine.simulate import simulate

    console = Console(stderr=True)
    if output.suffix.lower() not in (".xlsx", ".html"):
        raise click.BadParameter("the report is an .xlsx workbook or an .html page",
                                 param_hint="-o")  # fmt: skip
    book = default_rulebook()
    try:
        scenarios = [load_scenario(p, book) for p in scenario_files]
        result = simulate(list(inputs), scenarios, as_of, book=book, lang=lang)
    except RulebookError as exc:
        console.print("Kịch bản không hợp lệ / invalid scenario", style="red")
        console.print(str(exc), markup=False, soft_wrap=True)
        sys.exit(2)
    except SurveyReadError as exc:
        console.print(str(exc), markup=False)
        sys.exit(2)
    if output.suffix.lower() == ".html":
        from engine.outputs import write_text
        from engine.simulate_report import render_html

        written = [write_text(output, render_html(result, lang))]
    else:
        written = write_tables(result.tables, output, workbook=True)
    base = result.baseline.class_counts
    for sid, res in result.scenarios.items():
        moved = int((res.classes != result.baseline.classes).sum())
        poor = res.class_counts["poor"] - base["poor"]
        near = res.class_counts["near_poor"] - base["near_poor"]
        costs = result.tables["costs"]
        extra = int(costs.loc[costs["scenario"] == sid, "cost_difference_vnd"].sum())
        console.print(f"{sid}: {moved} hộ đổi phân loại / households change class; hộ nghèo / "
                      f"poor {poor:+d}, cận nghèo / near-poor {near:+d}; chi phí năm đầu / "
                      f"first-year cost {'+' if extra >= 0 else '-'}"
                      f"{format_number(abs(extra))} đồng", markup=False, soft_wrap=True)  # fmt: skip
    for path in written:
        console.print(f"→ {path}", markup=False)


@main.command("sample")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="households file (.parquet, .csv or .xlsx); members go beside it")  # fmt: skip
@click.option("--households", type=click.IntRange(1, 20_000_000), default=None,
              help="number of households (spread over the districts as in the plan)")
@click.option("--province", is_flag=True, help="the plan's full count for the year "
              "(418,246 households for 2025)")  # fmt: skip
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--year", type=click.IntRange(2021, 2025), default=2025, show_default=True,
              help="the plan's year whose district poverty rates the sample reproduces")
@click.option("--noise", type=click.FloatRange(0, 0.05), default=0.002, show_default=True,
              help="share of households given a missing or invalid value (0 for none)")
def sample_cmd(output: Path, households: int | None, province: bool, seed: int, year: int,
               noise: float) -> None:  # fmt: skip
    """Write a synthetic Hưng Yên survey batch (deterministic for a seed).

    \b
    Examples:
      giamngheo sample -o survey.parquet --province --seed 1 --year 2022
      giamngheo sample -o sample.xlsx --households 2000
    """
    from engine.outputs import write_tables
    from engine.sample import generate

    if province == (households is not None):
        raise click.UsageError("give exactly one of --households N or --province")
    suffix = output.suffix.lower()
    if suffix not in (".parquet", ".csv", ".xlsx"):
        raise click.BadParameter("use .parquet, .csv or .xlsx", param_hint="-o")
    hh, mem = generate(None if province else households, year=year, seed=seed, noise=noise)
    if suffix == ".xlsx":
        written = write_tables({"households": hh, "members": mem}, output, workbook=True)
    else:
        members = output.with_name(f"{output.stem}.members{suffix}")
        written = write_tables({"households": hh, "members": mem}, output,
                               paths={"households": output, "members": members})  # fmt: skip
    click.echo(f"{len(hh):,} hộ / households, {len(mem):,} thành viên / members (năm / year "
               f"{year}, seed {seed})")  # fmt: skip
    for path in written:
        click.echo(f"→ {path}")
    inputs = " ".join(str(p) for p in written)
    click.echo(f"giamngheo classify {inputs} -o results{suffix if suffix != '.xlsx' else '.xlsx'}"
               f" --as-of {year}-06-30")  # fmt: skip


def _classify_in_chunks(console: Console, inputs: list[Path], output: Path, book: Any,
                        as_of: dt.date, chunk_size: int, lang: str, verify: float,
                        processes: int, started: float) -> None:  # fmt: skip
    from engine.chunked import classify_chunked

    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=True) as progress:  # fmt: skip
            task = progress.add_task("Phân loại theo nhóm / classifying in chunks", total=None)

            def step(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            out = classify_chunked(inputs, output, book, as_of, chunk_size, lang, verify,
                                   processes, step)  # fmt: skip
    except SurveyReadError as exc:
        console.print("Không đọc được đầu vào / cannot read the input", style="red")
        console.print(str(exc), markup=False)
        sys.exit(2)
    except OutputError as exc:
        console.print(str(exc), markup=False)
        sys.exit(2)
    summary = out["summary"]
    total = summary[summary["district"] == "Tất cả"]
    counts = {str(c): int(h) for c, h in zip(total["class"], total["households"], strict=True)}
    _print_counts(console, counts, book.resolve(as_of).classification.classes)
    console.print(f"{out['households']} hộ / households, {out['members']} thành viên / members; "
                  f"{time.perf_counter() - started:.1f} s", markup=False)  # fmt: skip
    if out["verified"]:
        console.print(f"kiểm tra chéo / cross-check on durable_rules: {out['verified']} hộ / "
                      f"households, {out['disagreements']} khác biệt / disagreements",
                      markup=False)  # fmt: skip
    for path in out["written"]:
        console.print(f"→ {path}", markup=False)
    if out["disagreements"]:
        sys.exit(1)


def _print_counts(
    console: Console, counts: dict[str, int], labels: dict[str, dict[str, str]]
) -> None:
    table = Table(title="Kết quả phân loại / classification")
    table.add_column("class")
    table.add_column("phân loại")
    table.add_column("số hộ / households", justify="right")
    total = sum(counts.values()) or 1
    table.add_column("%", justify="right")
    for cls, n in counts.items():
        table.add_row(cls, labels[cls]["vi"], str(n), f"{100 * n / total:.2f}")
    console.print(table)


@main.group("rules")
def rules_group() -> None:
    """Inspect and check the rulebook."""


@rules_group.command("check")
@click.option(
    "--rules", "rules_dir", type=click.Path(path_type=Path, file_okay=False), default=None
)
def rules_check(rules_dir: Path | None) -> None:
    """Load the rulebook strictly and report every problem (file:line: message (suggestion))."""
    try:
        book = load_rulebook(rules_dir)
    except RulebookError as exc:
        click.echo(str(exc), err=True)
        sys.exit(1)
    click.echo(f"rulebook OK: {len(book.indicators)} indicators, {len(book.params)} parameters, "
               f"{len(book.facts)} facts, {len(book.statuses)} statuses, "
               f"{len(book.interventions)} interventions, {len(book.departments)} departments, "
               "versions "
               + ", ".join(f"{v.id} ({v.start}…{v.end})" for v in book.versions)
               + f"; content hash {book.content_hash}")  # fmt: skip


@rules_group.command("coverage")
@click.option(
    "--rules", "rules_dir", type=click.Path(path_type=Path, file_okay=False), default=None
)
def rules_coverage(rules_dir: Path | None) -> None:
    """List every provisional fact with its source and note."""
    book = load_rulebook(rules_dir)
    items = provisional_items(book)
    for key in sorted(items):
        cit = items[key]
        click.echo(f"{key}\t{cit.source} {cit.clause}\t{cit.file}:{cit.line}\t{cit.note}")
    click.echo(f"{len(items)} provisional facts")


@rules_group.command("show")
@click.argument("rule_id")
@click.option("--as-of", "as_of", callback=_date, default=None, help="show the definition in force")
def rules_show(rule_id: str, as_of: dt.date | None) -> None:
    """Show an indicator, fact, parameter, status, intervention or department by id.

    \b
    Examples:
      giamngheo rules show health.insurance
      giamngheo rules show health.insurance_support --as-of 2025-06-30
      giamngheo rules show labour
    """
    book = default_rulebook()
    action = next((a for a in (*book.interventions, *book.statuses) if a.id == rule_id), None)
    if action is not None:
        kind = "status" if action in book.statuses else "intervention"
        click.echo(f"{kind} {action.id}: {action.label['vi']} / {action.label['en']}  "
                   f"({action.file})")  # fmt: skip
        from engine.rulebook import Intervention

        if isinstance(action, Intervention):
            click.echo(f"  lead: {action.lead}{' (' + action.function + ')' if action.function else ''}"
                       f"; partners: {', '.join(action.partners) or '-'}; plan section "
                       f"{action.plan_section}; addresses: {', '.join(action.addresses) or '-'}")  # fmt: skip
            click.echo(f"  {action.action['vi']}")
            if action.amount is not None:
                a = action.amount
                click.echo(f"  amount: {a.kind} per {a.per}, {a.period}: {a.value}")
        for d in action.definitions:
            if as_of and not d.holds(as_of):
                continue
            flag = " [provisional]" if d.citation.provisional else ""
            click.echo(f"  {d.start} … {d.end or ''}: {d.citation.source} {d.citation.clause}{flag}")
            for name, node in (("when", d.when), ("members", d.members), ("priority", d.priority)):
                if node is not None:
                    click.echo(f"    {name}: {node}")
        return
    dep = book.departments.get(rule_id)
    if dep is not None:
        click.echo(f"department {dep.code}: {dep.plan_name['vi']} (plan)  ({dep.file})")
        for n in dep.names:
            flag = " [provisional]" if n.citation.provisional else ""
            extra = "; ".join(f"{fn}: {lab['vi']}" for fn, lab in n.by_function.items())
            click.echo(f"  from {n.start}: {n.name['vi']}{' (' + extra + ')' if extra else ''}  "
                       f"{n.citation.source} {n.citation.clause}{flag}")  # fmt: skip
        return
    rule = next((r for r in (*book.indicators, *book.facts.values()) if r.id == rule_id), None)
    if rule is not None:
        click.echo(f"{rule.kind} {rule.id}: {rule.label['vi']} / {rule.label['en']}  ({rule.file})")
        for d in rule.definitions:
            if as_of and not d.holds(as_of):
                continue
            flag = " [provisional]" if d.citation.provisional else ""
            click.echo(
                f"  {d.start} … {d.end or ''}: {d.citation.source} {d.citation.clause}{flag}"
            )
            click.echo(f"    {d.condition}")
        return
    param = book.params.get(rule_id)
    if param is not None:
        click.echo(
            f"parameter {param.name}: {param.label['vi']} / {param.label['en']} ({param.file})"
        )
        for v in param.values:
            flag = " [provisional]" if v.citation.provisional else ""
            click.echo(
                f"  from {v.start}: {v.value}  {v.citation.source} {v.citation.clause}{flag}"
            )
        return
    click.echo(f"no rule or parameter '{rule_id}'", err=True)
    sys.exit(1)


if __name__ == "__main__":  # pragma: no cover
    main()
