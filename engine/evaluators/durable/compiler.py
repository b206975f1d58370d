"""The compiler of a resolved rulebook to durable_rules rulesets (pure Python: it builds the
ruleset as data; only ``runtime`` hands it to ``durable``). Three-valued logic is compiled, not
emulated: each condition becomes two-valued formulas for true, false and their negations over
the facts, so every indicator gets three mutually exclusive rules (T, F, U)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from engine.evaluators.durable.formulas import (
    FALSE,
    JTRUE,
    MAX_EXPRESSIONS,
    MISSING_CODE,
    TRUE,
    Atom,
    CompileError,
    Formula,
    J,
    atom,
    derived,
    expression_count,
    f_and,
    f_or,
    jand,
    jcmp,
    jneg,
    jor,
    number,
    render,
    values_in,
)
from engine.rulebook import Resolved
from engine.rulebook import conditions as c
from household_models.schema import DOMAIN_CODES


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
