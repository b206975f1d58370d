"""``giamngheo report``: the review's report forms, from a survey batch or a registry round."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from cli.console import say, word
from cli.options import as_of_option, lang_option, rulebook, rules_option

if TYPE_CHECKING:
    from engine.reports.population import Population


@click.group("report")
def report_group() -> None:
    """The review's report forms.

    \b
    Examples:
      giamngheo report forms --registry hungyen.duckdb --round 2025 -o bao-cao-ra-soat-2025.xlsx
      giamngheo report forms survey.xlsx --as-of 2025-10-15 -o bao-cao.xlsx
    """


@report_group.command("forms")
@click.argument("inputs", nargs=-1, type=click.Path(path_type=Path))
@click.option("--registry", "registry_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="the registry file: the forms of a recorded round, flows "
              "included")  # fmt: skip
@click.option("--round", "round_name", default=None, help="the review round (with --registry)")
@as_of_option(required=False)
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="the workbook to write (.xlsx): one sheet per form, then the checks")
@click.option("--communes", "communes_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="resident households and persons per commune: the forms' "
              "denominators when the batch is not the whole commune (.xlsx, .csv, .parquet)")  # fmt: skip
@click.option("--without-names", is_flag=True, help="leave names and id numbers out of the "
              "detailed lists")  # fmt: skip
@lang_option("language of the forms")
@rules_option()
def forms_cmd(inputs: tuple[Path, ...], registry_path: Path | None, round_name: str | None,
              as_of: dt.date | None, output: Path, communes_path: Path | None,
              without_names: bool, lang: str, rules_dir: Path | None) -> None:  # fmt: skip
    """Write the review's report forms: results, flows, deprivations, target groups,
    ethnicity, causes, children, results by the standard, the detailed lists, and a checks
    sheet of every identity the forms satisfy."""
    from engine.errors import CheckFailed
    from engine.files import check_target
    from engine.results.classify import classify
    from household_models import parse_batch, read_survey

    if output.suffix.lower() != ".xlsx":
        raise click.UsageError("-o must name a workbook (.xlsx)")
    if registry_path is not None:
        if inputs or as_of is not None:
            raise click.UsageError("give either --registry with --round, or a survey batch "
                                   "with --as-of, not both")  # fmt: skip
        if round_name is None:
            raise click.UsageError("--registry needs --round")
        check_target(output, [registry_path])
        written, forms = forms_workbook(output, registry=(registry_path, round_name), lang=lang,
                                        names=not without_names, communes=communes_path)
    else:
        if not inputs or as_of is None:
            raise click.UsageError("give a survey batch and --as-of, or --registry and --round")
        check_target(output, list(inputs))
        book = rulebook(rules_dir, as_of)
        batch = parse_batch(read_survey(list(inputs)))
        written, forms = forms_workbook(
            output, batch=(batch, classify(batch, book, as_of), as_of), lang=lang,
            names=not without_names, communes=communes_path)  # fmt: skip
    checks = forms[-1].checks  # the checks sheet: every identity checked
    failed = sum(not c["holds"] for c in checks)
    say(word("report_forms", forms=len(forms) - 1, checks=len(checks), failed=failed))
    say(word("written", path=written))
    if failed:
        raise CheckFailed("report_check_failed", count=failed, path=written)


def forms_workbook(output: Path, *, registry: tuple[Path, str] | None = None,
                   batch: tuple[Any, Any, dt.date] | None = None, lang: str = "vi",
                   names: bool = True,
                   communes: Path | None = None) -> tuple[Path, list[Any]]:  # fmt: skip
    """Write the report forms of a registry's round (``registry``: its file and round) or of a
    classified batch (``batch``: parsed batch, result, evaluation date); returns the workbook
    and the forms, the last of which is the checks sheet (every identity, holding or not).
    Used by ``report forms`` and the page."""
    from engine.reports.lists import build
    from engine.reports.population import from_batch
    from engine.reports.workbook import communes_frame, write_forms

    if registry is not None:
        pop, flows = _from_registry(registry[0], registry[1], names)
    else:
        assert batch is not None
        pop, flows = from_batch(batch[0], batch[1], batch[2], names=names), None
    if communes is not None:
        pop.communes = communes_frame(communes)
    forms = build(pop, lang, flows)
    written = write_forms(forms, pop, output, lang)
    return written, forms


def _from_registry(path: Path, round_name: str,
                   names: bool) -> tuple[Population, dict[str, Any]]:  # fmt: skip
    from engine.registry import history
    from engine.registry.store import open_registry
    from engine.reports.population import from_registry

    reg = open_registry(path)
    try:
        pop = from_registry(reg, round_name, names=names)
        flows = history.flows(reg, round_name)
    finally:
        reg.close()
    return pop, flows


@report_group.command("plan")
@click.option("--registry", "registry_path", required=True,
              type=click.Path(path_type=Path, dir_okay=False), help="the registry file")
@click.option("--round", "round_name", default=None,
              help="the round whose service indicators to show (default: the latest)")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx", "html"]), default=None,
              help="json, xlsx or html (default: from the suffix of -o; json without -o)")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="the file to write (.xlsx, .html or .json); without it, JSON on the screen")
@click.option("--scenario", "scenario_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="also show the round's standing and the households behind "
              "each gap under this policy scenario (YAML, as for simulate)")  # fmt: skip
@lang_option("language of the report")
@rules_option()
def plan_cmd(registry_path: Path, round_name: str | None, fmt: str | None, output: Path | None,
             scenario_file: Path | None, lang: str, rules_dir: Path | None) -> None:  # fmt: skip
    """Where each former district stands against the plan, round by round (households, poor
    households, rate; gap; on track; the year's flows), and the plan's service indicators
    the survey measures. A planning aid, not a decision."""
    import json

    from engine.files import check_target, write_text
    from engine.registry.store import open_registry
    from engine.reports.plan import plan_data
    from engine.reports.plan_report import write_plan_html, write_plan_workbook

    suffix = output.suffix.lower().lstrip(".") if output is not None else "json"
    fmt = fmt or {"xlsx": "xlsx", "html": "html", "htm": "html"}.get(suffix, "json")
    if fmt in ("xlsx", "html") and output is None:
        raise click.UsageError(f"--format {fmt} needs -o FILE.{fmt}")
    if output is not None:
        check_target(output, [registry_path, *([scenario_file] if scenario_file else [])])
    reg = open_registry(registry_path)
    try:
        data = plan_data(reg, registry_path.name, round_name, rules_dir, scenario_file)
    finally:
        reg.close()
    if fmt == "json" and output is None:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return
    assert output is not None
    if fmt == "xlsx":
        written = write_plan_workbook(data, output, lang)
    elif fmt == "html":
        written = write_plan_html(data, output, lang)
    else:
        written = write_text(output, json.dumps(data, ensure_ascii=False, indent=2,
                                                default=str) + "\n")  # fmt: skip
    say(word("written", path=written))
