"""What would change the class: the fewest indicators to fix and each income rise that moves
the household to another class, found by re-running the evaluator (so the answer follows the
rulebook), never by a formula."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.evaluators.evaluation import Tables, Tri
from engine.evaluators.vectorised import Evaluator
from engine.rulebook import Resolved
from engine.rulebook import conditions as c
from engine.trace.inputs import json_number
from engine.trace.tree import TreeBuilder
from household_models.batch import Column, ParsedBatch


def _class_of(r: Resolved, tables: Tables, invalid: Any,
              override: dict[str, Tri] | None = None) -> str:  # fmt: skip
    ev = Evaluator(r, tables, invalid)
    if override:
        ev.indicator_override = override
    index = int(ev.run().class_index[0])
    return r.classification.rows[index].cls if index >= 0 else r.classification.undecided


def compared_params(r: Resolved) -> list[tuple[str, c.ParamRef]]:
    """Each household field the classification compares with a parameter (through its facts),
    with the parameter: the thresholds a change of that field can cross."""
    out: list[tuple[str, c.ParamRef]] = []
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
                        out.append((field.name, other))
    return out


def _thresholds(r: Resolved, builder: TreeBuilder) -> dict[str, list[float]]:
    """Numeric household fields compared with a parameter by the classification, with the
    parameter's value for this household."""
    out: dict[str, list[float]] = {}
    for field, param in compared_params(r):
        v = builder.expr(param, "household", 0)["value"]
        if isinstance(v, int | float):
            out.setdefault(field, []).append(float(v))
    return out


def what_would_change(r: Resolved, batch: ParsedBatch, current: str,
                      builder: TreeBuilder) -> list[dict[str, Any]]:  # fmt: skip
    """The fewest indicators to fix, and the income rises, that move the household to another
    class; tried on the evaluator itself, so the answer follows the rulebook."""
    tables = Tables.of(batch)
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
                out.append({"change": "raise", "field": field, "value": json_number(cand),
                            "increase": json_number(cand - value), "to": cls})  # fmt: skip
                previous = cls
    return out


