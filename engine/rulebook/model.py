"""The law as typed objects: citations, dated parameters and definitions, indicators and facts,
the classification table, statuses, interventions, departments and versions, and ``Resolved``:
what is in force on one evaluation date.

This module loads nothing and evaluates nothing (``engine.loader`` reads ``rules/`` into these
objects; ``engine.evaluators`` decide with them).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from engine.errors import AsOfError
from engine.rulebook import conditions as c
from engine.text import fill_params

AMOUNT_PERIODS = ("once", "month", "year")
AMOUNT_KINDS = ("grant", "loan", "allowance", "insurance")


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


class Span:
    """Something dated that holds from ``start`` to ``end`` inclusive (``end`` None: open)."""

    start: dt.date
    end: dt.date | None

    def holds(self, when: dt.date) -> bool:
        return self.start <= when and (self.end is None or when <= self.end)


S = TypeVar("S", bound=Span)


def in_force(definitions: tuple[S, ...], when: dt.date) -> S | None:
    """The definition that holds on ``when`` (definitions never overlap: the loader checks)."""
    return next((d for d in definitions if d.holds(when)), None)


@dataclass(frozen=True)
class Definition(Span):
    start: dt.date
    end: dt.date | None
    condition: c.Node
    citation: Citation


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
        return in_force(self.definitions, when)


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
class ActionDef(Span):
    """A dated definition of a status or an intervention: a household condition, and for rules
    aimed at people, the member condition that picks them (and who has priority)."""

    start: dt.date
    end: dt.date | None
    when: c.Node | None  # None: every household (rules about members only)
    members: c.Node | None
    priority: c.Node | None
    citation: Citation


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
        return in_force(self.definitions, when)


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
    kind: str = ""  # grant | loan | allowance | insurance (the amount's, or given without one)

    def at(self, when: dt.date) -> ActionDef | None:
        return in_force(self.definitions, when)


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

    def fill(self, template: str, lang: str, keys: dict[str, str | None] | None = None) -> str:
        """A text with its ``{param:…}`` placeholders filled with the values of this date
        (a keyed parameter by its ``.KEY`` or by the household's code in ``keys``)."""
        return fill_params(template, self.param, lang, keys,
                           lambda name: self.params[name][0].keyed_by)  # fmt: skip

    def action_text(self, action: Intervention, lang: str) -> str:
        """What an intervention does, with the amounts and rates of this date."""
        return self.fill(action.action[lang], lang)

    def department_name(self, code: str, function: str, lang: str) -> tuple[str, str]:
        """(name on this date, for the function; name in the plan) of a department."""
        dep = self.departments[code]
        name, _ = dep.name_at(self.as_of, function)
        return name[lang], dep.plan_name[lang]

    def legal_basis(self, source: str, clause: str, lang: str) -> str:
        """A citation as people read it: the instrument's title and the clause."""
        title = self.sources.get(source, {}).get("title", {}).get(lang, source)
        return f"{title}, {clause}" if clause else str(title)


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
        raise AsOfError("no_standard", when=when, spans=spans)

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

