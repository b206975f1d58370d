"""A partitioned survey dataset (a nation, province by province) classified partition by
partition: in this process, or as one task per partition on Dask (``dask.distributed``), with
the same results either way.

The dataset is a folder of partitions, hive style: each leaf folder (``province=01``, or
``province=01/commune=…``) holds ``households.parquet`` and ``members.parquet``, a household's
members in its own partition. No rule reads across households, so a partition is classified as
a whole batch; the only check across partitions, a household id repeated in two of them, is
made first, over the id columns alone (DuckDB), and each partition is told which of its ids
are repeated elsewhere (an error row, as in a single run). A member whose household is in
another partition is an error row of its own partition (a member without a household).

Each partition's results, errors and recommendations are written atomically into the same
partition path under the output folder; the summary and department tables, merged from every
partition's slim columns, are written only when every partition is done. A partition that
cannot be read is reported with its path and the others still complete (the run is partial).
The cross-check sample of a partition is drawn with a seed of its path: reproducible wherever
the partition runs."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HOUSEHOLDS, MEMBERS = "households.parquet", "members.parquet"
TABLES = ("results", "errors", "recommendations")


def partitions(root: Path) -> list[str]:
    """The partitions of a dataset: the leaf folders (relative paths, posix) that hold a
    households file, in sorted order."""
    found = sorted(p.parent.relative_to(root).as_posix() for p in root.rglob(HOUSEHOLDS))
    return [p for p in found if p != "."] or found


def repeated_ids(root: Path, parts: list[str]) -> dict[str, set[str]]:
    """Each partition's household ids that appear in more than one partition (DuckDB over the
    id column alone: the nation is never held in memory)."""
    import duckdb
    import pyarrow.parquet as pq

    files = []
    for p in parts:  # an unreadable file is left out here and reported by its own task
        try:
            pq.read_metadata(root / p / HOUSEHOLDS)
        except (OSError, ValueError):
            continue
        files.append(str(root / p / HOUSEHOLDS))
    if not files:
        return {}
    con = duckdb.connect(":memory:")
    try:
        rows = con.execute(
            "WITH ids AS (SELECT trim(CAST(household_id AS VARCHAR)) AS id, filename AS f FROM "
            "read_parquet(?, filename = true, union_by_name = true) WHERE household_id IS NOT "
            "NULL) SELECT f, id FROM ids WHERE id IN (SELECT id FROM ids GROUP BY id HAVING "
            "count(DISTINCT f) > 1)", [files]).fetchall()  # fmt: skip
    finally:
        con.close()
    out: dict[str, set[str]] = {}
    for f, hid in rows:
        rel = Path(f).parent.relative_to(root).as_posix()
        out.setdefault(rel, set()).add(str(hid))
    return out


def seed_of(part: str) -> int:
    return zlib.crc32(part.encode("utf-8"))


@dataclass
class Job:
    """What every task needs: the folders, the evaluation date and the options of classify."""

    root: Path
    output: Path | None  # None: nothing written (a recording without -o)
    as_of: dt.date
    rules_dir: Path | None = None
    lang: str = "vi"
    verify: float = 0.0
    verify_max: int | None = None
    repeated: dict[str, set[str]] = field(default_factory=dict)


def classify_partition(job: Job, part: str) -> dict[str, Any]:
    """Classify one partition and write its tables; what the merged tables need back (slim
    columns), or the reason it could not be read."""
    from engine.memory import once

    once()  # a worker process reuses freed memory as the command line does
    parsed = read_partition(job.root, part, job.repeated)
    if isinstance(parsed, dict):
        return {"part": part, "failed": parsed}
    return classified(job, part, parsed)[1]


def classified(job: Job, part: str, parsed: Any) -> tuple[Any, dict[str, Any]]:
    """A partition's parsed batch classified (its cross-check sample drawn with the partition's
    seed) and its tables written under the job's output (if any); the result, and what the
    merged tables need of it."""
    from engine.files import write_tables
    from engine.loader import cached_rulebook, default_rulebook
    from engine.results.classify import classify

    book = cached_rulebook(job.rules_dir) if job.rules_dir else default_rulebook()
    result = classify(parsed, book, job.as_of, lang=job.lang, verify=job.verify,
                      seed=seed_of(part), verify_max=job.verify_max)  # fmt: skip
    if job.output is not None:
        target = job.output / part
        write_tables({t: getattr(result, t) for t in TABLES}, target / "results.parquet",
                     paths={t: target / f"{t}.parquet" for t in TABLES})  # fmt: skip
    recs = result.recommendations
    district = pd.Series(parsed.households["district"].values, dtype=object).fillna("")
    position = {h: i for i, h in enumerate(parsed.households["household_id"].values)}
    # (district, class) pairs and how many households each: the summary needs no more
    pairs = pd.DataFrame({"district": district.astype(str).to_numpy(),
                          "class": result.results["class"].astype(str).to_numpy()})
    counted = pairs.groupby(["district", "class"], sort=False).size().reset_index(name="n")
    return result, {
        "part": part, "failed": None, "counts": counted,
        "slim": pd.DataFrame({
            "pos": recs["household_id"].map(position).to_numpy(),
            "department_code": recs["department_code"], "department": recs["department"],
            "member_no": recs["member_no"], "first_year_vnd": recs["first_year_vnd"],
            "amount_vnd": recs["amount_vnd"], "amount_kind": recs["amount_kind"]}),
        "households": len(result.results), "members": result.n_members,
        "verified": result.verified, "disagreements": result.disagreements,
    }  # fmt: skip


def read_partition(root: Path, part: str, repeated: dict[str, set[str]]) -> Any:
    """A partition's parsed batch, its errors naming the partition's files by their path in the
    dataset (``province=01/part=000/households.parquet``); or the reason it cannot be read
    ({"vi", "en"})."""
    from dataclasses import replace

    from engine.errors import GiamngheoError
    from household_models import parse_batch, read_survey

    folder = root / part
    try:
        raw = read_survey([folder / HOUSEHOLDS, folder / MEMBERS])
        parsed = parse_batch(raw, repeated.get(part, set()))
        errors = parsed.errors.copy()
        if not errors.empty:
            errors["file"] = [f"{part}/{f}" if f else f for f in errors["file"].tolist()]
        return replace(parsed, errors=errors,
                       source=(f"{part}/{parsed.source[0]}", parsed.source[1]))  # fmt: skip
    except GiamngheoError as exc:
        return {"vi": exc.vi, "en": exc.en}
    except OSError as exc:
        return {"vi": str(exc), "en": str(exc)}


@dataclass
class SimJob:
    """What every simulation task needs: the dataset, the date, the rulebook's folder and the
    scenarios as (file name, YAML text), so that a worker on another machine needs no copy."""

    root: Path
    as_of: dt.date
    scenarios: tuple[tuple[str, str], ...]
    rules_dir: Path | None = None
    lang: str = "vi"
    repeated: dict[str, set[str]] = field(default_factory=dict)


_RUNS: dict[tuple[Any, ...], Any] = {}  # a worker's rulebook and scenarios, loaded once


def scenario_runs(job: SimJob) -> tuple[Any, list[Any], dict[str, Any]]:
    """The baseline's resolved rulebook, the scenarios and each one's resolved rulebook, loaded
    once per process for the same job."""
    from engine.loader import cached_rulebook, default_rulebook
    from engine.simulation.scenario import scenario_from_text

    key = (job.rules_dir, job.as_of, job.scenarios)
    if key not in _RUNS:
        book = cached_rulebook(job.rules_dir) if job.rules_dir else default_rulebook()
        defs = [scenario_from_text(text, file, book) for file, text in job.scenarios]
        _RUNS.clear()
        _RUNS[key] = (book.resolve(job.as_of), defs, {s.id: s.apply(book, job.as_of) for s in defs})
    found: tuple[Any, list[Any], dict[str, Any]] = _RUNS[key]
    return found


def simulate_partition(job: SimJob, part: str) -> dict[str, Any]:
    """The baseline and every scenario on one partition, as sums that add across partitions
    (``engine.simulation.reduce``)."""
    from engine.memory import once
    from engine.simulation.reduce import partial, run_all

    once()
    parsed = read_partition(job.root, part, job.repeated)
    if isinstance(parsed, dict):
        return {"part": part, "failed": parsed}
    base, _, resolved = scenario_runs(job)
    runs = run_all(parsed, base, resolved, job.lang)
    return {"part": part, "failed": None, "partial": partial(parsed, runs)}


def simulation(job: SimJob, done: list[dict[str, Any]]) -> Any:
    """The simulation of the whole dataset from every partition's sums (in partition order)."""
    from engine.simulation.reduce import BASELINE, finish
    from engine.simulation.simulate import Simulation

    base, defs, resolved = scenario_runs(job)
    parts = [d["partial"] for d in sorted(done, key=lambda d: d["part"])]
    tables, totals = finish(defs, {BASELINE: base, **resolved}, parts)
    baseline = totals.pop(BASELINE)
    return Simulation(baseline, totals, tables, {s.id: s for s in defs},
                      sum(p.households for p in parts), sum(p.valid for p in parts))  # fmt: skip


