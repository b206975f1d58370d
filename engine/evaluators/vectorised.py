"""The vectorised evaluator: the rulebook's conditions as NumPy column operations.

Three-valued logic is carried as two boolean arrays per condition, ``t`` (known true) and ``f``
(known false); a row in neither is unknown. Numbers are carried as intervals ``[lo, hi]`` so that a
missing value (``[-inf, inf]``) or a count over members some of whose facts are unknown still
decides a comparison when every possible value would. Member facts are evaluated once per batch
and reduced to households with ``np.bincount``; there is no Python loop over rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt

from engine.evaluators.evaluation import (
    ActionResult,
    Bools,
    Code,
    CodeSet,
    Evaluation,
    Floats,
    Num,
    Tables,
    Tri,
    UnknownMembers,
)
from engine.rulebook import Resolved
from engine.rulebook import conditions as c
from household_models.batch import Column
from household_models.schema import DERIVED_INPUTS, DOMAIN_CODES


def age_fields(tables: Tables, as_of: dt.date) -> dict[str, Column]:
    """Age in completed years and in months on the evaluation date.

    Exact from ``birth_date`` when given; otherwise ``age`` (completed years on the survey date)
    with months taken as 12 × age, i.e. as if the birthday were today (documented rounding).
    """
    age = tables.members["age"]
    birth = tables.members["birth_date"]
    years = age.values.astype(np.float64).copy()
    months = years * 12.0
    missing = age.missing.copy()
    have = ~birth.missing
    if have.any():
        b = birth.values[have]
        by = b.astype("datetime64[Y]").astype(np.int64) + 1970
        bm = b.astype("datetime64[M]").astype(np.int64) % 12 + 1
        bd = (b - b.astype("datetime64[M]")).astype(np.int64) + 1
        before = (as_of.month < bm) | ((as_of.month == bm) & (as_of.day < bd))
        y = as_of.year - by - before.astype(np.int64)
        m = (as_of.year - by) * 12 + (as_of.month - bm) - (as_of.day < bd).astype(np.int64)
        bad = m < 0  # born after the evaluation date: treat the age as unknown
        years[have] = np.where(bad, np.nan, y)
        months[have] = np.where(bad, np.nan, m)
        missing[have] = bad
    years[missing] = np.nan
    months[missing] = np.nan
    return {
        "age_years": Column("number", years, missing),
        "age_months": Column("number", months, missing),
    }


def months_since(dates: npt.NDArray[Any], as_of: dt.date) -> Floats:
    """Calendar months from each date to ``as_of``: whole months, plus one half when part of a
    month more has passed (so ``<= 36`` means "at most 3 years"). NaT gives NaN."""
    d = dates.astype("datetime64[D]")
    bad = np.isnat(d)
    safe = np.where(bad, np.datetime64(as_of, "D"), d)
    year = safe.astype("datetime64[Y]").astype(np.int64) + 1970
    month = safe.astype("datetime64[M]").astype(np.int64) % 12 + 1
    day = (safe - safe.astype("datetime64[M]")).astype(np.int64) + 1
    whole = (as_of.year - year) * 12 + (as_of.month - month) - (as_of.day < day).astype(np.int64)
    out = whole + np.where(as_of.day == day, 0.0, 0.5)
    return np.where(bad, np.nan, out).astype(np.float64)


class _Clock:
    def __init__(self, out: dict[str, float] | None) -> None:
        import time

        self.out = out
        self.now = time.perf_counter
        self.last = self.now()

    def lap(self, name: str) -> None:
        t = self.now()
        if self.out is not None:
            self.out[name] = self.out.get(name, 0.0) + t - self.last
        self.last = t


class Evaluator:
    def __init__(self, resolved: Resolved, tables: Tables, invalid: Bools | None = None,
                 shared_facts: dict[tuple[Any, ...], Tri] | None = None) -> None:  # fmt: skip
        """``shared_facts``: member facts already computed on the same tables by another
        evaluator (another rulebook in a simulation), reused where the fact's definition, the
        parameter values it reads and the evaluation date are the same."""
        self.r = resolved
        self.shared_facts = shared_facts
        self.tables = tables
        self.valid = (
            ~invalid if invalid is not None else np.ones(tables.n_households, dtype=bool)
        )
        self.n = {"household": tables.n_households, "member": len(tables.member_household)}
        self.member_count = np.bincount(tables.member_household, minlength=tables.n_households)
        self.columns: dict[str, dict[str, Column]] = {
            "household": {
                **tables.households,
                "member_count": Column(
                    "number", self.member_count.astype(np.float64), self.member_count == 0
                ),
            },
            "member": {
                **tables.members,
                **(age_fields(tables, resolved.as_of) if "age" in tables.members else {}),
            },
        }
        self.fact_cache: dict[tuple[str, str], Tri] = {}
        self.indicator_tri: dict[str, Tri] = {}
        self.status_tri: dict[str, Tri] = {}
        # Indicator results to impose instead of evaluating (what-if analysis in explain).
        self.indicator_override: dict[str, Tri] = {}
        self.deprivation: Num | None = None
        self._unknown_log: list[UnknownMembers] | None = None

    # -- expressions ---------------------------------------------------------------------------

    def _full(self, value: float, context: str) -> Floats:
        """A number for every row: one read-only value seen as a column (no memory)."""
        return np.broadcast_to(np.float64(value), (self.n[context],))

    def expr(self, node: c.Node, context: str) -> Num | Code | CodeSet:
        if isinstance(node, c.FieldRef):
            col = self.columns[context][node.name]
            if col.kind in ("int", "number"):
                if not col.missing.any():  # the column itself, read-only
                    column = col.values.view()
                    column.flags.writeable = False
                    return Num(column, column)
                lo = np.where(col.missing, -np.inf, col.values)
                hi = np.where(col.missing, np.inf, col.values)
                return Num(lo, hi)
            if col.kind == "code":
                return Code(col.values, col.missing, col.codes)
            if col.kind == "codes":
                return CodeSet(col.values, col.codes)
            raise TypeError(f"field {node.name} of kind {col.kind} is not an expression")
        if isinstance(node, c.Literal):
            v = node.value
            if isinstance(v, int | float):
                arr = self._full(float(v), context)
                return Num(arr, arr)
            raise TypeError("text and list literals are only read by eq/in")
        if isinstance(node, c.ParamRef):
            param, pv = self.r.params[node.name]
            value = pv.value
            if param.keyed_by:
                assert node.by is not None
                key = self.expr(node.by, context)
                assert isinstance(key, Code)
                # A missing key leaves the value anywhere between the smallest and largest.
                known = [float(value[k]) for k in key.codes]
                idx = np.where(key.missing, len(key.codes), key.values)
                lo = np.array([*known, min(known)])[idx]
                hi = np.array([*known, max(known)])[idx]
                return Num(lo, hi)
            if param.type == "codes":
                domain = DOMAIN_CODES[param.codes_of]
                mask = sum(1 << domain.index(code) for code in value)
                return CodeSet(np.full(self.n[context], mask, dtype=np.int64), domain)
            arr = self._full(float(value), context)
            return Num(arr, arr)
        if isinstance(node, c.CountMembers | c.ShareMembers):
            inner = self.member_tri(node.cond)
            ct, cf = self._counts(inner)
            n = self.member_count.astype(np.float64)
            lo, hi = ct, n - cf
            if isinstance(node, c.ShareMembers):
                with np.errstate(divide="ignore", invalid="ignore"):
                    lo, hi = lo / n, hi / n
                empty = n == 0
                lo = np.where(empty, -np.inf, lo)
                hi = np.where(empty, np.inf, hi)
            return Num(lo.astype(np.float64), hi.astype(np.float64))
        if isinstance(node, c.Arith):
            a = self.expr(node.left, context)
            b = self.expr(node.right, context)
            assert isinstance(a, Num) and isinstance(b, Num)
            exact = (a.lo == a.hi) & (b.lo == b.hi) & np.isfinite(a.lo) & np.isfinite(b.lo)
            with np.errstate(divide="ignore", invalid="ignore"):
                if node.op == "div":
                    exact &= b.lo != 0
                    v = a.lo / np.where(exact, b.lo, 1.0)
                else:
                    v = a.lo * b.lo
            return Num(np.where(exact, v, -np.inf), np.where(exact, v, np.inf))
        if isinstance(node, c.DeprivationCount):
            assert self.deprivation is not None, "deprivation_count read before indicators"
            return self.deprivation
        if isinstance(node, c.MonthsSince):
            col = self.columns[context][node.field]
            months = months_since(col.values, self.r.as_of)
            lo = np.where(col.missing, -np.inf, months)
            hi = np.where(col.missing, np.inf, months)
            return Num(lo, hi)
        if isinstance(node, c.IfThen):
            test = self.cond(node.cond, context)
            a = self.expr(node.then, context)
            b = self.expr(node.orelse, context)
            assert isinstance(a, Num) and isinstance(b, Num)
            lo = np.where(test.t, a.lo, np.where(test.f, b.lo, np.minimum(a.lo, b.lo)))
            hi = np.where(test.t, a.hi, np.where(test.f, b.hi, np.maximum(a.hi, b.hi)))
            return Num(lo, hi)
        raise TypeError(f"not an expression: {node}")

    # -- conditions ----------------------------------------------------------------------------

    def _counts(self, inner: Tri) -> tuple[Floats, Floats]:
        hh = self.tables.member_household
        size = self.tables.n_households
        ct = np.bincount(hh, weights=inner.t, minlength=size).astype(np.float64)
        cf = np.bincount(hh, weights=inner.f, minlength=size).astype(np.float64)
        return ct, cf

    def member_tri(self, node: c.Node) -> Tri:
        inner = self.cond(node, "member")
        if self._unknown_log is not None:
            unknown = inner.unknown
            if unknown.any():
                self._unknown_log.append(UnknownMembers(unknown, self.inputs_read(node, "member")))
        return inner

    def cond(self, node: c.Node, context: str) -> Tri:
        if isinstance(node, c.All):
            parts = [self.cond(i, context) for i in node.items]
            t = np.logical_and.reduce([p.t for p in parts])
            f = np.logical_or.reduce([p.f for p in parts])
            return Tri(t, f)
        if isinstance(node, c.AnyOf):
            parts = [self.cond(i, context) for i in node.items]
            t = np.logical_or.reduce([p.t for p in parts])
            f = np.logical_and.reduce([p.f for p in parts])
            return Tri(t, f)
        if isinstance(node, c.Not):
            inner = self.cond(node.item, context)
            return Tri(inner.f, inner.t)
        if isinstance(node, c.FirstKnown):
            t = np.zeros(self.n[context], dtype=bool)
            f = np.zeros(self.n[context], dtype=bool)
            for item in node.items:
                part = self.cond(item, context)
                open_ = ~(t | f)
                t |= open_ & part.t
                f |= open_ & part.f
            return Tri(t, f)
        if isinstance(node, c.AtLeast):
            need = self.expr(node.n, context)
            assert isinstance(need, Num)
            parts = [self.cond(i, context) for i in node.items]
            ct = np.sum([p.t for p in parts], axis=0)
            cu = np.sum([p.unknown for p in parts], axis=0)
            return Tri(ct >= need.lo, (ct + cu) < need.hi)
        if isinstance(node, c.Compare):
            return self._compare(node, context)
        if isinstance(node, c.In):
            code = self.expr(node.item, context)
            assert isinstance(code, Code)
            if isinstance(node.collection, c.Literal):
                members = [code.codes.index(v) for v in node.collection.value]
                hit = np.isin(code.values, members)
            else:
                coll = self.expr(node.collection, context)
                assert isinstance(coll, CodeSet)
                bit = np.left_shift(np.int64(1), np.maximum(code.values, 0).astype(np.int64))
                hit = (coll.mask & bit) != 0
            known = ~code.missing
            return Tri(known & hit, known & ~hit)
        if isinstance(node, c.Intersects):
            a = self.expr(node.left, context)
            assert isinstance(a, CodeSet)
            if isinstance(node.right, c.Literal):
                b_mask = np.int64(sum(1 << a.codes.index(v) for v in node.right.value))
                hit = (a.mask & b_mask) != 0
            else:
                b = self.expr(node.right, context)
                assert isinstance(b, CodeSet)
                hit = (a.mask & b.mask) != 0
            return Tri(hit, ~hit)
        if isinstance(node, c.FactRef):
            key = (node.name, context)
            if key not in self.fact_cache:
                store = self.shared_facts if context == "member" else None
                shared = self._shared_key(node.name) if store is not None else None
                if store is not None and shared is not None and shared in store:
                    self.fact_cache[key] = store[shared]
                    return self.fact_cache[key]
                saved, self._unknown_log = self._unknown_log, None
                self.fact_cache[key] = self.cond(self.r.facts[node.name][1].condition, context)
                self._unknown_log = saved
                if store is not None and shared is not None:
                    store[shared] = self.fact_cache[key]
            return self.fact_cache[key]
        if isinstance(node, c.BoolField):
            col = self.columns[context][node.name]
            v = col.values.astype(bool)
            return Tri(v & ~col.missing, ~v & ~col.missing)
        if isinstance(node, c.IndicatorRef):
            tri = self.indicator_tri.get(node.id)
            if tri is None:  # switched off by a scenario: it no longer counts as a deprivation
                n = self.n[context]
                return Tri(np.zeros(n, dtype=bool), np.ones(n, dtype=bool))
            return tri
        if isinstance(node, c.StatusRef):
            return self.status_tri[node.id]
        if isinstance(node, c.OfHousehold):
            outer = self.cond(node.cond, "household")
            hh = self.tables.member_household
            return Tri(outer.t[hh], outer.f[hh])
        if isinstance(node, c.AnyMember | c.NoMember):
            inner = self.member_tri(node.cond)
            ct, cf = self._counts(inner)
            t = ct > 0
            f = cf == self.member_count
            return Tri(f, t) if isinstance(node, c.NoMember) else Tri(t, f)
        raise TypeError(f"not a condition: {node}")

    def _compare(self, node: c.Compare, context: str) -> Tri:
        a = self.expr(node.left, context)
        if isinstance(a, Code):
            assert isinstance(node.right, c.Literal)
            idx = a.codes.index(str(node.right.value))
            known = ~a.missing
            eq = a.values == idx
            t, f = known & eq, known & ~eq
            return Tri(t, f) if node.op == "eq" else Tri(f, t)
        b = self.expr(node.right, context)
        assert isinstance(a, Num) and isinstance(b, Num)
        op = node.op
        if op == "gt":
            a, b, op = b, a, "lt"
        elif op == "ge":
            a, b, op = b, a, "le"
        if op == "lt":
            return Tri(a.hi < b.lo, a.lo >= b.hi)
        if op == "le":
            return Tri(a.hi <= b.lo, a.lo > b.hi)
        exact = (a.lo == a.hi) & (b.lo == b.hi)
        eq = exact & (a.lo == b.lo)
        ne = (a.hi < b.lo) | (a.lo > b.hi)
        return Tri(eq, ne) if op == "eq" else Tri(ne, eq)

    # -- static analysis -------------------------------------------------------------------------

    def _shared_key(self, name: str) -> tuple[Any, ...] | None:
        """What a member fact's value depends on besides the input tables: its definition (with
        the facts it reads), the values of the parameters it reads, and the evaluation date. None
        when it cannot be shared: it reads a household decision (an
        indicator, a status or the class) that another rulebook may take differently."""
        parts: list[Any] = [name, self.r.as_of]
        stack: list[c.Node] = [c.FactRef(name)]
        seen: set[str] = set()
        while stack:
            n = stack.pop()
            if isinstance(n, c.IndicatorRef | c.StatusRef | c.OfHousehold) or (
                    isinstance(n, c.FieldRef) and n.name == "class"):  # fmt: skip
                return None
            if isinstance(n, c.FactRef):
                if n.name not in seen:
                    seen.add(n.name)
                    condition = self.r.facts[n.name][1].condition
                    parts.append((n.name, repr(condition)))
                    stack.append(condition)
                continue
            if isinstance(n, c.ParamRef):
                parts.append((n.name, repr(self.r.param(n.name))))
            stack.extend(c.children(n))
        return tuple(parts)

    def inputs_read(self, node: c.Node, context: str) -> frozenset[str]:
        """Input fields of ``context`` that a condition reads, through facts, not into members."""
        out: set[str] = set()
        stack = [node]
        while stack:
            n = stack.pop()
            if isinstance(n, c.AnyMember | c.NoMember | c.CountMembers | c.ShareMembers):
                continue
            if isinstance(n, c.FieldRef | c.BoolField):
                out.update(DERIVED_INPUTS.get(n.name, (n.name,)))
            elif isinstance(n, c.FactRef):
                stack.append(self.r.facts[n.name][1].condition)
            stack.extend(c.children(n))
        return frozenset(out)

    # -- the pipeline ----------------------------------------------------------------------------

    def run(self, timings: dict[str, float] | None = None) -> Evaluation:
        """Indicators, class, statuses and actions; ``timings`` (if given) receives the seconds
        spent in each phase (member facts, indicators, class, statuses, recommendations)."""
        clock = _Clock(timings)
        for name, (fact, _) in self.r.facts.items():
            if fact.context == "member":  # once per batch, whatever reads them
                self.cond(c.FactRef(name), "member")
        clock.lap("member_facts")
        unknown_members: dict[str, list[UnknownMembers]] = {}
        for rule, definition in self.r.indicators:
            self._unknown_log = []
            self.indicator_tri[rule.id] = self.indicator_override.get(
                rule.id
            ) or self.cond(definition.condition, "household")
            unknown_members[rule.id] = self._unknown_log
        self._unknown_log = None
        tris = list(self.indicator_tri.values())
        lo = np.sum([t.t for t in tris], axis=0).astype(np.int64)
        hi = len(tris) - np.sum([t.f for t in tris], axis=0).astype(np.int64)
        self.deprivation = Num(lo.astype(np.float64), hi.astype(np.float64))
        clock.lap("indicators")
        rows = [self.cond(row.when, "household").t for row in self.r.classification.rows]
        hits = np.sum(rows, axis=0)
        if (hits > 1).any():
            bad = int(np.flatnonzero(hits > 1)[0])
            raise AssertionError(f"classification table overlap at household position {bad}")
        class_index = np.where(hits == 1, np.argmax(rows, axis=0), -1).astype(np.int64)
        clock.lap("class")
        statuses, actions = self.run_post(class_index, clock)
        member_facts = {
            name: tri for (name, ctx), tri in self.fact_cache.items() if ctx == "member"
        }
        return Evaluation(self.indicator_tri, lo, hi, class_index, unknown_members, member_facts,
                          statuses, actions)  # fmt: skip

    def _masked(self, tri: Tri, context: str) -> Tri:
        valid = self.valid if context == "household" else self.valid[self.tables.member_household]
        return Tri(tri.t & valid, tri.f & valid)

    def _true(self, context: str) -> Tri:
        n = self.n[context]
        return Tri(np.ones(n, dtype=bool), np.zeros(n, dtype=bool))

    def run_post(self, class_index: npt.NDArray[np.int64], clock: _Clock | None = None
                 ) -> tuple[dict[str, Tri], dict[str, ActionResult]]:  # fmt: skip
        """Statuses, then interventions, once the class of every household is known."""
        codes = DOMAIN_CODES["class"]
        row_class = np.array([codes.index(row.cls) for row in self.r.classification.rows] + [-1],
                             dtype=np.int16)  # fmt: skip
        values = row_class[class_index]
        missing = (values < 0) | ~self.valid
        self.columns["household"]["class"] = Column("code", values, missing, codes)
        hh = self.tables.member_household
        for status, sd in self.r.statuses:
            when = self.cond(sd.when, "household") if sd.when is not None else self._true(
                "household")
            when = self._masked(when, "household")
            if status.context == "member":
                assert sd.members is not None
                who = self.cond(sd.members, "member")
                tri = Tri(when.t[hh] & who.t, when.f[hh] | who.f)
                self.status_tri[status.id] = self._masked(tri, "member")
            else:
                self.status_tri[status.id] = when
        if clock is not None:
            clock.lap("statuses")
        actions: dict[str, ActionResult] = {}
        for action, ad in self.r.interventions:
            when = self.cond(ad.when, "household") if ad.when is not None else self._true(
                "household")
            when = self._masked(when, "household")
            result = ActionResult(when, when.t.copy())
            if ad.members is not None:
                who = self._masked(self.cond(ad.members, "member"), "member")
                member_fires = when.t[hh] & who.t
                result.members = who
                result.member_fires = member_fires
                result.fires = when.t & (
                    np.bincount(hh, weights=member_fires, minlength=self.n["household"]) > 0
                )
                if ad.priority is not None:
                    result.priority = self.cond(ad.priority, "member")
            if action.amount is not None:
                value = self.expr(action.amount.value, action.amount.per)
                assert isinstance(value, Num)
                result.amount = value
            actions[action.id] = result
        if clock is not None:
            clock.lap("recommendations")
        return dict(self.status_tri), actions


def evaluate(resolved: Resolved, tables: Tables) -> Evaluation:
    return Evaluator(resolved, tables).run()
