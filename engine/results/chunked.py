"""Classifying a batch larger than memory, chunk by chunk, with the same results.

Only a Parquet pair is read this way. A first pass reads the household ids (to find duplicates
across the whole batch) and streams the members into one temporary Parquet file per chunk of
households, keeping each member's row number; then each chunk is validated and classified like
a whole batch, its result tables are appended to the outputs, and the summary and the department
table are built at the end from slim columns of every chunk. Results, recommendations, errors,
summary and departments equal those of a single run (tested).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engine.errors import OutputError, SurveyReadError
from engine.files import TableAppender
from engine.results.classify import classify
from engine.results.outputs import output_paths
from engine.results.summaries import department_summary, summary_table
from engine.rulebook import Rulebook
from household_models.columns import ColumnSpec
from household_models.parse import NOTE_CODES, map_headers, parse_batch
from household_models.readers import RawBatch, SourceTable, is_members_table, parquet_file
from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS


def _id_header(probe: SourceTable, specs: tuple[ColumnSpec, ...]) -> str | None:
    """The header of the household_id column, matched as the parser matches headers."""
    return map_headers(probe, specs).get("household_id")


def classify_chunked(paths: list[Path], output: Path, book: Rulebook, as_of: dt.date,
                     chunk_size: int, lang: str = "vi", verify: float = 0.0, processes: int = 1,
                     progress: Callable[[int, int], None] | None = None,
                     verify_max: int | None = None) -> dict[str, Any]:  # fmt: skip
    if len(paths) != 2 or {p.suffix.lower() for p in paths} - {".parquet", ".pq"}:
        raise SurveyReadError(" ".join(map(str, paths)), "chia nhóm chỉ dùng cho cặp tệp Parquet.",
                              "--chunk-size needs a households and a members Parquet file.")  # fmt: skip
    for p in paths:
        if not p.is_file():
            raise SurveyReadError(p, "không tìm thấy tệp.", "file not found.")
    files = [parquet_file(p) for p in paths]
    names = [f.schema_arrow.names for f in files]
    probes = [SourceTable(pd.DataFrame(columns=n), p.name, "", 1) for n, p in zip(names, paths, strict=True)]
    if is_members_table(probes[0]):
        paths, files, names, probes = paths[::-1], files[::-1], names[::-1], probes[::-1]
    hh_file, mem_file = files
    hh_id = _id_header(probes[0], HOUSEHOLD_SPECS)
    mem_id = _id_header(probes[1], MEMBER_SPECS)
    if hh_id is None or mem_id is None:
        raise SurveyReadError(str(paths[0] if hh_id is None else paths[1]),
                              "thiếu cột mã hộ (household_id).", "the household_id column is absent.")  # fmt: skip
    suffix = output.suffix.lower()
    if suffix not in (".parquet", ".csv"):
        raise OutputError("output_suffix", path=output, allowed=".parquet, .csv (--chunk-size)")
    targets = output_paths(output)
    ids = pq.read_table(paths[0], columns=[hh_id]).column(0).to_pandas().astype(object)
    key = ids.where(ids.notna(), None).map(lambda v: None if v is None else str(v).strip())
    duplicates = set(key[key.duplicated(keep=False) & key.notna()])
    chunk_of: dict[str, int] = {}
    for pos, value in enumerate(key.tolist()):
        if value is not None and value not in chunk_of:
            chunk_of[value] = pos // chunk_size
    n = len(key)
    n_chunks = max(1, -(-n // chunk_size))
    appenders = {name: TableAppender(path) for name, path in targets.items()
                 if name not in ("summary", "departments")}  # fmt: skip
    output.parent.mkdir(parents=True, exist_ok=True)
    # The members of each chunk wait beside the output (removed at the end, or by the next run
    # in this folder if this one is killed), never in the system's temporary folder.
    with tempfile.TemporaryDirectory(prefix=f".{output.name}.", suffix=".tmp",
                                     dir=output.parent) as tmp:  # fmt: skip
        # Stream the members into one file per chunk, keeping their row numbers.
        writers: dict[int, pq.ParquetWriter] = {}
        row = 0
        for batch in mem_file.iter_batches(batch_size=200_000):
            frame = batch.to_pandas()
            ref = frame[mem_id].astype(object).map(lambda v: None if v is None or v != v
                                                   else str(v).strip())  # fmt: skip
            target = ref.map(lambda v: chunk_of.get(v, 0) if v is not None else 0).to_numpy()
            frame["__row"] = np.arange(row, row + len(frame))
            row += len(frame)
            for k in np.unique(target).tolist():
                part = pa.Table.from_pandas(frame[target == k], preserve_index=False)
                if k not in writers:
                    writers[k] = pq.ParquetWriter(Path(tmp) / f"m{k}.parquet", part.schema)
                writers[k].write_table(part.cast(writers[k].schema))
        for w in writers.values():
            w.close()
        districts: list[Any] = []
        classes: list[Any] = []
        slim: list[pd.DataFrame] = []
        resolved = None
        totals = {"households": 0, "members": 0, "verified": 0, "disagreements": 0}
        try:
            for k, batch in enumerate(hh_file.iter_batches(batch_size=chunk_size)):
                hh_frame = batch.to_pandas()
                part = Path(tmp) / f"m{k}.parquet"
                if part.exists():
                    mem_frame = pd.read_parquet(part)
                else:
                    mem_frame = pd.DataFrame(columns=[*names[1], "__row"])
                rows = mem_frame.pop("__row").to_numpy()
                raw = RawBatch(SourceTable(hh_frame, paths[0].name, "", 1 + k * chunk_size),
                               SourceTable(mem_frame.reset_index(drop=True), paths[1].name, "", 0))  # fmt: skip
                parsed = parse_batch(raw, duplicates)
                result = classify(parsed, book, as_of, lang=lang, verify=verify,
                                  processes=processes, seed=k, verify_max=verify_max)  # fmt: skip
                resolved = result.resolved
                errors = result.errors.copy()
                member_rows = errors["file"] == paths[1].name
                local = errors.loc[member_rows, "row"].to_numpy(dtype=object)
                fixed: list[Any] = [pd.NA if pd.isna(x) else int(rows[int(x)]) + 1 for x in local]
                errors.loc[member_rows, "row"] = pd.array(fixed, dtype="Int64")
                if k > 0:  # a missing or unknown column is reported once, by the first chunk
                    errors = errors[~errors["code"].isin(("missing_column", *NOTE_CODES))]
                appenders["results"].add(result.results)
                appenders["errors"].add(errors)
                recs = result.recommendations
                appenders["recommendations"].add(recs)
                district = pd.Series(parsed.households["district"].values,
                                     dtype=object).fillna("").astype(str)  # fmt: skip
                districts.append(district.to_numpy())
                classes.append(result.results["class"].to_numpy())
                ids_k = recs["household_id"].map({h: i for i, h in enumerate(
                    parsed.households["household_id"].values)}).to_numpy()  # fmt: skip
                slim.append(pd.DataFrame({
                    "pos": ids_k + k * chunk_size, "department_code": recs["department_code"],
                    "department": recs["department"], "member_no": recs["member_no"],
                    "first_year_vnd": recs["first_year_vnd"], "amount_vnd": recs["amount_vnd"],
                    "amount_kind": recs["amount_kind"]}))  # fmt: skip
                totals["households"] += len(result.results)
                totals["members"] += result.n_members
                totals["verified"] += result.verified
                totals["disagreements"] += result.disagreements
                if progress:
                    progress(k + 1, n_chunks)
            assert resolved is not None
            summary = summary_table(np.concatenate(districts), np.concatenate(classes), resolved)
            departments = department_summary(pd.concat(slim, ignore_index=True), resolved, lang)
            for name, frame in (("summary", summary), ("departments", departments)):
                appender = TableAppender(targets[name])
                appender.add(frame)
                appenders[name] = appender
        except BaseException:
            for a in appenders.values():
                a.abort()
            raise
    TableAppender.commit(appenders[name] for name in targets)
    all_classes = pd.Series(np.concatenate(classes)).value_counts()
    class_counts = {c: int(all_classes.get(c, 0)) for c in resolved.classification.classes}
    return {**totals, "written": [targets[k] for k in targets], "resolved": resolved,
            "summary": summary, "class_counts": class_counts}
