"""Static checks of the rulebook: the type checker of conditions (fields the household models
have, parameter and fact references, contexts, phases), cycles between facts, and the checks on
one evaluation date (every reference resolvable, every placeholder fillable)."""

from __future__ import annotations

from engine.errors import Text, say, suggest
from engine.loader.problems import Collector
from engine.rulebook import ActionDef, Intervention, Parameter, Resolved, Rule, Status
from engine.rulebook import conditions as c
from engine.text import placeholders
from household_models.schema import DERIVED_FIELDS, DOMAIN_CODES, FIELD_SPECS, POST_CLASS_FIELDS


class Checker:
    def __init__(self, ctx: Collector, params: dict[str, Parameter], facts: dict[str, Rule],
                 indicators: tuple[Rule, ...] = (), statuses: tuple[Status, ...] = ()) -> None:  # fmt: skip
        self.ctx = ctx
        self.params = params
        self.facts = facts
        self.indicators = {r.id: r for r in indicators}
        self.statuses = {s.id: s for s in statuses}

    def field_type(self, name: str, context: str, file: str, line: int, phase: str = "") -> str:
        if context == "household" and phase in ("status", "action") and name in POST_CLASS_FIELDS:
            return POST_CLASS_FIELDS[name]
        spec = FIELD_SPECS[context].get(name)
        if spec is not None:
            if spec.kind in ("int", "number"):
                return "number"
            if spec.kind in ("code", "codes"):
                return f"{spec.kind}:{spec.domain}"
            return spec.kind
        if name in DERIVED_FIELDS[context]:
            return DERIVED_FIELDS[context][name]
        options = list(FIELD_SPECS[context]) + list(DERIVED_FIELDS[context])
        other = "member" if context == "household" else "household"
        hint = suggest(name, options, fallback=say("no_field.see"))
        if name in FIELD_SPECS[other]:
            where = say("inside_quantifier" if other == "member" else "inside_household_rule")
            hint = say("field_of_other", name=name, other=say(f"what.{other}"), where=where)
        self.ctx.add(file, line, say("no_field", context=say(f"what.{context}"), name=name), hint)
        return "?"

    def expr(self, node: c.Node, context: str, file: str, line: int, phase: str) -> str:
        if isinstance(node, c.FieldRef):
            return self.field_type(node.name, context, file, line, phase)
        if isinstance(node, c.Literal):
            v = node.value
            return "list" if isinstance(v, tuple) else "text" if isinstance(v, str) else "number"
        if isinstance(node, c.ParamRef):
            p = self.params.get(node.name)
            if p is None:
                self.ctx.add(file, line, say("unknown_parameter", name=node.name),
                             suggest(node.name, list(self.params),
                                     fallback=say("unknown_parameter.fix")))  # fmt: skip
                return "?"
            if p.keyed_by:
                if node.by is None:
                    self.ctx.add(file, line, say("keyed_parameter", name=p.name, field=p.keyed_by),
                                 say("keyed_parameter.fix", name=p.name, field=p.keyed_by))  # fmt: skip
                else:
                    t = self.expr(node.by, context, file, line, phase)
                    if t not in ("?", f"code:{p.keyed_by}"):
                        self.ctx.add(file, line, say("by_field", name=p.name, field=p.keyed_by))
            elif node.by is not None:
                self.ctx.add(file, line, say("not_keyed", name=p.name))
            return f"codes:{p.codes_of}" if p.type == "codes" else "number"
        if isinstance(node, c.CountMembers | c.ShareMembers):
            if context != "household":
                self.ctx.add(file, line, say("quantifier_household"))
            self.cond(node.cond, "member", file, line, phase)
            return "number"
        if isinstance(node, c.Arith):
            for side in (node.left, node.right):
                t = self.expr(side, context, file, line, phase)
                if t not in ("number", "?"):
                    self.ctx.add(file, line, say("needs_numbers", op=node.op, type=t))
            return "number"
        if isinstance(node, c.DeprivationCount):
            if phase != "class":
                self.ctx.add(file, line, say("deprivation_count_table"))
            return "number"
        if isinstance(node, c.MonthsSince):
            if self.field_type(node.field, context, file, line, phase) not in ("date", "?"):
                self.ctx.add(file, line, say("months_since_date", field=node.field))
            return "number"
        if isinstance(node, c.IfThen):
            self.cond(node.cond, context, file, line, phase)
            for side in (node.then, node.orelse):
                if self.expr(side, context, file, line, phase) not in ("number", "?"):
                    self.ctx.add(file, line, say("then_else_numbers"))
            return "number"
        raise AssertionError(node)  # pragma: no cover

    def cond(self, node: c.Node, context: str, file: str, line: int, phase: str) -> None:
        if isinstance(node, c.All | c.AnyOf | c.FirstKnown):
            for item in node.items:
                self.cond(item, context, file, line, phase)
        elif isinstance(node, c.Not):
            self.cond(node.item, context, file, line, phase)
        elif isinstance(node, c.AtLeast):
            if self.expr(node.n, context, file, line, phase) not in ("number", "?"):
                self.ctx.add(file, line, say("at_least_number"))
            for item in node.items:
                self.cond(item, context, file, line, phase)
        elif isinstance(node, c.Compare):
            a = self.expr(node.left, context, file, line, phase)
            b = self.expr(node.right, context, file, line, phase)
            if "?" in (a, b):
                return
            if node.op in ("eq", "ne") and a.startswith("code:") and b == "text":
                self._literal_codes(node.right, a, file, line)
            elif a != "number" or b != "number":
                self.ctx.add(file, line, say("compare_types", op=node.op, a=a, b=b))
        elif isinstance(node, c.In):
            a = self.expr(node.item, context, file, line, phase)
            b = self.expr(node.collection, context, file, line, phase)
            if "?" in (a, b):
                return
            if not a.startswith("code:"):
                self.ctx.add(file, line, say("in_needs_code", type=a))
            elif b == "list":
                self._literal_codes(node.collection, a, file, line)
            elif b != "codes:" + a.split(":", 1)[1]:
                self.ctx.add(file, line, say("in_compares", a=a, b=b), say("in_compares.fix"))
        elif isinstance(node, c.Intersects):
            a = self.expr(node.left, context, file, line, phase)
            b = self.expr(node.right, context, file, line, phase)
            if "?" not in (a, b) and (not a.startswith("codes:") or b not in (a, "list")):
                self.ctx.add(file, line, say("intersects_types", a=a, b=b))
        elif isinstance(node, c.FactRef):
            fact = self.facts.get(node.name)
            if fact is None:
                self.ctx.add(file, line, say("unknown_fact", name=node.name),
                             suggest(node.name, list(self.facts), fallback=say("unknown_fact.fix")))  # fmt: skip
            elif fact.context != context:
                self.ctx.add(file, line, say("fact_context", name=node.name,
                                             fact_context=say(f"what.{fact.context}"),
                                             context=say(f"what.{context}")))  # fmt: skip
        elif isinstance(node, c.BoolField):
            t = self.field_type(node.name, context, file, line, phase)
            if t not in ("bool", "?"):
                self.ctx.add(file, line, say("not_yes_no", name=node.name, type=t),
                             say("not_yes_no.fix", name=node.name))  # fmt: skip
        elif isinstance(node, c.AnyMember | c.NoMember):
            if context != "household":
                self.ctx.add(file, line, say("member_quantifier_household"))
            self.cond(node.cond, "member", file, line, phase)
        elif isinstance(node, c.OfHousehold):
            if context != "member":
                self.ctx.add(file, line, say("household_in_member"))
            self.cond(node.cond, "household", file, line, phase)
        elif isinstance(node, c.IndicatorRef):
            if phase not in ("status", "action"):
                self.ctx.add(file, line, say("indicator_read_by"), say("indicator_read_by.fix"))
            elif node.id not in self.indicators:
                self.ctx.add(file, line, say("unknown_indicator", id=node.id),
                             suggest(node.id, list(self.indicators)))  # fmt: skip
            elif context != "household":
                self.ctx.add(file, line, say("indicator_in_when"))
        elif isinstance(node, c.StatusRef):
            status = self.statuses.get(node.id)
            if phase != "action":
                self.ctx.add(file, line, say("status_read_by"))
            elif status is None:
                self.ctx.add(file, line, say("unknown_status", id=node.id),
                             suggest(node.id, list(self.statuses),
                                     fallback=say("unknown_status.fix")))  # fmt: skip
            elif status.context != context:
                self.ctx.add(file, line, say("status_context", id=node.id,
                                             status_context=say(f"what.{status.context}"),
                                             context=say(f"what.{context}")),
                             say("status_context.fix"))  # fmt: skip
        else:
            self.ctx.add(file, line, say("expression_not_condition", node=type(node).__name__),
                         say("expression_not_condition.fix"))  # fmt: skip

    def _literal_codes(self, node: c.Node, ctype: str, file: str, line: int) -> None:
        domain = ctype.split(":", 1)[1]
        codes = DOMAIN_CODES[domain]
        values = node.value if isinstance(node, c.Literal) else ()
        for v in values if isinstance(values, tuple) else (values,):
            if v not in codes:
                self.ctx.add(file, line, say("not_a_code", value=v, domain=domain),
                             suggest(str(v), list(codes)))  # fmt: skip


