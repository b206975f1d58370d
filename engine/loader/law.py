"""Reading the law files of ``rules/``: sources, versions, parameters, derived facts and
indicators (one file each), and the classification table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import say, suggest
from engine.loader.problems import (
    CITATION_KEYS,
    Collector,
    bilingual,
    check_no_overlap,
    check_scalar,
    citation,
    date_of,
    freeze,
)
from engine.rulebook import (
    Classification,
    ClassRow,
    Definition,
    Parameter,
    ParamValue,
    Rule,
    Version,
)
from engine.rulebook import conditions as c
from household_models.schema import DOMAIN_FIELDS


def load_sources(ctx: Collector) -> dict[str, dict[str, Any]]:
    path = ctx.root / "sources.yaml"
    file = ctx.rel(path)
    data = ctx.read(path)
    out: dict[str, dict[str, Any]] = {}
    if not ctx.keys(data, file, ("sources",), (), "sources.yaml"):
        return out
    for sid, entry in data["sources"].items():
        if ctx.keys(
            entry, file, ("title",), ("issued", "in_force", "url", "note"),
            say("what.source", id=sid)
        ):
            out[sid] = {"title": bilingual(ctx, entry["title"], file,
                                                 say("what.title", id=sid)),
                        **{k: v for k, v in entry.items() if k != "title"}}  # fmt: skip
    return out


def load_versions(ctx: Collector, sources: dict[str, Any]) -> tuple[Version, ...]:
    path = ctx.root / "versions.yaml"
    file = ctx.rel(path)
    data = ctx.read(path)
    out: list[Version] = []
    if not ctx.keys(data, file, ("versions",), (), "versions.yaml"):
        return ()
    for entry in data["versions"]:
        if not ctx.keys(entry, file, ("id", "label", "from", "to", "source"),
                        ("clause", "provisional", "note"), say("what.version")):  # fmt: skip
            continue
        start = date_of(ctx, entry, "from", file, entry.line_of("from"))
        end = date_of(ctx, entry, "to", file, entry.line_of("to"))
        if start and end:
            out.append(Version(str(entry["id"]), bilingual(ctx, entry["label"], file, "label"),
                               start, end, citation(ctx, entry, file, sources)))  # fmt: skip
    out.sort(key=lambda v: v.start)
    for a, b in zip(out, out[1:], strict=False):
        if b.start <= a.end:
            ctx.add(file, 0, say("versions_overlap", a=a.id, b=b.id, start=b.start, end=a.end),
                    say("versions_overlap.fix"))  # fmt: skip
    return tuple(out)


def load_params(ctx: Collector, sources: dict[str, Any]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for path in sorted((ctx.root / "parameters").glob("*.yaml")):
        file = ctx.rel(path)
        data = ctx.read(path)
        if not ctx.keys(data, file, ("parameters",), (), say("what.parameters_file")):
            continue
        for name, entry in data["parameters"].items():
            line = data["parameters"].line_of(name)
            if name in out:
                ctx.add(file, line, say("parameter_twice", name=name, file=out[name].file))
                continue
            if not ctx.keys(entry, file, ("label", "type", "values"),
                            ("unit", "keyed_by", "codes_of", "note"),
                            say("what.parameter", name=name)):  # fmt: skip
                continue
            ptype = str(entry["type"])
            if ptype not in ("integer", "number", "codes"):
                ctx.add(file, entry.line_of("type"), say("unknown_parameter_type", type=ptype),
                        say("unknown_parameter_type.fix"))  # fmt: skip
            keyed_by = str(entry.get("keyed_by", ""))
            codes_of = str(entry.get("codes_of", ""))
            domains = DOMAIN_FIELDS
            if keyed_by and keyed_by not in domains:
                ctx.add(file, entry.line_of("keyed_by"), say("keyed_by_not_code", field=keyed_by),
                        suggest(keyed_by, list(domains)))  # fmt: skip
            if ptype == "codes" and codes_of not in domains:
                ctx.add(file, entry.line_of("codes_of") if "codes_of" in entry else entry.line,
                        say("codes_needs_codes_of", name=name),
                        suggest(codes_of, list(domains)))  # fmt: skip
            values: list[ParamValue] = []
            for item in entry["values"]:
                if not ctx.keys(item, file, ("from", "value", "source"),
                                ("clause", "provisional", "note"),
                                say("what.value_of", name=name)):  # fmt: skip
                    continue
                start = date_of(ctx, item, "from", file, item.line_of("from"))
                value = item["value"]
                vline = item.line_of("value")
                expected_keys = domains[keyed_by].codes if keyed_by in domains else ()
                scalars = list(value.values()) if keyed_by and isinstance(value, dict) else [value]
                if keyed_by and (not isinstance(value, dict) or tuple(value) != expected_keys):
                    ctx.add(file, vline, say("keyed_value", name=name, field=keyed_by),
                            say("keyed_value.fix", keys=", ".join(expected_keys)))  # fmt: skip
                for s in scalars:
                    check_scalar(ctx, file, vline, name, ptype, s,
                                  domains[codes_of].codes if codes_of in domains else ())  # fmt: skip
                if start:
                    values.append(
                        ParamValue(start, freeze(value), citation(ctx, item, file, sources))
                    )
            values.sort(key=lambda v: v.start)
            for a, b in zip(values, values[1:], strict=False):
                if a.start == b.start:
                    ctx.add(file, b.citation.line, say("two_values_same_day", name=name,
                                                       start=a.start),
                            say("two_values_same_day.fix"))  # fmt: skip
            out[name] = Parameter(name, bilingual(ctx, entry["label"], file, "label"),
                                  str(entry.get("unit", "")), ptype, keyed_by, codes_of,
                                  tuple(values), file, line)  # fmt: skip
    return out



def load_rule_file(ctx: Collector, path: Path, kind: str, sources: dict[str, Any]) -> Rule | None:
    file = ctx.rel(path)
    data = ctx.read(path)
    cond_key = "deprived_when" if kind == "indicator" else "condition"
    if kind == "indicator":
        ok = ctx.keys(data, file, ("id", "dimension", "label", "definitions"), ("description",),
                      say("what.indicator"))  # fmt: skip
        expected = f"{path.parent.name}.{path.stem}"
    else:
        ok = ctx.keys(data, file, ("id", "context", "label", "definitions"), ("description",),
                      say("what.fact"))  # fmt: skip
        expected = path.stem
    if not ok:
        return None
    rid = str(data["id"])
    if rid != expected:
        ctx.add(file, data.line_of("id"), say("id_not_file_name", id=rid),
                say("id_not_file_name.fix", expected=expected))  # fmt: skip
    context = "household" if kind == "indicator" else str(data["context"])
    if kind == "fact" and (context != path.parent.name or context not in ("household", "member")):
        ctx.add(file, data.line_of("context"), say("context_not_folder", context=context),
                say("quoted", text=path.parent.name))  # fmt: skip
    definitions: list[Definition] = []
    previous: c.Node | None = None
    for item in data["definitions"]:
        if not ctx.keys(item, file, ("from", "source"), ("to", cond_key, *CITATION_KEYS[1:]),
                        say("what.definition_of", id=rid)):  # fmt: skip
            continue
        start = date_of(ctx, item, "from", file, item.line_of("from"))
        end = date_of(ctx, item, "to", file, item.line_of("to")) if "to" in item else None
        node: c.Node | None = previous
        if cond_key in item:
            try:
                node = c.parse_condition(item[cond_key], item.line_of(cond_key))
            except c.SyntaxProblem as exc:
                ctx.add(file, exc.line, exc.message, exc.suggestion)
                node = None
        elif previous is None:
            ctx.add(file, item.line, say("first_definition_needs", rid=rid, key=cond_key))
        if start and end and end < start:
            ctx.add(file, item.line_of("to"), say("to_before_from", end=end, start=start))
        if start and node is not None:
            definitions.append(Definition(start, end, node, citation(ctx, item, file, sources)))
        previous = node
    definitions.sort(key=lambda d: d.start)
    check_no_overlap(ctx, file, rid, definitions)
    return Rule(rid, kind, context, bilingual(ctx, data["label"], file, "label"),
                bilingual(ctx, data["description"], file, "description") if "description" in data
                else {"vi": "", "en": ""}, str(data.get("dimension", "")), tuple(definitions),
                file, data.line)  # fmt: skip


def load_classification(ctx: Collector, sources: dict[str, Any]) -> Classification:
    path = ctx.root / "classification.yaml"
    file = ctx.rel(path)
    data = ctx.read(path)
    empty = Classification("unique", {}, "incomplete", "invalid", (), file)
    if not ctx.keys(data, file, ("hit_policy", "classes", "undecided_class", "invalid_class", "rows",
                                 "reasons"), (), "classification.yaml"):  # fmt: skip
        return empty
    if data["hit_policy"] != "unique":
        ctx.add(file, data.line_of("hit_policy"), say("hit_policy", policy=data["hit_policy"]),
                say("hit_policy.fix"))  # fmt: skip
    classes = {k: bilingual(ctx, v, file, say("what.class", id=k)) for k, v in data["classes"].items()}
    rows: list[ClassRow] = []
    for item in data["rows"]:
        if not ctx.keys(item, file, ("class", "when", "source"), CITATION_KEYS[1:], say("what.row")):
            continue
        if item["class"] not in classes:
            ctx.add(file, item.line_of("class"), say("row_class_undeclared", cls=item["class"]),
                    suggest(str(item["class"]), list(classes)))  # fmt: skip
        try:
            node = c.parse_condition(item["when"], item.line_of("when"))
        except c.SyntaxProblem as exc:
            ctx.add(file, exc.line, exc.message, exc.suggestion)
            continue
        rows.append(ClassRow(str(item["class"]), node, citation(ctx, item, file, sources)))
    for key in ("undecided_class", "invalid_class"):
        if data[key] not in classes:
            ctx.add(file, data.line_of(key), say("class_undeclared", key=key, cls=data[key]))
    reasons: dict[str, dict[str, str]] = {}
    for cls, text in data["reasons"].items():
        if cls not in classes:
            ctx.add(file, data["reasons"].line_of(cls), say("reason_undeclared", cls=cls))
        reasons[cls] = bilingual(ctx, text, file, say("what.reason_of", id=cls))
    for cls in classes:
        if cls not in reasons and cls != data["invalid_class"]:
            ctx.add(file, data.line_of("reasons"), say("no_reason", cls=cls))
    return Classification("unique", classes, str(data["undecided_class"]),
                          str(data["invalid_class"]), tuple(rows), file, reasons)  # fmt: skip

