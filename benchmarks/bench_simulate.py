"""Cost of `simulate` per scenario against one classify, and agreement with separate classify
runs (not part of the test run).

    python benchmarks/bench_simulate.py              # the 2025 synthetic province, seed 1
    python benchmarks/bench_simulate.py --check      # also compare with separate classify runs

Parses the batch once, then, in the same process: one classify (the evaluation and every output
table, from the parsed batch), `simulate` with no scenario, `simulate` with each shipped scenario
alone, and `simulate` with all of them. Prints each scenario's added time as a multiple of one
classify (issue 6's target: ≤ 1.5×). ``--check`` then classifies the batch separately under each
scenario's rulebook (what `giamngheo classify --scenario S.yaml` does) and compares every
household's class, the class counts per district, the indicator headcounts, the cost and loans
per department and the movers with the simulation's tables.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine import classify, default_rulebook  # noqa: E402
from engine.simulation.scenario import load_scenario  # noqa: E402
from engine.simulation.simulate import Simulation, simulate  # noqa: E402
from engine.synthetic import generate  # noqa: E402
from household_models import parse_batch, read_survey  # noqa: E402
from household_models.batch import ParsedBatch  # noqa: E402

LINES: list[str] = []


def say(text: str) -> None:
    print(text)
    LINES.append(text)


def check(sim: Simulation, batch: ParsedBatch, as_of: dt.date) -> list[str]:
    """Differences between the simulation's tables and separate classify runs."""
    book = default_rulebook()
    problems: list[str] = []
    classes = sim.tables["classes"]
    for sid, scenario in sim.definitions.items():
        t = time.perf_counter()
        plain = classify(batch, book, as_of, resolved=scenario.apply(book, as_of))
        seconds = time.perf_counter() - t
        mine = sim.scenarios[sid]
        if list(mine.classes) != list(plain.results["class"]):
            problems.append(f"{sid}: household classes differ")
        got = classes[classes["scenario"] == sid].set_index(["district", "class"])["households"]
        want = plain.summary.set_index(["district", "class"])["households"]
        if got.sort_index().to_dict() != want.sort_index().to_dict():
            problems.append(f"{sid}: class counts per district differ")
        ind = sim.tables["indicators"]
        ind = ind[ind["scenario"] == sid].set_index("indicator")["deprived"]
        for rule, _ in plain.resolved.indicators:
            if ind[rule.id] != int((plain.results[rule.id] == "deprived").sum()):
                problems.append(f"{sid}: headcount of {rule.id} differs")
        costs = sim.tables["costs"]
        costs = costs[costs["scenario"] == sid].groupby(["department_code", "department"])[
            ["recommendations", "first_year_cost_vnd", "loan_volume_vnd"]].sum()  # fmt: skip
        deps = plain.departments[plain.departments["department_code"] != ""]
        for dep in deps.to_dict("records"):
            key = (dep["department_code"], dep["department"])
            got_row = (tuple(int(costs.loc[key, c]) for c in ("recommendations",
                       "first_year_cost_vnd", "loan_volume_vnd")) if key in costs.index
                       else (0, 0, 0))  # fmt: skip
            want_row = (dep["recommendations"], dep["first_year_cost_vnd"], dep["loan_volume_vnd"])
            if got_row != want_row:
                problems.append(f"{sid}: department {key} {got_row} != {want_row}")
        movers = sim.tables["movers"]
        moved = int((np.asarray(sim.baseline.classes) != plain.results["class"].to_numpy()).sum())
        if int((movers["scenario"] == sid).sum()) != moved:
            problems.append(f"{sid}: movers differ")
        counts = plain.class_counts
        say(f"  check {sid}: classify --scenario {seconds:.2f} s; poor {counts['poor']:,}, "
              f"near-poor {counts['near_poor']:,}, movers {moved:,}; "
              f"cost {int(deps['first_year_cost_vnd'].sum()):,} VND")  # fmt: skip
    return problems


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, default=None, help="default: the province")
    parser.add_argument("--report", type=Path, default=None,
                        help="also write the figures to this Markdown file")  # fmt: skip
    parser.add_argument("--check", action="store_true",
                        help="compare with separate classify runs under each scenario")  # fmt: skip
    args = parser.parse_args()
    as_of = dt.date(2025, 6, 30)
    book = default_rulebook()
    hh, mem = generate(args.households, year=2025, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        hh.to_parquet(Path(tmp) / "h.parquet")
        mem.to_parquet(Path(tmp) / "m.parquet")
        batch = parse_batch(read_survey([Path(tmp) / "h.parquet", Path(tmp) / "m.parquet"]))
    scenarios = [load_scenario(p, book)
                 for p in sorted((ROOT / "rules" / "scenarios").glob("*.yaml"))]  # fmt: skip
    runs = []
    for _ in range(2):  # the first run also pays one-off costs (imports, caches): keep the best
        t = time.perf_counter()
        classify(batch, book, as_of, verify=0)
        runs.append(time.perf_counter() - t)
    one = min(runs)
    t = time.perf_counter()
    simulate(batch, [], as_of, book=book)
    base = time.perf_counter() - t
    say(f"{batch.n_households:,} households: classify {one:.2f} s; simulate without scenario "
          f"(the baseline) {base:.2f} s = {base / one:.2f}x")  # fmt: skip
    for scenario in scenarios:
        t = time.perf_counter()
        simulate(batch, [scenario], as_of, book=book)
        added = time.perf_counter() - t - base
        say(f"  {scenario.id}: +{added:.2f} s = {added / one:.2f}x one classify")
    t = time.perf_counter()
    sim = simulate(batch, scenarios, as_of, book=book)
    total = time.perf_counter() - t
    n = len(scenarios)
    say(f"  all {n} together: {total:.2f} s = {total / one:.2f}x one classify; "
          f"{(total - base) / n / one:.2f}x per scenario beyond the baseline")  # fmt: skip
    t = time.perf_counter()
    simulate(batch, scenarios, as_of, book=book, share_facts=False)
    unshared = time.perf_counter() - t
    say(f"  all {n} together, each run computing its own member facts: {unshared:.2f} s "
          f"(sharing saves {1 - total / unshared:.0%})")  # fmt: skip
    problems: list[str] = []
    if args.check:
        problems = check(sim, batch, as_of)
        say("agreement with separate classify runs: "
              + ("identical" if not problems else "; ".join(problems)))  # fmt: skip
    if args.report is not None:
        import platform

        head = (f"# simulate: cost per scenario\n\n`python benchmarks/bench_simulate.py"
                f"{' --check' if args.check else ''}` on {platform.node()}, "
                f"{time.strftime('%Y-%m-%d')}; Python {platform.python_version()}.\n\n")  # fmt: skip
        args.report.write_text(head + "```\n" + "\n".join(LINES) + "\n```\n", "utf-8")
    if args.check and problems:
        sys.exit(1)


if __name__ == "__main__":
    main()
