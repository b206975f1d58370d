"""``giamngheo classify``: every household of a survey batch, with its results tables."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.console import console, print_counts, report_verified, say, word
from cli.options import (
    as_of_option,
    cluster_option,
    lang_option,
    rulebook,
    rules_option,
    verify_options,
)
from engine import classify
from engine.errors import CheckFailed
from engine.files import check_target
from engine.results.chunked import classify_chunked
from engine.results.classify import BatchResult
from engine.results.outputs import output_paths, write_result
from engine.rulebook import Resolved, Rulebook
from engine.simulation.scenario import load_scenario
from engine.text import format_number
from household_models import ParsedBatch, parse_batch, read_survey
from household_models.schema import FIELD_SPECS

PROGRESS_THRESHOLD = 50_000
log = logging.getLogger("giamngheo")


@click.command("classify")
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="results file: .xlsx (sheets results, errors, summary, recommendations, "
              "departments), .csv or .parquet (one file per table beside it)")  # fmt: skip
@as_of_option()
@lang_option("language of the texts: reasons, actions, triggers, department names")
@rules_option()
@click.option("--engine", type=click.Choice(["vectorised", "durable"]), default="vectorised",
              show_default=True, help="vectorised (fast, whole batch) or durable (durable_rules, "
              "household by household)")  # fmt: skip
@verify_options
@click.option("--processes", type=click.IntRange(1, 64), default=None,
              help="worker processes for durable_rules (default: the number of CPUs)")
@click.option("--chunk-size", type=click.IntRange(1000, None), default=None,
              help="classify a Parquet pair larger than memory this many households at a time "
              "(same results; output .parquet or .csv)")  # fmt: skip
@click.option("--scenario", "scenario_file", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="classify under a policy scenario (YAML, as for simulate) "
              "instead of the rules in force")  # fmt: skip
@cluster_option()
def classify_cmd(inputs: tuple[Path, ...], output: Path, as_of: dt.date, lang: str,
                 rules_dir: Path | None, engine: str, verify: float, verify_max: int,
                 processes: int | None, chunk_size: int | None,
                 scenario_file: Path | None, cluster: str | None) -> None:  # fmt: skip
    """Classify every household of a survey batch.

    \b
    Examples:
      giamngheo classify survey.xlsx -o results.xlsx --as-of 2025-06-30
      giamngheo classify households.csv members.csv -o results.csv --as-of 2025-06-30
      giamngheo classify survey.xlsx -o results.xlsx --as-of 2025-06-30 --engine durable
      giamngheo classify survey.parquet survey.members.parquet -o results.parquet \\
          --as-of 2025-06-30 --verify 0
      giamngheo classify survey.xlsx -o results.xlsx --as-of 2025-06-30 \\
          --scenario rules/scenarios/rural_line_1800k.yaml
      giamngheo classify national/ -o results/ --as-of 2025-06-30 --cluster local
    """
    started = time.perf_counter()
    book = rulebook(rules_dir, as_of)
    if len(inputs) == 1 and inputs[0].is_dir():
        from cli.national import classify_dataset

        if chunk_size is not None or scenario_file is not None or engine != "vectorised":
            raise click.UsageError(word("dataset_classify_options"))
        classify_dataset(inputs[0], output, as_of, lang, rules_dir, verify, verify_max, cluster)
        return
    if cluster is not None:
        raise click.UsageError(word("cluster_needs_dataset"))
    resolved = None
    if scenario_file is not None:
        if chunk_size is not None:
            raise click.BadParameter("a scenario is classified in one pass; drop --chunk-size",
                                     param_hint="--scenario")  # fmt: skip
        resolved = load_scenario(scenario_file, book).apply(book, as_of)
    workers = processes or os.cpu_count() or 1
    for target in output_paths(output).values():  # refuse a bad output before any work
        check_target(target, inputs)
    if chunk_size is not None:
        _classify_in_chunks(list(inputs), output, book, as_of, chunk_size, lang, verify, workers,
                            started, verify_max)  # fmt: skip
        return
    classify_and_report(list(inputs), output, book, as_of, lang, engine, verify, verify_max,
                        workers, resolved, started)  # fmt: skip


def _beside(classified: Callable[[ParsedBatch, BatchResult], None], batch: ParsedBatch,
            result: BatchResult, output: Path | None) -> list[Path]:  # fmt: skip
    """``classified(batch, result)`` while the outputs (if any) are written in a thread;
    the paths written. Whichever fails raises, once both are done."""
    if output is None:
        classified(batch, result)
        return []
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1, thread_name_prefix="outputs") as pool:
        writing = pool.submit(write_result, result, output)
        try:
            classified(batch, result)
        finally:
            failed = writing.exception()  # waits for the outputs either way
        if failed is not None:
            raise failed
        return writing.result()


def classify_and_report(inputs: list[Path], output: Path | None, book: Rulebook, as_of: dt.date,
                        lang: str, engine: str, verify: float, verify_max: int, workers: int,
                        resolved: Resolved | None, started: float,
                        prepare: Callable[[ParsedBatch], ParsedBatch] | None = None,
                        classified: Callable[[ParsedBatch, BatchResult], None] | None = None,
                        ) -> tuple[ParsedBatch, BatchResult]:  # fmt: skip
    """Read, parse, classify, write (when ``output`` is given) and report, as ``classify``
    does; ``prepare`` may change the parsed batch before it is classified (the registry sets
    each household's history there), ``classified`` is given the batch and its results while
    they are being written (the registry records them there: most of the writing is done by
    Arrow, apart from the interpreter); the outputs are complete when this returns or raises.
    Raises ``CheckFailed`` after reporting when the evaluators disagree."""
    raw = read_survey(inputs)
    large = len(raw.households.frame) >= PROGRESS_THRESHOLD
    if large and output is not None and output.suffix.lower() == ".xlsx":
        say(word("large_workbook", households=len(raw.households.frame)), style="yellow")
    written: list[Path] = []
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console(), disable=not large, transient=True) as progress:  # fmt: skip
        task = progress.add_task(word("validating"), total=3)
        batch = parse_batch(raw)
        del raw  # the members as read are not needed once parsed
        if prepare is not None:
            batch = prepare(batch)
        progress.update(task, advance=1, description=word("classifying"))
        result = classify(batch, book, as_of, lang=lang, engine=engine, verify=verify,
                          processes=workers, resolved=resolved, verify_max=verify_max)  # fmt: skip
        progress.update(task, advance=1, description=word("writing"))
        if classified is not None:
            written = _beside(classified, batch, result, output)
        elif output is not None:
            written = write_result(result, output)
        progress.update(task, advance=1)
    elapsed = time.perf_counter() - started
    for column in result.errors.loc[result.errors["code"] == "missing_column", "column"]:
        spec = FIELD_SPECS["household"].get(column) or FIELD_SPECS["member"].get(column)
        say(word("missing_column", column=column, column_vi=spec.vi if spec else column,
                 households=len(result.results)), style="red")  # fmt: skip
    print_counts(result.class_counts, result.resolved.classification.classes)
    say(word("classified", households=len(result.results), members=result.n_members,
             errors=len(result.errors), standard=result.resolved.version.label["vi"],
             version=result.resolved.rulebook_version, as_of=as_of,
             seconds=format_number(round(elapsed, 1), decimals=1)))  # fmt: skip
    total = result.departments.iloc[-1]
    say(word("recommended", recommendations=int(total["recommendations"]),
             households=int(total["households"]), cost=int(total["first_year_cost_vnd"]),
             loans=int(total["loan_volume_vnd"])))  # fmt: skip
    report_verified(result.verified, result.disagreements, engine == "durable")
    if result.sample is not None and result.sample.positions:
        s = result.sample
        say(word("verified_sample", covered=s.patterns_covered, strata=s.patterns,
                 at_line=s.thresholds_covered, thresholds=s.thresholds, uniform=s.uniform))  # fmt: skip
    for path in written:
        say(word("written", path=path))
    log.info("classified %d households", len(result.results))
    if result.disagreements:
        raise CheckFailed("engine_disagreement", count=result.disagreements)
    return batch, result


def _classify_in_chunks(inputs: list[Path], output: Path, book: Rulebook, as_of: dt.date,
                        chunk_size: int, lang: str, verify: float, processes: int,
                        started: float, verify_max: int) -> None:  # fmt: skip
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console(), transient=True) as progress:  # fmt: skip
        task = progress.add_task(word("classifying_chunks"), total=None)

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        out = classify_chunked(inputs, output, book, as_of, chunk_size, lang, verify, processes,
                               step, verify_max)  # fmt: skip
    print_counts(out["class_counts"], book.resolve(as_of).classification.classes)
    seconds = format_number(round(time.perf_counter() - started, 1), decimals=1)
    say(word("classified_chunks", households=out["households"], members=out["members"],
             seconds=seconds))  # fmt: skip
    report_verified(out["verified"], out["disagreements"], False)
    for path in out["written"]:
        say(word("written", path=path))
    if out["disagreements"]:
        raise CheckFailed("engine_disagreement", count=out["disagreements"])
