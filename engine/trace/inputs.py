"""The inputs of one household as a trace records them: canonical JSON values (personal fields
left out), their SHA-256, citations as JSON, and finding the household in a batch."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np

from engine.errors import HouseholdNotFound, close_matches
from engine.evaluators.evaluation import Tri
from engine.rulebook import Citation
from household_models.batch import Column, ParsedBatch, decode, mask
from household_models.schema import FIELD_SPECS


def find_household(batch: ParsedBatch, household_id: str) -> int:
    ids = batch.households["household_id"].values
    hits = np.flatnonzero(ids == household_id)
    if len(hits) == 0:
        known = [str(x) for x in ids[~batch.households["household_id"].missing][:100_000]]
        close = close_matches(household_id, known, n=3, positional=True)
        names = ", ".join(close)
        raise HouseholdNotFound(household_id=household_id,
                                hint_vi=f" Có phải: {names}?" if close else "",
                                hint_en=f" Did you mean: {names}?" if close else "")  # fmt: skip
    return int(hits[0])


def json_number(value: float) -> int | float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    v = float(value)
    if math.isinf(v):
        return None
    return int(v) if v.is_integer() else round(v, 10)


def json_cell(col: Column, i: int) -> Any:
    """A cell as a JSON value (numbers whole when they can be, codes as a list, ISO dates)."""
    value = decode(col, i)
    if value is None or col.kind in ("bool", "code", "text"):
        return value
    if col.kind in ("int", "number"):
        return json_number(value)
    if col.kind == "codes":
        return list(value)
    if col.kind == "date":
        return value.isoformat()
    return str(value)


def _record(columns: dict[str, Column], specs: dict[str, Any], i: int,
            skip: str = "") -> dict[str, Any]:  # fmt: skip
    """One row's non-personal cells; a column added after traces were first recorded is listed
    only when given (``traced_when_given``), so older traces replay to the same bytes."""
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if spec.personal or name not in columns or name == skip:
            continue
        value = json_cell(columns[name], i)
        if value is None and spec.traced_when_given:
            continue
        out[name] = value
    return out


def canonical_input(batch: ParsedBatch) -> dict[str, Any]:
    """The household's inputs (one-household batch), personal fields left out."""
    household = _record(batch.households, FIELD_SPECS["household"], 0)
    members = [_record(batch.members, FIELD_SPECS["member"], i, skip="household_id")
               for i in range(len(batch.member_household))]  # fmt: skip
    members.sort(key=lambda m: (m.get("member_no") is None, m.get("member_no") or 0))
    if batch.personal:  # a name typed into another column is masked there too
        for record in (household, *members):
            for key, value in record.items():
                if isinstance(value, str) and key != "household_id":
                    record[key] = mask(value, batch.personal)
    return {"household": household, "members": members}


def input_hash(inputs: dict[str, Any]) -> str:
    text = json.dumps(inputs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def citation_json(cit: Citation) -> dict[str, Any]:
    out: dict[str, Any] = {"source": cit.source, "clause": cit.clause}
    if cit.provisional:
        out["provisional"] = True
    if cit.note:
        out["note"] = cit.note
    return out


def tri_value(tri: Tri, i: int) -> str:
    return "true" if tri.t[i] else "false" if tri.f[i] else "unknown"


