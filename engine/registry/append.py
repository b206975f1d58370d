"""What one classified batch adds to a round, and appending it.

``batch_rows`` builds every row a batch adds (its assessments with their flow codes, its inputs,
the personal fields, the recommendations, the input errors), numbered from 0: it needs the batch,
its results and its history, not the registry, so a worker of a cluster builds it for its
partition. ``append_rows`` numbers the rows after the round's tail, links each assessment to the
one it supersedes and appends them, in the registry's one writing process."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.registry.rows import (
    INPUT_TABLES,
    column_array,
    decision_columns,
    error_columns,
    input_tables,
    recommendation_columns,
)
from engine.registry.start import Start, flow_codes
from engine.registry.store import Registry
from engine.results.classify import BatchResult
from household_models.batch import ParsedBatch

NUMBERED = ("members", "personal", "recommendations")  # tables whose rows name an assessment


@dataclass
class BatchRows:
    """Every row a batch adds to a round, ``assessment`` counted from 0 (``append_rows``)."""

    ids: list[str]
    assessments: dict[str, Any]
    inputs: dict[str, Any] | None  # households, members and personal (None: staged apart)
    recommendations: dict[str, Any]
    errors: dict[str, Any]
    recognised: np.ndarray
    flows: np.ndarray


def batch_rows(batch: ParsedBatch, result: BatchResult, start: Start, first_round: bool,
               typed_previous: np.ndarray, decided: dict[str, dict[str, Any]],
               entered_ids: set[str], inputs: bool = True) -> BatchRows:  # fmt: skip
    """The rows of a batch: the recognised class is the engine's unless the commune decided
    otherwise (``decided``: household -> its decision row); ``entered_ids``: households that
    moved in or split from another (events)."""
    n = batch.n_households
    ids = [str(v) for v in batch.households["household_id"].values.tolist()]
    engine_class = np.array(result.results["class"].astype(str).tolist(), dtype=object)
    recognised = engine_class if not decided else np.array(
        [decided[h]["recognised_class"] if h in decided else c
         for h, c in zip(ids, engine_class.tolist(), strict=True)], dtype=object)  # fmt: skip
    typed = typed_previous if len(typed_previous) == n else np.full(n, None, object)
    entered = np.array([h in entered_ids for h in ids], dtype=bool) if entered_ids else \
        np.zeros(n, dtype=bool)  # fmt: skip
    flows = flow_codes(recognised, start, first_round, typed, entered)
    columns = decision_columns(batch, result)
    prev_col, left_col = batch.households["previous_status"], batch.households["left_list_on"]

    def decision(key: str) -> list[Any] | pa.Array:
        if not decided:
            return pa.nulls(n, pa.date32() if key == "decision_date" else pa.string())
        return [decided[h][key] if h in decided else None for h in ids]

    columns.update({
        "recognised_class": decision("recognised_class"), "decision_no": decision("decision_no"),
        "decision_date": decision("decision_date"),
        "previous_status": column_array(prev_col), "left_list_on": column_array(left_col),
        "flow": pa.array(flows.tolist(), pa.string()),
    })  # fmt: skip
    return BatchRows(ids, columns, input_tables(batch, 0) if inputs else None,
                     recommendation_columns(result, ids, 0), error_columns(result.errors),
                     recognised, flows)  # fmt: skip


def earlier_assessments(reg: Registry, round_name: str,
                        ids: list[str] | None = None) -> dict[str, int]:  # fmt: skip
    """Each household's latest assessment in the round so far (of the households ``ids``
    only, if given: a partition of a dataset, so that no process holds a nation's ids)."""
    if ids is None:
        return dict(reg.rows("SELECT household_id, max(seq) FROM assessments WHERE round = ? "
                             "GROUP BY household_id", round_name))  # fmt: skip
    if reg.tail("assessments", round_name)[0] == 0 or not ids:
        return {}
    reg.con.register("_ids", pa.table({"household_id": pa.array(ids, pa.string())}))
    try:
        return dict(reg.rows("SELECT household_id, max(seq) FROM assessments WHERE round = ? AND "
                             "household_id IN (SELECT household_id FROM _ids) "
                             "GROUP BY household_id", round_name))  # fmt: skip
    finally:
        reg.con.unregister("_ids")


def _shifted(columns: dict[str, Any], first: int) -> dict[str, Any]:
    if not columns or "assessment" not in columns or first == 0:
        return columns
    out = dict(columns)
    out["assessment"] = pc.add(pa.array(columns["assessment"], pa.int64()),
                               pa.scalar(first, pa.int64()))  # fmt: skip
    return out


def append_rows(reg: Registry, round_name: str, recording: int, rows: BatchRows,
                earlier: dict[str, int],
                inputs: Callable[[int], dict[str, Any]] | None = None) -> int:  # fmt: skip
    """Append a batch's rows after the round's tail (``earlier``: each household's latest
    assessment in the round before this batch; ``inputs``: the households' and members' rows
    of a first assessment, when ``rows`` has none: those not appended yet). Returns the first
    assessment's ``seq``."""
    first = reg.tail("assessments", round_name)[0] + 1
    n = len(rows.ids)
    columns = dict(rows.assessments)
    columns["recording"] = pa.array(np.full(n, recording, dtype=np.int64))
    columns["supersedes"] = pa.array(supersedes(rows.ids, first, earlier), pa.int64())
    reg.append("assessments", columns, round_name)
    found = inputs(first) if inputs is not None else {
        t: _shifted(c, first) for t, c in (rows.inputs or {}).items()}  # fmt: skip
    for table in INPUT_TABLES:
        reg.append(table, found.get(table, {}), round_name)
    reg.append("recommendations", _shifted(rows.recommendations, first), round_name)
    errors = dict(rows.errors)
    if errors:
        errors["recording"] = [recording] * len(errors["code"])
    reg.append("input_errors", errors, round_name)
    return first


def supersedes(ids: list[str], first: int, earlier: dict[str, int]) -> list[int | None]:
    """The assessment each new one supersedes: the household's latest assessment in the
    round, recorded before or above it in the same batch (a repeated id is an error row,
    and its last occurrence is the household's latest)."""
    if not earlier and len(set(ids)) == len(ids):  # a first recording without repeated ids
        return [None] * len(ids)
    latest = dict(earlier)
    out: list[int | None] = []
    for seq, h in enumerate(ids, first):
        out.append(latest.get(h))
        latest[h] = seq
    return out
