"""Sheets as offices make them: title rows above the header, headers over two rows with merged
group cells, cells merged down a data column, a stored dimension smaller than the data.

``read_sheet`` reads a worksheet in full (whatever its stored dimension), fills every merged
range from its top-left cell, finds the header row by scanning the first rows for the known
column names, names each column by the lowest non-empty cell of the header block (a group cell
above it is kept as context), and reports what it did as notes: the title rows it skipped and
each merged range of data it filled. The notes become rows of the errors table, so that nothing
is changed without saying so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from xml.etree.ElementTree import iterparse

from household_models.vocab import match_key, messages

HEADER_SEARCH_ROWS = 30  # the header row is looked for among the first rows
MIN_HEADER_MATCHES = 2  # a row is a header when it names at least this many known columns


@dataclass
class Note:
    """Something the reader did to a sheet, reported as a row of the errors table."""

    row: int | None  # the file's row number (1-based)
    column: str
    value: str
    code: str
    message_vi: str
    message_en: str


@dataclass
class SheetLayout:
    header: list[str]
    body: list[list[Any]]
    first_row: int  # the file's row number of the first body row (1-based)
    notes: list[Note] = field(default_factory=list)
    groups: dict[str, str] = field(default_factory=dict)  # column → its group cell above


def note(code: str, row: int | None, column: str, value: str, **fields: Any) -> Note:
    text = messages()[code]
    values = {"value": value, **fields}
    return Note(row, column, value, code, text["vi"].format(**values), text["en"].format(**values))


def merged_ranges(ws: Any) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a read-only worksheet, read from its XML as (first row, first column,
    last row, last column), 0-based and inclusive."""
    from openpyxl.utils.cell import range_boundaries

    out: list[tuple[int, int, int, int]] = []
    source = ws._get_source()  # the sheet's XML; merged ranges are not exposed in read-only mode
    try:
        for _, element in iterparse(source):
            tag = element.tag.rsplit("}", 1)[-1]
            if tag == "mergeCell":
                min_col, min_row, max_col, max_row = range_boundaries(element.get("ref", ""))
                out.append((min_row - 1, min_col - 1, max_row - 1, max_col - 1))
            if tag in ("row", "mergeCell"):
                element.clear()
    finally:
        source.close()
    return out


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _ref(r0: int, c0: int, r1: int, c1: int) -> str:
    from openpyxl.utils.cell import get_column_letter

    first = f"{get_column_letter(c0 + 1)}{r0 + 1}"
    return first if (r0, c0) == (r1, c1) else f"{first}:{get_column_letter(c1 + 1)}{r1 + 1}"


def layout(rows: list[list[Any]], merges: Iterable[tuple[int, int, int, int]],
           known: set[str]) -> SheetLayout:  # fmt: skip
    """The header, body and notes of a sheet given as rows of cell values (0-based). The rows
    are padded and filled in place (a sheet is not copied); only the rows where the header is
    looked for are kept as they were."""
    width = max((len(r) for r in rows), default=0)
    grid = rows
    for row in grid:
        if len(row) < width:
            row.extend([None] * (width - len(row)))
    original = [list(r) for r in grid[:HEADER_SEARCH_ROWS]]
    merges = [m for m in merges if m[0] < len(grid)]
    tops = {(r0, c0): grid[r0][c0] if c0 < width else None for r0, c0, _, _ in merges}
    for r0, c0, r1, c1 in merges:  # merged ranges never overlap: each top-left is read first
        value = tops[(r0, c0)]
        for r in range(r0, min(r1, len(grid) - 1) + 1):
            for c in range(c0, min(c1, width - 1) + 1):
                grid[r][c] = value

    def matches(i: int) -> int:
        return len({match_key(v) for v in grid[i] if not _blank(v)} & known)

    search = range(min(HEADER_SEARCH_ROWS, len(grid)))
    scores = [matches(i) for i in search]
    h = max(search, key=lambda i: (scores[i], -i)) if scores else 0
    if not scores or scores[h] < MIN_HEADER_MATCHES:
        h = 0
    # The header block: the header row and the rows above it that hold at least two cells of
    # their own (a title holds one, often merged across the sheet).
    top = h
    while top > 0 and sum(not _blank(v) for v in original[top - 1]) >= 2:
        top -= 1
    notes: list[Note] = []
    titles = [i + 1 for i in range(top) if any(not _blank(v) for v in original[i])]
    if titles:
        notes.append(note("title_rows_skipped", None, "", ", ".join(map(str, titles)),
                          header_row=h + 1))  # fmt: skip
    header: list[str] = []
    groups: dict[str, str] = {}
    for c in range(width):
        name, above = "", []
        for r in range(h, top - 1, -1):
            if not _blank(grid[r][c]):
                if not name:
                    name = str(grid[r][c]).strip()
                elif str(grid[r][c]).strip() != name:
                    above.append(str(grid[r][c]).strip())
        header.append(name)
        if above and name:
            groups[name] = " / ".join(reversed(above))
    if top < h:
        notes.append(note("header_rows_combined", None, "", f"{top + 1}–{h + 1}"))
    while header and header[-1] == "":
        header.pop()
    body = grid[h + 1 :] if len(header) == width else [row[: len(header)] for row in grid[h + 1 :]]
    while body and all(_blank(v) for v in body[-1]):
        body.pop()
    last = h + len(body)
    for r0, c0, r1, c1 in sorted(merges):
        if r1 > h and r0 <= last and c0 < len(header) and (r1 > r0 or c1 > c0):
            value = tops[(r0, c0)]
            notes.append(note("merged_cells_filled", max(r0, h + 1) + 1, header[c0],
                              _ref(r0, c0, r1, c1),
                              detail="" if value is None else str(value)))  # fmt: skip
    return SheetLayout(header, body, h + 2, notes, groups)
