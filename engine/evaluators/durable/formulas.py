"""Formulas for the durable_rules compiler: conditions on one fact (``J``), atoms over facts,
conditions in disjunctive normal form (``Formula``), and the normalising of values before they
are asserted (whole numbers as int, no exponent, NFC text). Pure Python: no ``durable``."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from typing import Any

from engine.errors import EngineError


class CompileError(EngineError):
    """A rulebook construct the Rete compiler cannot express (a bug or an engine limit)."""


# A J-formula is a condition on one fact (the household, or a member); a Formula combines them
# with derived-fact patterns and member quantifiers, and is brought to disjunctive normal form.


@dataclass(frozen=True)
class J:
    op: str  # and | or | true | false | ex | nex | cmp
    items: tuple[J, ...] = ()
    field: str = ""
    cmp: str = ""
    value: Any = None


MISSING_CODE = "?"
MISSING_NUMBER = 10**15  # numbers are intervals [lo, hi]; a missing one is [-10^15, 10^15]
JTRUE = J("true")
JFALSE = J("false")
INVERSE = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt", "eq": "ne", "ne": "eq"}
DURABLE_OP = {"lt": "$lt", "le": "$lte", "gt": "$gt", "ge": "$gte", "ne": "$neq"}


def jand(*items: J) -> J:
    flat: list[J] = []
    for i in items:
        if i.op == "false":
            return JFALSE
        if i.op == "true":
            continue
        flat.extend(i.items if i.op == "and" else (i,))
    return JTRUE if not flat else flat[0] if len(flat) == 1 else J("and", tuple(flat))


def jor(*items: J) -> J:
    flat: list[J] = []
    for i in items:
        if i.op == "true":
            return JTRUE
        if i.op == "false":
            continue
        flat.extend(i.items if i.op == "or" else (i,))
    return JFALSE if not flat else flat[0] if len(flat) == 1 else J("or", tuple(flat))


def jcmp(name: str, op: str, value: Any) -> J:
    """A comparison of a fact field with a constant. Every field is asserted (a missing value
    as a sentinel: MISSING_CODE, -1 for yes/no, ±MISSING_NUMBER bounds for numbers)."""
    return J("cmp", field=name, cmp=op, value=value)


def jneg(j: J) -> J:
    if j.op == "true":
        return JFALSE
    if j.op == "false":
        return JTRUE
    if j.op == "and":
        return jor(*(jneg(i) for i in j.items))
    if j.op == "or":
        return jand(*(jneg(i) for i in j.items))
    return jcmp(j.field, INVERSE[j.cmp], j.value)  # every field is present (sentinels)


def render(j: J) -> dict[str, Any]:
    if j.op == "and":
        return {"$and": [render(i) for i in j.items]}
    if j.op == "or":
        return {"$or": [render(i) for i in j.items]}
    if j.op == "ex":
        return {"$ex": {j.field: 1}}
    if j.op == "nex":
        return {"$nex": {j.field: 1}}
    if j.op == "cmp":  # a comparison never matches a fact without the field (tested)
        return {j.field: j.value} if j.cmp == "eq" else {DURABLE_OP[j.cmp]: {j.field: j.value}}
    raise CompileError(f"cannot render constant {j.op}")


def jdnf(j: J) -> list[list[J]]:
    """A J-formula as OR of AND of leaves."""
    if j.op == "true":
        return [[]]
    if j.op == "false":
        return []
    if j.op == "or":
        return [conj for i in j.items for conj in jdnf(i)]
    if j.op == "and":
        out: list[list[J]] = [[]]
        for i in j.items:
            out = [a + b for a in out for b in jdnf(i)]
            if len(out) > 256:
                raise CompileError("a condition on one fact expands to more than 256 cases")
        return out
    return [[j]]


def expression_count(pattern: Any) -> int:
    """Expressions of a pattern as durable_rules counts them (leaves and $and/$or markers)."""
    if isinstance(pattern, dict):
        if len(pattern) == 1:
            key, value = next(iter(pattern.items()))
            if key in ("$and", "$or"):
                return 2 + sum(expression_count(v) for v in value)
        return 1
    return 1


MAX_EXPRESSIONS = 30  # durable-rules 2.0.28: MAX_SEQUENCE_EXPRESSIONS = 32 per pattern


@dataclass(frozen=True)
class Atom:
    kind: str  # h (household fact) | mm (the named member) | d (derived fact) | e | ne
    j: J = JTRUE
    derived: tuple[tuple[str, Any], ...] = ()  # pattern of a derived fact (key, value) pairs


Formula = list[list[Atom]]  # disjunctive normal form: OR of AND of atoms
TRUE: Formula = [[]]
FALSE: Formula = []


def f_and(*parts: Formula) -> Formula:
    out: Formula = [[]]
    for part in parts:
        out = [a + b for a in out for b in part]
        if len(out) > 4096:
            raise CompileError("a condition expands to more than 4096 rules")
    return out


def f_or(*parts: Formula) -> Formula:
    return [conj for part in parts for conj in part]


def atom(kind: str, j: J) -> Formula:
    if j.op == "true":
        return TRUE
    if j.op == "false":
        return FALSE
    return [[Atom(kind, j)]]


def derived(j: J = JTRUE, **identity: Any) -> Formula:
    """A derived fact with this identity (t, id, and for a member's fact its number) whose other
    fields meet ``j``. Atoms on the same derived fact are merged into one pattern."""
    if j.op == "false":
        return FALSE
    return [[Atom("d", j, derived=tuple(sorted(identity.items())))]]


def values_in(values: list[str]) -> J:
    return jor(*(jcmp("v", "eq", v) for v in values))


# -- normalising values -------------------------------------------------------------------------


def number(value: float) -> int | float:
    """A JSON-safe number: whole numbers as int; no exponent notation (|x| < 1e-4 becomes 0)."""
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{value!r} cannot be asserted")
    if v.is_integer():
        return int(v)
    if abs(v) < 1e-4:
        return 0
    text = repr(v)
    if "e" in text or "E" in text:
        return round(v, 6)
    return v


def normalise(value: Any) -> Any:
    if isinstance(value, bool):
        return 1 if value else 0
    if isinstance(value, int | float):
        return number(value)
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    raise TypeError(f"{value!r} is not asserted")