def fact_dependencies(node: c.Node) -> set[str]:
    return {n.name for n in c.walk(node) if isinstance(n, c.FactRef)}


def check_cycles(ctx: Collector, facts: dict[str, Rule]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in facts:
            return
        if state.get(name) == 1:
            cycle = " → ".join(path[path.index(name) :] + [name])
            ctx.add(facts[name].file, facts[name].line, say("facts_cycle", cycle=cycle))
            return
        state[name] = 1
        for d in facts[name].definitions:
            for dep in sorted(fact_dependencies(d.condition)):
                visit(dep, [*path, name])
        state[name] = 2

    for name in sorted(facts):
        visit(name, [])



def check_resolvable(ctx: Collector, r: Resolved) -> None:
    def check(node: c.Node, file: str, line: int, what: str | Text) -> None:
        for n in c.walk(node):
            if isinstance(n, c.ParamRef) and n.name not in r.params:
                ctx.add(file, line, say("param_no_value", what=what, name=n.name, when=r.as_of),
                        say("param_no_value.fix"))  # fmt: skip
            if isinstance(n, c.FactRef) and n.name not in r.facts:
                ctx.add(file, line, say("fact_no_definition", what=what, name=n.name, when=r.as_of),
                        say("fact_no_definition.fix"))  # fmt: skip

    for rule, d in (*r.facts.values(), *r.indicators):
        check(d.condition, rule.file, d.citation.line, rule.id)
    for row in r.classification.rows:
        check(row.when, r.classification.file, row.citation.line,
              say("what.class_row", id=row.cls))  # fmt: skip
    in_force = {rule.id for rule, _ in r.indicators}
    status_ids = {s.id for s, _ in r.statuses}
    post: list[tuple[Status | Intervention, ActionDef]] = [*r.statuses, *r.interventions]
    for post_rule, ad in post:
        nodes = [n for n in (ad.when, ad.members, ad.priority) if n is not None]
        if isinstance(post_rule, Intervention) and post_rule.amount is not None:
            nodes.append(post_rule.amount.value)
        for node in nodes:
            check(node, post_rule.file, ad.citation.line, post_rule.id)
            for n in c.walk(node):
                if isinstance(n, c.IndicatorRef) and n.id not in in_force:
                    ctx.add(post_rule.file, ad.citation.line,
                            say("indicator_not_in_force", what=post_rule.id, id=n.id, when=r.as_of),
                            say("indicator_not_in_force.fix"))  # fmt: skip
                if isinstance(n, c.StatusRef) and n.id not in status_ids:
                    ctx.add(post_rule.file, ad.citation.line,
                            say("status_no_definition", what=post_rule.id, id=n.id, when=r.as_of))
        if isinstance(post_rule, Intervention):
            texts = (*post_rule.action.values(), *post_rule.target.values())
            for name in {name for t in texts for name, _ in placeholders(t)}:
                if name not in r.params:
                    ctx.add(post_rule.file, post_rule.line,
                            say("text_param_no_value", what=post_rule.id, name=name, when=r.as_of))
            for code in (post_rule.lead, *post_rule.partners):
                dep = r.departments.get(code)
                if dep is not None and not any(n.start <= r.as_of for n in dep.names):
                    ctx.add(dep.file, dep.line, say("department_no_name", code=code, when=r.as_of))
    if not r.indicators:
        ctx.add(r.classification.file, 0, say("no_indicator", when=r.as_of))



def check_placeholders(ctx: Collector, file: str, line: int, what: str | Text, text: str,
                       params: dict[str, Parameter], household_key: bool) -> None:  # fmt: skip
    """Every ``{param:NAME}`` / ``{param:NAME.KEY}`` of a text names a parameter, and a keyed
    one is filled: by its KEY, or (``household_key``, texts built per household such as the
    reasons) by the household's code for the parameter's key field."""
    for name, key in placeholders(text):
        param = params.get(name)
        if param is None:
            ctx.add(file, line, say("text_unknown_param", what=what, name=name),
                    suggest(name, list(params)))  # fmt: skip
            continue
        if key is not None and not param.keyed_by:
            ctx.add(file, line, say("text_param_unkeyed", what=what, name=name),
                    say("text_param_unkeyed.fix", name=name))  # fmt: skip
        elif key is not None and key not in DOMAIN_CODES[param.keyed_by]:
            ctx.add(file, line, say("text_param_key", what=what, key=key, field=param.keyed_by,
                                    name=name),
                    suggest(key, DOMAIN_CODES[param.keyed_by]))  # fmt: skip
        elif key is None and param.keyed_by and not household_key:
            first = DOMAIN_CODES[param.keyed_by][0]
            ctx.add(file, line, say("text_param_needs_key", what=what, name=name,
                                    field=param.keyed_by),
                    say("text_param_needs_key.fix", name=name, first=first))  # fmt: skip
