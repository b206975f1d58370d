"""The one writer: every output goes to a temporary name beside its target and is renamed in
place only once it is complete, so an interrupted or failed run never leaves a half-written
file. Tables are written as sheets of one workbook, or one CSV (UTF-8 with BOM, for Excel) or
Parquet file each; ``TableAppender`` appends tables chunk by chunk under a temporary name.

Any failure to write (a directory in the way, no permission, a full disk) is an ``OutputError``
naming the file, with nothing left behind. Files get the permissions of the user's umask.

Spreadsheet outputs never hurt their reader: a text cell that starts like a formula (``=``,
``+``, ``-``, ``@``, a tab or a carriage return) is written to XLSX as text, never as a formula,
and to CSV with a leading apostrophe, as OWASP advises against CSV injection; the control
characters that XLSX cannot hold are dropped from text in both, line breaks are written as LF in
both, and CSV rows end in CRLF so that a value holding a line break is always quoted. Parquet keeps every value as it is.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import InputError, OutputError

EXCEL_MAX_ROWS = 1_048_575
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The characters an XLSX cell cannot hold (XML 1.0), dropped from every spreadsheet text.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
CSV_LINE_END = "\r\n"


def clean_text(text: str) -> str:
    """Text as a spreadsheet can hold it: line breaks as LF (XML turns a bare CR into LF on
    reading anyway) and the control characters XLSX refuses removed."""
    return ILLEGAL_CHARACTERS.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def csv_safe(value: Any) -> Any:
    """A CSV cell that a spreadsheet will not run: formula-like text gets a leading apostrophe."""
    if not isinstance(value, str):
        return value
    text = clean_text(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with its text cells (and column names) made safe for CSV, as ``csv_safe``
    does one cell, by column: cells that are not text are left as they are."""
    out = frame.copy()
    out.columns = [csv_safe(str(c)) for c in out.columns]
    for col in out.columns:
        values = out[col]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        try:
            text = values.str.replace("\r\n", "\n", regex=False)
        except AttributeError:  # an object column without any text
            continue
        text = text.str.replace("\r", "\n", regex=False)
        text = text.str.replace(ILLEGAL_CHARACTERS.pattern, "", regex=True)
        risky = text.str.match(r"[=+\-@\t]").fillna(False).astype(bool)
        text = text.where(~risky, "'" + text)
        out[col] = text.where(text.notna(), values)  # not text (a number, a missing value)
    return out


def _restrict(path: Path) -> None:
    """Give a staged file the permissions of the user's umask (mkstemp makes it 0600)."""
    mask = os.umask(0)
    os.umask(mask)
    with suppress(OSError):
        os.chmod(path, 0o666 & ~mask)


def failed_output(path: Path, exc: BaseException) -> OutputError:
    """The designed error for an output that cannot be written (exit 4)."""
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        vi, en = "đây là một thư mục", "it is a directory"
    elif isinstance(exc, PermissionError):
        vi, en = "không có quyền ghi", "permission denied"
    else:
        vi, en = reason, reason
    return OutputError("output_failed", path=path, detail_vi=vi, detail_en=en)


def check_target(path: Path, inputs: Iterable[Path] = ()) -> None:
    """Refuse, before any work, an output that is a directory or one of the inputs, or whose
    folder cannot be written (a probe file is created there and removed); finish what a killed
    run left in that folder."""
    if path.is_dir():
        raise failed_output(path, IsADirectoryError(path))
    for source in inputs:
        with suppress(OSError):
            if source.exists() and path.exists() and path.samefile(source):
                raise InputError("output_is_input", path=path)
        if path.resolve() == source.resolve():
            raise InputError("output_is_input", path=path)
    recover(path.parent, [path.name])
    with _held_signals():  # the probe never outlives a SIGTERM
        _staged(path, lambda tmp: None).unlink()


