"""The registry's cost and size on the synthetic province (not part of the test run).

    python benchmarks/bench_registry.py              # 3 alternating rounds, then 5 yearly rounds

1. ``giamngheo classify`` (as a user runs it, with its cross-check) and ``giamngheo review record``
   of the same Parquet pair into a new registry, alternately, each in a fresh process: CPU, wall
   and peak memory medians and the ratio of record to classify.
2. Five rounds, 2021 to 2025, recorded (with each year's events) and closed one after the
   other from the synthetic panel ``giamngheo sample --province --panel 2021-2025``; the file
   size after each round, and each year's poor rate per former district against the plan.
3. ``review flows`` and ``review history`` on that registry: the whole command (a fresh process,
   Python start and imports included) and the query alone, in this process.

The section between the registry markers of ``benchmarks/REPORT.md`` is replaced.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from race import measure, replace_section  # noqa: E402

BEGIN, END = "<!-- registry -->", "<!-- /registry -->"


def _sample(folder: Path, year: int) -> list[Path]:
    hh = folder / f"survey-{year}.parquet"
    if not hh.exists():
        measure([sys.executable, "-m", "cli.main", "sample", "-o", str(hh), "--province",
                 "--seed", "1", "--year", str(year)])  # fmt: skip
    return [hh, folder / f"survey-{year}.members.parquet"]


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "cli.main", *args]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 20), metavar="N")
    parser.add_argument("--report", type=Path, default=HERE / "REPORT.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="giamngheo-registry-") as tmp:
        folder = Path(tmp)
        pair = _sample(folder, 2025)
        runs: dict[str, list[dict[str, float]]] = {"classify": [], "review record": []}
        for k in range(args.rounds):
            order = ["classify", "review record"] if k % 2 == 0 else ["review record", "classify"]
            for name in order:
                if name == "classify":
                    cmd = _cli("classify", *map(str, pair), "-o", str(folder / "c.parquet"),
                               "--as-of", "2025-10-15")  # fmt: skip
                else:
                    reg = folder / f"r{k}.duckdb"
                    cmd = _cli("review", "record", *map(str, pair), "--registry", str(reg),
                               "--round", "2025", "--as-of", "2025-10-15", "-o",
                               str(folder / "r.parquet"))  # fmt: skip
                runs[name].append(measure(cmd))
                print(name, runs[name][-1], flush=True)
        med = {n: {m: statistics.median(r[m] for r in rs) for m in ("cpu", "wall", "rss")}
               for n, rs in runs.items()}  # fmt: skip
        reg = folder / "five.duckdb"
        sizes = []
        measure(_cli("sample", "-o", str(folder / "panel"), "--province", "--panel", "2021-2025"))
        for year in range(2021, 2026):
            here = folder / "panel" / str(year)
            survey = [here / "survey.parquet", here / "survey.members.parquet"]
            events = ["--events", str(here / "events.csv")] if year > 2021 else []
            got = measure(_cli("review", "record", *map(str, survey), "--registry", str(reg),
                               "--round", str(year), "--as-of", f"{year}-10-15", *events))  # fmt: skip
            measure(_cli("review", "close", "--registry", str(reg), "--round", str(year)))
            sizes.append((year, reg.stat().st_size, got["wall"]))
            print(year, sizes[-1], flush=True)
        flows = measure(_cli("review", "flows", "--registry", str(reg), "--round", "2025",
                             "--format", "json"))  # fmt: skip
        hist = measure(_cli("review", "history", "--registry", str(reg), "--household",
                            "HY-000123", "--format", "json"))  # fmt: skip
        verify = measure(_cli("review", "verify", "--registry", str(reg)))
        from engine.registry import history
        from engine.registry.history import household_history
        from engine.registry.store import open_registry

        r = open_registry(reg)
        t = time.perf_counter()
        history.flows(r, "2025")
        q_flows = time.perf_counter() - t
        t = time.perf_counter()
        household_history(r, "HY-000123")
        q_hist = time.perf_counter() - t
        r.close()
    section = render(med, args.rounds, sizes, flows, hist, verify, q_flows, q_hist)
    print(section)
    replace_section(section, args.report, BEGIN, END)
    print(f"→ {args.report}")


def render(med: dict[str, dict[str, float]], rounds: int, sizes: list[tuple[int, int, float]],
           flows: dict[str, float], hist: dict[str, float], verify: dict[str, float],
           q_flows: float, q_hist: float) -> str:  # fmt: skip
    c, r = med["classify"], med["review record"]
    lines = [
        f"{BEGIN}\n## The registry of review rounds\n",
        f"Measured {dt.date.today().isoformat()} by `python benchmarks/bench_registry.py` on "
        f"{platform.node() or 'this machine'} ({os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}); the 2025 synthetic province (418,246 households), "
        f"medians of {rounds} alternating rounds, each a fresh process.\n",
        "| run | CPU s | wall s | peak RSS MB |", "|---|---:|---:|---:|",
        f"| `classify` (default, cross-check) | {c['cpu']:.2f} | {c['wall']:.2f} | {c['rss']:,.0f} |",
        f"| `review record` into a new registry | {r['cpu']:.2f} | {r['wall']:.2f} | "
        f"{r['rss']:,.0f} |",
        f"\nRecord / classify: CPU {r['cpu'] / c['cpu']:.2f}×, wall {r['wall'] / c['wall']:.2f}× "
        "(target ≤ 1.5×).\n",
        "Five rounds recorded and closed one after the other, from the synthetic panel "
        "(`sample --province --panel 2021-2025`, with each year's events):\n",
        "| round | registry file MB | record wall s |", "|---|---:|---:|",
    ]  # fmt: skip
    lines += [f"| {y} | {s / 1e6:,.1f} | {w:.1f} |" for y, s, w in sizes]
    per_round = sizes[-1][1] / len(sizes) / 1e6
    lines += [
        f"\nAbout {per_round:,.0f} MB a round of the province. On the five-round registry: "
        f"`review flows --round 2025 --format json` {flows['wall']:.2f} s as a command "
        f"({q_flows:.2f} s the query), `review history --household HY-000123 --format json` "
        f"{hist['wall']:.2f} s ({q_hist:.2f} s the query), `review verify` {verify['wall']:.1f} s.",
        END,
    ]  # fmt: skip
    return "\n".join(lines)


if __name__ == "__main__":
    main()
