"""The durable_rules evaluator: the same rulebook compiled to a Rete network.

This is the only module that imports ``durable``. It compiles the resolved rulebook (after any
overlay) to one durable_rules ruleset and evaluates households one at a time, each in its own
session, by forward chaining:

    household and member facts  →  indicator facts (T / F / U)  →  deprivation count
    →  class  →  statuses (household and member)  →  recommendations

Three-valued logic is compiled, not emulated: every condition is turned into two-valued
formulas for "true" (T), "false" (F) and their negations over the facts, so that each indicator
gets three mutually exclusive rules (T, F, U = neither). Comparisons, ``all`` / ``any`` / ``not``,
``first_known``, ``at_least``, list membership, ``any_member`` / ``no_member`` and the derived
indicator, class and status facts are matched by the engine itself; ``no_member`` and the "false"
side of ``any_member`` use the engine's negated patterns over member facts. What a Rete network
cannot express is computed per household before asserting, from the same rule definition, by
the plain-Python interpreter (``engine.reference``): member counts and shares, arithmetic between
fields, months since a date, choices (``if``), amounts, and the priority of a named member.

Measured limits of durable-rules 2.0.28 and how this module meets them (each has a test):

* the background dispatcher threads crash when sessions are deleted out of order and sometimes
  swallow a synchronous result → ``QuietHost`` never starts them;
* a session costs ~630 KB and at most 1024 may be live → one session per household, deleted
  right after;
* ``delete_state`` segfaults on a session where no rule ran → a rule that always fires;
* ``post`` fires only the first matching rule → everything is asserted as facts;
* values are normalised before asserting: whole numbers as ints, no float that serialises with
  an exponent (``1e-05`` is rejected), never a number as text, NFC strings, yes/no as 1/0;
* a fact field named like a state field loops, and ``id`` is the engine's fact identity (a rule
  testing a field ``id`` crashed the process) → derived facts name their rule in ``k``, and the
  facts carry only ``t``, ``k``, ``no``, ``v`` and the model's field names;
* a negated pattern is checked when the fact it joins arrives and is not re-checked later → the
  member facts are asserted before the household fact in the same batch, and negations only
  ever test member facts (input), never derived facts;
* exceptions raised inside actions are swallowed by the engine → every action is wrapped, the
  exception is kept and raised again after the session, and a result carrying ``exception`` is
  an error too;
* a fact asserted twice is an error inside the action → derived facts are asserted once per
  session (a rule may fire once per witness, e.g. per member; every firing is recorded).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from durable import engine as durable_engine

from engine import conditions as c
from engine.reference import Household, Reference, age_fields
from engine.rulebook import DOMAIN_CODES, FIELD_SPECS, Resolved

RULESET = "giamngheo"


class CompileError(Exception):
    pass


class DurableError(Exception):
    """An error raised inside a durable_rules action, or reported by the engine."""


class QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A host without the background dispatcher and timer threads."""

    def _run(self) -> None:
        return None


# -- formulas ---------------------------------------------------------------------------------
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


# -- the compiler -----------------------------------------------------------------------------


@dataclass
class Compiled:
    rules: dict[str, dict[str, Any]]
    expressions: dict[str, tuple[c.Node, str]]  # precomputed field → (expression, context)
    actions: dict[str, tuple[str, str]] = field(default_factory=dict)  # rule → (kind, id)


