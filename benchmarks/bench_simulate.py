"""Cost of `simulate` per scenario against one classify (not part of the test run).

    python benchmarks/bench_simulate.py              # the 2025 synthetic province, seed 1

Parses the batch once, then times one classify, `simulate` with no scenario, and `simulate` with
each shipped scenario alone, in the same process; prints each scenario's added time as a multiple
of one classify (issue 6's target: ≤ 1.5×).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import classify, default_rulebook  # noqa: E402
from engine.sample import generate  # noqa: E402
from engine.scenario import load_scenario  # noqa: E402
from engine.simulate import simulate  # noqa: E402
from household_models import parse_batch, read_survey  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=None, help="default: the province")
    args = parser.parse_args()
    as_of = dt.date(2025, 6, 30)
    book = default_rulebook()
    hh, mem = generate(args.households, year=2025, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        hh.to_parquet(Path(tmp) / "h.parquet")
        mem.to_parquet(Path(tmp) / "m.parquet")
        batch = parse_batch(read_survey([Path(tmp) / "h.parquet", Path(tmp) / "m.parquet"]))
    t = time.perf_counter()
    classify(batch, book, as_of)
    one = time.perf_counter() - t
    t = time.perf_counter()
    simulate(batch, book, [], as_of)
    base = time.perf_counter() - t
    print(f"{batch.n_households:,} households: classify {one:.2f} s; simulate without scenario "
          f"{base:.2f} s")  # fmt: skip
    for path in sorted((ROOT / "examples" / "scenarios").glob("*.yaml")):
        scenario = load_scenario(path, book)
        t = time.perf_counter()
        simulate(batch, book, [scenario], as_of)
        added = time.perf_counter() - t - base
        print(f"  {scenario.id}: +{added:.2f} s = {added / one:.2f}x one classify")


if __name__ == "__main__":
    main()
