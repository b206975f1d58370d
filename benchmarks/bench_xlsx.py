"""Writing the results workbook: the streaming writer (``engine.files.write_workbook``) against
pandas' ``to_excel`` through openpyxl (the writer before it), on the same classified batch.

Each writer runs in its own process, alternating, ``--rounds`` times; the medians of the wall
time and of the peak resident memory added by the write are reported, with their ratios.

    python benchmarks/bench_xlsx.py --households 50000 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def _tables(households: int) -> dict[str, object]:
    import datetime as dt

    from engine import classify, default_rulebook
    from engine.synthetic import generate
    from household_models import parse_batch
    from household_models.readers import RawBatch, SourceTable

    hh, mem = generate(households, seed=1)
    raw = RawBatch(SourceTable(hh, "h", "", 2), SourceTable(mem, "m", "", 2))
    result = classify(parse_batch(raw), default_rulebook(), dt.date(2025, 6, 30))
    return {"results": result.results, "errors": result.errors, "summary": result.summary,
            "recommendations": result.recommendations, "departments": result.departments}


def _one(writer: str, households: int) -> dict[str, float]:
    import pandas as pd

    from engine.files import write_workbook

    tables = _tables(households)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.xlsx"
        if writer == "streaming":
            write_workbook(tables, path)  # type: ignore[arg-type]
        else:
            with pd.ExcelWriter(path, engine="openpyxl") as out:
                for name, frame in tables.items():
                    frame.to_excel(out, sheet_name=name, index=False)  # type: ignore[attr-defined]
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"seconds": seconds, "added_mb": (after - before) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--households", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--one", choices=["streaming", "pandas"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one, args.households)))
        return
    runs: dict[str, list[dict[str, float]]] = {"streaming": [], "pandas": []}
    for _ in range(args.rounds):
        for writer in runs:  # alternating, each in a fresh process
            done = subprocess.run([sys.executable, __file__, "--one", writer, "--households",
                                   str(args.households)], capture_output=True, text=True,
                                  check=True)  # fmt: skip
            runs[writer].append(json.loads(done.stdout.strip().splitlines()[-1]))
    med = {w: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "added_mb")}
           for w, rs in runs.items()}  # fmt: skip
    for writer, m in med.items():
        print(f"{writer:>9}: {m['seconds']:6.2f} s, +{m['added_mb']:7.1f} MB peak "
              f"(median of {args.rounds})")  # fmt: skip
    s, p = med["streaming"], med["pandas"]
    print(f"streaming / pandas: time {s['seconds'] / p['seconds']:.2f}×, added memory "
          f"{s['added_mb'] / max(p['added_mb'], 0.1):.2f}× ({args.households:,} households)")


if __name__ == "__main__":
    main()