def _staged(path: Path, write: Callable[[Path], None]) -> Path:
    """Write through ``write`` to a temporary file beside ``path``; return that file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise failed_output(path, exc) from None
    os.close(fd)
    tmp = Path(tmp_name)
    _restrict(tmp)
    try:
        write(tmp)
        return tmp
    except BaseException as exc:
        with suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            raise failed_output(path, exc) from None
        raise


JOURNAL_SUFFIX = ".commit"


def _journal_path(target: Path) -> Path:
    return target.parent / f".{target.name}{JOURNAL_SUFFIX}"


def _commit(staged: list[tuple[Path, Path]]) -> list[Path]:
    """Move every staged file (all complete) onto its target, as one unit.

    A journal naming the moves is written first (atomically); the moves follow, with SIGTERM
    held back; the journal goes last. A run killed in between leaves the journal, and the next
    writer in that folder (``recover``) finishes the moves: the targets hold the whole old set
    or, once recovered, the whole new set, never a mix."""
    journal = _journal_path(staged[0][1])
    try:
        with _held_signals():
            tmp_journal = journal.with_name(journal.name + ".tmp")
            tmp_journal.write_text(json.dumps([[str(t), str(p)] for t, p in staged]), "utf-8")
            os.replace(tmp_journal, journal)
            for tmp, target in staged:
                os.replace(tmp, target)
            journal.unlink()
    except OSError as exc:
        for tmp, _ in staged:
            with suppress(FileNotFoundError):
                tmp.unlink()
        with suppress(FileNotFoundError):
            journal.unlink()
        raise failed_output(staged[0][1], exc) from None
    return [target for _, target in staged]


def recover(folder: Path, names: Iterable[str] = ()) -> None:
    """Finish the moves of a commit that was killed (its journal is still there), then remove
    the temporary files a killed writer left for the targets ``names`` in ``folder``."""
    if not folder.is_dir():
        return
    for journal in folder.glob(f".*{JOURNAL_SUFFIX}"):
        try:
            moves = json.loads(journal.read_text("utf-8"))
            for tmp, target in moves:
                if Path(tmp).exists():
                    os.replace(tmp, target)
            journal.unlink()
        except (OSError, ValueError):
            continue
    for name in names:
        for stale in folder.glob(f".{glob_escape(name)}.*.tmp"):
            with suppress(OSError):
                if stale.is_dir():
                    shutil.rmtree(stale)
                else:
                    stale.unlink()


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", name)


_PENDING: list[int] = []


class _held_signals:  # noqa: N801 - used as a context manager
    """Hold SIGTERM back while files are moved into place; deliver it after."""

    def __enter__(self) -> None:
        import signal
        import threading

        self.previous = None
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGTERM, lambda s, f: _PENDING.append(s))

    def __exit__(self, *exc: object) -> None:
        import signal

        if self.previous is not None:
            signal.signal(signal.SIGTERM, self.previous)
            if _PENDING:
                _PENDING.clear()
                signal.raise_signal(signal.SIGTERM)


def for_parquet(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns as nullable strings, so that Parquet stores one type per column."""
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
            for_csv(frame).to_csv(tmp, index=False, encoding="utf-8-sig",
                                  lineterminator=CSV_LINE_END, quoting=csv.QUOTE_MINIMAL)  # fmt: skip
        else:
            for_parquet(frame).to_parquet(tmp, index=False)

    return write


def write_text(path: Path, text: str) -> Path:
    """Write a UTF-8 text file atomically."""

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    return _commit([(_staged(path, write), path)])[0]


def save_workbook(wb: Any, path: Path) -> Path:
    """Save an openpyxl workbook built elsewhere (the survey template) atomically, its bytes
    depending only on its content."""

    def write(tmp: Path) -> None:
        wb.properties.created = FIXED_TIME
        wb.save(tmp)
        _same_bytes(tmp)

    return _commit([(_staged(path, write), path)])[0]


def write_tables(tables: dict[str, pd.DataFrame], path: Path, *, workbook: bool = False,
                 paths: dict[str, Path] | None = None,
                 preambles: dict[str, list[list[Any]]] | None = None) -> list[Path]:  # fmt: skip
    """Write named tables atomically: as sheets of one workbook (``preambles``: rows written
    above a sheet's header, such as a form's title), or one file each (all files are complete
    before any is renamed in place)."""
    if workbook:
        if max(len(frame) for frame in tables.values()) > EXCEL_MAX_ROWS:
            raise OutputError("output_too_many_rows", path=path)

        def write_xlsx(tmp: Path) -> None:
            write_workbook(tables, tmp, preambles)

        return _commit([(_staged(path, write_xlsx), path)])
    assert paths is not None
    staged: list[tuple[Path, Path]] = []
    try:
        for name, frame in tables.items():
            staged.append((_staged(paths[name], _table_writer(frame, paths[name])), paths[name]))
    except BaseException:
        for tmp, _ in staged:
            with suppress(FileNotFoundError):
                tmp.unlink()
        raise
    return _commit(staged)