def merge(job: Job, done: list[dict[str, Any]]) -> dict[str, Any]:
    """The summary and department tables over every partition (in partition order), written
    beside the partitions; the totals."""
    from engine.files import write_tables
    from engine.loader import cached_rulebook, default_rulebook
    from engine.results.summaries import department_summary, summary_from_counts

    book = cached_rulebook(job.rules_dir) if job.rules_dir else default_rulebook()
    r = book.resolve(job.as_of)
    good = sorted((d for d in done if d["failed"] is None), key=lambda d: d["part"])
    offsets = np.cumsum([0, *(d["households"] for d in good)])
    slim = pd.concat([d["slim"].assign(pos=d["slim"]["pos"] + off)
                      for d, off in zip(good, offsets, strict=False)] or
                     [pd.DataFrame(columns=["pos"])], ignore_index=True)  # fmt: skip
    counted = pd.concat([d["counts"] for d in good] or
                        [pd.DataFrame({"district": [], "class": [], "n": []})], ignore_index=True)
    if job.output is not None:
        summary = summary_from_counts(counted, r)
        departments = department_summary(slim, r, job.lang)
        write_tables({"summary": summary, "departments": departments},
                     job.output / "summary.parquet",
                     paths={"summary": job.output / "summary.parquet",
                            "departments": job.output / "departments.parquet"})  # fmt: skip
    counts = counted.groupby("class")["n"].sum()
    return {
        "partitions": len(done), "failed": [d for d in done if d["failed"] is not None],
        "households": int(sum(d["households"] for d in good)),
        "members": int(sum(d["members"] for d in good)),
        "verified": int(sum(d["verified"] for d in good)),
        "disagreements": int(sum(d["disagreements"] for d in good)),
        "class_counts": {c: int(counts.get(c, 0)) for c in r.classification.classes},
        "resolved": r,
    }  # fmt: skip


