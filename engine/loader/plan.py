"""Reading the plan files of ``rules/``: statuses, departments with their dated names, and
interventions (one file per action), each with dated definitions."""

from __future__ import annotations

from typing import Any

from engine.errors import say, suggest
from engine.loader.problems import (
    CITATION_KEYS,
    Collector,
    bilingual,
    check_no_overlap,
    citation,
    date_of,
)
from engine.loader.yamlio import YDict
from engine.rulebook import (
    AMOUNT_KINDS,
    AMOUNT_PERIODS,
    ActionDef,
    Amount,
    Department,
    DepartmentName,
    Intervention,
    Status,
)
from engine.rulebook import conditions as c


def _action_defs(ctx: Collector, data: YDict, file: str, rid: str, sources: dict[str, Any],
                 members: str) -> tuple[ActionDef, ...]:  # fmt: skip
    """Dated definitions; ``members`` is 'required', 'optional' or 'forbidden'."""
    out: list[ActionDef] = []
    previous: tuple[c.Node | None, c.Node | None, c.Node | None] = (None, None, None)
    optional = ("to", "when", "members", "priority", *CITATION_KEYS[1:])
    for item in data["definitions"]:
        if not ctx.keys(item, file, ("from", "source"), optional, say("what.definition_of", id=rid)):
            continue
        start = date_of(ctx, item, "from", file, item.line_of("from"))
        end = date_of(ctx, item, "to", file, item.line_of("to")) if "to" in item else None
        parsed: list[c.Node | None] = list(previous)
        inherit = not any(k in item for k in ("when", "members", "priority"))
        for i, key in enumerate(("when", "members", "priority")):
            if key in item:
                try:
                    parsed[i] = c.parse_condition(item[key], item.line_of(key))
                except c.SyntaxProblem as exc:
                    ctx.add(file, exc.line, exc.message, exc.suggestion)
                    parsed[i] = None
            elif not inherit:
                parsed[i] = None
        when, who, priority = parsed
        if when is None and who is None:
            ctx.add(file, item.line, say("needs_when_or_members", rid=rid))
            continue
        if members == "required" and who is None:
            ctx.add(file, item.line, say("needs_members", rid=rid))
        if members == "forbidden" and who is not None:
            ctx.add(file, item.line_of("members"), say("no_members_here", rid=rid),
                    say("no_members_here.fix"))  # fmt: skip
        if priority is not None and who is None:
            ctx.add(file, item.line_of("priority"), say("priority_needs_members"))
        if start and end and end < start:
            ctx.add(file, item.line_of("to"), say("to_before_from", end=end, start=start))
        if start:
            out.append(ActionDef(start, end, when, who, priority,
                                 citation(ctx, item, file, sources)))  # fmt: skip
        previous = (when, who, priority)
    out.sort(key=lambda d: d.start)
    check_no_overlap(ctx, file, rid, out)
    return tuple(out)


def load_statuses(ctx: Collector, sources: dict[str, Any]) -> tuple[Status, ...]:
    out: list[Status] = []
    for path in sorted((ctx.root / "statuses").glob("*.yaml")):
        file = ctx.rel(path)
        data = ctx.read(path)
        if not ctx.keys(data, file, ("id", "context", "label", "definitions"), ("description",),
                        say("what.status")):  # fmt: skip
            continue
        sid = str(data["id"])
        if sid != path.stem:
            ctx.add(file, data.line_of("id"), say("id_not_file_name", id=sid),
                    say("id_not_file_name.fix", expected=path.stem))  # fmt: skip
        context = str(data["context"])
        if context not in ("household", "member"):
            ctx.add(file, data.line_of("context"), say("context_household_member", context=context))
        defs = _action_defs(ctx, data, file, sid, sources,
                            "required" if context == "member" else "forbidden")  # fmt: skip
        out.append(Status(sid, context, bilingual(ctx, data["label"], file, "label"),
                          bilingual(ctx, data["description"], file, "description")
                          if "description" in data else {"vi": "", "en": ""},
                          defs, file, data.line))  # fmt: skip
    return tuple(out)


