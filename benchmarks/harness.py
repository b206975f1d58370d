"""The performance harness (not part of the test run).

    python benchmarks/harness.py                       # 10 K, 100 K, 418,246, 1 M and 2 M households
    python benchmarks/harness.py --sizes 10000 100000  # a quicker run

For each size it writes a synthetic province (``giamngheo sample``, seed 1, year 2025) to Parquet,
then, in a fresh process so that peak memory is its own, times every phase: read, parse and
validate, member facts, indicators, class, statuses, recommendations (the rule evaluation of the
actions), assembling the result tables, write. It then runs, in the same command and on the same
households, the durable_rules evaluator on a sample of 20,000 households, and two baselines:
a naive durable_rules loop (one ``post`` per household to a four-rule classification ruleset)
and a pandas row-wise ``apply`` of the same classification. It writes ``benchmarks/REPORT.md``
with households/s and ratios against the baselines.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

AS_OF = dt.date(2025, 6, 30)
SAMPLE = 20_000


def one_size(households: int, folder: Path) -> dict[str, float]:
    """Time every phase of a classify run on a sample of ``households`` (in this process)."""
    from engine.memory import reuse_freed_memory

    reuse_freed_memory()  # as the command line does
    from engine import default_rulebook
    from engine.results.classify import classify
    from engine.results.outputs import write_result
    from household_models import parse_batch, read_survey

    hp, mp = folder / "s.parquet", folder / "s.members.parquet"  # written by main()
    book = default_rulebook()
    out: dict[str, float] = {"households": households}
    t = time.perf_counter()
    raw = read_survey([hp, mp])
    out["read"] = time.perf_counter() - t
    t = time.perf_counter()
    batch = parse_batch(raw)
    out["parse"] = time.perf_counter() - t
    del raw
    timings: dict[str, float] = {}
    from engine.evaluators import vectorised

    original = vectorised.Evaluator.run

    def timed_run(self: vectorised.Evaluator, timings_: object = None) -> vectorised.Evaluation:
        return original(self, timings)

    vectorised.Evaluator.run = timed_run  # type: ignore[method-assign]
    t = time.perf_counter()
    result = classify(batch, book, AS_OF, verify=0)
    total = time.perf_counter() - t
    vectorised.Evaluator.run = original  # type: ignore[method-assign]
    out.update(timings)
    out["assemble"] = total - sum(timings.values())
    t = time.perf_counter()
    write_result(result, folder / "results.parquet")
    out["write"] = time.perf_counter() - t
    out["members"] = float(len(batch.member_household))
    out["recommendation_rows"] = float(len(result.recommendations))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def durable_and_baselines(folder: Path) -> dict[str, float]:
    """durable_rules on SAMPLE households, and the two baselines, on the same households."""
    from durable import engine as durable_engine

    from engine import default_rulebook
    from engine.evaluators.crosscheck import compare, run_durable
    from engine.evaluators.durable import QuietHost
    from engine.evaluators.reference import Reference, from_batch
    from engine.results.classify import classify
    from engine.synthetic import generate
    from household_models import parse_batch, read_survey

    hh, mem = generate(SAMPLE, year=2025, seed=1)
    hh.to_parquet(folder / "h.parquet")
    mem.to_parquet(folder / "m.parquet")
    batch = parse_batch(read_survey([folder / "h.parquet", folder / "m.parquet"]))
    book = default_rulebook()
    out: dict[str, float] = {"sample": SAMPLE}
    t = time.perf_counter()
    result = classify(batch, book, AS_OF, verify=0)
    out["vectorised_s"] = time.perf_counter() - t
    r = result.resolved
    positions = list(range(batch.n_households))
    for processes in (1, 2):
        t = time.perf_counter()
        outcomes = run_durable(r, batch, positions, processes)
        out[f"durable_{processes}_s"] = time.perf_counter() - t
        out[f"durable_{processes}_disagreements"] = len(
            compare(r, result.evaluation, batch, outcomes)
        )
    # Baseline 1: a naive durable_rules loop, one post per household, four classification rules
    # over income, line, ceiling and the deprivation count (given, not derived).
    counts = result.evaluation.deprivation_lo
    income = batch.households["income_per_capita_vnd"].values
    area = batch.households["area"]
    line = [r.param("income_line_vnd")[area.codes[int(a)]] if a >= 0 else 0
            for a in area.values.tolist()]  # fmt: skip
    ceiling = [r.param("average_ceiling_vnd")[area.codes[int(a)]] if a >= 0 else 0
               for a in area.values.tolist()]  # fmt: skip
    got: list[str] = []
    k = int(r.param("deprivation_cutoff"))
    rules = {
        "poor": {"all": [{"m": {"$and": [{"$lte": {"gap": 0}}, {"$gte": {"dep": k}}]}}]},
        "near_poor": {"all": [{"m": {"$and": [{"$lte": {"gap": 0}}, {"$lt": {"dep": k}}]}}]},
        "average": {"all": [{"m": {"$and": [{"$gt": {"gap": 0}}, {"$lte": {"gap2": 0}}]}}]},
        "not_poor": {"all": [{"m": {"$gt": {"gap2": 0}}}]},
    }
    definition = {name: {**rule, "run": (lambda c, name=name: got.append(name))}
                  for name, rule in rules.items()}  # fmt: skip
    host = QuietHost({"naive": definition})
    t = time.perf_counter()
    for i in range(batch.n_households):
        if income[i] != income[i]:
            continue
        with contextlib.suppress(durable_engine.MessageNotHandledException):
            host.post("naive", {"sid": str(i), "gap": int(income[i]) - line[i],
                                "gap2": int(income[i]) - ceiling[i], "dep": int(counts[i])})  # fmt: skip
        host.delete_state("naive", str(i))
    out["naive_durable_s"] = time.perf_counter() - t
    # Baseline 2: pandas row-wise apply of the same classification (the reference interpreter).
    ref = Reference(r)
    frame = hh.assign(_pos=range(len(hh)))
    households = from_batch(batch)
    t = time.perf_counter()
    frame.apply(lambda row: ref.evaluate(households[row["_pos"]]).cls
                if not batch.household_invalid[row["_pos"]] else "invalid", axis=1)  # fmt: skip
    out["pandas_apply_s"] = time.perf_counter() - t
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+",
                        default=[10_000, 100_000, 418_246, 1_000_000, 2_000_000])  # fmt: skip
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--baselines", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, default=HERE / "REPORT.md")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one_size(args.one, Path(args.folder))))
        return
    if args.baselines:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(durable_and_baselines(Path(tmp))))
        return
    rows = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:  # the sample written by another process
            subprocess.run([sys.executable, "-m", "cli.main", "sample", "-o",
                            str(Path(tmp) / "s.parquet"), "--households", str(size), "--seed",
                            "1", "--year", "2025"], check=True, capture_output=True,
                           cwd=HERE.parent)  # fmt: skip
            proc = subprocess.run([sys.executable, __file__, "--one", str(size), "--folder",
                                   tmp], check=True, capture_output=True, text=True)  # fmt: skip
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{size:>9,} households done", flush=True)
    proc = subprocess.run([sys.executable, __file__, "--baselines"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    base = json.loads(proc.stdout.strip().splitlines()[-1])
    text = render(rows, base)
    old = args.report.read_text("utf-8") if args.report.exists() else ""
    begin, end = "<!-- race -->", "<!-- /race -->"
    if begin in old and end in old:  # the peers' table of benchmarks/race.py is kept
        text = text.rstrip() + "\n\n" + old[old.index(begin): old.index(end) + len(end)] + "\n"
    args.report.write_text(text, "utf-8")
    print(f"→ {args.report}")


PHASES = ["read", "parse", "member_facts", "indicators", "class", "statuses", "recommendations",
          "assemble", "write"]  # fmt: skip
COMPUTE = ["member_facts", "indicators", "class", "statuses", "recommendations"]


WHY = """## Where the time goes, and what is missed

