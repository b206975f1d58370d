"""Where the five tables of a classification go: the sheets of one workbook, or one CSV or
Parquet file each beside the results file, written by the one writer (``engine.files``)."""

from __future__ import annotations

from pathlib import Path

from engine.errors import OutputError
from engine.files import write_tables
from engine.results.classify import BatchResult

TABLES = ("results", "errors", "summary", "recommendations", "departments")


def output_paths(path: Path) -> dict[str, Path]:
    """The file of each table for a results path (one workbook, or five files)."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return {"results": path}
    if suffix not in (".csv", ".parquet"):
        raise OutputError("output_suffix", path=path, allowed=".xlsx, .csv, .parquet")
    stem = path.with_suffix("")
    return {name: path if name == "results" else Path(f"{stem}.{name}{suffix}")
            for name in TABLES}  # fmt: skip


def write_result(result: BatchResult, path: Path) -> list[Path]:
    """Write results, errors, summary, recommendations and departments for ``path``'s format
    (sheets of one workbook, or one file each); returns the files written."""
    tables = {"results": result.results, "errors": result.errors, "summary": result.summary,
              "recommendations": result.recommendations, "departments": result.departments}  # fmt: skip
    targets = output_paths(path)
    if path.suffix.lower() == ".xlsx":
        return write_tables(tables, path, workbook=True)
    return write_tables(tables, path, paths=targets)
