"""The rows a recording adds, built column by column from the parsed batch and its results:
the canonical inputs (households, members; personal fields apart), the decisions of each
household, its recommendations with members and amounts, and the input errors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.results.classify import BatchResult
from household_models.batch import Column, ParsedBatch, mask
from household_models.schema import FIELD_SPECS


def column_array(col: Column, personal: frozenset[str] = frozenset(),
                 keep: bool = False) -> pa.Array:  # fmt: skip
    """A parsed column as an Arrow array of the registry's type (missing cells null). Text
    cells have the batch's names masked, as traces do (unless ``keep``)."""
    missing = np.asarray(col.missing, dtype=bool)
    if col.kind == "bool":
        return pa.array(np.asarray(col.values, dtype=bool), pa.bool_(), mask=missing)
    if col.kind in ("int", "number"):
        return pa.array(np.asarray(col.values, dtype=np.float64), pa.float64(), mask=missing)
    if col.kind == "code":  # each cell its code's text, taken in Arrow: no object per cell
        idx = np.where(missing, 0, np.asarray(col.values, dtype=np.int64))
        words = pa.array(list(col.codes or ("",)), pa.string())
        return words.take(pa.array(idx, pa.int64(), mask=missing))
    if col.kind == "codes":
        bits = np.asarray(col.values, dtype=np.int64)
        distinct, back = np.unique(bits, return_inverse=True)
        words = np.array([";".join(c for j, c in enumerate(col.codes) if int(v) >> j & 1)
                          for v in distinct.tolist()], dtype=object)  # fmt: skip
        return pa.array(words[back] if len(bits) else [], pa.string(), mask=missing)
    if col.kind == "date":
        return pa.array(np.asarray(col.values, dtype="datetime64[D]"), pa.date32(), mask=missing)
    values = np.asarray(col.values, dtype=object)
    if personal and not keep:
        seen: set[str] = {v for v in values[~missing].tolist() if isinstance(v, str)}
        masked = {v: mask(v, personal) for v in seen}
        if any(masked[v] != v for v in seen):
            values = np.array([masked.get(v, v) if isinstance(v, str) else v for v in values],
                              dtype=object)  # fmt: skip
    return pa.array(values, pa.string(), mask=missing)


INPUT_TABLES = ("households", "members", "personal")  # the rows of a batch's inputs alone


def input_tables(batch: ParsedBatch, first: int) -> dict[str, dict[str, Any]]:
    """The rows a batch's inputs add, whatever its results (``INPUT_TABLES``: name ->
    columns); ``first``: the assessment ``seq`` of the batch's first household."""
    households, members = input_columns(batch, first)
    return {"households": households, "members": members,
            "personal": personal_columns(batch, first)}  # fmt: skip


