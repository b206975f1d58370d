"""Reading the law files of ``rules/``: sources, versions, parameters, derived facts and
indicators (one file each), and the classification table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import suggest
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
            entry, file, ("title",), ("issued", "in_force", "url", "note"), f"source {sid}"
        ):
            out[sid] = {"title": bilingual(ctx, entry["title"], file, f"title of {sid}"),
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
                        ("clause", "provisional", "note"), "version"):  # fmt: skip
            continue
        start = date_of(ctx, entry, "from", file, entry.line_of("from"))
        end = date_of(ctx, entry, "to", file, entry.line_of("to"))
        if start and end:
            out.append(Version(str(entry["id"]), bilingual(ctx, entry["label"], file, "label"),
                               start, end, citation(ctx, entry, file, sources)))  # fmt: skip
    out.sort(key=lambda v: v.start)
    for a, b in zip(out, out[1:], strict=False):
        if b.start <= a.end:
            ctx.add(file, 0, f"versions {a.id} and {b.id} overlap ({b.start} ≤ {a.end})",
                    "each version must end before the next begins")  # fmt: skip
    return tuple(out)


def load_params(ctx: Collector, sources: dict[str, Any]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for path in sorted((ctx.root / "parameters").glob("*.yaml")):
        file = ctx.rel(path)
        data = ctx.read(path)
        if not ctx.keys(data, file, ("parameters",), (), "a parameters file"):
            continue
        for name, entry in data["parameters"].items():
            line = data["parameters"].line_of(name)
            if name in out:
                ctx.add(file, line, f"parameter '{name}' is already defined in {out[name].file}")
                continue
            if not ctx.keys(entry, file, ("label", "type", "values"),
                            ("unit", "keyed_by", "codes_of", "note"), f"parameter {name}"):  # fmt: skip
                continue
            ptype = str(entry["type"])
            if ptype not in ("integer", "number", "codes"):
                ctx.add(file, entry.line_of("type"), f"unknown parameter type '{ptype}'",
                        "use integer, number or codes")  # fmt: skip
            keyed_by = str(entry.get("keyed_by", ""))
            codes_of = str(entry.get("codes_of", ""))
            domains = DOMAIN_FIELDS
            if keyed_by and keyed_by not in domains:
                ctx.add(file, entry.line_of("keyed_by"), f"keyed_by '{keyed_by}' is not a code field",
                        suggest(keyed_by, list(domains)))  # fmt: skip
            if ptype == "codes" and codes_of not in domains:
                ctx.add(file, entry.line_of("codes_of") if "codes_of" in entry else entry.line,
                        f"parameter {name} of type codes needs codes_of naming a code field",
                        suggest(codes_of, list(domains)))  # fmt: skip
            values: list[ParamValue] = []
            for item in entry["values"]:
                if not ctx.keys(item, file, ("from", "value", "source"),
                                ("clause", "provisional", "note"), f"a value of {name}"):  # fmt: skip
                    continue
                start = date_of(ctx, item, "from", file, item.line_of("from"))
                value = item["value"]
                vline = item.line_of("value")
                expected_keys = domains[keyed_by].codes if keyed_by in domains else ()
                scalars = list(value.values()) if keyed_by and isinstance(value, dict) else [value]
                if keyed_by and (not isinstance(value, dict) or tuple(value) != expected_keys):
                    ctx.add(file, vline, f"value of {name} must map each {keyed_by} code",
                            f"keys {', '.join(expected_keys)} in that order")  # fmt: skip
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
                    ctx.add(file, b.citation.line, f"two values of {name} start on {a.start}",
                            "dates must not overlap; keep one")  # fmt: skip
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
                      "an indicator")  # fmt: skip
        expected = f"{path.parent.name}.{path.stem}"
    else:
        ok = ctx.keys(data, file, ("id", "context", "label", "definitions"), ("description",),
                      "a fact")  # fmt: skip
        expected = path.stem
    if not ok:
        return None
    rid = str(data["id"])
    if rid != expected:
        ctx.add(file, data.line_of("id"), f"id '{rid}' does not match the file name",
                f"one concept per file: name it '{expected}'")  # fmt: skip
    context = "household" if kind == "indicator" else str(data["context"])
    if kind == "fact" and (context != path.parent.name or context not in ("household", "member")):
        ctx.add(file, data.line_of("context"), f"context '{context}' must be the folder name",
                f"'{path.parent.name}'")  # fmt: skip
    definitions: list[Definition] = []
    previous: c.Node | None = None
    for item in data["definitions"]:
        if not ctx.keys(item, file, ("from", "source"), ("to", cond_key, *CITATION_KEYS[1:]),
                        f"a definition of {rid}"):  # fmt: skip
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
            ctx.add(file, item.line, f"the first definition of {rid} needs '{cond_key}'")
        if start and end and end < start:
            ctx.add(file, item.line_of("to"), f"'to' ({end}) is before 'from' ({start})")
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
        ctx.add(file, data.line_of("hit_policy"), f"hit policy '{data['hit_policy']}' unsupported",
                "the classification uses 'unique'")  # fmt: skip
    classes = {k: bilingual(ctx, v, file, f"class {k}") for k, v in data["classes"].items()}
    rows: list[ClassRow] = []
    for item in data["rows"]:
        if not ctx.keys(item, file, ("class", "when", "source"), CITATION_KEYS[1:], "a row"):
            continue
        if item["class"] not in classes:
            ctx.add(file, item.line_of("class"), f"row class '{item['class']}' is not declared",
                    suggest(str(item["class"]), list(classes)))  # fmt: skip
        try:
            node = c.parse_condition(item["when"], item.line_of("when"))
        except c.SyntaxProblem as exc:
            ctx.add(file, exc.line, exc.message, exc.suggestion)
            continue
        rows.append(ClassRow(str(item["class"]), node, citation(ctx, item, file, sources)))
    for key in ("undecided_class", "invalid_class"):
        if data[key] not in classes:
            ctx.add(file, data.line_of(key), f"{key} '{data[key]}' is not a declared class")
    reasons: dict[str, dict[str, str]] = {}
    for cls, text in data["reasons"].items():
        if cls not in classes:
            ctx.add(file, data["reasons"].line_of(cls), f"reason for undeclared class '{cls}'")
        reasons[cls] = bilingual(ctx, text, file, f"reason of {cls}")
    for cls in classes:
        if cls not in reasons and cls != data["invalid_class"]:
            ctx.add(file, data.line_of("reasons"), f"class '{cls}' has no reason text")
    return Classification("unique", classes, str(data["undecided_class"]),
                          str(data["invalid_class"]), tuple(rows), file, reasons)  # fmt: skip

