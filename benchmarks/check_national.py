"""A large partitioned nation classified on a local Dask cluster against the chunked single
process of the same households (not part of the test run: it takes many minutes).

    python benchmarks/check_national.py --households 10000000 [--folder /big/disk]

1. ``giamngheo sample --national --households N`` (partitions of 100,000).
2. ``giamngheo classify DATASET/ -o OUT/ --cluster local``: wall time, the peak memory of each
   worker as the command reports it, and of the largest process.
3. The partitions put together in one Parquet pair (DuckDB), classified by ``giamngheo classify
   PAIR --chunk-size 100000`` in one process.
4. The two compared: results and recommendations as multisets of rows (a row-hash sum and the
   row count, DuckDB), the input errors without their file and row (a partition's file and
   row there, against the whole file's), the summary and department tables exactly.

The section between the markers of ``benchmarks/REPORT.md`` is replaced.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from race import measure, replace_section, worker_peak_mb  # noqa: E402

BEGIN, END = "<!-- national-check -->", "<!-- /national-check -->"
AS_OF = "2025-06-30"


def _fingerprint(con: object, path: str, drop: tuple[str, ...] = ()) -> tuple[int, int]:
    """Rows and the sum of their hashes (the same multiset of rows gives the same pair)."""
    source = f"read_parquet('{path}', hive_partitioning = false)"
    columns = con.execute(f"SELECT * FROM {source} LIMIT 0").description  # type: ignore[attr-defined]
    keep = ", ".join(f'"{c[0]}"' for c in columns if c[0] not in drop)
    row = con.execute(f"SELECT count(*), sum(hash(struct_pack({keep}))::HUGEINT) "  # type: ignore[attr-defined]
                      f"FROM {source}").fetchone()  # fmt: skip
    return int(row[0]), int(row[1] or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=10_000_000)
    parser.add_argument("--folder", type=Path, default=None)
    args = parser.parse_args()
    import duckdb
    import pandas as pd

    py = [sys.executable, "-m", "cli.main"]
    with tempfile.TemporaryDirectory(prefix="giamngheo-check-", dir=args.folder) as tmp:
        folder = Path(tmp)
        nation, parted, whole = folder / "nation", folder / "parted", folder / "whole.parquet"
        measure([*py, "sample", "-o", str(nation), "--national", "--households",
                 str(args.households)])  # fmt: skip
        printed: list[str] = []
        cluster = measure([*py, "classify", str(nation), "-o", str(parted), "--as-of", AS_OF,
                           "--cluster", "local"], printed)  # fmt: skip
        worker_mb = worker_peak_mb(printed[0]) or -1
        con = duckdb.connect(":memory:")
        con.execute(f"SET temp_directory = '{folder / 'duck'}'")
        pair = [folder / "all.households.parquet", folder / "all.members.parquet"]
        for name, target in zip(("households", "members"), pair, strict=True):
            con.execute(f"COPY (SELECT * FROM read_parquet('{nation}/**/{name}.parquet', "
                        f"hive_partitioning = false)) TO '{target}' (FORMAT parquet)")  # fmt: skip
        chunked = measure([*py, "classify", *map(str, pair), "-o", str(whole), "--as-of", AS_OF,
                           "--chunk-size", "100000"])  # fmt: skip
        same = {}
        for table, drop in (("results", ()), ("recommendations", ()),
                            ("errors", ("file", "row"))):  # fmt: skip
            mine = _fingerprint(con, f"{parted}/**/{table}.parquet", drop)
            theirs = _fingerprint(con, str(whole.with_suffix(f".{table}.parquet")
                                           if table != "results" else whole), drop)  # fmt: skip
            same[table] = (mine == theirs, mine[0])
        for table in ("summary", "departments"):
            a = pd.read_parquet(parted / f"{table}.parquet")
            b = pd.read_parquet(whole.with_suffix(f".{table}.parquet"))
            same[table] = (a.equals(b), len(a))
    lines = [BEGIN, "## A large nation on a local cluster against the chunked single process", "",
             f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
             f"{platform.python_version()}. `python benchmarks/check_national.py --households "
             f"{args.households}`: `sample --national`, then `classify DATASET/ --cluster local` "
             f"and `classify PAIR --chunk-size 100000` of the same households put together.", "",
             "| run | wall s | households/s | peak MB |", "|---|---:|---:|---:|",
             f"| local cluster | {cluster['wall']:.1f} | {args.households / cluster['wall']:,.0f} "
             f"| {worker_mb:,} a worker at most (largest process {cluster['rss']:,.0f}) |",
             f"| chunked single process | {chunked['wall']:.1f} | "
             f"{args.households / chunked['wall']:,.0f} | {chunked['rss']:,.0f} |", "",
             "| table | rows | equal |", "|---|---:|---|"]  # fmt: skip
    lines += [f"| {t} | {n:,} | {'yes' if ok else 'NO'} |" for t, (ok, n) in same.items()]
    lines += ["", "Results and recommendations compared as multisets of rows (the count and the "
              "sum of DuckDB's row hashes); errors the same without their file and row (a "
              "partition names its own file and row); summary and departments exactly.", END]
    block = "\n".join(lines)
    replace_section(block, HERE / "REPORT.md", BEGIN, END)
    print(block)
    if not all(ok for ok, _ in same.values()):
        raise SystemExit("the cluster's results differ from the chunked run's")


if __name__ == "__main__":
    main()