class Compiler:
    POLARITIES = ("T", "F", "NT", "NF")

    def __init__(self, r: Resolved) -> None:
        self.r = r
        self.expressions: dict[str, tuple[c.Node, str]] = {}
        self._expr_names: dict[tuple[c.Node, str], str] = {}

    # numbers: (lo, hi) as J-level terms -------------------------------------------------------

    def _precomputed(self, node: c.Node, context: str) -> str:
        key = (node, context)
        if key not in self._expr_names:
            name = f"x{len(self._expr_names)}"
            self._expr_names[key] = name
            self.expressions[name] = (node, context)
        return self._expr_names[key]

    def _cases(self, node: c.Node, context: str) -> list[tuple[J, Any, Any]]:
        """Cases (guard, lo, hi) of a numeric expression; lo/hi are a float or a field name."""
        if isinstance(node, c.Literal):
            return [(JTRUE, float(node.value), float(node.value))]
        if isinstance(node, c.FieldRef):
            return [(JTRUE, f"{node.name}__lo", f"{node.name}__hi")]
        if isinstance(node, c.ParamRef):
            param, pv = self.r.params[node.name]
            if not param.keyed_by:
                return [(JTRUE, float(pv.value), float(pv.value))]
            assert isinstance(node.by, c.FieldRef)
            key = node.by.name
            values = {k: float(v) for k, v in pv.value.items()}
            cases = [(jcmp(key, "eq", k), v, v) for k, v in values.items()]
            cases.append((jcmp(key, "eq", MISSING_CODE), min(values.values()),
                          max(values.values())))  # fmt: skip
            return cases
        if isinstance(node, c.DeprivationCount):
            return [(JTRUE, "$dep_lo", "$dep_hi")]
        name = self._precomputed(node, context)
        return [(JTRUE, f"{name}__lo", f"{name}__hi")]

    def _less(self, a: Any, b: Any, strict: bool) -> Formula:
        """a < b (strict) or a ≤ b, for a constant or a field on each side (field present)."""
        op = "lt" if strict else "le"
        if isinstance(a, float) and isinstance(b, float):
            return TRUE if (a < b if strict else a <= b) else FALSE
        if isinstance(a, str) and isinstance(b, float):
            return self._side(a, op, b)
        if isinstance(a, float) and isinstance(b, str):
            return self._side(b, "gt" if strict else "ge", a)
        raise CompileError("comparing two fields needs a precomputed expression")

    def _side(self, name: str, op: str, value: float) -> Formula:
        if name.startswith("$dep_"):
            return derived(jcmp(name[5:], op, number(value)), t="dep")
        return [[Atom("here", jcmp(name, op, number(value)))]]

    def _compare(self, node: c.Compare, context: str, pol: str) -> Formula:
        left, right = node.left, node.right
        if isinstance(right, c.Literal) and isinstance(right.value, str):
            assert isinstance(left, c.FieldRef)
            eq = jcmp(left.name, "eq", right.value)
            ne = jand(jcmp(left.name, "ne", right.value), jcmp(left.name, "ne", MISSING_CODE))
            unknown = jcmp(left.name, "eq", MISSING_CODE)
            t, f = (eq, ne) if node.op == "eq" else (ne, eq)
            j = {"T": t, "F": f, "U": unknown, "NT": jor(f, unknown), "NF": jor(t, unknown)}[pol]
            return atom("here", j)
        op = node.op
        if op in ("gt", "ge"):
            left, right, op = right, left, {"gt": "lt", "ge": "le"}[op]
        out: Formula = FALSE
        for (ga, alo, ahi), (gb, blo, bhi) in itertools.product(self._cases(left, context),
                                                                self._cases(right, context)):  # fmt: skip
            guard = atom("here", jand(ga, gb))
            if op in ("lt", "le"):
                strict = op == "lt"
                ft = self._less(ahi, blo, strict)
                ff = self._less(bhi, alo, not strict)  # lt: F ⇔ alo ≥ bhi; le: F ⇔ alo > bhi
            else:
                both_exact = alo == ahi and blo == bhi
                if not both_exact:
                    raise CompileError("eq/ne on intervals is not compiled")
                feq = f_and(self._less(ahi, blo, False), self._less(blo, ahi, False))
                fne = f_or(self._less(ahi, blo, True), self._less(bhi, alo, True))
                ft, ff = (feq, fne) if op == "eq" else (fne, feq)
            out = f_or(out, f_and(guard, self._pick(ft, ff, pol, context)))
        return out

    def _pick(self, t: Formula, f: Formula, pol: str, context: str) -> Formula:
        if pol == "T":
            return t
        if pol == "F":
            return f
        if pol == "U":
            return f_and(self._negate(t), self._negate(f))
        return self._negate(t if pol == "NT" else f)

    def _negate(self, formula: Formula) -> Formula:
        """¬ of a formula made of atoms on the current fact or the dep fact only."""
        out: Formula = TRUE
        for conj in formula:
            alternatives: Formula = FALSE
            for a in conj:
                if a.kind == "here":
                    alternatives = f_or(alternatives, atom("here", jneg(a.j)))
                elif a.kind == "d" and dict(a.derived).get("t") == "dep":
                    alternatives = f_or(alternatives,
                                        [[Atom("d", jneg(a.j), derived=a.derived)]])
                else:
                    raise CompileError(f"cannot negate {a.kind}")
            if not conj:
                return FALSE
            out = f_and(out, alternatives)
        return out

    # conditions ---------------------------------------------------------------------------------

    def cond(self, node: c.Node, context: str, pol: str) -> Formula:
        """The formula under which ``node`` is true (T), false (F), unknown (U), not true (NT)
        or not false (NF). Composite nodes get U structurally and NT = F ∨ U, NF = T ∨ U, which
        keeps each formula close to the size of the condition."""
        composite = isinstance(node, c.FirstKnown | c.AtLeast)
        if composite and pol in ("NT", "NF"):
            other = "F" if pol == "NT" else "T"
            return self._collapse(f_or(self.cond(node, context, other),
                                       self.cond(node, context, "U")), context)  # fmt: skip
        if isinstance(node, c.All | c.AnyOf):
            is_all = isinstance(node, c.All)
            if pol == "U":  # all: every item not false, one unknown (any: dual)
                keep = "NF" if is_all else "NT"
                return self._collapse(f_and(*(self.cond(i, context, keep) for i in node.items),
                                            f_or(*(self.cond(i, context, "U")
                                                   for i in node.items))), context)  # fmt: skip
            # all: T ∧, F ∨, NT ∨, NF ∧ of the items' same polarity (any: the dual)
            conj = (is_all and pol in ("T", "NF")) or (not is_all and pol in ("F", "NT"))
            parts = [self.cond(i, context, pol) for i in node.items]
            return self._collapse(f_and(*parts) if conj else f_or(*parts), context)
        if isinstance(node, c.Not):
            return self.cond(node.item, context,
                             {"T": "F", "F": "T", "U": "U", "NT": "NF", "NF": "NT"}[pol])
        if isinstance(node, c.FirstKnown):
            prefix: Formula = TRUE
            out: Formula = FALSE
            for item in node.items:
                if pol != "U":
                    out = f_or(out, f_and(prefix, self.cond(item, context, pol)))
                prefix = f_and(prefix, self.cond(item, context, "U"))
            return self._collapse(prefix if pol == "U" else out, context)
        if isinstance(node, c.AtLeast):
            if not isinstance(node.n, c.Literal | c.ParamRef) or (
                    isinstance(node.n, c.ParamRef) and self.r.params[node.n.name][0].keyed_by):
                raise CompileError("at_least needs a constant")
            n = int(self._cases(node.n, context)[0][1])
            k = len(node.items)
            if pol == "U":
                return f_and(self._at_least(node, context, k - n + 1, "NT"),
                             self._at_least(node, context, n, "NF"))  # fmt: skip
            need, item_pol = {"T": (n, "T"), "F": (k - n + 1, "F")}[pol]
            return self._at_least(node, context, need, item_pol)
        if isinstance(node, c.Compare):
            return self._collapse(self._compare(node, context, pol), context)
        if isinstance(node, c.In):
            assert isinstance(node.item, c.FieldRef)
            if isinstance(node.collection, c.Literal):
                codes = list(node.collection.value)
            else:
                assert isinstance(node.collection, c.ParamRef)
                codes = list(self.r.params[node.collection.name][1].value)
            name = node.item.name
            if name == "class":
                return self._class_in(codes, pol)
            t = jor(*(jcmp(name, "eq", code) for code in codes))
            f = jand(jcmp(name, "ne", MISSING_CODE), *(jcmp(name, "ne", code) for code in codes))
            nt = jand(*(jcmp(name, "ne", code) for code in codes))
            unknown = jcmp(name, "eq", MISSING_CODE)
            nf = jor(unknown, t)
            return atom("here", {"T": t, "F": f, "U": unknown, "NT": nt, "NF": nf}[pol])
        if isinstance(node, c.Intersects):
            assert isinstance(node.left, c.FieldRef)
            if isinstance(node.right, c.Literal):
                codes = list(node.right.value)
            else:
                assert isinstance(node.right, c.ParamRef)
                codes = list(self.r.params[node.right.name][1].value)
            t = jor(*(jcmp(f"{node.left.name}__{code}", "eq", 1) for code in codes))
            if pol == "U":
                return FALSE
            return atom("here", t if pol in ("T", "NF") else jneg(t))
        if isinstance(node, c.FactRef):
            if context == "household":  # derived by its own rules (forward chaining)
                values = {"T": ["T"], "F": ["F"], "U": ["U"], "NT": ["F", "U"],
                          "NF": ["T", "U"]}[pol]  # fmt: skip
                return derived(values_in(values), t="hf", k=node.name)
            return self.cond(self.r.facts[node.name][1].condition, context, pol)
        if isinstance(node, c.BoolField):
            t, f = jcmp(node.name, "eq", 1), jcmp(node.name, "eq", 0)
            nt, nf = jcmp(node.name, "ne", 1), jcmp(node.name, "ne", 0)
            u = jcmp(node.name, "eq", -1)
            return atom("here", {"T": t, "F": f, "U": u, "NT": nt, "NF": nf}[pol])
        if isinstance(node, c.AnyMember | c.NoMember):
            if context != "household":
                raise CompileError("member quantifiers are for households")
            if pol == "U":
                return f_and(self.cond(node, context, "NT"), self.cond(node, context, "NF"))
            dual = {"T": "F", "F": "T", "NT": "NF", "NF": "NT"}
            exists_pol = pol if isinstance(node, c.AnyMember) else dual[pol]
            t = self._member_j(node.cond, "T")
            nf = self._member_j(node.cond, "NF")
            # any: T ⇔ ∃ T; F ⇔ ∄ ¬F; NT ⇔ ∄ T; NF ⇔ ∃ ¬F
            if exists_pol == "T":
                return [[Atom("e", t)]] if t.op != "false" else FALSE
            if exists_pol == "F":
                return [[Atom("ne", nf)]] if nf.op != "false" else TRUE
            if exists_pol == "NT":
                return [[Atom("ne", t)]] if t.op != "false" else TRUE
            return [[Atom("e", nf)]] if nf.op != "false" else FALSE
        if isinstance(node, c.IndicatorRef):
            values = {"T": ["T"], "F": ["F"], "U": ["U"], "NT": ["F", "U"], "NF": ["T", "U"]}[pol]
            return derived(values_in(values), t="i", k=node.id)
        if isinstance(node, c.StatusRef):
            if pol != "T":
                raise CompileError("statuses are read positively only")
            if context == "member":
                return derived(t="ms", k=node.id, no="$mm")
            return derived(t="s", k=node.id)
        if isinstance(node, c.OfHousehold):
            raise CompileError("'household' inside a member rule is not compiled")
        raise CompileError(f"cannot compile {type(node).__name__}")

    def _at_least(self, node: c.AtLeast, context: str, need: int, item_pol: str) -> Formula:
        k = len(node.items)
        if need <= 0:
            return TRUE
        if need > k:
            return FALSE
        parts = [self.cond(i, context, item_pol) for i in node.items]
        out = FALSE
        for combo in itertools.combinations(parts, need):
            out = f_or(out, f_and(*combo))
        return self._collapse(out, context)

    def _class_in(self, codes: list[str], pol: str) -> Formula:
        decided = list(DOMAIN_CODES["class"])
        undecided = self.r.classification.undecided
        inside = [x for x in decided if x in codes]
        outside = [x for x in decided if x not in codes]
        pick = {"T": inside, "F": outside, "U": [undecided], "NT": outside + [undecided],
                "NF": inside + [undecided]}[pol]  # fmt: skip
        return derived(jor(*(jcmp("k", "eq", x) for x in pick)), t="c")

    def _member_j(self, node: c.Node, pol: str) -> J:
        formula = self.cond(node, "member", pol)
        return self._as_j(formula)

    def _as_j(self, formula: Formula) -> J:
        ors = []
        for conj in formula:
            if any(a.kind != "here" for a in conj):
                raise CompileError("a member condition inside a quantifier must read the member "
                                   "only")  # fmt: skip
            ors.append(jand(*(a.j for a in conj)))
        return jor(*ors)

    def _collapse(self, formula: Formula, context: str) -> Formula:
        """Merge conjunctions that only read the current fact into one J atom (keeps rules few)."""
        simple = [conj for conj in formula if all(a.kind == "here" for a in conj)]
        rest = [conj for conj in formula if not all(a.kind == "here" for a in conj)]
        if len(simple) <= 1:
            return formula
        merged = jor(*(jand(*(a.j for a in conj)) for conj in simple))
        return f_or(atom("here", merged), rest)

    # rules --------------------------------------------------------------------------------------

    def compile(self) -> Compiled:
        rules: dict[str, dict[str, Any]] = {}
        actions: dict[str, tuple[str, str]] = {}

        def add(kind: str, ident: str, formula: Formula, member: bool) -> None:
            formula = [[Atom("h", a.j, a.derived) if a.kind == "here" else a for a in conj]
                       for conj in formula]  # fmt: skip
            for conj in formula:
                for patterns in self._patterns(conj, member):
                    name = f"{kind}:{ident}:{len(rules)}"
                    rules[name] = {"all": patterns}
                    actions[name] = (kind, ident)

        # Fires once per household, so that delete_state never meets a session where nothing
        # ran; and every member fact is matched by some pattern (an unmatched fact is refused).
        rules["seen"] = {"all": [{"h": {"t": "h"}}]}
        actions["seen"] = ("seen", "")
        rules["seen_member"] = {"all": [{"m": {"t": "m"}}]}
        actions["seen_member"] = ("seen", "member")
        for rule, d in self.r.indicators:
            for pol, v in (("T", "T"), ("F", "F")):
                add(f"indicator_{v}", rule.id, self.cond(d.condition, "household", pol), False)
            add("indicator_U", rule.id, self.cond(d.condition, "household", "U"), False)
        for name, (fact, fd) in self.r.facts.items():
            if fact.context == "household":
                for v in ("T", "F", "U"):
                    add(f"hfact_{v}", name, self.cond(fd.condition, "household", v), False)
        rules["dep"] = {"all": [{"h": {"t": "h"}}] + [
            {f"i{k}": {"$and": [{"t": "i"}, {"k": rule.id}]}}
            for k, (rule, _) in enumerate(self.r.indicators)]}  # fmt: skip
        actions["dep"] = ("dep", "")
        nt_all: Formula = TRUE
        for row in self.r.classification.rows:
            add("class", row.cls, self.cond(row.when, "household", "T"), False)
            nt_all = f_and(nt_all, self.cond(row.when, "household", "NT"))
        add("class", self.r.classification.undecided, nt_all, False)
        for status, sd in self.r.statuses:
            when = self.cond(sd.when, "household", "T") if sd.when is not None else TRUE
            if status.context == "member":
                assert sd.members is not None
                add("mstatus", status.id, f_and(when, self._bound(sd.members)), True)
            else:
                add("status", status.id, when, False)
        for action, ad in self.r.interventions:
            when = self.cond(ad.when, "household", "T") if ad.when is not None else TRUE
            if ad.members is not None:
                add("maction", action.id, f_and(when, self._bound(ad.members)), True)
            else:
                add("action", action.id, when, False)
        return Compiled(rules, dict(self.expressions), actions)

    def _bound(self, node: c.Node) -> Formula:
        formula = self.cond(node, "member", "T")
        return [[Atom("mm", a.j, a.derived) if a.kind == "here" else a for a in conj]
                for conj in formula]  # fmt: skip

    def _patterns(self, conj: list[Atom], member: bool) -> list[list[dict[str, Any]]]:
        """The pattern lists of one conjunction; a pattern too large for the engine is split by
        cases into several rules (or, under a negation, into several negated patterns)."""
        hh = jand(*(a.j for a in conj if a.kind == "h"))
        mm = jand(*(a.j for a in conj if a.kind == "mm"))
        slots: list[list[list[tuple[str, dict[str, Any]]]]] = []  # alternatives per slot

        def fit(name: str, kind: str, j: J) -> list[list[tuple[str, dict[str, Any]]]]:
            whole = self._fact(kind, j)
            if expression_count(whole) <= MAX_EXPRESSIONS:
                return [[(name, whole)]]
            cases = [self._fact(kind, part) for part in self._split(kind, j)]
            if name.endswith("$not"):  # ∄ (A ∨ B) = ∄ A ∧ ∄ B: one negated pattern per case
                base = name[: -len("$not")]
                return [[(f"{base}c{i}$not", p) for i, p in enumerate(cases)]]
            return [[(name, p)] for p in cases]  # ∃ (A ∨ B): one rule per case

        slots.append(fit("h", "h", hh))
        if member:
            slots.append(fit("mm", "m", mm))
        for k, a in enumerate(conj):
            if a.kind == "e":
                slots.append(fit(f"e{k}", "m", a.j))
            elif a.kind == "ne":
                slots.append(fit(f"n{k}$not", "m", a.j))
        merged: dict[tuple[tuple[str, Any], ...], J] = {}
        for a in conj:
            if a.kind == "d":
                merged[a.derived] = jand(merged.get(a.derived, JTRUE), a.j)
        for k, (identity, j) in enumerate(merged.items()):
            if j.op == "false":
                return []
            parts: list[dict[str, Any]] = []
            for key, value in identity:
                parts.append({key: {"mm": "no"}} if value == "$mm" else {key: value})
            if j.op != "true":
                parts.append(render(j))
            slots.append([[(f"d{k}", {"$and": parts})]])
        rules = []
        for choice in itertools.product(*slots):
            patterns = [{name: p} for group in choice for name, p in group]
            if len(patterns) > 16:
                raise CompileError("a rule joins more than 16 facts")
            rules.append(patterns)
        return rules

    def _split(self, kind: str, j: J) -> list[J]:
        """Disjuncts of ``j`` that each fit in one pattern: split an OR, or distribute an AND
        over its largest OR, only as far as needed."""
        if expression_count(self._fact(kind, j)) <= MAX_EXPRESSIONS:
            return [j]
        if j.op == "or":
            return [part for item in j.items for part in self._split(kind, item)]
        if j.op == "and":
            ors = [i for i in j.items if i.op == "or"]
            if ors:
                widest = max(ors, key=lambda i: expression_count(render(i)))
                rest = [i for i in j.items if i is not widest]
                out = []
                for alt in widest.items:
                    out.extend(self._split(kind, jand(*rest, alt)))
                return out
        raise CompileError(f"a condition on one fact needs more than {MAX_EXPRESSIONS} "
                           "expressions and cannot be split")  # fmt: skip

    @staticmethod
    def _fact(kind: str, j: J) -> dict[str, Any]:
        if j.op == "false":
            raise CompileError("a rule that can never fire")
        if j.op == "true":
            return {"t": kind}
        return {"$and": [{"t": kind}, render(j)]}