def _cells(frame: pd.DataFrame) -> Iterator[list[Any]]:
    """The rows of a frame as plain Python values (missing values as None)."""
    columns = [frame[name].astype(object).where(frame[name].notna(), None).to_numpy()
               for name in frame.columns]  # fmt: skip
    for i in range(len(frame)):
        yield [col[i] for col in columns]


def write_workbook(tables: dict[str, pd.DataFrame], path: Path,
                   preambles: dict[str, list[list[Any]]] | None = None) -> None:  # fmt: skip
    """Tables as the sheets of one workbook, streamed (constant memory); text is always text,
    never a formula. ``preambles``: rows above a sheet's header row."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    wb = openpyxl.Workbook(write_only=True)

    def cell(ws: Any, value: Any) -> Any:
        if isinstance(value, str):
            out = WriteOnlyCell(ws, value=clean_text(value))
            out.data_type = "s"  # a text that starts with '=' stays text
            return out
        if value is pd.NA or value is pd.NaT:
            return None
        if isinstance(value, np.generic):
            return value.item()
        return value

    wb.properties.creator = "giamngheo"
    wb.properties.created = FIXED_TIME
    for name, frame in tables.items():
        ws = wb.create_sheet(name)
        for line in (preambles or {}).get(name, []):
            ws.append([cell(ws, v) for v in line])
        ws.append([cell(ws, str(c)) for c in frame.columns])
        for row in _cells(frame):
            ws.append([cell(ws, v) for v in row])
    wb.save(path)
    _same_bytes(path)


FIXED_TIME = dt.datetime(2000, 1, 1)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _same_bytes(path: Path) -> None:
    """Make a saved workbook depend only on its content: no clock in its parts' zip entries or
    in its 'modified' property (openpyxl stamps both at save)."""
    import zipfile

    copy = path.with_suffix(".same.tmp")  # a temporary name the next run would clean
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():  # part by part: a large sheet is streamed, not held
            entry = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type = zipfile.ZIP_DEFLATED
            if info.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", src.read(info))
                dst.writestr(entry, data)
                continue
            with src.open(info) as part, dst.open(entry, "w", force_zip64=True) as out:
                shutil.copyfileobj(part, out, 1 << 20)
    os.replace(copy, path)


class TableAppender:
    """Appends tables to one output file (Parquet or CSV) under a temporary name; ``commit``
    renames it in place, ``abort`` removes it."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = _staged(target, lambda tmp: None)
        self.writer: pq.ParquetWriter | None = None
        self.schema: pa.Schema | None = None
        self.first = True

    def add(self, frame: pd.DataFrame) -> None:
        try:
            if self.target.suffix.lower() == ".csv":
                for_csv(frame).to_csv(self.tmp, mode="w" if self.first else "a",
                                      header=self.first, index=False,
                                      encoding="utf-8-sig" if self.first else "utf-8",
                                      lineterminator=CSV_LINE_END,
                                      quoting=csv.QUOTE_MINIMAL)  # fmt: skip
            else:
                table = pa.Table.from_pandas(for_parquet(frame), preserve_index=False)
                if self.writer is None:
                    self.schema = table.schema
                    self.writer = pq.ParquetWriter(self.tmp, table.schema)
                else:
                    table = table.cast(self.schema)
                self.writer.write_table(table)
        except OSError as exc:
            self.abort()
            raise failed_output(self.target, exc) from None
        self.first = False

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def abort(self) -> None:
        self.close()
        self.tmp.unlink(missing_ok=True)

    @staticmethod
    def commit(appenders: Iterable[TableAppender]) -> list[Path]:
        """Close every appender and rename each file in place."""
        items = list(appenders)
        for a in items:
            a.close()
        return _commit([(a.tmp, a.target) for a in items])
