"""The audit trace of one household: every step from inputs to class, statuses and support.

A trace records the rulebook version, the evaluation date, the household's inputs (personal
fields left out) and their hash, every parameter read with its effective date and citation, each
indicator with the condition tree that decided it (member by member inside a quantifier), the
classification row, the statuses, each recommendation with the rule that fired and what would
change the class. It is plain JSON, versioned by ``TRACE_SCHEMA`` (``schemas/trace-1.json``), and
the same inputs and rulebook always give the same bytes, so a trace can be replayed years later.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine import conditions as c
from engine.classify import BatchResult, classify
from engine.recommend import action_text, department_name
from engine.rulebook import FIELD_SPECS, Citation, Resolved, Rulebook
from engine.vectorised import Code, CodeSet, Evaluator, Num, Tables, Tri
from household_models.parse import Column, ParsedBatch, decode, parse_batch
from household_models.readers import RawBatch, SourceTable

TRACE_SCHEMA = "giamngheo.trace/1"
SCHEMA_PATH = Path(__file__).parent / "schemas" / "trace-1.json"


class TraceError(Exception):
    """A household that cannot be traced (unknown id) or a trace that cannot be replayed."""


# -- selecting one household --------------------------------------------------------------------


def find_household(batch: ParsedBatch, household_id: str) -> int:
    ids = batch.households["household_id"].values
    hits = np.flatnonzero(ids == household_id)
    if len(hits) == 0:
        known = [str(x) for x in ids[~batch.households["household_id"].missing][:100_000]]
        close = difflib.get_close_matches(household_id, known, n=20, cutoff=0.6)
        # Among similar ids, prefer those that differ in the fewest positions (a mistyped 0/O).
        close.sort(key=lambda k: (-sum(a == b for a, b in zip(k, household_id, strict=False)),
                                  abs(len(k) - len(household_id)), k))  # fmt: skip
        close = close[:3]
        hint = f" Có phải / did you mean: {', '.join(close)}?" if close else ""
        raise TraceError(f"Không có hộ mã '{household_id}' trong dữ liệu / no household with id "
                         f"'{household_id}' in the input.{hint}")  # fmt: skip
    return int(hits[0])


def subset_batch(batch: ParsedBatch, pos: int) -> ParsedBatch:
    """The batch reduced to one household and its members (its input errors kept)."""
    members = np.flatnonzero(batch.member_household == pos)
    # Members in number order, whatever the order of the input rows.
    members = members[np.argsort(batch.members["member_no"].values[members], kind="stable")]

    def take(cols: dict[str, Column], idx: Any) -> dict[str, Column]:
        return {k: Column(v.kind, v.values[idx], v.missing[idx], v.codes) for k, v in cols.items()}

    hid = batch.households["household_id"].values[pos]
    errors = batch.errors[batch.errors["household_id"].astype(str) == str(hid)]
    return ParsedBatch(
        households=take(batch.households, [pos]),
        members=take(batch.members, members),
        member_household=np.zeros(len(members), dtype=np.int64),
        household_invalid=batch.household_invalid[[pos]].copy(),
        household_error=batch.household_error[[pos]].copy(),
        errors=errors.reset_index(drop=True),
        raw_households=batch.raw_households.iloc[[pos]].reset_index(drop=True),
        household_rows=batch.household_rows[[pos]].copy(),
        column_headers=batch.column_headers,
    )


# -- canonical values ---------------------------------------------------------------------------


def _number(value: float) -> int | float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    v = float(value)
    if math.isinf(v):
        return None
    return int(v) if v.is_integer() else round(v, 10)


def _cell(col: Column, i: int) -> Any:
    """A cell as a JSON value (numbers whole when they can be, codes as a list, ISO dates)."""
    value = decode(col, i)
    if value is None or col.kind in ("bool", "code", "text"):
        return value
    if col.kind in ("int", "number"):
        return _number(value)
    if col.kind == "codes":
        return list(value)
    if col.kind == "date":
        return value.isoformat()
    return str(value)


def canonical_input(batch: ParsedBatch) -> dict[str, Any]:
    """The household's inputs (one-household batch), personal fields left out."""
    household = {
        name: _cell(batch.households[name], 0)
        for name, spec in FIELD_SPECS["household"].items()
        if not spec.personal and name in batch.households
    }
    member_specs = [(n, s) for n, s in FIELD_SPECS["member"].items()
                    if not s.personal and n != "household_id"]  # fmt: skip
    members = [
        {name: _cell(batch.members[name], i) for name, _ in member_specs if name in batch.members}
        for i in range(len(batch.member_household))
    ]
    members.sort(key=lambda m: (m.get("member_no") is None, m.get("member_no") or 0))
    return {"household": household, "members": members}


