"""The scaling curve of a partitioned synthetic nation on this machine: for each size, one
``giamngheo classify DATASET/`` in a single process and one on a local Dask cluster
(``--cluster local``: a worker per CPU), each a fresh process; wall time, households a second
and peak memory of the largest process (the driver or a worker), then the cost per million
households extrapolated to 31 M. The nation is drawn once per size (not timed).

    python benchmarks/bench_national.py --sizes 1000000 5000000 10000000
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from race import measure, replace_section, worker_peak_mb  # noqa: E402

BEGIN, END = "<!-- national -->", "<!-- /national -->"
AS_OF = "2025-06-30"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 5_000_000, 10_000_000])
    parser.add_argument("--folder", type=Path, default=None,
                        help="where to draw the nations (default: a temporary folder)")
    args = parser.parse_args()
    py = [sys.executable, "-m", "cli.main"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="giamngheo-national-", dir=args.folder) as tmp:
        folder = Path(tmp)
        for size in args.sizes:
            nation = folder / f"n{size}"
            measure([*py, "sample", "-o", str(nation), "--national", "--households", str(size)])
            runs = {}
            for name, extra in (("single process", []), ("local cluster", ["--cluster", "local"])):
                out = folder / f"out-{size}-{len(extra)}"
                printed: list[str] = []
                runs[name] = measure([*py, "classify", str(nation), "-o", str(out), "--as-of",
                                      AS_OF, *extra], printed)  # fmt: skip
                runs[name]["worker"] = worker_peak_mb(printed[0]) or 0
                shutil.rmtree(out)
                print(size, name, runs[name], flush=True)
            shutil.rmtree(nation)
            rows.append((size, runs))
    lines = [BEGIN, "## A partitioned nation: single process against a local Dask cluster", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}. `python benchmarks/bench_national.py --sizes "
             f"{' '.join(map(str, args.sizes))}`: `giamngheo sample --national` (partitions of "
             "100,000 households), then `giamngheo classify DATASET/ -o OUT/ --as-of "
             f"{AS_OF}` with the default cross-check, each a fresh process, one run each "
             "(minutes long, so one run, not a median). Peak memory is that of the largest "
             "process of the run (the driver, or a worker of the cluster); on the cluster, also "
             "the largest worker's own peak, as the command prints it at the end.", "",
             "| households | run | wall s | households/s | peak MB (largest process) | "
             "peak MB a worker (largest) |", "|---:|---|---:|---:|---:|---:|"]  # fmt: skip
    for size, runs in rows:
        for name, r in runs.items():
            worker = f"{r['worker']:,.0f}" if r["worker"] else "—"
            lines.append(f"| {size:,} | {name} | {r['wall']:.1f} | {size / r['wall']:,.0f} | "
                         f"{r['rss']:,.0f} | {worker} |")
    size, runs = rows[-1]
    per_m = {name: r["wall"] / (size / 1e6) for name, r in runs.items()}
    lines += ["", f"Per million households at {size:,}: " + "; ".join(
        f"{name} {s:.1f} s" for name, s in per_m.items()) + ". Extrapolated to 31 M "
        "households, assuming time grows linearly with households (each partition is "
        "independent and the same size) and the merge stays small: " + "; ".join(
        f"{name} about {31 * s / 60:.0f} min" for name, s in per_m.items()) + " on this "
        "2-CPU machine; with a real scheduler and W such workers, about that divided by W/2.",
        END]  # fmt: skip
    block = "\n".join(lines)
    replace_section(block, HERE / "REPORT.md", BEGIN, END)
    print(block)


if __name__ == "__main__":
    main()
