"""Recording a partitioned survey dataset (``engine.national``) into a round.

The registry has one writer, this process (the driver). For each partition, in partition
order, the driver reads the history of the partition's households from the registry and hands
it to the partition's task; the task (in this process or on a worker of a Dask cluster) applies
the history, classifies the partition as ``classify`` does, writes its results when asked, and
builds every row the partition adds (``engine.registry.append.batch_rows``); the driver numbers
those rows after the round's tail and appends them. Everything is one transaction: a partition
that cannot be read leaves the registry as it was (the others are still classified, so that
every unreadable partition is named at once). At most a few partitions are under way at once,
so that the driver never holds more than those partitions' rows.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.errors import CheckFailed, RegistryError
from engine.national import HOUSEHOLDS, MEMBERS, Job, classified, read_partition, seed_of
from engine.registry.append import append_rows, batch_rows, earlier_assessments
from engine.registry.history import LISTED
from engine.registry.record import Plan, close_recording, open_recording
from engine.registry.start import Start, start_of_round
from engine.registry.store import Registry, file_sha256
from engine.rulebook import Rulebook

HISTORY = ("known", "in_previous", "previous", "ever_listed", "left_list_on")


@dataclass
class RecordJob:
    """What every recording task needs: the classification's job and whether the round is the
    registry's first."""

    job: Job
    first_round: bool


def partition_ids(job: Job, part: str) -> list[str]:
    """A partition's household ids as the batch reads them (trimmed text), without parsing it;
    none if its file cannot be read (its task reports it)."""
    import pyarrow.parquet as pq

    from household_models.parse import map_headers
    from household_models.readers import SourceTable
    from household_models.schema import HOUSEHOLD_SPECS

    path = job.root / part / HOUSEHOLDS
    try:
        names = pq.read_schema(path).names
        probe = SourceTable(pd.DataFrame(columns=names), path.name, "", 1)
        header = map_headers(probe, HOUSEHOLD_SPECS).get("household_id")
        if header is None:
            return []
        column = pq.read_table(path, columns=[header]).column(0)
    except (OSError, ValueError, KeyError, pa.ArrowInvalid):
        return []
    return [str(v).strip() for v in column.to_pylist() if v is not None]


def history_of(reg: Registry, plan: Plan, ids: list[str]) -> pd.DataFrame | None:
    """The history of the households ``ids`` (``start_of_round``), one row per id."""
    if plan.previous is None:
        return None
    start = start_of_round(reg, ids, plan.as_of, plan.previous)
    frame = pd.DataFrame({k: getattr(start, k) for k in HISTORY}, index=pd.Index(ids))
    return frame[~frame.index.duplicated()]


def start_from(history: pd.DataFrame | None, ids: list[str]) -> Start:
    """The history of a batch's households, by id (a household the driver did not find is new)."""
    n = len(ids)
    if history is None:
        return Start(np.zeros(n, bool), np.zeros(n, bool), np.full(n, None, object),
                     np.zeros(n, bool), np.full(n, None, object))  # fmt: skip
    at = history.index.get_indexer(pd.Index(ids, dtype=object))
    found = at >= 0

    def take(name: str, empty: Any, dtype: Any) -> np.ndarray:
        out = np.full(n, empty, dtype=dtype)
        out[found] = history[name].to_numpy(dtype=dtype)[at[found]]
        return out

    return Start(take("known", False, bool), take("in_previous", False, bool),
                 take("previous", None, object), take("ever_listed", False, bool),
                 take("left_list_on", None, object))  # fmt: skip