def input_hash(inputs: dict[str, Any]) -> str:
    text = json.dumps(inputs, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _citation(cit: Citation) -> dict[str, Any]:
    out: dict[str, Any] = {"source": cit.source, "clause": cit.clause}
    if cit.provisional:
        out["provisional"] = True
    if cit.note:
        out["note"] = cit.note
    return out


def _tri(tri: Tri, i: int) -> str:
    return "true" if tri.t[i] else "false" if tri.f[i] else "unknown"


# -- condition trees ----------------------------------------------------------------------------


class TreeBuilder:
    """Evaluates a condition on a one-household batch and records every node's value."""

    def __init__(self, r: Resolved, ev: Evaluator) -> None:
        self.r = r
        self.ev = ev
        self.params: dict[str, Any] = {}
        self.member_no = [_number(x) for x in ev.columns["member"]["member_no"].values]

    def cond(self, node: c.Node, context: str, i: int) -> dict[str, Any]:
        ev = self.ev
        value = _tri(ev.cond(node, context), i)
        if isinstance(node, c.All | c.AnyOf | c.FirstKnown):
            op = {c.All: "all", c.AnyOf: "any", c.FirstKnown: "first_known"}[type(node)]
            return {"op": op, "value": value,
                    "items": [self.cond(x, context, i) for x in node.items]}  # fmt: skip
        if isinstance(node, c.AtLeast):
            return {"op": "at_least", "value": value, "n": self.expr(node.n, context, i),
                    "items": [self.cond(x, context, i) for x in node.items]}  # fmt: skip
        if isinstance(node, c.Not):
            return {"op": "not", "value": value, "item": self.cond(node.item, context, i)}
        if isinstance(node, c.Compare | c.In | c.Intersects):
            if isinstance(node, c.Compare):
                op, left, right = node.op, node.left, node.right
            elif isinstance(node, c.In):
                op, left, right = "in", node.item, node.collection
            else:
                op, left, right = "intersects", node.left, node.right
            return {"op": op, "value": value, "left": self.expr(left, context, i),
                    "right": self.expr(right, context, i)}  # fmt: skip
        if isinstance(node, c.FactRef):
            fact, definition = self.r.facts[node.name]
            return {"op": "fact", "name": node.name, "label": fact.label, "value": value,
                    "definition": {"from": definition.start.isoformat(),
                                   **_citation(definition.citation)},
                    "because": self.cond(definition.condition, context, i)}  # fmt: skip
        if isinstance(node, c.BoolField):
            col = ev.columns[context][node.name]
            return {"op": "field", "name": node.name, "value": value, "input": _cell(col, i)}
        if isinstance(node, c.AnyMember | c.NoMember):
            op = "any_member" if isinstance(node, c.AnyMember) else "no_member"
            return {"op": op, "value": value, "members": self._members(node.cond, i)}
        if isinstance(node, c.IndicatorRef):
            return {"op": "indicator", "id": node.id, "value": value}
        if isinstance(node, c.StatusRef):
            return {"op": "status", "id": node.id, "value": value}
        if isinstance(node, c.OfHousehold):
            hh = int(ev.tables.member_household[i])
            return {"op": "household", "value": value, "item": self.cond(node.cond, "household",
                                                                           hh)}  # fmt: skip
        raise TypeError(node)

    def _members(self, inner: c.Node, household: int) -> list[dict[str, Any]]:
        rows = np.flatnonzero(self.ev.tables.member_household == household)
        inner_tri = self.ev.cond(inner, "member")
        return [{"member_no": self.member_no[m], "value": _tri(inner_tri, m),
                 "because": self.cond(inner, "member", m)} for m in rows.tolist()]  # fmt: skip

    def expr(self, node: c.Node, context: str, i: int) -> dict[str, Any]:
        if isinstance(node, c.Literal):
            v = node.value
            return {"op": "literal", "value": list(v) if isinstance(v, tuple) else v}
        if isinstance(node, c.FieldRef):
            col = self.ev.columns[context][node.name]
            return {"op": "field", "name": node.name, "value": _cell(col, i)}
        if isinstance(node, c.ParamRef):
            param, pv = self.r.params[node.name]
            self.params[node.name] = (param, pv)
            out: dict[str, Any] = {"op": "param", "name": node.name}
            if node.by is not None:
                key = self.ev.expr(node.by, context)
                assert isinstance(key, Code)
                k = None if key.missing[i] else key.codes[int(key.values[i])]
                out["key"] = k
                out["value"] = pv.value[k] if k is not None else self._value(node, context, i)
            else:
                out["value"] = list(pv.value) if isinstance(pv.value, tuple) else pv.value
            return out
        value = self._value(node, context, i)
        if isinstance(node, c.CountMembers | c.ShareMembers):
            op = "count_members" if isinstance(node, c.CountMembers) else "share_members"
            return {"op": op, "value": value, "members": self._members(node.cond, i)}
        if isinstance(node, c.Arith):
            return {"op": node.op, "value": value, "left": self.expr(node.left, context, i),
                    "right": self.expr(node.right, context, i)}  # fmt: skip
        if isinstance(node, c.IfThen):
            return {"op": "if", "value": value, "if": self.cond(node.cond, context, i),
                    "then": self.expr(node.then, context, i),
                    "else": self.expr(node.orelse, context, i)}  # fmt: skip
        if isinstance(node, c.MonthsSince):
            col = self.ev.columns[context][node.field]
            return {"op": "months_since", "field": node.field, "input": _cell(col, i),
                    "value": value}  # fmt: skip
        if isinstance(node, c.DeprivationCount):
            return {"op": "deprivation_count", "value": value}
        raise TypeError(node)

    def _value(self, node: c.Node, context: str, i: int) -> Any:
        got = self.ev.expr(node, context)
        if isinstance(got, Num):
            lo, hi = float(got.lo[i]), float(got.hi[i])
            if lo == hi:
                return _number(lo)
            return {"from": _number(lo), "to": _number(hi)}
        if isinstance(got, Code):
            return None if got.missing[i] else got.codes[int(got.values[i])]
        if isinstance(got, CodeSet):
            return [code for j, code in enumerate(got.codes) if int(got.mask[i]) >> j & 1]
        raise TypeError(got)


# -- what would change the class ----------------------------------------------------------------


def _class_of(r: Resolved, tables: Tables, invalid: Any,
              override: dict[str, Tri] | None = None) -> str:  # fmt: skip
    ev = Evaluator(r, tables, invalid)
    if override:
        ev.indicator_override = override
    index = int(ev.run().class_index[0])
    return r.classification.rows[index].cls if index >= 0 else r.classification.undecided


def _thresholds(r: Resolved, builder: TreeBuilder) -> dict[str, list[float]]:
    """Numeric household fields compared with a parameter by the classification (through its
    household facts), with the parameter's value for this household."""
    out: dict[str, list[float]] = {}
    stack = [row.when for row in r.classification.rows]
    seen: set[str] = set()
    while stack:
        node = stack.pop()
        for n in c.walk(node):
            if isinstance(n, c.FactRef) and n.name not in seen:
                seen.add(n.name)
                stack.append(r.facts[n.name][1].condition)
            if isinstance(n, c.Compare):
                for field, other in ((n.left, n.right), (n.right, n.left)):
                    if isinstance(field, c.FieldRef) and isinstance(other, c.ParamRef):
                        v = builder.expr(other, "household", 0)["value"]
                        if isinstance(v, int | float):
                            out.setdefault(field.name, []).append(float(v))
    return out


def what_would_change(r: Resolved, batch: ParsedBatch, current: str,
                      builder: TreeBuilder) -> list[dict[str, Any]]:  # fmt: skip
    """The fewest indicators to fix, and the income rises, that move the household to another
    class; tried on the evaluator itself, so the answer follows the rulebook."""
    tables = Tables(batch.households, batch.members, batch.member_household, 1)
    invalid = batch.household_invalid
    out: list[dict[str, Any]] = []
    ev = builder.ev
    deprived = [rule.id for rule, _ in r.indicators if ev.indicator_tri[rule.id].t[0]]
    for k in range(1, len(deprived) + 1):
        ok = Tri(np.zeros(1, dtype=bool), np.ones(1, dtype=bool))
        cls = _class_of(r, tables, invalid, {ind: ok for ind in deprived[:k]})
        if cls != current:
            out.append({"change": "fix_indicators", "count": k, "of": deprived, "to": cls})
            break
    for field, limits in sorted(_thresholds(r, builder).items()):
        col = batch.households[field]
        if col.missing[0]:
            continue
        value = float(col.values[0])
        candidates = sorted({x for t in limits for x in (t, t + 1) if x > value})
        previous = current
        for cand in candidates:
            households = dict(batch.households)
            households[field] = Column(col.kind, np.array([cand]), np.zeros(1, dtype=bool),
                                       col.codes)  # fmt: skip
            changed = Tables(households, batch.members, batch.member_household, 1)
            cls = _class_of(r, changed, invalid)
            if cls != previous:
                out.append({"change": "raise", "field": field, "value": _number(cand),
                            "increase": _number(cand - value), "to": cls})  # fmt: skip
                previous = cls
    return out


# -- the trace ----------------------------------------------------------------------------------


@dataclass
class Explained:
    trace: dict[str, Any]
    result: BatchResult


def build_trace(batch: ParsedBatch, book: Rulebook, as_of: dt.date,
                household_id: str) -> Explained:  # fmt: skip
    """Classify one household of ``batch`` and record how every decision came about."""
    one = subset_batch(batch, find_household(batch, household_id))
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
            "definition": {"from": d.start.isoformat(), **_citation(d.citation)},
            "because": builder.cond(d.condition, "household", 0),
        })  # fmt: skip
    trace["indicators"] = indicators
    trace["deprivation_count"] = {"known": int(result.evaluation.deprivation_lo[0]),
                                  "at_most": int(result.evaluation.deprivation_hi[0])}  # fmt: skip
    rows = []
    for index, class_row in enumerate(r.classification.rows):
        rows.append({"row": index + 1, "class": class_row.cls, **_citation(class_row.citation),
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
                                                **_citation(sd.citation)}}  # fmt: skip
        if sd.when is not None:
            entry["when"] = builder.cond(sd.when, "household", 0)
        tri = result.evaluation.statuses[status.id]
        if status.context == "member":
            assert sd.members is not None
            entry["members"] = [
                {"member_no": builder.member_no[m], "value": _tri(tri, m),
                 "because": builder.cond(sd.members, "member", m)}
                for m in range(len(one.member_household))
            ]  # fmt: skip
            entry["value"] = ("true" if tri.t.any() else "false" if tri.f.all() else "unknown")
        else:
            entry["value"] = _tri(tri, 0)
        statuses.append(entry)
    trace["statuses"] = statuses
    recs, not_recs = [], []
    recs_frame = result.recommendations
    recs_en = english.recommendations
    for action, ad in r.interventions:
        res = result.evaluation.actions[action.id]
        if not res.fires[0]:
            not_recs.append({"id": action.id, "when": _tri(res.when, 0)})
            continue
        name_vi, plan_vi = department_name(r, action.lead, action.function, "vi")
        name_en, plan_en = department_name(r, action.lead, action.function, "en")
        entry = {
            "id": action.id, "label": action.label,
            "action": {"vi": action_text(r, action, "vi"), "en": action_text(r, action, "en")},
            "department": {"code": action.lead, "function": action.function or None,
                           "name": {"vi": name_vi, "en": name_en},
                           "plan_name": {"vi": plan_vi, "en": plan_en}},
            "partners": [{"code": p, "name": {"vi": department_name(r, p, "", "vi")[0],
                                              "en": department_name(r, p, "", "en")[0]}}
                         for p in action.partners],  # fmt: skip
            "plan_section": action.plan_section,
            "definition": {"from": ad.start.isoformat(), **_citation(ad.citation)},
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
                       "from": pv.start.isoformat(), **_citation(pv.citation)})  # fmt: skip
    trace["parameters"] = params
    return Explained(trace, result)