# -- facts ------------------------------------------------------------------------------------


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


def household_facts(hh: Household, compiled: Compiled, ref: Reference,
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


# -- evaluation -------------------------------------------------------------------------------


@dataclass
class DurableOutcome:
    indicators: dict[str, str]  # T | F | U
    deprivation: tuple[int, int]
    cls: str
    statuses: set[str]
    member_statuses: dict[str, set[int]]
    actions: set[str]
    action_members: dict[str, set[int]]
    firings: list[tuple[str, list[dict[str, Any]]]]  # rule name, matched facts (in order)


class DurableEvaluator:
    """Evaluates households one by one on a durable_rules host built from the rulebook."""

    _counter = itertools.count()

    def __init__(self, resolved: Resolved) -> None:
        self.r = resolved
        self.ref = Reference(resolved)
        self.compiled = Compiler(resolved).compile()
        self.name = f"{RULESET}_{next(self._counter)}"
        self._session: _Session | None = None
        definition: dict[str, Any] = {}
        for rule_name, rule in self.compiled.rules.items():
            definition[rule_name] = {**json.loads(json.dumps(rule)),
                                     "run": self._runner(rule_name)}  # fmt: skip
        self.host = QuietHost({self.name: definition})
        self._sid = itertools.count()

    def _runner(self, rule_name: str) -> Callable[[Any], None]:
        kind, ident = self.compiled.actions[rule_name]

        def run(closure: Any) -> None:
            session = self._session
            if session is None:  # pragma: no cover - only inside evaluate()
                return
            try:
                session.fire(closure, rule_name, kind, ident, self)
            except BaseException as exc:  # surfaced after the session
                session.errors.append(exc)

        return run

    def evaluate(self, hh: Household) -> DurableOutcome:
        sid = str(next(self._sid))
        facts = household_facts(hh, self.compiled, self.ref, self.r.as_of)
        for fact in facts:
            fact["sid"] = sid
        self._session = session = _Session(sid)
        try:
            result = self.host.assert_facts(self.name, facts)
            if isinstance(result, dict) and "exception" in result:
                raise DurableError(f"durable_rules: {result['exception'][:500]}")
            if session.errors:
                raise DurableError(f"an action failed: {session.errors[0]!r}") from session.errors[0]
            if "seen" not in {f[0] for f in session.firings}:
                raise DurableError("the always-firing rule did not fire")
        finally:
            self._session = None
            if session.firings:  # delete_state on a session where nothing ran crashes
                self.host.delete_state(self.name, sid)
        return session.outcome(self.r, len(hh.members))


@dataclass
class _Session:
    sid: str
    asserted: set[str] = field(default_factory=set)
    firings: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    indicators: dict[str, str] = field(default_factory=dict)
    deprivation: tuple[int, int] | None = None
    classes: list[str] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    member_statuses: dict[str, set[int]] = field(default_factory=dict)
    actions: set[str] = field(default_factory=set)
    action_members: dict[str, set[int]] = field(default_factory=dict)

    def _assert(self, closure: Any, fact: dict[str, Any]) -> None:
        key = json.dumps(fact, sort_keys=True)
        if key in self.asserted:
            return
        self.asserted.add(key)
        # No rule may read this derived fact (e.g. the class 'incomplete'): nothing to do then.
        with contextlib.suppress(durable_engine.MessageNotHandledException):
            closure.assert_fact(fact)

    def fire(self, closure: Any, rule_name: str, kind: str, ident: str,
             ev: DurableEvaluator) -> None:  # fmt: skip
        matched = [dict(v) for _, v in _matches(closure)]
        self.firings.append((rule_name, matched))
        if kind.startswith("indicator_"):
            value = kind[-1]
            previous = self.indicators.setdefault(ident, value)
            if previous != value:
                raise DurableError(f"indicator {ident} derived both {previous} and {value}")
            self._assert(closure, {"t": "i", "k": ident, "v": value})
        elif kind.startswith("hfact_"):
            self._assert(closure, {"t": "hf", "k": ident, "v": kind[-1]})
        elif kind == "dep":
            values = list(self.indicators.values())
            lo = sum(v == "T" for v in values)
            hi = len(values) - sum(v == "F" for v in values)
            self.deprivation = (lo, hi)
            self._assert(closure, {"t": "dep", "lo": lo, "hi": hi})
        elif kind == "class":
            if ident not in self.classes:
                self.classes.append(ident)
            self._assert(closure, {"t": "c", "k": ident})
        elif kind == "status":
            self.statuses.add(ident)
            self._assert(closure, {"t": "s", "k": ident})
        elif kind == "mstatus":
            no = int(closure.mm["no"])
            self.member_statuses.setdefault(ident, set()).add(no)
            self._assert(closure, {"t": "ms", "k": ident, "no": no})
        elif kind == "action":
            self.actions.add(ident)
        elif kind == "maction":
            self.actions.add(ident)
            self.action_members.setdefault(ident, set()).add(int(closure.mm["no"]))

    def outcome(self, r: Resolved, n_members: int) -> DurableOutcome:
        if len(self.classes) != 1:
            raise DurableError(f"expected exactly one class, got {self.classes}")
        missing = [rule.id for rule, _ in r.indicators if rule.id not in self.indicators]
        if missing:
            raise DurableError(f"no result for indicators {missing}")
        assert self.deprivation is not None
        return DurableOutcome(dict(self.indicators), self.deprivation, self.classes[0],
                              set(self.statuses), dict(self.member_statuses), set(self.actions),
                              dict(self.action_members), list(self.firings))  # fmt: skip


def _matches(closure: Any) -> Iterator[tuple[str, Any]]:
    m = getattr(closure, "_m", None)
    if isinstance(m, dict):
        yield from sorted(m.items())


# -- batches in worker processes --------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _worker_evaluate(chunk: list[tuple[int, Household]]) -> list[tuple[int, DurableOutcome]]:
    evaluator = _WORKER.get("evaluator")
    if evaluator is None:
        evaluator = _WORKER["evaluator"] = DurableEvaluator(_WORKER["resolved"])
    out = []
    for position, hh in chunk:
        outcome = evaluator.evaluate(hh)
        if not _WORKER.get("keep_firings"):
            outcome.firings = []
        out.append((position, outcome))
    return out


def evaluate_households(resolved: Resolved, households: list[tuple[int, Household]],
                        processes: int = 1, keep_firings: bool = False,
                        chunk: int = 200) -> dict[int, DurableOutcome]:  # fmt: skip
    """Evaluate (position, household) pairs on durable_rules, in ``processes`` worker processes
    (the engine holds the GIL), each with its own host; sessions are deleted as they finish, so
    memory stays flat whatever the batch size."""
    _WORKER.clear()
    _WORKER.update(resolved=resolved, keep_firings=keep_firings)
    chunks = [households[i : i + chunk] for i in range(0, len(households), chunk)]
    if processes <= 1 or len(chunks) <= 1:
        return {p: o for part in chunks for p, o in _worker_evaluate(part)}
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(processes) as pool:
        parts = pool.map(_worker_evaluate, chunks, chunksize=1)
    _WORKER.clear()
    return {p: o for part in parts for p, o in part}
