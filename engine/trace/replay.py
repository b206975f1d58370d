"""Replaying a trace years later: its recorded inputs classified again by the rulebook it names,
giving the same bytes or a difference."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pandas as pd

from engine.errors import TraceError
from engine.rulebook import Rulebook
from engine.trace.build import SCHEMA_PATH, TRACE_SCHEMA, build_trace, to_json
from engine.trace.inputs import input_hash
from household_models.parse import parse_batch
from household_models.readers import RawBatch, SourceTable


def raw_batch(inputs: dict[str, Any], household_id: str, source: str = "trace") -> RawBatch:
    """A household's canonical inputs (as a trace records them: a household record and
    member records) as the raw tables a survey gives, ready to parse."""

    def cell(v: Any) -> Any:
        if isinstance(v, list):
            return ";".join(v)
        return v

    hh = pd.DataFrame([{k: cell(v) for k, v in inputs["household"].items()}], dtype=object)
    members = pd.DataFrame([{"household_id": household_id, **{k: cell(v) for k, v in m.items()}}
                            for m in inputs["members"]], dtype=object)  # fmt: skip
    if members.empty:  # a household recorded without members (invalid, kept as such)
        members = pd.DataFrame({"household_id": [], "member_no": []}, dtype=object)
    return RawBatch(SourceTable(hh, source, "household", 1),
                    SourceTable(members, source, "members", 1))  # fmt: skip


MAX_TRACE_BYTES = 20_000_000  # a trace of one household is well under 1 MB


def read_trace(text: str, path: str) -> dict[str, Any]:
    """A trace file's JSON, refused with a designed error when it is too large, too deep, not
    JSON, or not of the trace schema (checked before anything is replayed)."""
    import json

    import jsonschema

    if len(text) > MAX_TRACE_BYTES:
        raise TraceError("trace_unreadable", path=path,
                         detail=f"larger than {MAX_TRACE_BYTES:,} bytes")  # fmt: skip
    try:
        trace = json.loads(text)
    except RecursionError:
        raise TraceError("trace_unreadable", path=path, detail="nested too deeply") from None
    except ValueError as exc:
        raise TraceError("trace_unreadable", path=path, detail=exc) from None
    if not isinstance(trace, dict) or trace.get("schema") != TRACE_SCHEMA:
        found = trace.get("schema") if isinstance(trace, dict) else type(trace).__name__
        raise TraceError("trace_not_a_trace", schema=TRACE_SCHEMA, found=repr(found))
    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    error = next(iter(jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.FormatChecker()).iter_errors(trace)), None)  # fmt: skip
    if error is not None:
        where = "/".join(str(p) for p in error.path) or "(top)"
        raise TraceError("trace_unreadable", path=path,
                         detail=f"{where}: {error.message[:200]}")  # fmt: skip
    return trace


def replay(trace: dict[str, Any], book: Rulebook) -> str:
    """Re-run a trace from its recorded inputs; returns the new trace's bytes (compare them)."""
    if trace.get("schema") != TRACE_SCHEMA:
        raise TraceError("trace_not_a_trace", schema=TRACE_SCHEMA, found=repr(trace.get("schema")))
    as_of = dt.date.fromisoformat(trace["as_of"])
    current = book.resolve(as_of).rulebook_version
    if current != trace["rulebook_version"]:
        raise TraceError("trace_other_rulebook", recorded=trace["rulebook_version"],
                         current=current)  # fmt: skip
    if "input_errors" in trace:
        raise TraceError("trace_of_invalid")
    if input_hash(trace["input"]) != trace["input_sha256"]:
        raise TraceError("trace_edited")
    raw = raw_batch(copy.deepcopy(trace["input"]), trace["household_id"])
    return to_json(build_trace(parse_batch(raw), book, as_of, trace["household_id"]).trace)