Task = Callable[[str], dict[str, Any]]  # one partition's work: its path -> what it returns


def run_local(task: Task, parts: list[str],
              progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Every partition in this process, one after the other."""
    out = []
    for k, part in enumerate(parts):
        out.append(task(part))
        if progress:
            progress(k + 1, len(parts))
    return out


def peak_mb() -> int:
    """This process's peak resident memory, in MB (run on each worker by the command line)."""
    import resource
    import sys

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1 << 20 if sys.platform == "darwin" else 1 << 10))


def connect(cluster: str) -> Any:
    """A Dask client: ``local`` or ``local:N`` starts a LocalCluster of N worker processes
    (default: one per CPU), one thread each; anything else is a scheduler's address."""
    from distributed import Client, LocalCluster

    if cluster == "local" or cluster.startswith("local:"):
        import os

        n = int(cluster.split(":", 1)[1]) if ":" in cluster else (os.cpu_count() or 1)
        local = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,  # type: ignore[no-untyped-call]
                             dashboard_address=None)  # fmt: skip
        return Client(local)  # type: ignore[no-untyped-call]
    return Client(cluster)  # type: ignore[no-untyped-call]


def run_dask(client: Any, task: Task, parts: Iterable[str],
             progress: Callable[[int, int], None] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """One task per partition on the client's cluster; a task lost with its worker runs again
    elsewhere (the scheduler's rule), and its outputs are the same since it writes them whole."""
    from distributed import as_completed

    parts = list(parts)
    name = getattr(getattr(task, "func", task), "__name__", "task")
    futures = [client.submit(task, p, key=f"{name}-{seed_of(p)}-{p}", pure=False, retries=2)
               for p in parts]  # fmt: skip
    out = []
    for k, future in enumerate(as_completed(futures)):  # type: ignore[no-untyped-call]
        out.append(future.result())
        if progress:
            progress(k + 1, len(parts))
    return out


# The synthetic nation (``giamngheo sample --national``). Vietnam's 2024 review (Decision
# 217/QĐ-BLĐTBXH, 4 February 2025) counts 599,608 poor households at 1.93 % (provisional: as
# the press reported it), about 31 million households over the 63 provinces of the time. Its table per province was not at hand, so the
# ASSUMPTION is an equal share per province; each province is
# drawn by the Hưng Yên population model of ``engine.synthetic`` (its district rates, not the
# nation's), which is what the engine's speed depends on, not the rates.
NATION_HOUSEHOLDS = 31_000_000
PROVINCES = 63
PARTITION_SIZE = 100_000


def nation_plan(households: int = NATION_HOUSEHOLDS, partition_size: int = PARTITION_SIZE,
                seed: int = 1) -> list[tuple[str, int, int, int]]:  # fmt: skip
    """The partitions of a synthetic nation: (path, first household number, households, seed),
    provinces sharing the households equally, each cut into partitions of at most
    ``partition_size``."""
    provinces = min(PROVINCES, households)
    base, extra = divmod(households, provinces)
    out, first = [], 1
    for p in range(provinces):
        size = base + (1 if p < extra else 0)
        for k, start in enumerate(range(0, size, partition_size)):
            n = min(partition_size, size - start)
            out.append((f"province={p + 1:02d}/part={k:03d}", first, n,
                        seed * 1_000_003 + p * 1_000 + k))  # fmt: skip
            first += n
    return out


def write_partition(root: Path, part: str, first: int, n: int, seed: int,
                    year: int = 2025, noise: float = 0.002) -> int:  # fmt: skip
    """Draw one partition and write its two files atomically; its members' count."""
    from engine.files import write_tables
    from engine.synthetic import generate

    hh, mem = generate(n, year=year, seed=seed, noise=noise, first_id=first)
    folder = root / part
    write_tables({"households": hh, "members": mem}, folder / HOUSEHOLDS,
                 paths={"households": folder / HOUSEHOLDS, "members": folder / MEMBERS})  # fmt: skip
    return len(mem)
