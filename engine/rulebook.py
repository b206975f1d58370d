"""Loading the rulebook (``rules/``) strictly, and resolving it at an evaluation date.

Every problem is reported with file, line and a suggestion, and all problems are reported at once:
duplicate or unknown keys, dangling references (sources, parameters, facts, fields), fields the
household models lack, type errors in conditions, overlapping dates, cyclic facts, a coverage list
that does not match the provisional facts, and gaps or overlaps in the classification table.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from engine import conditions as c
from engine.yamlio import DuplicateKeyError, YDict, load_yaml
from household_models.schema import (
    DERIVED_HOUSEHOLD_FIELDS,
    DERIVED_MEMBER_FIELDS,
    HOUSEHOLD_SPECS,
    MEMBER_SPECS,
    ColumnSpec,
)

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
FIELD_SPECS: dict[str, dict[str, ColumnSpec]] = {
    "household": {s.name: s for s in HOUSEHOLD_SPECS},
    "member": {s.name: s for s in MEMBER_SPECS},
}
# Code lists by domain (a code field's name), e.g. DOMAIN_CODES["latrine"].
DOMAIN_CODES: dict[str, tuple[str, ...]] = {
    s.domain: s.codes for s in HOUSEHOLD_SPECS + MEMBER_SPECS if s.domain
}
# The decided classes, readable by statuses and interventions as the household field 'class'
# (the same codes as the survey's previous_status; checked against classification.yaml).
DOMAIN_CODES["class"] = DOMAIN_CODES["previous_status"]
DERIVED_FIELDS = {"household": DERIVED_HOUSEHOLD_FIELDS, "member": DERIVED_MEMBER_FIELDS}
POST_CLASS_FIELDS = {"class": "code:class"}
AMOUNT_PERIODS = ("once", "month", "year")
AMOUNT_KINDS = ("grant", "loan", "allowance", "insurance")
# Which inputs a derived field is computed from (for the 'missing' column).
DERIVED_INPUTS = {"age_years": ("age",), "age_months": ("age",), "member_count": ()}


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str
    suggestion: str = ""

    def __str__(self) -> str:
        tail = f" ({self.suggestion})" if self.suggestion else ""
        return f"{self.file}:{self.line}: {self.message}{tail}"


class RulebookError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"the rulebook has {len(problems)} problem(s):\n{lines}")


@dataclass(frozen=True)
class Citation:
    source: str
    clause: str
    provisional: bool
    note: str
    file: str
    line: int


@dataclass(frozen=True)
class ParamValue:
    start: dt.date
    value: Any
    citation: Citation


@dataclass(frozen=True)
class Parameter:
    name: str
    label: dict[str, str]
    unit: str
    type: str
    keyed_by: str
    codes_of: str
    values: tuple[ParamValue, ...]
    file: str
    line: int

    def at(self, when: dt.date) -> ParamValue | None:
        found = None
        for v in self.values:
            if v.start <= when:
                found = v
        return found


@dataclass(frozen=True)
class Definition:
    start: dt.date
    end: dt.date | None
    condition: c.Node
    citation: Citation

    def holds(self, when: dt.date) -> bool:
        return self.start <= when and (self.end is None or when <= self.end)


@dataclass(frozen=True)
class Rule:
    """A derived fact or an indicator, with its dated definitions."""

    id: str
    kind: str  # fact | indicator
    context: str  # household | member
    label: dict[str, str]
    description: dict[str, str]
    dimension: str
    definitions: tuple[Definition, ...]
    file: str
    line: int

    def at(self, when: dt.date) -> Definition | None:
        return next((d for d in self.definitions if d.holds(when)), None)


@dataclass(frozen=True)
class ClassRow:
    cls: str
    when: c.Node
    citation: Citation


@dataclass(frozen=True)
class Classification:
    hit_policy: str
    classes: dict[str, dict[str, str]]
    undecided: str
    invalid: str
    rows: tuple[ClassRow, ...]
    file: str
    reasons: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ActionDef:
    """A dated definition of a status or an intervention: a household condition, and for rules
    aimed at people, the member condition that picks them (and who has priority)."""

    start: dt.date
    end: dt.date | None
    when: c.Node | None  # None: every household (rules about members only)
    members: c.Node | None
    priority: c.Node | None
    citation: Citation

    def holds(self, when: dt.date) -> bool:
        return self.start <= when and (self.end is None or when <= self.end)


@dataclass(frozen=True)
class Status:
    id: str
    context: str  # household | member
    label: dict[str, str]
    description: dict[str, str]
    definitions: tuple[ActionDef, ...]
    file: str
    line: int

    def at(self, when: dt.date) -> ActionDef | None:
        return next((d for d in self.definitions if d.holds(when)), None)


@dataclass(frozen=True)
class Amount:
    value: c.Node
    per: str  # household | member
    period: str  # once | month | year
    kind: str  # grant | loan | allowance | insurance
    label: dict[str, str]


@dataclass(frozen=True)
class Intervention:
    id: str
    group: str
    label: dict[str, str]
    action: dict[str, str]
    target: dict[str, str]
    lead: str
    partners: tuple[str, ...]
    function: str
    plan_section: str
    addresses: tuple[str, ...]
    amount: Amount | None
    definitions: tuple[ActionDef, ...]
    file: str
    line: int

    def at(self, when: dt.date) -> ActionDef | None:
        return next((d for d in self.definitions if d.holds(when)), None)


@dataclass(frozen=True)
class DepartmentName:
    start: dt.date
    name: dict[str, str]
    by_function: dict[str, dict[str, str]]
    citation: Citation


@dataclass(frozen=True)
class Department:
    code: str
    plan_name: dict[str, str]
    names: tuple[DepartmentName, ...]
    file: str
    line: int

    def name_at(self, when: dt.date, function: str = "") -> tuple[dict[str, str], Citation]:
        found = None
        for n in self.names:
            if n.start <= when:
                found = n
        if found is None:
            raise ValueError(f"department {self.code} has no name on {when}")
        return found.by_function.get(function, found.name), found.citation


@dataclass(frozen=True)
class Version:
    id: str
    label: dict[str, str]
    start: dt.date
    end: dt.date
    citation: Citation


@dataclass(frozen=True)
class Resolved:
    """The rulebook in force on one evaluation date."""

    as_of: dt.date
    version: Version
    rulebook_version: str
    params: dict[str, tuple[Parameter, ParamValue]]
    facts: dict[str, tuple[Rule, Definition]]
    indicators: tuple[tuple[Rule, Definition], ...]
    classification: Classification
    dimensions: dict[str, dict[str, str]]
    sources: dict[str, dict[str, Any]]
    statuses: tuple[tuple[Status, ActionDef], ...] = ()
    interventions: tuple[tuple[Intervention, ActionDef], ...] = ()
    departments: dict[str, Department] = field(default_factory=dict)
    functions: dict[str, dict[str, str]] = field(default_factory=dict)

    def param(self, name: str) -> Any:
        return self.params[name][1].value


@dataclass
class Rulebook:
    root: Path
    content_hash: str
    versions: tuple[Version, ...]
    sources: dict[str, dict[str, Any]]
    places: dict[str, dict[str, str]]
    params: dict[str, Parameter]
    facts: dict[str, Rule]
    indicators: tuple[Rule, ...]
    dimensions: dict[str, dict[str, str]]
    classification: Classification
    coverage: tuple[str, ...]
    provisional: dict[str, Citation] = field(default_factory=dict)
    statuses: tuple[Status, ...] = ()
    interventions: tuple[Intervention, ...] = ()
    departments: dict[str, Department] = field(default_factory=dict)
    functions: dict[str, dict[str, str]] = field(default_factory=dict)

    def version_at(self, when: dt.date) -> Version:
        for v in self.versions:
            if v.start <= when <= v.end:
                return v
        spans = ", ".join(f"{v.id} {v.start}…{v.end}" for v in self.versions)
        raise ValueError(
            f"no standard is in force on {when}; the rulebook covers {spans} / "
            f"không có chuẩn nghèo nào áp dụng vào ngày {when}"
        )

    def resolve(self, when: dt.date) -> Resolved:
        version = self.version_at(when)
        params = {n: (p, v) for n, p in self.params.items() if (v := p.at(when)) is not None}
        facts = {i: (r, d) for i, r in self.facts.items() if (d := r.at(when)) is not None}
        indicators = tuple((r, d) for r in self.indicators if (d := r.at(when)) is not None)
        statuses = tuple((s, sd) for s in self.statuses if (sd := s.at(when)) is not None)
        actions = tuple((a, ad) for a in self.interventions if (ad := a.at(when)) is not None)
        return Resolved(
            as_of=when,
            version=version,
            rulebook_version=f"{version.id}@{self.content_hash}",
            params=params,
            facts=facts,
            indicators=indicators,
            classification=self.classification,
            dimensions=self.dimensions,
            sources=self.sources,
            statuses=statuses,
            interventions=actions,
            departments=self.departments,
            functions=self.functions,
        )


# ---------------------------------------------------------------------------------------------
# Loading


class _Ctx:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    def add(self, file: str, line: int, message: str, suggestion: str = "") -> None:
        self.problems.append(Problem(file, line, message, suggestion))

    def read(self, path: Path) -> Any:
        try:
            return load_yaml(path.read_text("utf-8"))
        except DuplicateKeyError as exc:
            self.add(self.rel(path), exc.line, f"duplicate key '{exc.key}'",
                     f"the key is already set at line {exc.first}; keep one")  # fmt: skip
        except Exception as exc:  # yaml syntax errors carry their own position
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 0
            self.add(self.rel(path), line, f"not valid YAML: {exc}")
        return None

    def keys(self, obj: Any, file: str, required: tuple[str, ...], optional: tuple[str, ...],
             what: str) -> bool:  # fmt: skip
        line = getattr(obj, "line", 0)
        if not isinstance(obj, dict):
            self.add(file, line, f"{what} must be a mapping")
            return False
        ok = True
        allowed = required + optional
        for key in obj:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'?" if close else f"allowed: {', '.join(allowed)}"
                self.add(file, obj.line_of(key) if isinstance(obj, YDict) else line,
                         f"unknown key '{key}' in {what}", hint)  # fmt: skip
                ok = False
        for key in required:
            if key not in obj:
                self.add(file, line, f"{what} lacks the key '{key}'")
                ok = False
        return ok


def _label(ctx: _Ctx, obj: Any, file: str, what: str) -> dict[str, str]:
    if ctx.keys(obj, file, ("vi", "en"), (), what):
        return {"vi": str(obj["vi"]), "en": str(obj["en"])}
    return {"vi": "", "en": ""}


def _date(ctx: _Ctx, obj: Any, key: str, file: str, line: int) -> dt.date | None:
    value = obj.get(key)
    if isinstance(value, dt.date):
        return value
    ctx.add(file, line, f"'{key}' must be an ISO date (YYYY-MM-DD), got {value!r}")
    return None


def _citation(ctx: _Ctx, obj: YDict, file: str, sources: dict[str, Any]) -> Citation:
    source = str(obj.get("source", ""))
    if source not in sources:
        close = difflib.get_close_matches(source, list(sources), n=1)
        ctx.add(file, obj.line_of("source"), f"unknown source '{source}'",
                f"did you mean '{close[0]}'?" if close else "add it to rules/sources.yaml")  # fmt: skip
    provisional = obj.get("provisional", False)
    if not isinstance(provisional, bool):
        ctx.add(file, obj.line_of("provisional"), "'provisional' must be true or false")
        provisional = True
    return Citation(source, str(obj.get("clause", "")), provisional, str(obj.get("note", "")),
                    file, obj.line)  # fmt: skip


CITATION_KEYS = ("source", "clause", "provisional", "note")


def _load_sources(ctx: _Ctx) -> dict[str, dict[str, Any]]:
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
            out[sid] = {"title": _label(ctx, entry["title"], file, f"title of {sid}"),
                        **{k: v for k, v in entry.items() if k != "title"}}  # fmt: skip
    return out


def _load_versions(ctx: _Ctx, sources: dict[str, Any]) -> tuple[Version, ...]:
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
        start = _date(ctx, entry, "from", file, entry.line_of("from"))
        end = _date(ctx, entry, "to", file, entry.line_of("to"))
        if start and end:
            out.append(Version(str(entry["id"]), _label(ctx, entry["label"], file, "label"),
                               start, end, _citation(ctx, entry, file, sources)))  # fmt: skip
    out.sort(key=lambda v: v.start)
    for a, b in zip(out, out[1:], strict=False):
        if b.start <= a.end:
            ctx.add(file, 0, f"versions {a.id} and {b.id} overlap ({b.start} ≤ {a.end})",
                    "each version must end before the next begins")  # fmt: skip
    return tuple(out)


def _load_params(ctx: _Ctx, sources: dict[str, Any]) -> dict[str, Parameter]:
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
            domains = {s.domain: s for s in HOUSEHOLD_SPECS + MEMBER_SPECS if s.domain}
            if keyed_by and keyed_by not in domains:
                ctx.add(file, entry.line_of("keyed_by"), f"keyed_by '{keyed_by}' is not a code field",
                        _close(keyed_by, list(domains)))  # fmt: skip
            if ptype == "codes" and codes_of not in domains:
                ctx.add(file, entry.line_of("codes_of") if "codes_of" in entry else entry.line,
                        f"parameter {name} of type codes needs codes_of naming a code field",
                        _close(codes_of, list(domains)))  # fmt: skip
            values: list[ParamValue] = []
            for item in entry["values"]:
                if not ctx.keys(item, file, ("from", "value", "source"),
                                ("clause", "provisional", "note"), f"a value of {name}"):  # fmt: skip
                    continue
                start = _date(ctx, item, "from", file, item.line_of("from"))
                value = item["value"]
                vline = item.line_of("value")
                expected_keys = domains[keyed_by].codes if keyed_by in domains else ()
                scalars = list(value.values()) if keyed_by and isinstance(value, dict) else [value]
                if keyed_by and (not isinstance(value, dict) or tuple(value) != expected_keys):
                    ctx.add(file, vline, f"value of {name} must map each {keyed_by} code",
                            f"keys {', '.join(expected_keys)} in that order")  # fmt: skip
                for s in scalars:
                    _check_scalar(ctx, file, vline, name, ptype, s,
                                  domains[codes_of].codes if codes_of in domains else ())  # fmt: skip
                if start:
                    values.append(
                        ParamValue(start, _freeze(value), _citation(ctx, item, file, sources))
                    )
            values.sort(key=lambda v: v.start)
            for a, b in zip(values, values[1:], strict=False):
                if a.start == b.start:
                    ctx.add(file, b.citation.line, f"two values of {name} start on {a.start}",
                            "dates must not overlap; keep one")  # fmt: skip
            out[name] = Parameter(name, _label(ctx, entry["label"], file, "label"),
                                  str(entry.get("unit", "")), ptype, keyed_by, codes_of,
                                  tuple(values), file, line)  # fmt: skip
    return out


def _close(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _freeze(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _check_scalar(ctx: _Ctx, file: str, line: int, name: str, ptype: str, value: Any,
                  codes: tuple[str, ...]) -> None:  # fmt: skip
    if ptype == "integer" and (isinstance(value, bool) or not isinstance(value, int)):
        ctx.add(file, line, f"{name}: {value!r} is not an integer")
    elif ptype == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        ctx.add(file, line, f"{name}: {value!r} is not a number")
    elif ptype == "codes":
        if not isinstance(value, list):
            ctx.add(file, line, f"{name}: a codes value is a list")
            return
        for code in value:
            if code not in codes:
                ctx.add(
                    file,
                    line,
                    f"{name}: '{code}' is not a valid code",
                    _close(str(code), list(codes)),
                )


def _load_rule_file(ctx: _Ctx, path: Path, kind: str, sources: dict[str, Any]) -> Rule | None:
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
        start = _date(ctx, item, "from", file, item.line_of("from"))
        end = _date(ctx, item, "to", file, item.line_of("to")) if "to" in item else None
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
            definitions.append(Definition(start, end, node, _citation(ctx, item, file, sources)))
        previous = node
    definitions.sort(key=lambda d: d.start)
    for a, b in zip(definitions, definitions[1:], strict=False):
        if a.end is None or b.start <= a.end:
            ctx.add(file, b.citation.line, f"definitions of {rid} overlap: one from {a.start} "
                    f"{'has no end' if a.end is None else f'to {a.end}'}, the next from {b.start}",
                    "give the earlier one a 'to' date before the later 'from'")  # fmt: skip
    return Rule(rid, kind, context, _label(ctx, data["label"], file, "label"),
                _label(ctx, data["description"], file, "description") if "description" in data
                else {"vi": "", "en": ""}, str(data.get("dimension", "")), tuple(definitions),
                file, data.line)  # fmt: skip


def _load_classification(ctx: _Ctx, sources: dict[str, Any]) -> Classification:
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
    classes = {k: _label(ctx, v, file, f"class {k}") for k, v in data["classes"].items()}
    rows: list[ClassRow] = []
    for item in data["rows"]:
        if not ctx.keys(item, file, ("class", "when", "source"), CITATION_KEYS[1:], "a row"):
            continue
        if item["class"] not in classes:
            ctx.add(file, item.line_of("class"), f"row class '{item['class']}' is not declared",
                    _close(str(item["class"]), list(classes)))  # fmt: skip
        try:
            node = c.parse_condition(item["when"], item.line_of("when"))
        except c.SyntaxProblem as exc:
            ctx.add(file, exc.line, exc.message, exc.suggestion)
            continue
        rows.append(ClassRow(str(item["class"]), node, _citation(ctx, item, file, sources)))
    for key in ("undecided_class", "invalid_class"):
        if data[key] not in classes:
            ctx.add(file, data.line_of(key), f"{key} '{data[key]}' is not a declared class")
    reasons: dict[str, dict[str, str]] = {}
    for cls, text in data["reasons"].items():
        if cls not in classes:
            ctx.add(file, data["reasons"].line_of(cls), f"reason for undeclared class '{cls}'")
        reasons[cls] = _label(ctx, text, file, f"reason of {cls}")
    for cls in classes:
        if cls not in reasons and cls != data["invalid_class"]:
            ctx.add(file, data.line_of("reasons"), f"class '{cls}' has no reason text")
    return Classification("unique", classes, str(data["undecided_class"]),
                          str(data["invalid_class"]), tuple(rows), file, reasons)  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Statuses, interventions, departments

PARAM_PLACEHOLDER = re.compile(r"\{param:([A-Za-z0-9_]+)\}")


def _action_defs(ctx: _Ctx, data: YDict, file: str, rid: str, sources: dict[str, Any],
                 members: str) -> tuple[ActionDef, ...]:  # fmt: skip
    """Dated definitions; ``members`` is 'required', 'optional' or 'forbidden'."""
    out: list[ActionDef] = []
    previous: tuple[c.Node | None, c.Node | None, c.Node | None] = (None, None, None)
    optional = ("to", "when", "members", "priority", *CITATION_KEYS[1:])
    for item in data["definitions"]:
        if not ctx.keys(item, file, ("from", "source"), optional, f"a definition of {rid}"):
            continue
        start = _date(ctx, item, "from", file, item.line_of("from"))
        end = _date(ctx, item, "to", file, item.line_of("to")) if "to" in item else None
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
            ctx.add(file, item.line, f"the definition of {rid} needs 'when' (households) or "
                    "'members' (people), or both")  # fmt: skip
            continue
        if members == "required" and who is None:
            ctx.add(file, item.line, f"{rid} is about members: its definition needs 'members'")
        if members == "forbidden" and who is not None:
            ctx.add(file, item.line_of("members"), f"{rid} is a household rule; remove 'members'",
                    "or make its context 'member'")  # fmt: skip
        if priority is not None and who is None:
            ctx.add(file, item.line_of("priority"), "'priority' picks among 'members'; add them")
        if start and end and end < start:
            ctx.add(file, item.line_of("to"), f"'to' ({end}) is before 'from' ({start})")
        if start:
            out.append(ActionDef(start, end, when, who, priority,
                                 _citation(ctx, item, file, sources)))  # fmt: skip
        previous = (when, who, priority)
    out.sort(key=lambda d: d.start)
    for a, b in zip(out, out[1:], strict=False):
        if a.end is None or b.start <= a.end:
            ctx.add(file, b.citation.line, f"definitions of {rid} overlap: one from {a.start} "
                    f"{'has no end' if a.end is None else f'to {a.end}'}, the next from {b.start}",
                    "give the earlier one a 'to' date before the later 'from'")  # fmt: skip
    return tuple(out)


def _load_statuses(ctx: _Ctx, sources: dict[str, Any]) -> tuple[Status, ...]:
    out: list[Status] = []
    for path in sorted((ctx.root / "statuses").glob("*.yaml")):
        file = ctx.rel(path)
        data = ctx.read(path)
        if not ctx.keys(data, file, ("id", "context", "label", "definitions"), ("description",),
                        "a status"):  # fmt: skip
            continue
        sid = str(data["id"])
        if sid != path.stem:
            ctx.add(file, data.line_of("id"), f"id '{sid}' does not match the file name",
                    f"one concept per file: name it '{path.stem}'")  # fmt: skip
        context = str(data["context"])
        if context not in ("household", "member"):
            ctx.add(file, data.line_of("context"), f"context '{context}' is not household/member")
        defs = _action_defs(ctx, data, file, sid, sources,
                            "required" if context == "member" else "forbidden")  # fmt: skip
        out.append(Status(sid, context, _label(ctx, data["label"], file, "label"),
                          _label(ctx, data["description"], file, "description")
                          if "description" in data else {"vi": "", "en": ""},
                          defs, file, data.line))  # fmt: skip
    return tuple(out)


def _load_departments(
    ctx: _Ctx, sources: dict[str, Any]
) -> tuple[dict[str, Department], dict[str, dict[str, str]]]:
    path = ctx.root / "departments.yaml"
    file = ctx.rel(path)
    data = ctx.read(path)
    if not ctx.keys(data, file, ("functions", "departments"), (), "departments.yaml"):
        return {}, {}
    functions = {k: _label(ctx, v, file, f"function {k}") for k, v in data["functions"].items()}
    out: dict[str, Department] = {}
    for code, entry in data["departments"].items():
        line = data["departments"].line_of(code)
        if not ctx.keys(entry, file, ("plan_name", "names"), (), f"department {code}"):
            continue
        names: list[DepartmentName] = []
        for item in entry["names"]:
            if not ctx.keys(item, file, ("from", "name", "source"),
                            ("by_function", *CITATION_KEYS[1:]), f"a name of {code}"):  # fmt: skip
                continue
            start = _date(ctx, item, "from", file, item.line_of("from"))
            by_function: dict[str, dict[str, str]] = {}
            for fn, label in (item.get("by_function") or {}).items():
                if fn not in functions:
                    ctx.add(file, item["by_function"].line_of(fn), f"unknown function '{fn}'",
                            _close(fn, list(functions)) or "declare it under 'functions'")  # fmt: skip
                by_function[str(fn)] = _label(ctx, label, file, f"name of {code} for {fn}")
            if start:
                names.append(DepartmentName(start, _label(ctx, item["name"], file, "name"),
                                            by_function, _citation(ctx, item, file, sources)))  # fmt: skip
        names.sort(key=lambda n: n.start)
        out[str(code)] = Department(str(code), _label(ctx, entry["plan_name"], file, "plan_name"),
                                    tuple(names), file, line)  # fmt: skip
    return out, functions


def _load_interventions(ctx: _Ctx, sources: dict[str, Any], departments: dict[str, Department],
                        functions: dict[str, dict[str, str]]) -> tuple[Intervention, ...]:  # fmt: skip
    out: list[Intervention] = []
    required = ("id", "label", "action", "target", "lead", "plan_section", "definitions")
    optional = ("partners", "function", "addresses", "amount")
    for path in sorted((ctx.root / "interventions").glob("*/*.yaml")):
        file = ctx.rel(path)
        data = ctx.read(path)
        if not ctx.keys(data, file, required, optional, "an intervention"):
            continue
        aid = str(data["id"])
        expected = f"{path.parent.name}.{path.stem}"
        if aid != expected:
            ctx.add(file, data.line_of("id"), f"id '{aid}' does not match the file name",
                    f"one concept per file: name it '{expected}'")  # fmt: skip
        lead = str(data["lead"])
        partners = tuple(str(p) for p in data.get("partners") or ())
        for code, key in [(lead, "lead"), *((p, "partners") for p in partners)]:
            if code not in departments:
                ctx.add(file, data.line_of(key), f"unknown department code '{code}'",
                        _close(code, list(departments)) or "see rules/departments.yaml")  # fmt: skip
        function = str(data.get("function", ""))
        if function and function not in functions:
            ctx.add(file, data.line_of("function"), f"unknown function '{function}'",
                    _close(function, list(functions)))  # fmt: skip
        amount: Amount | None = None
        a = data.get("amount")
        if a is not None and ctx.keys(a, file, ("value", "per", "period", "kind", "label"), (),
                                      f"the amount of {aid}"):  # fmt: skip
            valid = True
            for key, allowed in (("per", ("household", "member")), ("period", AMOUNT_PERIODS),
                                 ("kind", AMOUNT_KINDS)):  # fmt: skip
                if a[key] not in allowed:
                    ctx.add(file, a.line_of(key), f"amount {key} '{a[key]}' is not allowed",
                            f"use one of: {', '.join(allowed)}")  # fmt: skip
                    valid = False
            try:
                value = c.parse_expression(a["value"], a.line_of("value"))
                amount = None if not valid else Amount(value, str(a["per"]), str(a["period"]), str(a["kind"]),
                                _label(ctx, a["label"], file, "amount label"))  # fmt: skip
            except c.SyntaxProblem as exc:
                ctx.add(file, exc.line, exc.message, exc.suggestion)
        defs = _action_defs(ctx, data, file, aid, sources, "optional")
        if amount is not None and amount.per == "member" and any(d.members is None for d in defs):
            ctx.add(file, data.line_of("amount"), "an amount per member needs 'members'")
        out.append(Intervention(
            aid, path.parent.name, _label(ctx, data["label"], file, "label"),
            _label(ctx, data["action"], file, "action"), _label(ctx, data["target"], file, "target"),
            lead, partners, function, str(data["plan_section"]),
            tuple(str(x) for x in data.get("addresses") or ()), amount, defs, file, data.line,
        ))  # fmt: skip
    return tuple(out)


# ---------------------------------------------------------------------------------------------
# Static checks of conditions


class _Checker:
    def __init__(self, ctx: _Ctx, params: dict[str, Parameter], facts: dict[str, Rule],
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
        hint = _close(name, options)
        if name in FIELD_SPECS[other]:
            hint = f"'{name}' is a {other} field; read it inside " + (
                "any_member / no_member" if other == "member" else "a household rule"
            )
        self.ctx.add(file, line, f"the {context} model has no field '{name}'",
                     hint or "see SURVEY_FORMAT.md")  # fmt: skip
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
                self.ctx.add(file, line, f"unknown parameter '{node.name}'",
                             _close(node.name, list(self.params)) or "define it in rules/parameters/")  # fmt: skip
                return "?"
            if p.keyed_by:
                if node.by is None:
                    self.ctx.add(file, line, f"parameter '{p.name}' is keyed by {p.keyed_by}",
                                 f"write {{param: {p.name}, by: {{field: {p.keyed_by}}}}}")  # fmt: skip
                else:
                    t = self.expr(node.by, context, file, line, phase)
                    if t not in ("?", f"code:{p.keyed_by}"):
                        self.ctx.add(file, line, f"'by' of {p.name} must be the {p.keyed_by} field")
            elif node.by is not None:
                self.ctx.add(file, line, f"parameter '{p.name}' is not keyed; remove 'by'")
            return f"codes:{p.codes_of}" if p.type == "codes" else "number"
        if isinstance(node, c.CountMembers | c.ShareMembers):
            if context != "household":
                self.ctx.add(file, line, "member quantifiers are for household rules")
            self.cond(node.cond, "member", file, line, phase)
            return "number"
        if isinstance(node, c.Arith):
            for side in (node.left, node.right):
                t = self.expr(side, context, file, line, phase)
                if t not in ("number", "?"):
                    self.ctx.add(file, line, f"'{node.op}' needs numbers, got {t}")
            return "number"
        if isinstance(node, c.DeprivationCount):
            if phase != "class":
                self.ctx.add(file, line, "deprivation_count is only for the classification table")
            return "number"
        if isinstance(node, c.MonthsSince):
            if self.field_type(node.field, context, file, line, phase) not in ("date", "?"):
                self.ctx.add(file, line, f"months_since needs a date field, not '{node.field}'")
            return "number"
        if isinstance(node, c.IfThen):
            self.cond(node.cond, context, file, line, phase)
            for side in (node.then, node.orelse):
                if self.expr(side, context, file, line, phase) not in ("number", "?"):
                    self.ctx.add(file, line, "'then' and 'else' must be numbers")
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
                self.ctx.add(file, line, "'at_least' needs a number")
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
                self.ctx.add(file, line, f"'{node.op}' compares numbers (or a code with a text), "
                             f"got {a} and {b}")  # fmt: skip
        elif isinstance(node, c.In):
            a = self.expr(node.item, context, file, line, phase)
            b = self.expr(node.collection, context, file, line, phase)
            if "?" in (a, b):
                return
            if not a.startswith("code:"):
                self.ctx.add(file, line, f"'in' needs a code field on the left, got {a}")
            elif b == "list":
                self._literal_codes(node.collection, a, file, line)
            elif b != "codes:" + a.split(":", 1)[1]:
                self.ctx.add(
                    file, line, f"'in' compares {a} with {b}", "use a list of the same codes"
                )
        elif isinstance(node, c.Intersects):
            a = self.expr(node.left, context, file, line, phase)
            b = self.expr(node.right, context, file, line, phase)
            if "?" not in (a, b) and (not a.startswith("codes:") or b not in (a, "list")):
                self.ctx.add(
                    file, line, f"'intersects' needs two lists of the same codes, got {a}, {b}"
                )
        elif isinstance(node, c.FactRef):
            fact = self.facts.get(node.name)
            if fact is None:
                self.ctx.add(file, line, f"unknown fact '{node.name}'",
                             _close(node.name, list(self.facts)) or "define it in rules/facts/")  # fmt: skip
            elif fact.context != context:
                self.ctx.add(file, line, f"fact '{node.name}' is a {fact.context} fact, used in a "
                             f"{context} condition")  # fmt: skip
        elif isinstance(node, c.BoolField):
            t = self.field_type(node.name, context, file, line, phase)
            if t not in ("bool", "?"):
                self.ctx.add(file, line, f"field '{node.name}' is {t}, not yes/no",
                             f"compare it, e.g. {{eq: [{{field: {node.name}}}, ...]}}")  # fmt: skip
        elif isinstance(node, c.AnyMember | c.NoMember):
            if context != "household":
                self.ctx.add(file, line, "any_member / no_member are for household rules")
            self.cond(node.cond, "member", file, line, phase)
        elif isinstance(node, c.OfHousehold):
            if context != "member":
                self.ctx.add(file, line, "'household' reads the household from a member condition")
            self.cond(node.cond, "household", file, line, phase)
        elif isinstance(node, c.IndicatorRef):
            if phase not in ("status", "action"):
                self.ctx.add(file, line, "indicator results are read by statuses and interventions",
                             "read the indicator's inputs instead")  # fmt: skip
            elif node.id not in self.indicators:
                self.ctx.add(file, line, f"unknown indicator '{node.id}'",
                             _close(node.id, list(self.indicators)))  # fmt: skip
            elif context != "household":
                self.ctx.add(file, line, "indicators are household results; read them in 'when'")
        elif isinstance(node, c.StatusRef):
            status = self.statuses.get(node.id)
            if phase != "action":
                self.ctx.add(file, line, "statuses are read by interventions only")
            elif status is None:
                self.ctx.add(file, line, f"unknown status '{node.id}'",
                             _close(node.id, list(self.statuses)) or "define it in rules/statuses/")  # fmt: skip
            elif status.context != context:
                self.ctx.add(file, line, f"status '{node.id}' is a {status.context} status, read "
                             f"in a {context} condition",
                             "read member statuses in 'members' or inside any_member")  # fmt: skip
        else:
            self.ctx.add(file, line, f"{type(node).__name__} is an expression, not a condition",
                         "compare it with lt/le/gt/ge/eq/ne")  # fmt: skip

    def _literal_codes(self, node: c.Node, ctype: str, file: str, line: int) -> None:
        domain = ctype.split(":", 1)[1]
        codes = DOMAIN_CODES[domain]
        values = node.value if isinstance(node, c.Literal) else ()
        for v in values if isinstance(values, tuple) else (values,):
            if v not in codes:
                self.ctx.add(
                    file, line, f"'{v}' is not a {domain} code", _close(str(v), list(codes))
                )


def fact_dependencies(node: c.Node) -> set[str]:
    return {n.name for n in c.walk(node) if isinstance(n, c.FactRef)}


def _check_cycles(ctx: _Ctx, facts: dict[str, Rule]) -> None:
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in facts:
            return
        if state.get(name) == 1:
            cycle = " → ".join(path[path.index(name) :] + [name])
            ctx.add(facts[name].file, facts[name].line, f"facts depend on each other: {cycle}")
            return
        state[name] = 1
        for d in facts[name].definitions:
            for dep in sorted(fact_dependencies(d.condition)):
                visit(dep, [*path, name])
        state[name] = 2

    for name in sorted(facts):
        visit(name, [])


def _hash_tree(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]


def provisional_items(book: Rulebook) -> dict[str, Citation]:
    items: dict[str, Citation] = {}
    for v in book.versions:
        if v.citation.provisional:
            items[f"version:{v.id}"] = v.citation
    for p in book.params.values():
        for pv in p.values:
            if pv.citation.provisional:
                items[f"parameter:{p.name}@{pv.start}"] = pv.citation
    for r in (*book.facts.values(), *book.indicators):
        for d in r.definitions:
            if d.citation.provisional:
                items[f"{r.kind}:{r.id}@{d.start}"] = d.citation
    for row in book.classification.rows:
        if row.citation.provisional:
            items[f"classification:{row.cls}"] = row.citation
    for s in book.statuses:
        for sd in s.definitions:
            if sd.citation.provisional:
                items[f"status:{s.id}@{sd.start}"] = sd.citation
    for a in book.interventions:
        for ad in a.definitions:
            if ad.citation.provisional:
                items[f"intervention:{a.id}@{ad.start}"] = ad.citation
    for dep in book.departments.values():
        for dn in dep.names:
            if dn.citation.provisional:
                items[f"department:{dep.code}@{dn.start}"] = dn.citation
    return items


def load_rulebook(root: Path | str | None = None, *, check_table: bool = True) -> Rulebook:
    """Load and check the rulebook under ``root`` (default: the bundled ``rules/``)."""
    root = Path(root) if root is not None else DEFAULT_RULES_DIR
    ctx = _Ctx(root)
    sources = _load_sources(ctx)
    versions = _load_versions(ctx, sources)
    params = _load_params(ctx, sources)
    facts: dict[str, Rule] = {}
    for path in sorted((root / "facts").glob("*/*.yaml")):
        rule = _load_rule_file(ctx, path, "fact", sources)
        if rule is not None:
            if rule.id in facts:
                ctx.add(rule.file, rule.line, f"fact '{rule.id}' is defined twice")
            facts[rule.id] = rule
    dim_path = root / "indicators" / "dimensions.yaml"
    dim_data = ctx.read(dim_path)
    dimensions: dict[str, dict[str, str]] = {}
    if ctx.keys(dim_data, ctx.rel(dim_path), ("dimensions",), (), "dimensions.yaml"):
        dimensions = {
            k: _label(ctx, v, ctx.rel(dim_path), k) for k, v in dim_data["dimensions"].items()
        }
    indicators: list[Rule] = []
    for path in sorted((root / "indicators").glob("*/*.yaml")):
        rule = _load_rule_file(ctx, path, "indicator", sources)
        if rule is not None:
            if rule.dimension not in dimensions:
                ctx.add(rule.file, rule.line, f"unknown dimension '{rule.dimension}'",
                        _close(rule.dimension, list(dimensions)))  # fmt: skip
            indicators.append(rule)
    order = list(dimensions)
    indicators.sort(key=lambda r: (order.index(r.dimension) if r.dimension in order else 99, r.id))
    classification = _load_classification(ctx, sources)
    places_data = ctx.read(root / "places.yaml")
    places: dict[str, dict[str, str]] = {}
    if ctx.keys(places_data, ctx.rel(root / "places.yaml"), ("places",), (), "places.yaml"):
        places = {k: _label(ctx, v, ctx.rel(root / "places.yaml"), k)
                  for k, v in places_data["places"].items()}  # fmt: skip

    statuses = _load_statuses(ctx, sources)
    departments, functions = _load_departments(ctx, sources)
    interventions = _load_interventions(ctx, sources, departments, functions)

    checker = _Checker(ctx, params, facts, tuple(indicators), statuses)
    for rule in (*facts.values(), *indicators):
        for d in rule.definitions:
            checker.cond(d.condition, rule.context, rule.file, d.citation.line, "rule")
    for row in classification.rows:
        checker.cond(row.when, "household", classification.file, row.citation.line, "class")
    decided = list(dict.fromkeys(row.cls for row in classification.rows))
    if classification.rows and tuple(sorted(decided)) != tuple(sorted(DOMAIN_CODES["class"])):
        ctx.add(classification.file, 0, f"the table decides the classes {decided}, but statuses "
                f"and interventions read the codes {list(DOMAIN_CODES['class'])}",
                "keep the decided classes equal to the survey's previous_status codes")  # fmt: skip
    for status in statuses:
        for sd in status.definitions:
            if sd.when is not None:
                checker.cond(sd.when, "household", status.file, sd.citation.line, "status")
            if sd.members is not None:
                checker.cond(sd.members, "member", status.file, sd.citation.line, "status")
    indicator_ids = {r.id for r in indicators}
    for action in interventions:
        for ad in action.definitions:
            if ad.when is not None:
                checker.cond(ad.when, "household", action.file, ad.citation.line, "action")
            for extra in (ad.members, ad.priority):
                if extra is not None:
                    checker.cond(extra, "member", action.file, ad.citation.line, "action")
        if action.amount is not None:
            t = checker.expr(action.amount.value, action.amount.per, action.file, action.line,
                             "action")  # fmt: skip
            if t not in ("number", "?"):
                ctx.add(action.file, action.line, f"the amount of {action.id} must be a number")
        for ind in action.addresses:
            if ind not in indicator_ids:
                ctx.add(action.file, action.line, f"'addresses' names unknown indicator '{ind}'",
                        _close(ind, sorted(indicator_ids)))  # fmt: skip
        for text in (*action.action.values(), *action.target.values()):
            for name in PARAM_PLACEHOLDER.findall(text):
                if name not in params:
                    ctx.add(action.file, action.line, f"the text of {action.id} names unknown "
                            f"parameter '{name}'", _close(name, list(params)))  # fmt: skip
    _check_cycles(ctx, facts)

    cov_path = root / "coverage.yaml"
    cov_data = ctx.read(cov_path)
    coverage: tuple[str, ...] = ()
    if ctx.keys(cov_data, ctx.rel(cov_path), ("provisional",), (), "coverage.yaml"):
        coverage = tuple(str(x) for x in cov_data["provisional"])
    book = Rulebook(root, _hash_tree(root), versions, sources, places, params, facts,
                    tuple(indicators), dimensions, classification, coverage,
                    statuses=statuses, interventions=interventions, departments=departments,
                    functions=functions)  # fmt: skip
    book.provisional = provisional_items(book)
    if ctx.problems:
        raise RulebookError(ctx.problems)

    # Checks that need a consistent rulebook: references resolvable on every date, coverage list.
    for item in sorted(set(book.provisional) - set(coverage)):
        ctx.add(ctx.rel(cov_path), 0, f"provisional fact '{item}' is not listed",
                "list every provisional value in coverage.yaml")  # fmt: skip
    for item in sorted(set(coverage) - set(book.provisional)):
        ctx.add(ctx.rel(cov_path), 0, f"'{item}' is listed but is not provisional in the rules",
                "remove it, or mark the value provisional: true")  # fmt: skip
    for when in boundary_dates(book):
        resolved = book.resolve(when)
        _check_resolvable(ctx, resolved)
    if ctx.problems:
        raise RulebookError(ctx.problems)
    if check_table:
        from engine.tablecheck import check_classification_table

        for when in boundary_dates(book):
            for message in check_classification_table(book.resolve(when)):
                ctx.add(classification.file, 0, message,
                        "rows must not overlap and must cover every known input")  # fmt: skip
        if ctx.problems:
            raise RulebookError(ctx.problems)
    return book


def boundary_dates(book: Rulebook) -> list[dt.date]:
    """Every date on which something in the rulebook changes, within the versions."""
    dates = {v.start for v in book.versions}
    for p in book.params.values():
        dates.update(v.start for v in p.values)
    spans: list[tuple[dt.date, dt.date | None]] = [
        (d.start, d.end)
        for rules in (book.facts.values(), book.indicators, book.statuses, book.interventions)
        for r in rules
        for d in r.definitions
    ]
    for start, end in spans:
        dates.add(start)
        if end is not None:
            dates.add(end + dt.timedelta(days=1))
    for dep in book.departments.values():
        dates.update(n.start for n in dep.names)
    return [when for when in sorted(dates) if any(v.start <= when <= v.end for v in book.versions)]


def _check_resolvable(ctx: _Ctx, r: Resolved) -> None:
    def check(node: c.Node, file: str, line: int, what: str) -> None:
        for n in c.walk(node):
            if isinstance(n, c.ParamRef) and n.name not in r.params:
                ctx.add(file, line, f"{what} reads parameter '{n.name}', which has no value on "
                        f"{r.as_of}", "add a value dated on or before that day")  # fmt: skip
            if isinstance(n, c.FactRef) and n.name not in r.facts:
                ctx.add(file, line, f"{what} reads fact '{n.name}', which has no definition on "
                        f"{r.as_of}", "extend the fact's dates")  # fmt: skip

    for rule, d in (*r.facts.values(), *r.indicators):
        check(d.condition, rule.file, d.citation.line, rule.id)
    for row in r.classification.rows:
        check(row.when, r.classification.file, row.citation.line, f"class row {row.cls}")
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
                    ctx.add(post_rule.file, ad.citation.line, f"{post_rule.id} reads indicator '{n.id}', "
                            f"which is not in force on {r.as_of}",
                            "end this definition the day before, and start one without it")  # fmt: skip
                if isinstance(n, c.StatusRef) and n.id not in status_ids:
                    ctx.add(post_rule.file, ad.citation.line, f"{post_rule.id} reads status '{n.id}', "
                            f"which has no definition on {r.as_of}")  # fmt: skip
        if isinstance(post_rule, Intervention):
            texts = (*post_rule.action.values(), *post_rule.target.values())
            for name in {m for t in texts for m in PARAM_PLACEHOLDER.findall(t)}:
                if name not in r.params:
                    ctx.add(post_rule.file, post_rule.line, f"the text of {post_rule.id} names parameter "
                            f"'{name}', which has no value on {r.as_of}")  # fmt: skip
            for code in (post_rule.lead, *post_rule.partners):
                dep = r.departments.get(code)
                if dep is not None and not any(n.start <= r.as_of for n in dep.names):
                    ctx.add(dep.file, dep.line, f"department {code} has no name on {r.as_of}")
    if not r.indicators:
        ctx.add(r.classification.file, 0, f"no indicator is in force on {r.as_of}")


@cache
def default_rulebook() -> Rulebook:
    return load_rulebook()