def load_departments(
    ctx: Collector, sources: dict[str, Any]
) -> tuple[dict[str, Department], dict[str, dict[str, str]]]:
    path = ctx.root / "departments.yaml"
    file = ctx.rel(path)
    data = ctx.read(path)
    if not ctx.keys(data, file, ("functions", "departments"), (), "departments.yaml"):
        return {}, {}
    functions = {k: bilingual(ctx, v, file, say("what.function", id=k)) for k, v in data["functions"].items()}
    out: dict[str, Department] = {}
    for code, entry in data["departments"].items():
        line = data["departments"].line_of(code)
        if not ctx.keys(entry, file, ("plan_name", "names"), (), say("what.department", id=code)):
            continue
        names: list[DepartmentName] = []
        for item in entry["names"]:
            if not ctx.keys(item, file, ("from", "name", "source"),
                            ("by_function", *CITATION_KEYS[1:]),
                            say("what.name_of", id=code)):  # fmt: skip
                continue
            start = date_of(ctx, item, "from", file, item.line_of("from"))
            by_function: dict[str, dict[str, str]] = {}
            for fn, label in (item.get("by_function") or {}).items():
                if fn not in functions:
                    ctx.add(file, item["by_function"].line_of(fn), say("unknown_function", function=fn),
                            suggest(fn, list(functions), fallback=say("unknown_function.fix")))  # fmt: skip
                by_function[str(fn)] = bilingual(ctx, label, file,
                                                 say("what.name_for", id=code, function=fn))
            if start:
                names.append(DepartmentName(start, bilingual(ctx, item["name"], file, "name"),
                                            by_function, citation(ctx, item, file, sources)))  # fmt: skip
        names.sort(key=lambda n: n.start)
        out[str(code)] = Department(str(code), bilingual(ctx, entry["plan_name"], file, "plan_name"),
                                    tuple(names), file, line)  # fmt: skip
    return out, functions


def load_interventions(ctx: Collector, sources: dict[str, Any], departments: dict[str, Department],
                        functions: dict[str, dict[str, str]]) -> tuple[Intervention, ...]:  # fmt: skip
    out: list[Intervention] = []
    required = ("id", "label", "action", "target", "lead", "plan_section", "definitions")
    optional = ("partners", "function", "addresses", "amount", "kind")
    for path in sorted((ctx.root / "interventions").glob("*/*.yaml")):
        file = ctx.rel(path)
        data = ctx.read(path)
        if not ctx.keys(data, file, required, optional, say("what.intervention")):
            continue
        aid = str(data["id"])
        expected = f"{path.parent.name}.{path.stem}"
        if aid != expected:
            ctx.add(file, data.line_of("id"), say("id_not_file_name", id=aid),
                    say("id_not_file_name.fix", expected=expected))  # fmt: skip
        lead = str(data["lead"])
        partners = tuple(str(p) for p in data.get("partners") or ())
        for code, key in [(lead, "lead"), *((p, "partners") for p in partners)]:
            if code not in departments:
                ctx.add(file, data.line_of(key), say("unknown_department", code=code),
                        suggest(code, list(departments), fallback=say("unknown_department.fix")))  # fmt: skip
        function = str(data.get("function", ""))
        if function and function not in functions:
            ctx.add(file, data.line_of("function"), say("unknown_function", function=function),
                    suggest(function, list(functions)))  # fmt: skip
        amount: Amount | None = None
        a = data.get("amount")
        if a is not None and ctx.keys(a, file, ("value", "per", "period", "kind", "label"), (),
                                      say("what.amount_of", id=aid)):  # fmt: skip
            valid = True
            for key, allowed in (("per", ("household", "member")), ("period", AMOUNT_PERIODS),
                                 ("kind", AMOUNT_KINDS)):  # fmt: skip
                if a[key] not in allowed:
                    ctx.add(file, a.line_of(key), say("amount_not_allowed", key=key, value=a[key]),
                            say("use_one_of", options=", ".join(allowed)))  # fmt: skip
                    valid = False
            try:
                value = c.parse_expression(a["value"], a.line_of("value"))
                amount = None if not valid else Amount(value, str(a["per"]), str(a["period"]), str(a["kind"]),
                                bilingual(ctx, a["label"], file, say("what.amount_label")))  # fmt: skip
            except c.SyntaxProblem as exc:
                ctx.add(file, exc.line, exc.message, exc.suggestion)
        kind = str(data.get("kind", amount.kind if amount is not None else ""))
        if kind and kind not in AMOUNT_KINDS:
            ctx.add(file, data.line_of("kind"), say("amount_not_allowed", key="kind", value=kind),
                    say("use_one_of", options=", ".join(AMOUNT_KINDS)))  # fmt: skip
        elif amount is not None and kind != amount.kind:
            ctx.add(file, data.line_of("kind"), say("kind_differs", kind=kind, amount=amount.kind))
        defs = _action_defs(ctx, data, file, aid, sources, "optional")
        if amount is not None and amount.per == "member" and any(d.members is None for d in defs):
            ctx.add(file, data.line_of("amount"), say("amount_per_member"))
        out.append(Intervention(
            aid, path.parent.name, bilingual(ctx, data["label"], file, "label"),
            bilingual(ctx, data["action"], file, "action"), bilingual(ctx, data["target"], file, "target"),
            lead, partners, function, str(data["plan_section"]),
            tuple(str(x) for x in data.get("addresses") or ()), amount, defs, file, data.line, kind,
        ))  # fmt: skip
    return tuple(out)

