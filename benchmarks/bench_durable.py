"""Throughput and memory of the durable_rules evaluator (not part of the test run).

    python benchmarks/bench_durable.py --households 100000 --processes 1 2

For each process count it evaluates the same synthetic batch household by household on
durable_rules and prints households/s and the peak RSS of the workers, with the vectorised
evaluator on the same batch, in the same run, as the baseline (ratio = durable / vectorised time).
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_classify import synthetic  # noqa: E402

from engine import classify, default_rulebook  # noqa: E402
from engine.evaluators.crosscheck import compare, run_durable  # noqa: E402
from household_models import parse_batch, read_survey  # noqa: E402


def current_rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rss-every", type=int, default=0,
                        help="also evaluate in this process and print the resident memory every N "
                        "households (flat after warm-up means no leak)")  # fmt: skip
    args = parser.parse_args()
    hh, mem = synthetic(args.households, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        hp, mp = Path(tmp) / "households.parquet", Path(tmp) / "members.parquet"
        hh.to_parquet(hp)
        mem.to_parquet(mp)
        batch = parse_batch(read_survey([hp, mp]))
    as_of = dt.date(2025, 6, 30)
    book = default_rulebook()
    started = time.perf_counter()
    result = classify(batch, book, as_of, verify=0)
    vectorised = time.perf_counter() - started
    n = batch.n_households
    print(f"households={n} members={len(batch.member_household)}; vectorised classify (all "
          f"outputs) {vectorised:.2f} s = {n / vectorised:,.0f} households/s")
    if args.rss_every:
        from engine.evaluators.durable import DurableEvaluator
        from engine.evaluators.reference import from_batch

        evaluator = DurableEvaluator(result.resolved)
        valid = [p for p in range(n) if not batch.household_invalid[p]]
        for start in range(0, len(valid), args.rss_every):
            for household in from_batch(batch, valid[start : start + args.rss_every]):
                evaluator.evaluate(household)
            print(f"  after {min(start + args.rss_every, len(valid)):>9,} households: resident "
                  f"{current_rss_mb():.0f} MB", flush=True)
    for processes in args.processes:
        started = time.perf_counter()
        outcomes = run_durable(result.resolved, batch, list(range(n)), processes)
        elapsed = time.perf_counter() - started
        wrong = compare(result.resolved, result.evaluation, batch, outcomes)
        print(f"durable_rules, {processes} process(es): {elapsed:.1f} s = {n / elapsed:,.0f} "
              f"households/s ({elapsed / vectorised:.0f}x the vectorised time); "
              f"disagreements {len(wrong)}; peak RSS of a worker {children_rss_mb():.0f} MB, "
              f"of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
