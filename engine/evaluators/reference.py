"""A plain-Python interpreter of the condition language, one household at a time.

It is written from the language's definition (``engine/rulebook/conditions.py``), independently of the
vectorised evaluator: no NumPy, no columns, one household as dictionaries. Tests use it as the
third implementation that the vectorised and durable_rules evaluators must agree with; the
durable_rules adapter uses it for what a Rete network cannot express (member counts and shares,
arithmetic between fields, and the amounts of actions).

Three-valued values are ``True`` / ``False`` / ``None`` (unknown); numbers are intervals
``(lo, hi)``, a missing number being ``(-inf, inf)``.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from engine.rulebook import Resolved
from engine.rulebook import conditions as c
from household_models.batch import ParsedBatch, decode
from household_models.schema import DOMAIN_CODES

INF = math.inf
Truth = bool | None  # True / False / None (unknown)
Interval = tuple[float, float]


def months_between(start: dt.date, end: dt.date) -> float:
    """Whole calendar months from ``start`` to ``end``, plus one half when part of a month more
    has passed (the definition of ``months_since``)."""
    whole = (end.year - start.year) * 12 + (end.month - start.month) - (end.day < start.day)
    return whole + (0.0 if end.day == start.day else 0.5)


def age_fields(member: dict[str, Any], as_of: dt.date) -> tuple[float | None, float | None]:
    """Completed years and months on ``as_of``: exact from birth_date, else 12 × age."""
    birth = member.get("birth_date")
    if birth is not None:
        years = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
        months = ((as_of.year - birth.year) * 12 + (as_of.month - birth.month)
                  - (as_of.day < birth.day))  # fmt: skip
        if months < 0:
            return None, None
        return float(years), float(months)
    age = member.get("age")
    if age is None:
        return None, None
    return float(age), 12.0 * float(age)


@dataclass
class HouseholdRecord:
    """One household: field values by canonical name (None = missing), codes as strings, code
    lists as sets, dates as ``datetime.date``."""

    fields: dict[str, Any]
    members: list[dict[str, Any]]


@dataclass
class ReferenceOutcome:
    indicators: dict[str, Truth]
    deprivation: Interval
    cls: str
    statuses: dict[str, Truth]  # household statuses
    member_statuses: dict[str, list[Truth]]  # by member position
    actions: dict[str, bool]  # the household gets the action
    action_members: dict[str, list[bool]] = field(default_factory=dict)  # members it names
    priority: dict[str, list[bool]] = field(default_factory=dict)
    amounts: dict[str, list[Interval]] = field(default_factory=dict)  # per household or member


class Reference:
    def __init__(self, resolved: Resolved) -> None:
        self.r = resolved

    # -- one household ------------------------------------------------------------------------

    def evaluate(self, hh: HouseholdRecord) -> ReferenceOutcome:
        ctx = _HouseholdContext(self.r, hh)
        indicators = {rule.id: ctx.cond(d.condition, "household", 0) for rule, d in self.r.indicators}
        lo = sum(1 for v in indicators.values() if v is True)
        hi = len(indicators) - sum(1 for v in indicators.values() if v is False)
        ctx.deprivation = (float(lo), float(hi))
        ctx.indicators = indicators
        rows = [row for row in self.r.classification.rows
                if ctx.cond(row.when, "household", 0) is True]  # fmt: skip
        if len(rows) > 1:
            raise AssertionError(f"classification rows overlap: {[r.cls for r in rows]}")
        cls = rows[0].cls if rows else self.r.classification.undecided
        ctx.cls = cls if rows else None
        statuses: dict[str, Truth] = {}
        member_statuses: dict[str, list[Truth]] = {}
        for status, sd in self.r.statuses:
            when = ctx.cond(sd.when, "household", 0) if sd.when is not None else True
            if status.context == "member":
                assert sd.members is not None
                member_statuses[status.id] = [
                    _and(when, ctx.cond(sd.members, "member", i)) for i in range(len(hh.members))
                ]
            else:
                statuses[status.id] = when
        ctx.statuses = statuses
        ctx.member_statuses = member_statuses
        out = ReferenceOutcome(indicators, ctx.deprivation, cls, statuses, member_statuses, {})
        for action, ad in self.r.interventions:
            when = ctx.cond(ad.when, "household", 0) if ad.when is not None else True
            fires = when is True
            if ad.members is not None:
                named = [fires and ctx.cond(ad.members, "member", i) is True
                         for i in range(len(hh.members))]  # fmt: skip
                out.action_members[action.id] = named
                fires = fires and any(named)
                if ad.priority is not None:
                    out.priority[action.id] = [ctx.cond(ad.priority, "member", i) is True
                                               for i in range(len(hh.members))]  # fmt: skip
            out.actions[action.id] = fires
            if action.amount is not None:
                n = 1 if action.amount.per == "household" else len(hh.members)
                out.amounts[action.id] = [ctx.num(action.amount.value, action.amount.per, i)
                                          for i in range(n)]  # fmt: skip
        return out

    def expression(self, node: c.Node, hh: HouseholdRecord, context: str, index: int) -> Interval:
        """A numeric expression for one household (or one of its members)."""
        return _HouseholdContext(self.r, hh).num(node, context, index)


def _and(a: Truth, b: Truth) -> Truth:
    if a is False or b is False:
        return False
    if a is True and b is True:
        return True
    return None


class _HouseholdContext:
    def __init__(self, r: Resolved, hh: HouseholdRecord) -> None:
        self.r = r
        self.hh = hh
        self.ages = [age_fields(m, r.as_of) for m in hh.members]
        self.deprivation: Interval = (-INF, INF)
        self.indicators: dict[str, Truth] = {}
        self.cls: str | None = None
        self.statuses: dict[str, Truth] = {}
        self.member_statuses: dict[str, list[Truth]] = {}

    def value(self, name: str, context: str, i: int) -> Any:
        if context == "household":
            if name == "member_count":
                n = len(self.hh.members)
                return float(n) if n else None
            if name == "class":
                return self.cls
            return self.hh.fields.get(name)
        if name == "age_years":
            return self.ages[i][0]
        if name == "age_months":
            return self.ages[i][1]
        return self.hh.members[i].get(name)

    # -- expressions --------------------------------------------------------------------------

    def num(self, node: c.Node, context: str, i: int) -> Interval:
        if isinstance(node, c.FieldRef):
            v = self.value(node.name, context, i)
            return (-INF, INF) if v is None else (float(v), float(v))
        if isinstance(node, c.Literal):
            return (float(node.value), float(node.value))
        if isinstance(node, c.ParamRef):
            param, pv = self.r.params[node.name]
            if param.keyed_by:
                assert node.by is not None and isinstance(node.by, c.FieldRef)
                key = self.value(node.by.name, context, i)
                if key is None:
                    values = [float(v) for v in pv.value.values()]
                    return (min(values), max(values))
                return (float(pv.value[key]), float(pv.value[key]))
            return (float(pv.value), float(pv.value))
        if isinstance(node, c.CountMembers | c.ShareMembers):
            assert context == "household"
            vals = [self.cond(node.cond, "member", j) for j in range(len(self.hh.members))]
            n = len(vals)
            ct = sum(1 for v in vals if v is True)
            cf = sum(1 for v in vals if v is False)
            lo, hi = float(ct), float(n - cf)
            if isinstance(node, c.ShareMembers):
                if n == 0:
                    return (-INF, INF)
                return (lo / n, hi / n)
            return (lo, hi)
        if isinstance(node, c.Arith):
            a = self.num(node.left, context, i)
            b = self.num(node.right, context, i)
            exact = a[0] == a[1] and b[0] == b[1] and math.isfinite(a[0]) and math.isfinite(b[0])
            if not exact or (node.op == "div" and b[0] == 0):
                return (-INF, INF)
            v = a[0] / b[0] if node.op == "div" else a[0] * b[0]
            return (v, v)
        if isinstance(node, c.DeprivationCount):
            return self.deprivation
        if isinstance(node, c.MonthsSince):
            d = self.value(node.field, context, i)
            if d is None:
                return (-INF, INF)
            m = months_between(d, self.r.as_of)
            return (m, m)
        if isinstance(node, c.IfThen):
            test = self.cond(node.cond, context, i)
            a = self.num(node.then, context, i)
            b = self.num(node.orelse, context, i)
            if test is True:
                return a
            if test is False:
                return b
            return (min(a[0], b[0]), max(a[1], b[1]))
        raise TypeError(f"not a number: {node}")

    def codes(self, node: c.Node, context: str, i: int) -> set[str]:
        if isinstance(node, c.FieldRef):
            v = self.value(node.name, context, i)
            return set(v or ())
        if isinstance(node, c.Literal):
            return set(node.value)
        if isinstance(node, c.ParamRef):
            return set(self.r.params[node.name][1].value)
        raise TypeError(node)

    # -- conditions ---------------------------------------------------------------------------

    def cond(self, node: c.Node, context: str, i: int) -> Truth:
        if isinstance(node, c.All):
            vals = [self.cond(x, context, i) for x in node.items]
            if any(v is False for v in vals):
                return False
            return True if all(v is True for v in vals) else None
        if isinstance(node, c.AnyOf):
            vals = [self.cond(x, context, i) for x in node.items]
            if any(v is True for v in vals):
                return True
            return False if all(v is False for v in vals) else None
        if isinstance(node, c.Not):
            v = self.cond(node.item, context, i)
            return None if v is None else not v
        if isinstance(node, c.FirstKnown):
            for x in node.items:
                v = self.cond(x, context, i)
                if v is not None:
                    return v
            return None
        if isinstance(node, c.AtLeast):
            need = self.num(node.n, context, i)
            vals = [self.cond(x, context, i) for x in node.items]
            ct = sum(1 for v in vals if v is True)
            cu = sum(1 for v in vals if v is None)
            if ct >= need[0]:
                return True
            if ct + cu < need[1]:
                return False
            return None
        if isinstance(node, c.Compare):
            if isinstance(node.left, c.FieldRef) and isinstance(node.right, c.Literal) and \
                    isinstance(node.right.value, str):  # fmt: skip
                v = self.value(node.left.name, context, i)
                if v is None:
                    return None
                return bool((v == node.right.value) == (node.op == "eq"))
            a = self.num(node.left, context, i)
            b = self.num(node.right, context, i)
            op = node.op
            if op == "gt":
                a, b, op = b, a, "lt"
            elif op == "ge":
                a, b, op = b, a, "le"
            if op == "lt":
                return True if a[1] < b[0] else False if a[0] >= b[1] else None
            if op == "le":
                return True if a[1] <= b[0] else False if a[0] > b[1] else None
            exact = a[0] == a[1] and b[0] == b[1]
            if exact and a[0] == b[0]:
                eq: Truth = True
            elif a[1] < b[0] or a[0] > b[1]:
                eq = False
            else:
                eq = None
            if op == "eq":
                return eq
            return None if eq is None else not eq
        if isinstance(node, c.In):
            assert isinstance(node.item, c.FieldRef)
            v = self.value(node.item.name, context, i)
            if v is None:
                return None
            return v in self.codes(node.collection, context, i)
        if isinstance(node, c.Intersects):
            return bool(self.codes(node.left, context, i) & self.codes(node.right, context, i))
        if isinstance(node, c.FactRef):
            return self.cond(self.r.facts[node.name][1].condition, context, i)
        if isinstance(node, c.BoolField):
            v = self.value(node.name, context, i)
            return None if v is None else bool(v)
        if isinstance(node, c.AnyMember | c.NoMember):
            vals = [self.cond(node.cond, "member", j) for j in range(len(self.hh.members))]
            t = any(v is True for v in vals)
            f = all(v is False for v in vals)
            res: Truth = True if t else False if f else None
            if isinstance(node, c.NoMember):
                return None if res is None else not res
            return res
        if isinstance(node, c.IndicatorRef):
            return self.indicators.get(node.id, False)  # off in a scenario: not deprived
        if isinstance(node, c.StatusRef):
            if context == "member":
                return self.member_statuses[node.id][i]
            return self.statuses[node.id]
        if isinstance(node, c.OfHousehold):
            return self.cond(node.cond, "household", 0)
        raise TypeError(f"not a condition: {node}")


CLASS_CODES = DOMAIN_CODES["class"]


def _decode(col: Any, i: int) -> Any:
    value = decode(col, i)
    return set(value) if col.kind == "codes" and value is not None else value


def from_batch(batch: ParsedBatch, positions: list[int] | None = None) -> list[HouseholdRecord]:
    """Households of a parsed batch as plain dictionaries (members in input order)."""
    n = batch.n_households
    positions = list(range(n)) if positions is None else positions
    by_household = batch.member_rows(positions)
    out = []
    for p in positions:
        fields = {name: _decode(col, p) for name, col in batch.households.items()}
        members = [{name: _decode(col, m) for name, col in batch.members.items()}
                   for m in by_household.get(p, [])]  # fmt: skip
        out.append(HouseholdRecord(fields, members))
    return out
