"""``giamngheo simulate``: the baseline and policy scenarios on the same batch."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from cli.console import say, word
from cli.options import as_of_option, cluster_option, lang_option, rulebook, rules_option
from engine.errors import OutputError
from engine.files import check_target, write_tables, write_text
from engine.simulation.report import render_report_html
from engine.simulation.scenario import load_scenario
from engine.simulation.simulate import simulate
from engine.text import format_number


@click.command("simulate")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--scenario", "scenario_files", multiple=True, required=True,
              type=click.Path(path_type=Path, dir_okay=False),
              help="scenario YAML (repeat for several); see rules/scenarios/")  # fmt: skip
@as_of_option()
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="report: .xlsx (scenarios, classes, transitions, indicators, costs, "
              "costs_by_district, alkire_foster, movers) or .html (a page with charts that "
              "opens offline)")  # fmt: skip
@lang_option()
@rules_option()
@cluster_option()
def simulate_cmd(inputs: tuple[Path, ...], scenario_files: tuple[Path, ...], as_of: dt.date,
                 output: Path, lang: str, rules_dir: Path | None, cluster: str | None) -> None:  # fmt: skip
    """Compare the baseline with policy scenarios on the same batch.

    \b
    Example:
      giamngheo simulate survey.xlsx --scenario rules/scenarios/rural_line_1800k.yaml \\
          --as-of 2025-06-30 -o report.xlsx
      giamngheo simulate national/ --scenario S.yaml --as-of 2025-06-30 -o report.xlsx \\
          --cluster local
    """
    if output.suffix.lower() not in (".xlsx", ".html"):
        raise OutputError("output_suffix", path=output, allowed=".xlsx, .html")
    check_target(output, (*inputs, *scenario_files))
    book = rulebook(rules_dir, as_of)
    scenarios = [load_scenario(p, book) for p in scenario_files]
    if len(inputs) == 1 and inputs[0].is_dir():
        from cli.national import simulate_dataset

        result = simulate_dataset(inputs[0], list(scenario_files), as_of, lang, rules_dir,
                                  cluster)  # fmt: skip
    elif cluster is not None:
        raise click.UsageError(word("cluster_needs_dataset"))
    else:
        result = simulate(list(inputs), scenarios, as_of, book=book, lang=lang)
    if output.suffix.lower() == ".html":
        written = [write_text(output, render_report_html(result, lang))]
    else:
        written = write_tables(result.tables, output, workbook=True)
    base = result.baseline.class_counts
    costs = result.tables["costs"]
    for sid, res in result.scenarios.items():  # a scenario's outcome or its totals
        moved = result.moved(sid)
        poor = res.class_counts["poor"] - base["poor"]
        near = res.class_counts["near_poor"] - base["near_poor"]
        extra = int(costs.loc[costs["scenario"] == sid, "cost_difference_vnd"].sum())
        say(word("scenario_moves", scenario=sid, moved=moved,
                 poor=format_number(poor, signed=True), near=format_number(near, signed=True),
                 cost=format_number(extra, signed=True)))  # fmt: skip
    for path in written:
        say(word("written", path=path))
