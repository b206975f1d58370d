"""The hash of each registry row (see ``engine.registry.store`` for the chain), computed a
row at a time in this process: no DuckDB (so it also runs in a forked process) and no
parallel digests (one SHA-256 call or two a row is less CPU than hashing the contents in bulk
and chaining them after, measured on the province). Loaded when rows are written or verified,
never by the read-only queries.

Two schemes, fixed when a registry is created (``meta``'s ``hash_scheme``; absent: 1):

1. each row's hash is the SHA-256 of the previous row's hash (32 bytes; nothing for the first
   row) followed by the SHA-256 of the row's text;
2. each row's hash is the SHA-256 of the previous row's hash (the same) followed by the row's
   text itself: one SHA-256 a row.

A row's text: its cells, in column order, as text (Arrow's cast to string: ISO dates and
times, shortest round-trip numbers, ``true``/``false``), a missing cell as U+0000, cells
separated by U+001F, UTF-8.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SEP, _NULL = "\x1f", "\x00"
SLICE = 122_880  # rows hashed at a time: one DuckDB row group (a staged file's batches too)
SCHEMES = (1, 2)
NEWEST = 2  # the scheme of a registry created now


def row_texts(table: pa.Table) -> pa.Array:
    """Each row's text as the chain hashes it (see the module's docstring)."""
    parts = []
    for name in table.column_names:
        if name == "row_hash":
            continue
        col = table.column(name)
        text = pc.cast(col, pa.string()) if not pa.types.is_string(col.type) else col
        parts.append(pc.fill_null(text, _NULL))
    if not parts:
        return pa.array([], pa.string())
    return pc.binary_join_element_wise(*parts, _SEP)


def chain(texts: pa.Array | pa.ChunkedArray, previous: str, scheme: int) -> pa.Array:
    """The row hashes (hex) of rows whose texts are ``texts`` (``row_texts``), following the
    hash ``previous`` (hex; "" before the first row), by the scheme ``scheme``."""
    if scheme not in SCHEMES:  # pragma: no cover - a registry's scheme is checked on opening
        raise AssertionError(f"hash scheme {scheme}")
    h, sha = bytes.fromhex(previous), hashlib.sha256
    digests: list[bytes] = []
    add = digests.append
    for part in texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]:
        width = np.int64 if pa.types.is_large_string(part.type) else np.int32
        bounds = np.frombuffer(part.buffers()[1], dtype=width)[
            part.offset:part.offset + len(part) + 1].tolist()
        view = memoryview(part.buffers()[2] or b"")
        if scheme == 1:
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                h = sha(h + sha(view[a:b]).digest()).digest()
                add(h)
        else:
            for a, b in zip(bounds[:-1], bounds[1:], strict=True):
                h = sha(h + view[a:b]).digest()
                add(h)
    # all the hashes as one hex text, cut into rows by offsets: no Python object per row
    hexed = b"".join(digests).hex().encode("ascii")
    big = len(hexed) >= 2**31  # beyond 33 M rows the offsets need 64 bits
    offsets = np.arange(0, len(hexed) + 1, 64, dtype=np.int64 if big else np.int32)
    kind = pa.LargeStringArray if big else pa.StringArray
    return kind.from_buffers(len(digests), pa.py_buffer(offsets), pa.py_buffer(hexed))


def hashes(table: pa.Table, previous: str, scheme: int) -> pa.Array:
    """The row hashes of ``table``'s rows (``row_hash`` left out), following ``previous``: a
    slice at a time, each slice's texts freed before the next is made, so that the texts of a
    large table never sit in memory at once (the chain runs on across slices); one array, as
    the other columns are (DuckDB stores a table of aligned columns about half as large as one
    whose hash column comes in slices, measured on the province)."""
    parts = [hashed for _, hashed in _chained(table, previous, scheme)]
    return pa.chunked_array(parts, pa.string()).combine_chunks()


def _chained(rows: pa.Table, previous: str, scheme: int) -> Iterator[tuple[pa.Table, pa.Array]]:
    """Each slice of ``rows`` and its row hashes, the chain running on across slices."""
    for start in range(0, rows.num_rows, SLICE):
        part = rows.slice(start, SLICE)
        hashed = chain(row_texts(part), previous, scheme)
        previous = hashed[-1].as_py()
        yield part, hashed


def stage(schema: pa.Schema, columns: dict[str, Any], round_name: str | None, last: int,
          previous: str, scheme: int) -> pa.Table:  # fmt: skip
    """Rows ready to insert into a table of ``schema`` after a chain whose tail is ``last``
    and ``previous``: ``body`` hashed by the scheme ``scheme``."""
    rows = body(schema, columns, round_name, last)
    return rows.append_column("row_hash", hashes(rows, previous, scheme))


def staged_slices(schema: pa.Schema, columns: dict[str, Any], round_name: str | None, last: int,
                  previous: str, scheme: int) -> Iterator[pa.Table]:  # fmt: skip
    """The rows of ``stage``, a slice at a time (each slice's texts and hashes made only
    when it is asked for, so a large table's rows are written out without being held whole
    twice)."""
    for part, hashed in _chained(body(schema, columns, round_name, last), previous, scheme):
        yield part.append_column("row_hash", hashed)


def body(schema: pa.Schema, columns: dict[str, Any], round_name: str | None,
         last: int) -> pa.Table:  # fmt: skip
    """Rows for a table of ``schema`` after a chain whose last ``seq`` is ``last``, without
    their hashes: ``columns`` (name -> values or array; ``seq`` left out) cast to the table's
    types, numbered, ``round`` set (unless ``round_name`` is None: a registry-wide chain)."""
    n = len(next(iter(columns.values())))
    data = dict(columns)
    data["seq"] = pa.array(range(last + 1, last + 1 + n), pa.int64())
    if round_name is not None:
        data["round"] = pa.array([round_name] * n, pa.string())
    arrays = []
    for f in schema:
        if f.name == "row_hash":
            continue
        value = data.get(f.name)
        if value is None:
            arrays.append(pa.nulls(n, f.type))
        else:
            arrays.append(pa.array(value, f.type) if not isinstance(value, pa.Array | pa.ChunkedArray)
                          else pc.cast(value, f.type))  # fmt: skip
    return pa.Table.from_arrays(arrays, [f.name for f in schema if f.name != "row_hash"])
