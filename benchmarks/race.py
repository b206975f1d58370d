"""giamngheo side by side with its peers (not part of the test run).

    python benchmarks/race.py                          # the 2025 province, 5 rounds
    python benchmarks/race.py --households 0 2000000 --rounds 5 3   # the province, then 2 M

Writes a synthetic province with ``giamngheo sample`` (seed 1, year 2025, Parquet), then runs,
round after round and each in a fresh process, in an order that rotates every round:
``giamngheo classify`` as a user runs it (with its durable_rules cross-check), the same with
``--verify 0``, and the two peers of ``benchmarks/peers.py`` (one DuckDB query, one Polars lazy
query; 12 indicators and the class, nothing else). Each run reads the same Parquet pair and writes
its results to Parquet. CPU (user + system, all threads and children), wall time and peak
resident memory come from ``wait4``; the table gives medians and ratios to the Polars peer, and
each peer's agreement with giamngheo on every household giamngheo did not refuse. The section
between the race markers of ``benchmarks/REPORT.md`` is replaced by the new table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from peers import INDICATORS, agreement  # noqa: E402

AS_OF = "2025-06-30"
BEGIN, END = "<!-- race -->", "<!-- /race -->"


def measure(command: list[str], printed: list[str] | None = None) -> dict[str, float]:
    """CPU seconds, wall seconds and peak RSS (MB) of one fresh process (and of its children:
    the largest); what it printed (both streams) is appended to ``printed`` if given."""
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:  # no pipe to fill
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out if printed is not None else subprocess.DEVNULL,
                                stderr=err, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        error = err.read().decode("utf-8", "replace")
        if printed is not None:  # the command line's messages go to either stream
            printed.append(out.read().decode("utf-8", "replace") + error)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({proc.returncode}): {error[-2000:]}")
    return {"cpu": usage.ru_utime + usage.ru_stime, "wall": wall,
            "rss": usage.ru_maxrss / 1024}  # fmt: skip


def worker_peak_mb(printed: str) -> int | None:
    """The largest worker's peak memory a cluster run printed (``--cluster``), in MB."""
    import re

    found = re.search(r"peak memory per worker: ([\d.,]+) MB", printed)
    return int(re.sub(r"[.,]", "", found.group(1))) if found else None


def contestants(hh: Path, mem: Path, out: Path) -> dict[str, list[str]]:
    py = sys.executable
    cli = [py, "-m", "cli.main", "classify", str(hh), str(mem), "--as-of", AS_OF]
    return {
        "giamngheo classify (default, cross-check)": [*cli, "-o", str(out / "g.parquet")],
        "giamngheo classify --verify 0": [*cli, "-o", str(out / "g0.parquet"), "--verify", "0"],
        "DuckDB peer": [py, str(HERE / "peers.py"), "duckdb", str(hh), str(mem),
                        str(out / "duckdb.parquet")],
        "Polars peer": [py, str(HERE / "peers.py"), "polars", str(hh), str(mem),
                        str(out / "polars.parquet")],
    }  # fmt: skip


def race(households: int | None, rounds: int) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        size = ["--province"] if households is None else ["--households", str(households)]
        subprocess.run([sys.executable, "-m", "cli.main", "sample", "-o",
                        str(folder / "s.parquet"), *size, "--seed", "1", "--year", "2025"],
                       check=True, capture_output=True, cwd=HERE.parent)  # fmt: skip
        hh, mem = folder / "s.parquet", folder / "s.members.parquet"
        runs = contestants(hh, mem, folder)
        names = list(runs)
        got: dict[str, list[dict[str, float]]] = {n: [] for n in names}
        for k in range(rounds):
            order = names[k % len(names):] + names[: k % len(names)]
            for name in order:
                got[name].append(measure(runs[name]))
            print(f"round {k + 1}/{rounds} done", flush=True)
        import pyarrow.parquet as pq

        n = pq.read_metadata(hh).num_rows
        agree = {p: agreement(folder / f"{p}.parquet", folder / "g0.parquet")
                 for p in ("duckdb", "polars")}  # fmt: skip
        same = pq.read_table(folder / "g.parquet").equals(pq.read_table(folder / "g0.parquet"))
    return render(n, rounds, got, agree, same)


