"""The condition tree of one decision: every node of a condition evaluated on a one-household
batch, with its value, the inputs and parameters it read, member by member inside quantifiers."""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.evaluators.evaluation import Code, CodeSet, Num
from engine.evaluators.vectorised import Evaluator
from engine.rulebook import Resolved
from engine.rulebook import conditions as c
from engine.trace.inputs import citation_json, json_cell, json_number, tri_value


class TreeBuilder:
    """Evaluates a condition on a one-household batch and records every node's value."""

    def __init__(self, r: Resolved, ev: Evaluator) -> None:
        self.r = r
        self.ev = ev
        self.params: dict[str, Any] = {}
        self.member_no = [json_number(x) for x in ev.columns["member"]["member_no"].values]

    def cond(self, node: c.Node, context: str, i: int) -> dict[str, Any]:
        ev = self.ev
        value = tri_value(ev.cond(node, context), i)
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
                                   **citation_json(definition.citation)},
                    "because": self.cond(definition.condition, context, i)}  # fmt: skip
        if isinstance(node, c.BoolField):
            col = ev.columns[context][node.name]
            return {"op": "field", "name": node.name, "value": value, "input": json_cell(col, i)}
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
        return [{"member_no": self.member_no[m], "value": tri_value(inner_tri, m),
                 "because": self.cond(inner, "member", m)} for m in rows.tolist()]  # fmt: skip

    def expr(self, node: c.Node, context: str, i: int) -> dict[str, Any]:
        if isinstance(node, c.Literal):
            v = node.value
            return {"op": "literal", "value": list(v) if isinstance(v, tuple) else v}
        if isinstance(node, c.FieldRef):
            col = self.ev.columns[context][node.name]
            return {"op": "field", "name": node.name, "value": json_cell(col, i)}
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
            return {"op": "months_since", "field": node.field, "input": json_cell(col, i),
                    "value": value}  # fmt: skip
        if isinstance(node, c.DeprivationCount):
            return {"op": "deprivation_count", "value": value}
        raise TypeError(node)

    def _value(self, node: c.Node, context: str, i: int) -> Any:
        got = self.ev.expr(node, context)
        if isinstance(got, Num):
            lo, hi = float(got.lo[i]), float(got.hi[i])
            if lo == hi:
                return json_number(lo)
            return {"from": json_number(lo), "to": json_number(hi)}
        if isinstance(got, Code):
            return None if got.missing[i] else got.codes[int(got.values[i])]
        if isinstance(got, CodeSet):
            return [code for j, code in enumerate(got.codes) if int(got.mask[i]) >> j & 1]
        raise TypeError(got)


