"""Writing results atomically: every file goes to a temporary name, then is renamed in place."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

import pandas as pd

from engine.classify import BatchResult

EXCEL_MAX_ROWS = 1_048_575


class OutputError(Exception):
    pass


def _atomic(path: Path, write: Callable[[Path], None]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        return tmp
    except BaseException:
        with suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _for_parquet(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = (
                out[col].map(lambda v: None if v is None or v != v else str(v)).astype("string")
            )
    return out


def _table_writer(frame: pd.DataFrame, target: Path) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        if target.suffix.lower() == ".csv":
            # UTF-8 with BOM so that Excel shows Vietnamese correctly.
            frame.to_csv(tmp, index=False, encoding="utf-8-sig")
        else:
            _for_parquet(frame).to_parquet(tmp, index=False)

    return write


def output_paths(path: Path) -> dict[str, Path]:
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return {"results": path}
    if suffix not in (".csv", ".parquet"):
        raise OutputError(
            f"{path}: đuôi tệp kết quả phải là .xlsx, .csv hoặc .parquet / "
            "the output must end in .xlsx, .csv or .parquet"
        )
    stem = path.with_suffix("")
    return {
        "results": path,
        "errors": Path(f"{stem}.errors{suffix}"),
        "summary": Path(f"{stem}.summary{suffix}"),
        "recommendations": Path(f"{stem}.recommendations{suffix}"),
        "departments": Path(f"{stem}.departments{suffix}"),
    }


def write_result(result: BatchResult, path: Path) -> list[Path]:
    """Write results, errors, summary, recommendations and departments for ``path``'s format
    (sheets of one workbook, or one file each); returns the files written."""
    tables = {"results": result.results, "errors": result.errors, "summary": result.summary,
              "recommendations": result.recommendations, "departments": result.departments}  # fmt: skip
    targets = output_paths(path)
    if path.suffix.lower() == ".xlsx":
        return write_tables(tables, path, workbook=True)
    return write_tables(tables, path, paths=targets)


def write_text(path: Path, text: str) -> Path:
    """Write a UTF-8 text file atomically."""

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    tmp = _atomic(path, write)
    os.replace(tmp, path)
    return path


def write_tables(tables: dict[str, pd.DataFrame], path: Path, *, workbook: bool = False,
                 paths: dict[str, Path] | None = None) -> list[Path]:
    """Write named tables atomically: as sheets of one workbook, or one file each."""
    if workbook:
        if max(len(frame) for frame in tables.values()) > EXCEL_MAX_ROWS:
            raise OutputError(
                f"{path}: quá nhiều dòng cho một trang Excel; hãy ghi ra .csv hoặc .parquet / "
                "too many rows for an Excel sheet; write .csv or .parquet instead"
            )

        def write_xlsx(tmp: Path) -> None:
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                for name, frame in tables.items():
                    frame.to_excel(writer, sheet_name=name, index=False)

        tmp = _atomic(path, write_xlsx)
        os.replace(tmp, path)
        return [path]
    assert paths is not None
    staged = []
    try:
        for name, frame in tables.items():
            staged.append((_atomic(paths[name], _table_writer(frame, paths[name])), paths[name]))
    except BaseException:
        for tmp, _ in staged:
            with suppress(FileNotFoundError):
                tmp.unlink()
        raise
    for tmp, target in staged:
        os.replace(tmp, target)
    return [target for _, target in staged]