def render(n: int, rounds: int, got: dict[str, list[dict[str, float]]],
           agree: dict[str, dict[str, int]], same: bool) -> str:  # fmt: skip
    med = {name: {k: statistics.median(r[k] for r in runs) for k in ("cpu", "wall", "rss")}
           for name, runs in got.items()}  # fmt: skip
    polars = med["Polars peer"]
    lines = [f"### {n:,} households ({rounds} rounds)", "",
             "| run | CPU s | wall s | peak RSS MB | RSS KB / household | CPU / Polars | "
             "wall / Polars |", "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for name, m in med.items():
        lines.append(f"| {name} | {m['cpu']:.2f} | {m['wall']:.2f} | {m['rss']:,.0f} | "
                     f"{m['rss'] * 1024 / n:.2f} | {m['cpu'] / polars['cpu']:.2f}× | "
                     f"{m['wall'] / polars['wall']:.2f}× |")  # fmt: skip
    default = med["giamngheo classify (default, cross-check)"]
    check, plain = default["cpu"], med["giamngheo classify --verify 0"]["cpu"]
    lines += ["", f"Cross-check share of the default run's CPU: {(check - plain) / check:.0%}. "
              f"Default and `--verify 0` results identical: {'yes' if same else 'NO'}."]  # fmt: skip
    targets = [("default CPU ≤ 1.5× Polars", check / polars["cpu"], 1.5),
               ("`--verify 0` CPU ≤ 1.2× Polars", plain / polars["cpu"], 1.2),
               ("cross-check ≤ 15 % of the default run", (check - plain) / check, 0.15)]
    if n < 1_000_000:
        targets.append(("default wall ≤ 5 s", default["wall"], 5.0))
    else:
        targets.append(("peak ≤ 1.2 KB a household", default["rss"] * 1024 / n, 1.2))
    lines.append("Targets: " + "; ".join(
        f"{name}: {f'{value:.1%}' if bound < 1 else f'{value:.2f}'}, "
        f"{'met' if value <= bound else 'missed'}" for name, value, bound in targets) + ".")
    for peer, a in agree.items():
        wrong = {k: v for k, v in a.items() if k != "households" and v}
        lines.append(f"{peer}: {a['households']:,} households compared on the class and "
                     f"{len(INDICATORS)} indicator states, "
                     f"{'no disagreement' if not wrong else f'disagreements {wrong}'}.")  # fmt: skip
    return "\n".join(lines) + "\n"


def write(sections: list[str], report: Path) -> None:
    head = (f"{BEGIN}\n## Side by side with the peers\n\nMeasured {dt.date.today().isoformat()} "
            f"by `python benchmarks/race.py` on {platform.node() or 'this machine'} "
            f"({os.cpu_count()} CPUs, Python {platform.python_version()}); medians of "
            "alternating rounds, each run a fresh process reading the Parquet pair of "
            "`giamngheo sample` and writing Parquet.\n\n")  # fmt: skip
    replace_section(head + "\n".join(sections) + END, report, BEGIN, END)


def replace_section(block: str, report: Path, begin: str, end: str) -> None:
    """Put ``block`` (which starts with ``begin`` and ends with ``end``) in place of the
    report's section between those markers, or at its end."""
    text = report.read_text("utf-8") if report.exists() else ""
    if begin in text and end in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    report.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--households", type=int, nargs="+", default=[0],
                        help="sizes (0: the 2025 province, 418,246)")  # fmt: skip
    parser.add_argument("--rounds", type=int, nargs="+", default=[5],
                        help="rounds for each size (the last one for the sizes after it)")  # fmt: skip
    parser.add_argument("--report", type=Path, default=HERE / "REPORT.md")
    args = parser.parse_args()
    rounds = args.rounds + [args.rounds[-1]] * len(args.households)
    sections = [race(n or None, k) for n, k in zip(args.households, rounds, strict=False)]
    print("\n".join(sections))
    write(sections, args.report)
    print(f"→ {args.report}")


if __name__ == "__main__":
    main()
