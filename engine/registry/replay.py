"""``explain --registry``: a recorded household's trace rebuilt years later from its stored
inputs and the stored snapshot of the rulebook it was classified with, whatever ``rules/``
says today and whether or not the survey files still exist."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import CheckFailed
from engine.loader import load_rulebook
from engine.registry.audit import assessment, household_batch, rules_snapshot
from engine.registry.history import require_round
from engine.registry.rows import decision_columns
from engine.registry.store import Registry, now
from engine.rulebook import Rulebook
from engine.trace.build import build_trace, to_json

COMPARED = ("class", "deprived", "unknown", "statuses", "recommendations")


@dataclass
class Rebuilt:
    trace: dict[str, Any]
    book: Rulebook
    sha256: str
    recorded_sha256: str | None  # the hash of this trace when first rebuilt, if it was


def rebuild(reg: Registry, round_name: str, household_id: str) -> Rebuilt:
    """The trace of the household's latest assessment in the round; ``CheckFailed`` when the
    rebuilt decisions differ from the recorded ones or the trace from the one first pinned."""
    require_round(reg, round_name)
    found = assessment(reg, round_name, household_id)
    with rules_snapshot(reg, round_name, int(found["recording"])) as root:
        book = load_rulebook(root)
    batch = household_batch(reg, found)
    as_of = found["as_of"]
    as_of = as_of.date() if isinstance(as_of, pd.Timestamp) else as_of
    assert isinstance(as_of, dt.date)
    explained = build_trace(batch, book, as_of, household_id)
    again = decision_columns(batch, explained.result)
    for name in COMPARED:
        rebuilt = again[name]
        value = rebuilt[0] if isinstance(rebuilt, list) else rebuilt.to_pylist()[0]
        if str(value) != str(found[name]):
            raise CheckFailed("registry_decision_differs", household_id=household_id,
                              what=f"{name}: {found[name]!r} → {value!r}")  # fmt: skip
    text = to_json(explained.trace)
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    pinned = reg.rows("SELECT trace_sha256 FROM traces WHERE round = ? AND assessment = ? "
                      "ORDER BY seq LIMIT 1", round_name, int(found["seq"]))  # fmt: skip
    recorded = pinned[0][0] if pinned else None
    if recorded is not None and recorded != sha:
        raise CheckFailed("trace_hash_differs", household_id=household_id, round=round_name,
                          recorded=recorded[:16], now=sha[:16])  # fmt: skip
    if recorded is None and reg.writable:
        with reg.write():
            reg.append("traces", {"assessment": np.array([int(found["seq"])]),
                                  "household_id": [household_id], "trace_sha256": [sha],
                                  "recorded_at": [now()]}, round_name)  # fmt: skip
    return Rebuilt(explained.trace, book, sha, recorded)
