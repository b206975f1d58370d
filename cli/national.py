"""A partitioned survey dataset on the command line: ``classify DATASET/ -o results/``,
``simulate DATASET/ --scenario S.yaml -o report.xlsx`` and ``review record DATASET/``, each
partition in this process or on Dask (``--cluster local[:N]`` or a scheduler's address)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.console import console, print_counts, report_verified, say, word
from engine.errors import CheckFailed, OutputError
from engine.text import format_number


@contextmanager
def cluster_client(cluster: str | None) -> Iterator[Any]:
    """A Dask client for ``--cluster`` (None: no cluster, the partitions run here), closed with
    the local cluster it started."""
    if cluster is None:
        yield None
        return
    from engine.national import connect, peak_mb

    client = connect(cluster)
    try:
        workers = len(client.scheduler_info()["workers"])
        say(word("cluster_at", workers=workers, address=client.scheduler.address))
        yield client
        peaks = client.run(peak_mb)  # each worker process's own peak, since it started
        say(word("cluster_memory", peak=format_number(max(peaks.values(), default=0)),
                 workers=len(peaks)))  # fmt: skip
    finally:
        client.close()
        if client.cluster is not None:
            client.cluster.close()


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[int, int], None]]:
    """A progress bar of partitions done, from the scheduler's answers (or this process's)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console(), transient=True) as progress:  # fmt: skip
        task = progress.add_task(word("classifying_partitions"), total=total)

        def step(done: int, count: int) -> None:
            progress.update(task, completed=done, total=count)

        yield step


def refuse_failed(root: Path, done: list[dict[str, Any]], code: str = "partitions_failed") -> None:
    """Name every partition that could not be read; then fail (exit 1) with ``code``: the run
    is partial, or (a recording) nothing was recorded."""
    failed = [d for d in done if d["failed"] is not None]
    for d in sorted(failed, key=lambda d: d["part"]):
        say(word("partition_failed", path=root / d["part"], vi=d["failed"]["vi"],
                 en=d["failed"]["en"]), style="red")  # fmt: skip
    if failed:
        raise CheckFailed(code, count=len(failed))


def refuse_file_output(output: Path | None) -> None:
    """A dataset's output is a folder (its partitions'), never a file."""
    if output is not None and (output.suffix or (output.exists() and not output.is_dir())):
        raise OutputError("output_is_folder", path=output)


def report_partitions(out: dict[str, Any], started: float) -> None:
    """The classes, the partitions and households done, and the cross-check, over every
    partition (``merge``'s answer)."""
    print_counts(out["class_counts"], out["resolved"].classification.classes)
    say(word("partitions_done", partitions=out["partitions"], households=out["households"],
             members=out["members"],
             seconds=format_number(round(time.perf_counter() - started, 1), decimals=1)))  # fmt: skip
    report_verified(out["verified"], out["disagreements"], False)


def run_partitions(task: Any, parts: list[str], cluster: str | None) -> list[dict[str, Any]]:
    """Every partition's answer to ``task``: here, or one task each on the cluster."""
    from engine.national import run_dask, run_local

    with progress_bar(len(parts)) as step, cluster_client(cluster) as client:
        if client is None:
            return run_local(task, parts, step)
        return run_dask(client, task, parts, step)


def classify_dataset(root: Path, output: Path, as_of: dt.date, lang: str,
                     rules_dir: Path | None, verify: float, verify_max: int,
                     cluster: str | None) -> None:  # fmt: skip
    """Classify every partition of ``root`` into the same partitions under ``output``."""
    from functools import partial

    from engine.national import Job, classify_partition, merge, partitions, repeated_ids

    refuse_file_output(output)
    started = time.perf_counter()
    parts = partitions(root)
    job = Job(root, output, as_of, rules_dir, lang, verify, verify_max,
              repeated_ids(root, parts))  # fmt: skip
    done = run_partitions(partial(classify_partition, job), parts, cluster)
    refuse_failed(root, done)
    out = merge(job, done)
    report_partitions(out, started)
    say(word("written", path=output))
    if out["disagreements"]:
        raise CheckFailed("engine_disagreement", count=out["disagreements"])


def simulate_dataset(root: Path, scenario_files: list[Path], as_of: dt.date, lang: str,
                     rules_dir: Path | None, cluster: str | None) -> Any:  # fmt: skip
    """The simulation of every partition of ``root``, its tables added across partitions
    (scenarios are read and checked here, before any partition runs)."""
    from functools import partial

    from engine.national import (
        SimJob,
        partitions,
        repeated_ids,
        scenario_runs,
        simulate_partition,
        simulation,
    )

    texts = tuple((p.name, p.read_text(encoding="utf-8")) for p in scenario_files)
    parts = partitions(root)
    job = SimJob(root, as_of, texts, rules_dir, lang, {})
    scenario_runs(job)  # a bad scenario is refused before the dataset is read
    job.repeated = repeated_ids(root, parts)
    done = run_partitions(partial(simulate_partition, job), parts, cluster)
    refuse_failed(root, done)
    return simulation(job, done)


def record_dataset_inputs(root: Path, registry_path: Path, round_name: str, as_of: dt.date, *,
                          output: Path | None, options: dict[str, Any], lang: str,
                          rules_dir: Path | None, verify: float, verify_max: int,
                          cluster: str | None) -> dict[str, Any]:  # fmt: skip
    """``review record DATASET/``: every partition classified (here or on the cluster) and
    recorded by this process, in one transaction; what was recorded."""
    from cli.options import rulebook
    from engine.national import Job, merge, partitions, repeated_ids
    from engine.registry.dataset import RecordJob, record_dataset
    from engine.registry.record import begin_round
    from engine.registry.store import open_registry

    refuse_file_output(output)
    started = time.perf_counter()
    book = rulebook(rules_dir, as_of)
    reg = open_registry(registry_path, write=True, create=True)
    try:
        plan = begin_round(reg, round_name, as_of)
        parts = partitions(root)
        job = Job(root, output, as_of, rules_dir, lang, verify, verify_max,
                  repeated_ids(root, parts))  # fmt: skip
        with progress_bar(len(parts)) as step, cluster_client(cluster) as client:
            workers = len(client.scheduler_info()["workers"]) if client is not None else 1
            done = record_dataset(reg, plan, book, RecordJob(job, plan.previous is None), parts,
                                  options, client, 2 * workers + 2, step)  # fmt: skip
    finally:
        reg.close()
    refuse_failed(root, done["failed"], "partitions_not_recorded")
    report_partitions(merge(job, done["done"]), started)
    if "refused" in done:  # the evaluators disagreed: nothing was recorded
        raise done["refused"]
    if output is not None:
        say(word("written", path=output))
    return done