def record_partition(job: RecordJob, part: str, history: pd.DataFrame | None) -> dict[str, Any]:
    """One partition: its history applied, classified (and written, if the job has an output),
    and the rows it adds to the round."""
    from engine.memory import once
    from engine.registry.record import with_history

    once()
    parsed = read_partition(job.job.root, part, job.job.repeated)
    if isinstance(parsed, dict):
        return {"part": part, "failed": parsed}
    ids = [str(v) for v in parsed.households["household_id"].values.tolist()]
    if not job.first_round:  # every household's history must have been looked up
        looked = history.index if history is not None else pd.Index([], dtype=object)
        given = ~np.asarray(parsed.households["household_id"].missing, dtype=bool)
        unseen = looked.get_indexer(pd.Index(ids, dtype=object)) < 0
        missed = [ids[i] for i in np.flatnonzero(given & unseen).tolist()]
        if missed:
            err = RegistryError("partition_ids_unread", count=len(missed), example=missed[0])
            return {"part": part, "failed": {"vi": err.vi, "en": err.en}}
    start = start_from(history, ids)
    batch, typed = with_history(parsed, start, not job.first_round)
    result, out = classified(job.job, part, batch)
    if job.job.output is None:  # no department table is written: the driver needs no rows
        out["slim"] = out["slim"].iloc[:0]
    out["rows"] = batch_rows(batch, result, start, job.first_round, typed, {}, set())
    folder = job.job.root / part
    out["inputs"] = {f"{part}/{name}": file_sha256(folder / name) for name in (HOUSEHOLDS, MEMBERS)}
    return out


def in_order(task: Callable[..., dict[str, Any]], parts: list[str],
             args: Callable[[str], tuple[Any, ...]], client: Any = None, window: int = 4,
             progress: Callable[[int, int], None] | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
    """Each partition's answer in partition order, ``args(part)`` computed just before its task
    is given out; on a cluster, at most ``window`` tasks under way or waiting to be read."""
    if client is None:
        for k, part in enumerate(parts):
            yield task(part, *args(part))
            if progress:
                progress(k + 1, len(parts))
        return
    waiting: deque[Any] = deque()
    upcoming = iter(parts)

    def submit(part: str) -> None:
        waiting.append(client.submit(task, part, *args(part), key=f"record-{seed_of(part)}-{part}",
                                     pure=False, retries=2))  # fmt: skip

    for part in upcoming:
        submit(part)
        if len(waiting) >= window:
            break
    k = 0
    while waiting:
        future = waiting.popleft()
        done = future.result()
        future.release()
        nxt = next(upcoming, None)
        if nxt is not None:
            submit(nxt)
        k += 1
        if progress:
            progress(k, len(parts))
        yield done


def record_dataset(reg: Registry, plan: Plan, book: Rulebook, job: RecordJob, parts: list[str],
                   options: dict[str, Any], client: Any = None, window: int = 4,
                   progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:  # fmt: skip
    """Record every partition into the round, in one transaction. Returns what was written,
    the partitions' light answers (``done``: ``merge``'s input) and the partitions that could
    not be read (``failed``); with any, or any disagreement of the evaluators, nothing is
    recorded and ``refused`` is the error to raise once they are reported."""
    r = book.resolve(plan.as_of)
    out: dict[str, Any] = {"done": [], "failed": [], "flows": Counter(), "households": 0,
                           "listed": 0, "superseded": 0, "disagreements": 0}  # fmt: skip
    inputs: dict[str, str] = {}

    def history(part: str) -> tuple[Any, ...]:
        return (history_of(reg, plan, partition_ids(job.job, part)),)

    try:
        with reg.write():
            recording, manifest = open_recording(reg, plan, book)
            out["recording"] = recording
            task = partial(record_partition, job)
            for answer in in_order(task, parts, history, client, window, progress):
                if answer["failed"] is not None:
                    out["failed"].append(answer)
                    continue
                rows = answer.pop("rows")
                inputs.update(answer.pop("inputs"))
                out["done"].append(answer)
                out["disagreements"] += answer["disagreements"]
                if out["failed"] or out["disagreements"]:  # the transaction is rolled back
                    continue
                earlier = earlier_assessments(reg, plan.name, rows.ids)
                out["superseded"] += sum(h in earlier for h in rows.ids)
                append_rows(reg, plan.name, recording, rows, earlier)
                out["households"] += len(rows.ids)
                out["listed"] += int(np.isin(rows.recognised, LISTED).sum())
                out["flows"].update(pd.Series(rows.flows).value_counts().to_dict())
            if out["failed"]:
                raise CheckFailed("partitions_not_recorded", count=len(out["failed"]))
            if out["disagreements"]:
                raise CheckFailed("engine_disagreement", count=out["disagreements"])
            close_recording(reg, plan, r, manifest, inputs, options, out["households"])
    except CheckFailed as exc:  # rolled back; the caller names the partitions, then raises it
        out["refused"] = exc
    out["flows"] = dict(out["flows"])
    return out