def durable_firings(r: Resolved, one: ParsedBatch) -> dict[str, Any]:
    """The household evaluated again on durable_rules: the rules in the order they fired, and
    whether its decisions equal the vectorised ones."""
    from engine.agreement import compare, run_durable
    from engine.vectorised import Evaluator

    outcomes = run_durable(r, one, [0], keep_firings=True)
    tables = Tables(one.households, one.members, one.member_household, 1)
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


# -- replay -------------------------------------------------------------------------------------


def _frames_from_input(inputs: dict[str, Any], household_id: str) -> RawBatch:
    def cell(v: Any) -> Any:
        if isinstance(v, list):
            return ";".join(v)
        return v

    hh = pd.DataFrame([{k: cell(v) for k, v in inputs["household"].items()}], dtype=object)
    members = pd.DataFrame([{"household_id": household_id, **{k: cell(v) for k, v in m.items()}}
                            for m in inputs["members"]], dtype=object)  # fmt: skip
    return RawBatch(SourceTable(hh, "trace", "household", 1),
                    SourceTable(members, "trace", "members", 1))  # fmt: skip


def replay(trace: dict[str, Any], book: Rulebook) -> str:
    """Re-run a trace from its recorded inputs; returns the new trace's bytes (compare them)."""
    if trace.get("schema") != TRACE_SCHEMA:
        raise TraceError(f"not a {TRACE_SCHEMA} trace (schema: {trace.get('schema')!r})")
    as_of = dt.date.fromisoformat(trace["as_of"])
    current = book.resolve(as_of).rulebook_version
    if current != trace["rulebook_version"]:
        raise TraceError(
            f"vết được tạo bằng bộ quy tắc {trace['rulebook_version']}, bộ quy tắc hiện tại là "
            f"{current} / the trace was made with rulebook {trace['rulebook_version']}, this one "
            f"is {current}; replay with --rules pointing to that version"
        )
    if "input_errors" in trace:
        raise TraceError("the household's input was invalid: its trace records the input errors, "
                         "not a decision, so there is nothing to replay")  # fmt: skip
    if input_hash(trace["input"]) != trace["input_sha256"]:
        raise TraceError("the trace's input does not match its input_sha256: it was edited")
    raw = _frames_from_input(copy.deepcopy(trace["input"]), trace["household_id"])
    return to_json(build_trace(parse_batch(raw), book, as_of, trace["household_id"]).trace)