def input_columns(batch: ParsedBatch, first: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The households and members rows of the canonical inputs (``first``: as in
    ``input_tables``)."""
    personal = batch.personal
    hh: dict[str, Any] = {}
    for name, spec in FIELD_SPECS["household"].items():
        if not spec.personal and name in batch.households:
            hh[name] = column_array(batch.households[name], personal, keep=name == "household_id")
    members: dict[str, Any] = {}
    owner = np.asarray(batch.member_household, dtype=np.int64)
    members["assessment"] = pa.array(owner + first, pa.int64())
    ids = np.asarray(batch.households["household_id"].values, dtype=object)
    members["household_id"] = pa.array(ids.tolist(), pa.string()).take(pa.array(owner))
    for name, spec in FIELD_SPECS["member"].items():
        if not spec.personal and name != "household_id" and name in batch.members:
            members[name] = column_array(batch.members[name], personal)
    return hh, members


def personal_columns(batch: ParsedBatch, first: int) -> dict[str, Any]:
    """Names and id numbers, apart from everything else: the head's name (member_no null),
    then each member's name and id number, where given."""
    ids = np.asarray(batch.households["household_id"].values, dtype=object)
    n = batch.n_households
    parts: list[pd.DataFrame] = []
    head = batch.households.get("head_name")
    if head is not None:
        given = ~np.asarray(head.missing, dtype=bool)
        parts.append(pd.DataFrame({"assessment": np.arange(n)[given] + first,
                                   "household_id": ids[given], "member_no": np.nan,
                                   "name": np.asarray(head.values, dtype=object)[given],
                                   "id_number": None}))  # fmt: skip
    name, number = batch.members.get("name"), batch.members.get("id_number")
    owner = np.asarray(batch.member_household, dtype=np.int64)
    if len(owner) and (name is not None or number is not None):
        has = np.zeros(len(owner), dtype=bool)
        for col in (name, number):
            if col is not None:
                has |= ~np.asarray(col.missing, dtype=bool)

        def cells(col: Column | None) -> Any:
            if col is None:
                return None
            out = np.asarray(col.values, dtype=object).copy()
            out[np.asarray(col.missing, dtype=bool)] = None
            return out[has]

        parts.append(pd.DataFrame({"assessment": owner[has] + first,
                                   "household_id": ids[owner[has]],
                                   "member_no": np.asarray(batch.members["member_no"].values,
                                                           dtype=np.float64)[has],
                                   "name": cells(name), "id_number": cells(number)}))  # fmt: skip
    if not parts:
        return {}
    frame = pd.concat(parts, ignore_index=True)
    return {c: pa.array(frame[c].tolist(), None if c != "member_no" else pa.float64(),
                        from_pandas=True) for c in frame.columns}  # fmt: skip


def _joined(states: pd.DataFrame, ids: list[str], state: str) -> pa.Array:
    """The indicators of each household in ``state``, ``;``-joined in rulebook order."""
    bits = np.zeros(len(states), dtype=np.int64)
    for k, name in enumerate(ids):  # compared column-wise (Arrow strings): no object per cell
        same = (states[name] == state).to_numpy(dtype=bool, na_value=False)
        bits |= same.astype(np.int64) << k
    distinct, back = np.unique(bits, return_inverse=True)
    words = [";".join(n for k, n in enumerate(ids) if int(v) >> k & 1) for v in distinct.tolist()]
    return pa.array(words, pa.string()).take(pa.array(back.astype(np.int64)))


def decision_columns(batch: ParsedBatch, result: BatchResult) -> dict[str, Any]:
    """One assessment row per household of the batch: its decisions as the results say."""
    res = result.results
    ids = [rule.id for rule, _ in result.resolved.indicators]
    states = res[ids] if ids else pd.DataFrame(index=res.index)
    owner = np.asarray(batch.member_household, dtype=np.int64)
    persons = np.bincount(owner, minlength=batch.n_households) if len(owner) else \
        np.zeros(batch.n_households, dtype=np.int64)  # fmt: skip

    def text(name: str) -> pa.Array:
        col = batch.households.get(name)
        if col is None:
            return pa.nulls(batch.n_households, pa.string())
        return column_array(col, batch.personal)

    def texts(name: str) -> pa.Array:
        """A results column of text as Arrow strings (without a Python object per cell when it
        has no missing cell)."""
        column = res[name]
        if column.hasnans:
            return pa.array(column.astype(str).tolist(), pa.string())
        return pa.array(column, pa.string())

    count = pd.to_numeric(res["deprivation_count"], errors="coerce")
    return {
        "household_id": column_array(batch.households["household_id"], keep=True),
        "district": text("district"), "commune": text("commune"), "village": text("village"),
        "review_kind": text("review_kind"),
        "class": texts("class"),
        "deprivation_count": pa.array(count.to_numpy(dtype=np.float64), pa.float64(),
                                      mask=count.isna().to_numpy()),
        "deprived": _joined(states, ids, "deprived"),
        "unknown": _joined(states, ids, "unknown"),
        "statuses": texts("statuses"), "recommendations": texts("recommendations"),
        "missing": texts("missing"), "error": texts("error"),
        "persons": pa.array(persons.astype(np.int64), pa.int64()),
    }  # fmt: skip


def _assessments(ids: list[str], hids: pd.Series, first: int) -> np.ndarray:
    """The assessment of each recommendation's household (of a repeated id, its last row)."""
    positions = pd.Series(np.arange(len(ids)), index=pd.Index(ids, dtype=object))
    positions = positions[~positions.index.duplicated(keep="last")]
    at = positions.index.get_indexer(pd.Index(hids, dtype=object))
    return positions.to_numpy()[at] + first


def recommendation_columns(result: BatchResult, ids: list[str], first: int) -> dict[str, Any]:
    """The recommendations table of the results, each row pointing to its assessment (the
    batch's households ``ids`` are assessments ``first``, ``first`` + 1, …)."""
    rec = result.recommendations
    if rec.empty:
        return {}
    hids = rec["household_id"].astype(str)

    def number(name: str) -> pa.Array:
        v = pd.to_numeric(rec[name], errors="coerce")
        return pa.array(v.to_numpy(dtype=np.float64), pa.float64(), mask=v.isna().to_numpy())

    return {
        "assessment": pa.array(_assessments(ids, hids, first), pa.int64()),
        "household_id": hids.tolist(), "action_id": rec["action_id"].astype(str).tolist(),
        "member_no": number("member_no"),
        "department_code": rec["department_code"].astype(str).tolist(),
        "amount_vnd": number("amount_vnd"), "first_year_vnd": number("first_year_vnd"),
    }  # fmt: skip


def error_columns(errors: pd.DataFrame) -> dict[str, Any]:
    """The input errors of the recording (file, sheet, row, column, value, the messages)."""
    if errors.empty:
        return {}
    out: dict[str, Any] = {}
    for name in ("household_id", "file", "sheet", "column", "value", "member_no", "code",
                 "message_vi", "message_en"):  # fmt: skip
        out[name] = ["" if pd.isna(v) else str(v) for v in errors[name].tolist()]
    row = pd.to_numeric(errors["row"], errors="coerce")
    out["row"] = pa.array(row.to_numpy(dtype=np.float64), pa.float64(), mask=row.isna().to_numpy())
    return out
