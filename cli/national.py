"""``giamngheo classify DATASET/ -o results/``: a partitioned survey dataset, classified in
this process or on Dask (``--cluster local[:N]`` or a scheduler's address)."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.console import console, print_counts, report_verified, say, word
from engine.errors import CheckFailed, OutputError
from engine.text import format_number


def classify_dataset(root: Path, output: Path, as_of: dt.date, lang: str,
                     rules_dir: Path | None, verify: float, verify_max: int,
                     cluster: str | None) -> None:  # fmt: skip
    """Classify every partition of ``root`` into the same partitions under ``output``."""
    from engine.national import Job, merge, partitions, repeated_ids, run_dask, run_local

    if output.suffix or (output.exists() and not output.is_dir()):
        raise OutputError("output_is_folder", path=output)
    started = time.perf_counter()
    parts = partitions(root)
    job = Job(root, output, as_of, rules_dir, lang, verify, verify_max,
              repeated_ids(root, parts))  # fmt: skip
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console(), transient=True) as progress:  # fmt: skip
        task = progress.add_task(word("classifying_partitions"), total=len(parts))

        def step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        if cluster is None:
            done = run_local(job, parts, step)
        else:
            from engine.national import connect

            client = connect(cluster)
            try:
                workers = len(client.scheduler_info()["workers"])
                say(word("cluster_at", workers=workers, address=client.scheduler.address))
                done = run_dask(client, job, parts, step)
            finally:
                client.close()
                if client.cluster is not None:
                    client.cluster.close()
    failed = [d for d in done if d["failed"] is not None]
    for d in sorted(failed, key=lambda d: d["part"]):
        say(word("partition_failed", path=root / d["part"], vi=d["failed"]["vi"],
                 en=d["failed"]["en"]), style="red")  # fmt: skip
    if failed:
        raise CheckFailed("partitions_failed", count=len(failed))
    out = merge(job, done)
    print_counts(out["class_counts"], out["resolved"].classification.classes)
    say(word("partitions_done", partitions=out["partitions"], households=out["households"],
             members=out["members"],
             seconds=format_number(round(time.perf_counter() - started, 1), decimals=1)))  # fmt: skip
    report_verified(out["verified"], out["disagreements"], False)
    say(word("written", path=output))
    if out["disagreements"]:
        raise CheckFailed("engine_disagreement", count=out["disagreements"])
