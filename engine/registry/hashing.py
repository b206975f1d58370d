"""The hash of each registry row (see ``engine.registry.store`` for the chain): the rows'
content digests, computed in bulk, and the chain over them. Loaded when rows are written or
verified, never by the read-only queries."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_SEP, _NULL = "\x1f", "\x00"
SLICE = 1 << 17  # rows hashed at a time


def row_texts(table: pa.Table) -> pa.Array:
    """Each row's content as the chain hashes it (see the module's docstring)."""
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


_DIGESTER: list[Any] = []


def row_digests(table: pa.Table, *, here: bool = False) -> bytes:
    """The SHA-256 of each row's content, 32 bytes a row, end to end: computed by an
    in-memory DuckDB, in parallel, apart from the registry's connection; with ``here``, by
    this process alone (in a forked process, where DuckDB must not run)."""
    if here:
        texts = row_texts(table)
        sha, out = hashlib.sha256, []
        for part in texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]:
            width = np.int64 if pa.types.is_large_string(part.type) else np.int32
            bounds = np.frombuffer(part.buffers()[1], dtype=width)[
                part.offset:part.offset + len(part) + 1].tolist()
            view = memoryview(part.buffers()[2] or b"")
            out += [sha(view[a:b]).digest() for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        return b"".join(out)
    import duckdb

    if not _DIGESTER:
        _DIGESTER.append(duckdb.connect(":memory:"))
    con = _DIGESTER[0]
    texts = row_texts(table)
    if len(texts) == 0:
        return b""
    con.register("_texts", pa.table({"i": pa.array(np.arange(len(texts))), "t": texts}))
    try:
        relation = con.sql("SELECT unhex(sha256(t)) AS d FROM _texts ORDER BY i")
        fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
        column = fetch().column("d").combine_chunks()
    finally:
        con.unregister("_texts")
    offsets = np.frombuffer(column.buffers()[1], dtype=np.int32)[column.offset:]
    data = column.buffers()[2]
    return bytes(data)[int(offsets[0]):int(offsets[len(column)])]


def chain(contents: bytes, previous: str) -> pa.Array:
    """The row hashes (hex) of rows whose content digests are ``contents`` (``row_digests``),
    following the hash ``previous`` (hex; "" before the first row): each is the SHA-256 of
    the previous row's hash (32 bytes; nothing for the first row) and the row's content
    digest."""
    digests = []
    h = bytes.fromhex(previous)
    sha = hashlib.sha256
    view = memoryview(contents)
    for k in range(0, len(contents), 32):
        h = sha(h + view[k:k + 32]).digest()
        digests.append(h)
    # all the hashes as one hex text, cut into rows by offsets: no Python object per row
    hexed = b"".join(digests).hex().encode("ascii")
    big = len(hexed) >= 2**31  # beyond 33 M rows the offsets need 64 bits
    offsets = np.arange(0, len(hexed) + 1, 64, dtype=np.int64 if big else np.int32)
    kind = pa.LargeStringArray if big else pa.StringArray
    return kind.from_buffers(len(digests), pa.py_buffer(offsets), pa.py_buffer(hexed))


def stage(schema: pa.Schema, columns: dict[str, Any], round_name: str | None, last: int,
          previous: str, *, here: bool = False) -> pa.Table:  # fmt: skip
    """Rows ready to insert into a table of ``schema`` after a chain whose tail is ``last``
    and ``previous``: ``columns`` (name -> values or array; ``seq`` left out) cast to the
    table's types, numbered, ``round`` set (unless ``round_name`` is None: a registry-wide
    chain) and hashed (``here``: see ``row_digests``)."""
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
    body = pa.Table.from_arrays(arrays, [f.name for f in schema if f.name != "row_hash"])
    # hashed a slice at a time: each slice's texts are freed before the next is made, so the
    # texts of a large table never sit in memory at once (the chain runs on across slices)
    hashes = []
    for start in range(0, n, SLICE):
        hashed = chain(row_digests(body.slice(start, SLICE), here=here), previous)
        previous = hashed[-1].as_py()
        hashes.append(hashed)
    # one array, as the other columns are: DuckDB stores a table of aligned columns about half
    # as large as one whose hash column comes in slices (measured on the province)
    hashed = pa.chunked_array(hashes, pa.string()).combine_chunks()
    return body.append_column("row_hash", hashed)
