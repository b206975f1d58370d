"""The audit trace of one household: every step from inputs to class, statuses and support.

A trace records the rulebook version, the evaluation date, the household's inputs (personal
fields left out) and their hash, every parameter read with its effective date and citation, each
indicator with the condition tree that decided it (member by member inside a quantifier), the
classification row, the statuses, each recommendation with the rule that fired and what would
change the class. It is plain JSON, versioned by ``TRACE_SCHEMA`` (``schemas/trace-1.json``), and
the same inputs and rulebook always give the same bytes, so a trace can be replayed years later.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.evaluators.evaluation import Tables
from engine.evaluators.vectorised import Evaluator
from engine.results.classify import BatchResult, classify
from engine.rulebook import Resolved, Rulebook
from engine.trace.inputs import (
    canonical_input,
    citation_json,
    find_household,
    input_hash,
    tri_value,
)
from engine.trace.tree import TreeBuilder
from engine.trace.whatif import what_would_change
from household_models.batch import ParsedBatch

TRACE_SCHEMA = "giamngheo.trace/1"
SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schemas" / "trace-1.json"


@dataclass
class Explained:
    trace: dict[str, Any]
    result: BatchResult


def build_trace(batch: ParsedBatch, book: Rulebook, as_of: dt.date,
                household_id: str) -> Explained:  # fmt: skip
    """Classify one household of ``batch`` and record how every decision came about."""
    one = batch.subset(find_household(batch, household_id))
    result = classify(one, book, as_of, lang="vi")
    english = classify(one, book, as_of, lang="en")
    r = result.resolved
    row = result.results.iloc[0]
    row_en = english.results.iloc[0]
    inputs = canonical_input(one)
    trace: dict[str, Any] = {
        "schema": TRACE_SCHEMA,
        "household_id": household_id,
        "as_of": as_of.isoformat(),
        "rulebook_version": r.rulebook_version,
        "standard": {"id": r.version.id, "label": r.version.label},
        "input_sha256": input_hash(inputs),
        "input": inputs,
    }
    cls = str(row["class"])
    trace["class"] = {"id": cls, "label": r.classification.classes[cls]}
    if bool(one.household_invalid[0]):
        trace["input_errors"] = [
            {k: ("" if pd.isna(e[k]) else str(e[k])) for k in
             ("file", "sheet", "row", "column", "value", "member_no", "message_vi", "message_en")}
            for e in one.errors.to_dict("records")
        ]  # fmt: skip
        trace["parameters"] = []
        return Explained(trace, result)
    ev = result.evaluator
    builder = TreeBuilder(r, ev)
    indicators = []
    for rule, d in r.indicators:
        tri = ev.indicator_tri[rule.id]
        indicators.append({
            "id": rule.id, "label": rule.label, "dimension": rule.dimension,
            "result": "deprived" if tri.t[0] else "ok" if tri.f[0] else "unknown",
            "definition": {"from": d.start.isoformat(), **citation_json(d.citation)},
            "because": builder.cond(d.condition, "household", 0),
        })  # fmt: skip
    trace["indicators"] = indicators
    trace["deprivation_count"] = {"known": int(result.evaluation.deprivation_lo[0]),
                                  "at_most": int(result.evaluation.deprivation_hi[0])}  # fmt: skip
    rows = []
    for index, class_row in enumerate(r.classification.rows):
        rows.append({"row": index + 1, "class": class_row.cls, **citation_json(class_row.citation),
                     "because": builder.cond(class_row.when, "household", 0)})  # fmt: skip
    decided = int(result.evaluation.class_index[0])
    trace["classification"] = {
        "hit_policy": r.classification.hit_policy,
        "row": decided + 1 if decided >= 0 else None,
        "rows": rows,
        "reason": {"vi": str(row["reason"]), "en": str(row_en["reason"])},
        "missing": [m for m in str(row["missing"]).split("; ") if m],
    }
    statuses = []
    for status, sd in r.statuses:
        entry: dict[str, Any] = {"id": status.id, "label": status.label,
                                 "context": status.context,
                                 "definition": {"from": sd.start.isoformat(),
                                                **citation_json(sd.citation)}}  # fmt: skip
        if sd.when is not None:
            entry["when"] = builder.cond(sd.when, "household", 0)
        tri = result.evaluation.statuses[status.id]
        if status.context == "member":
            assert sd.members is not None
            entry["members"] = [
                {"member_no": builder.member_no[m], "value": tri_value(tri, m),
                 "because": builder.cond(sd.members, "member", m)}
                for m in range(len(one.member_household))
            ]  # fmt: skip
            entry["value"] = ("true" if tri.t.any() else "false" if tri.f.all() else "unknown")
        else:
            entry["value"] = tri_value(tri, 0)
        statuses.append(entry)
    trace["statuses"] = statuses
    recs, not_recs = [], []
    recs_frame = result.recommendations
    recs_en = english.recommendations
    for action, ad in r.interventions:
        res = result.evaluation.actions[action.id]
        if not res.fires[0]:
            not_recs.append({"id": action.id, "when": tri_value(res.when, 0)})
            continue
        name_vi, plan_vi = r.department_name(action.lead, action.function, "vi")
        name_en, plan_en = r.department_name(action.lead, action.function, "en")
        entry = {
            "id": action.id, "label": action.label,
            "action": {"vi": r.action_text(action, "vi"), "en": r.action_text(action, "en")},
            "department": {"code": action.lead, "function": action.function or None,
                           "name": {"vi": name_vi, "en": name_en},
                           "plan_name": {"vi": plan_vi, "en": plan_en}},
            "partners": [{"code": p, "name": {"vi": r.department_name(p, "", "vi")[0],
                                              "en": r.department_name(p, "", "en")[0]}}
                         for p in action.partners],  # fmt: skip
            "plan_section": action.plan_section,
            "definition": {"from": ad.start.isoformat(), **citation_json(ad.citation)},
            "when": builder.cond(ad.when, "household", 0) if ad.when is not None else None,
        }  # fmt: skip
        mine = recs_frame[recs_frame["action_id"] == action.id]
        if res.member_fires is not None:
            assert ad.members is not None
            entry["members"] = [
                {"member_no": builder.member_no[m], "priority": bool(
                    res.priority is not None and res.priority.t[m]),
                 "because": builder.cond(ad.members, "member", m)}
                for m in np.flatnonzero(res.member_fires).tolist()
            ]  # fmt: skip
        if action.amount is not None:
            first = 0
            if action.amount.per == "member" and res.member_fires is not None:
                first = int(np.flatnonzero(res.member_fires)[0])
            builder.expr(action.amount.value, action.amount.per, first)  # records its parameters
            amounts = [None if pd.isna(x) else int(x) for x in mine["amount_vnd"].tolist()]
            entry["amount"] = {"label": action.amount.label, "per": action.amount.per,
                               "period": action.amount.period, "kind": action.amount.kind,
                               "values_vnd": amounts}  # fmt: skip
        mine_en = recs_en[recs_en["action_id"] == action.id]
        entry["trigger"] = {"vi": str(mine["trigger"].iloc[0]) if len(mine) else "",
                            "en": str(mine_en["trigger"].iloc[0]) if len(mine_en) else ""}  # fmt: skip
        recs.append(entry)
    trace["recommendations"] = recs
    trace["not_recommended"] = not_recs
    trace["durable_rules"] = durable_firings(r, one)
    changes = what_would_change(r, one, cls, builder)
    for change in changes:
        change["to_label"] = r.classification.classes[change["to"]]
    trace["what_would_change"] = changes
    params = []
    for name in sorted(builder.params):
        param, pv = builder.params[name]
        value = pv.value
        params.append({"name": name, "label": param.label, "unit": param.unit,
                       "keyed_by": param.keyed_by or None,
                       "value": dict(value) if isinstance(value, dict) else
                       list(value) if isinstance(value, tuple) else value,
                       "from": pv.start.isoformat(), **citation_json(pv.citation)})  # fmt: skip
    trace["parameters"] = params
    return Explained(trace, result)


def durable_firings(r: Resolved, one: ParsedBatch) -> dict[str, Any]:
    """The household evaluated again on durable_rules: the rules in the order they fired, and
    whether its decisions equal the vectorised ones."""
    from engine.evaluators.crosscheck import compare, run_durable

    outcomes = run_durable(r, one, [0], keep_firings=True)
    tables = Tables.of(one)
    evaluation = Evaluator(r, tables, one.household_invalid).run()
    firings = []
    for name, matched in outcomes[0].firings:
        kind, _, rest = name.partition(":")
        ident = rest.rsplit(":", 1)[0] if rest else ""
        facts = [str(m["t"]) + (f"#{m['no']}" if "no" in m else "") for m in matched if "t" in m]
        firings.append({"rule": name, "kind": kind, "id": ident, "matched": facts})
    return {"agrees": not compare(r, evaluation, one, outcomes), "firings": firings}


def dicts_in(obj: Any) -> Iterator[dict[str, Any]]:
    """Every mapping inside a trace (depth first, in order)."""
    if isinstance(obj, dict):
        yield obj
        for v in obj.values():
            yield from dicts_in(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from dicts_in(v)


def sources_cited(trace: dict[str, Any]) -> list[str]:
    """Every source id named anywhere in the trace, sorted."""
    return sorted({d["source"] for d in dicts_in(trace) if isinstance(d.get("source"), str)})


def to_json(trace: dict[str, Any]) -> str:
    """The canonical bytes of a trace: UTF-8, keys in insertion order, two-space indent."""
    return json.dumps(trace, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


