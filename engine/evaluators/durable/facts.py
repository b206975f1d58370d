"""The facts of one household as durable_rules reads them: every modelled field asserted (a
missing one as its sentinel, so no rule tests for absence), numbers as interval bounds, and the
expressions a Rete network cannot compute precomputed by the reference interpreter."""

from __future__ import annotations

import math
from typing import Any

from engine.evaluators.durable.compiler import Compiled
from engine.evaluators.durable.formulas import MISSING_CODE, MISSING_NUMBER, normalise, number
from engine.evaluators.reference import HouseholdRecord, Reference, age_fields
from household_models.schema import FIELD_SPECS


def _bounds(out: dict[str, Any], name: str, lo: float, hi: float) -> None:
    out[f"{name}__lo"] = number(lo) if math.isfinite(lo) else -MISSING_NUMBER
    out[f"{name}__hi"] = number(hi) if math.isfinite(hi) else MISSING_NUMBER


def _encode(values: dict[str, Any], specs: dict[str, Any]) -> dict[str, Any]:
    """Every modelled field, a missing one as its sentinel (rules never test for absence)."""
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if spec.kind in ("text", "date"):
            continue  # never read by a rule (dates only through precomputed months)
        value = values.get(name)
        if spec.kind == "codes":
            for code in spec.codes:
                out[f"{name}__{code}"] = 1 if value and code in value else 0
        elif spec.kind == "code":
            out[name] = MISSING_CODE if value is None else normalise(value)
        elif spec.kind == "bool":
            out[name] = -1 if value is None else normalise(bool(value))
        else:
            v = math.nan if value is None else float(value)
            _bounds(out, name, v if value is not None else -math.inf,
                    v if value is not None else math.inf)  # fmt: skip
    return out


def household_facts(hh: HouseholdRecord, compiled: Compiled, ref: Reference,
                    as_of: Any) -> list[dict[str, Any]]:  # fmt: skip
    """The facts of one household, normalised for durable_rules."""
    h = {"t": "h", **_encode(hh.fields, FIELD_SPECS["household"])}
    n = len(hh.members)
    _bounds(h, "member_count", n if n else -math.inf, n if n else math.inf)
    for name, (node, context) in compiled.expressions.items():
        if context == "household":
            _bounds(h, name, *ref.expression(node, hh, "household", 0))
    facts = [h]
    for i, member in enumerate(hh.members):
        m = {"t": "m", "no": i, **_encode(member, FIELD_SPECS["member"])}
        years, months = age_fields(member, as_of)
        _bounds(m, "age_years", years if years is not None else -math.inf,
                years if years is not None else math.inf)  # fmt: skip
        _bounds(m, "age_months", months if months is not None else -math.inf,
                months if months is not None else math.inf)  # fmt: skip
        for name, (node, context) in compiled.expressions.items():
            if context == "member":
                _bounds(m, name, *ref.expression(node, hh, "member", i))
        facts.append(m)
    # Members first: a negated member pattern is decided when the household fact arrives, and
    # an activation is not withdrawn when a matching member arrives after it (measured).
    return facts[1:] + facts[:1]