The phases above are timed inside one process; `benchmarks/race.py` (the section below, when it
has been run) times whole commands against the DuckDB and Polars peers. On the province, parsing
and validating every value (read, parse) and assembling the five output tables are still about
two thirds of a run; the rules themselves (member facts through recommendations) are about a
seventh. The compute phases reach about 300,000-700,000 households/s on the province (less
beyond 1 M households), not the 1,000,000 asked:
a household has ~3.5 members and every member fact, status and action allocates member-length
arrays, whose first touch (a page fault per 4 KB on this VM) costs as much as the arithmetic;
the phases run twice as fast when the same arrays are evaluated a second time in the process.
Beyond 1 M households the same effect makes a run grow faster than linearly (2 M households:
about 2-2.5x the time of 1 M), and peak memory stays at about 2.5 KB a household in the
command line (the race below) and about 3.2 KB in this harness's process, not 1.2 KB: the input
table, the parsed columns and the results table of every household are in memory at once.
`classify --chunk-size` bounds the memory of a Parquet batch of any size. Timings on this VM
drift by a fifth within a day: compare ratios measured in one run, not figures across runs.
"""


def render(rows: list[dict[str, float]], base: dict[str, float]) -> str:
    cpus = os.cpu_count()
    lines = [
        "# Benchmark report",
        "",
        f"Generated {dt.date.today().isoformat()} by `python benchmarks/harness.py` on "
        f"{platform.node() or 'this machine'} ({cpus} CPUs, Python {platform.python_version()}). "
        "Synthetic province from `giamngheo sample` (seed 1, year 2025), Parquet in and out, "
        f"evaluation date {AS_OF}. Times in seconds; each size runs in its own process.",
        "",
        "| households | " + " | ".join(PHASES) + " | compute households/s | end to end | "
        "households/s | peak RSS MB |",
        "|---:|" + "---:|" * (len(PHASES) + 4),
    ]
    for row in rows:
        compute = sum(row.get(p, 0.0) for p in COMPUTE)
        total = sum(row.get(p, 0.0) for p in PHASES)
        n = row["households"]
        lines.append(f"| {int(n):,} | " + " | ".join(f"{row.get(p, 0.0):.2f}" for p in PHASES)
                     + f" | {n / compute:,.0f} | {total:.2f} | {n / total:,.0f} | "
                     f"{row['peak_rss_mb']:,.0f} |")  # fmt: skip
    n = base["sample"]
    vec = base["vectorised_s"]
    lines += [
        "",
        f"## durable_rules and the baselines ({int(n):,} households, same run)",
        "",
        "| evaluator | seconds | households/s | time / vectorised classify |",
        "|---|---:|---:|---:|",
        f"| vectorised classify (all outputs) | {vec:.2f} | {n / vec:,.0f} | 1.0 |",
    ]
    for processes in (1, 2):
        s = base[f"durable_{processes}_s"]
        lines.append(f"| durable_rules, {processes} process(es) "
                     f"({int(base[f'durable_{processes}_disagreements'])} disagreements) | {s:.1f} "
                     f"| {n / s:,.0f} | {s / vec:.0f}× |")  # fmt: skip
    for key, label in (("naive_durable_s", "baseline: naive durable_rules loop, one post per "
                        "household, 4 rules"), ("pandas_apply_s", "baseline: pandas row-wise "
                        "apply of the same classification")):  # fmt: skip
        s = base[key]
        lines.append(f"| {label} | {s:.1f} | {n / s:,.0f} | {s / vec:.0f}× |")
    lines += [
        "",
        "Targets for the vectorised path on this 2-core machine: ≥ 1,000,000 households/s in "
        "the compute phases together; the province from Parquet to results Parquet in ≤ 5 s; "
        "peak memory ≤ 1.2 KB a household at 2 M households. See the tables for what is met.",
        "",
        WHY,
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
