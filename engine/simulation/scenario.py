"""Policy scenarios: overlays on the rulebook, validated in full before they apply.

A scenario file (YAML)::

    id: rural_line_1800k
    label: {vi: "...", en: "..."}
    description: {vi: "...", en: "..."}          # optional
    standard: vn-2027                            # optional: apply another standard's rules today
    parameters:                                  # optional: new values from a date, or in a range
      income_line_vnd: {2025-01-01: {rural: 1800000, urban: 2000000}}
      income_line_vnd.rural: {2026-01-01..2026-12-31: 1900000}   # one key of a keyed value
      min_area_per_person_m2: {2021-03-15: 10}                   # an indicator's threshold
    indicators_off: [information.devices]        # optional: indicators that no longer count
    indicators_add:                              # optional: provincial extra indicators
      - id: health.care_burden                   # <dimension>.<name>, a new id
        dimension: health
        label: {vi: "...", en: "..."}
        deprived_when: {any_member: {field: serious_illness}}

A date key starts a value that holds until the baseline's next change of that parameter (as a
new row of the parameter file would); a range key ``FROM..TO`` holds from FROM to TO inclusive,
after which the baseline's value in force resumes. The baseline rulebook is never edited:
``apply`` returns the resolved rulebook of the scenario on the evaluation date. Every problem
(unknown parameter, key or indicator with a suggestion, a value of the wrong type, an extra
indicator whose condition reads an unknown field, an unknown standard) is reported at once, with
file and line, before anything runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Problem, ScenarioError, Text, say, suggest
from engine.loader.checker import Checker
from engine.loader.problems import Collector, bilingual, check_scalar, freeze, yaml_problem
from engine.loader.tableproof import check_classification_table
from engine.loader.yamlio import YDict, load_yaml
from engine.rulebook import (
    Citation,
    Definition,
    Parameter,
    ParamValue,
    Resolved,
    Rule,
    Rulebook,
)
from engine.rulebook import conditions as c
from household_models.schema import DOMAIN_CODES as _DOMAINS

RANGE_SEPARATOR = ".."


EXTRA_START = dt.date(1900, 1, 1)  # an extra indicator holds on every evaluation date


@dataclass(frozen=True)
class Override:
    """One dated value of a scenario: the parameter (and key, for a keyed parameter), from
    ``start`` to ``end`` inclusive (``end`` None: until the baseline's next change)."""

    name: str
    key: str | None
    start: dt.date
    end: dt.date | None
    value: Any
    citation: Citation


@dataclass(frozen=True)
class Scenario:
    id: str
    label: dict[str, str]
    description: dict[str, str]
    standard: str | None
    overrides: tuple[Override, ...]
    indicators_off: tuple[str, ...]
    file: str
    digest: str = ""
    indicators_add: tuple[Rule, ...] = field(default_factory=tuple)

    def override_texts(self, value_text: Callable[[Any], str] = str) -> list[str]:
        """Each changed value as ``name[.key] = value (from[..to])``, for reports."""
        return [f"{o.name}{'.' + o.key if o.key else ''} = {value_text(o.value)} "
                f"({o.start}{'..' + str(o.end) if o.end else ''})" for o in self.overrides]  # fmt: skip

    def rulebook(self, book: Rulebook) -> Rulebook:
        """The baseline rulebook with the scenario's values and indicators (a new object)."""
        params = dict(book.params)
        for o in sorted(self.overrides, key=lambda o: o.start):
            params[o.name] = dataclasses.replace(params[o.name],
                                                 values=_overlay(params[o.name], o))  # fmt: skip
        indicators = [r for r in book.indicators if r.id not in self.indicators_off]
        order = list(book.dimensions)
        indicators = sorted([*indicators, *self.indicators_add],
                            key=lambda r: (order.index(r.dimension), r.id))  # fmt: skip
        return dataclasses.replace(book, params=params, indicators=tuple(indicators))

    def apply(self, book: Rulebook, as_of: dt.date) -> Resolved:
        """The scenario's rulebook in force on ``as_of`` (the baseline is not touched)."""
        overlay = self.rulebook(book)
        when = as_of
        if self.standard is not None:  # that standard's rules, evaluated on as_of
            version = next(v for v in book.versions if v.id == self.standard)
            if not version.start <= as_of <= version.end:
                when = version.start
        resolved = overlay.resolve(when)
        if not resolved.indicators:
            raise ScenarioError([Problem(self.file, 0, say("every_indicator_off"))])
        missing = [o.name for o in self.overrides if o.name not in resolved.params]
        if missing:
            raise ScenarioError([Problem(self.file, 0, say("scenario_param_not_in_force",
                                                           name=name, when=when),
                                         say("scenario_param_not_in_force.fix"))
                                 for name in dict.fromkeys(missing)])  # fmt: skip
        problems = check_classification_table(dataclasses.replace(resolved, as_of=when))
        if problems:
            summary = Problem(self.file, 0, say("scenario_table", when=when),
                              say("scenario_table.fix"))  # fmt: skip
            raise ScenarioError([summary, *(Problem(self.file, 0, p) for p in problems[:5])])
        return dataclasses.replace(
            resolved, as_of=as_of,
            rulebook_version=f"{resolved.rulebook_version}+{self.id}@{self.digest}",
        )  # fmt: skip


def _overlay(param: Parameter, o: Override) -> tuple[ParamValue, ...]:
    """The parameter's dated values with ``o`` laid over them."""
    base, at = param.values, param.at

    def new_value(when: dt.date) -> Any:
        if o.key is None:
            return o.value
        current = at(when)
        assert current is not None  # checked at load: the keyed value exists from o.start
        return {**current.value, o.key: o.value}

    if o.end is None:  # a new row: it holds until the baseline's next change
        out = [v for v in base if v.start != o.start]
        out.append(ParamValue(o.start, new_value(o.start), o.citation))
        return tuple(sorted(out, key=lambda v: v.start))
    # A range: every baseline change inside it is overridden too, then the baseline resumes.
    inside = [v.start for v in base if o.start < v.start <= o.end]
    out = [v for v in base if v.start < o.start or v.start > o.end]
    out += [ParamValue(s, new_value(s), o.citation) for s in (o.start, *inside)]
    after = o.end + dt.timedelta(days=1)
    resume = at(after)
    if resume is not None and all(v.start != after for v in out):
        out.append(dataclasses.replace(resume, start=after))
    return tuple(sorted(out, key=lambda v: v.start))


def load_scenario(path: Path | str, book: Rulebook) -> Scenario:
    """Read and check a scenario file against the rulebook."""
    path = Path(path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(str(path), 0, say("scenario_unreadable", detail=exc),
                                     say("scenario_unreadable.fix"))]) from exc  # fmt: skip
    return scenario_from_text(text, path.name, book)


def scenario_from_dict(data: dict[str, Any], book: Rulebook, file: str = "<inline>") -> Scenario:
    """A scenario written inline (tests, notebooks), checked exactly like a file."""
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    return scenario_from_text(text, file, book)


def scenario_from_text(text: str, file: str, book: Rulebook) -> Scenario:
    ctx = Collector(Path("."))
    try:
        data = load_yaml(text)
    except Exception as exc:  # yaml syntax errors carry their own position
        raise ScenarioError([yaml_problem(file, exc)]) from exc
    if not ctx.keys(data, file, ("id", "label"),
                    ("description", "standard", "parameters", "indicators_off",
                     "indicators_add"), say("what.scenario")):  # fmt: skip
        raise ScenarioError(ctx.problems)
    sid = str(data["id"])
    standard = data.get("standard")
    for key, kind, ok in (("id", "text", isinstance(data["id"], str | int)),
                          ("standard", "text", standard is None or isinstance(standard, str)),
                          ("indicators_off", "list",
                           isinstance(data.get("indicators_off") or [], list)),
                          ("parameters", "mapping", isinstance(data.get("parameters") or {}, dict))):  # fmt: skip
        if not ok:
            ctx.add(file, data.line_of(key), say("scenario_type", key=key,
                                                 kind=say(f"what.kind_{kind}")))  # fmt: skip
    if ctx.problems:
        raise ScenarioError(ctx.problems)
    if standard is not None and standard not in {v.id for v in book.versions}:
        ctx.add(file, data.line_of("standard"), say("unknown_standard", standard=standard),
                _hint(str(standard), [v.id for v in book.versions]))  # fmt: skip
    overrides = _overrides(ctx, file, sid, data.get("parameters"), book)
    extras = _extra_indicators(ctx, file, sid, data.get("indicators_add"), book)
    off = tuple(str(x) for x in (data.get("indicators_off") or ()))
    known = [r.id for r in book.indicators]
    if known and set(known) <= set(off) and not extras:
        ctx.add(file, data.line_of("indicators_off"), say("every_indicator_off"))
    for ind in off:
        if ind not in known:
            ctx.add(file, data.line_of("indicators_off"), say("unknown_indicator", id=ind),
                    _hint(ind, known))  # fmt: skip
    if ctx.problems:
        raise ScenarioError(ctx.problems)
    return Scenario(sid, bilingual(ctx, data["label"], file, "label"),
                    bilingual(ctx, data["description"], file, "description") if "description" in data
                    else {"vi": "", "en": ""}, str(standard) if standard else None, overrides, off,
                    file, hashlib.sha256(text.encode()).hexdigest()[:8], extras)  # fmt: skip


def _overrides(ctx: Collector, file: str, sid: str, section: Any, book: Rulebook
               ) -> tuple[Override, ...]:  # fmt: skip
    if section is None:
        return ()
    if not isinstance(section, YDict):
        ctx.add(file, getattr(section, "line", 0), say("parameters_mapping"),
                say("parameters_mapping.fix"))  # fmt: skip
        return ()
    out: list[Override] = []
    for full, dated in section.items():
        line = section.line_of(full)
        if ctx.full:  # enough problems to act on: the rest are counted, not searched
            ctx.add(file, line, "")
            continue
        name, _, key = str(full).partition(".")
        param = book.params.get(name)
        if param is None:
            ctx.add(file, line, say("unknown_parameter", name=name), _hint(name, list(book.params)))
            continue
        if key and not param.keyed_by:
            ctx.add(file, line, say("one_value_not_keyed", name=name),
                    say("one_value_not_keyed.fix", name=name))  # fmt: skip
            continue
        if key and key not in _DOMAINS[param.keyed_by]:
            ctx.add(file, line, say("not_a_key_of", key=key, field=param.keyed_by, name=name),
                    _hint(key, list(_DOMAINS[param.keyed_by])))  # fmt: skip
            continue
        if not isinstance(dated, YDict):
            ctx.add(file, line, say("dated_value", full=full), say("dated_value.fix"))
            continue
        for when, value in dated.items():
            vline = dated.line_of(when)
            span = _span(when)
            if span is None:
                ctx.add(file, vline, say("not_date_or_range", full=full, when=when),
                        say("not_date_or_range.fix"))  # fmt: skip
                continue
            start, end = span
            if end is not None and end < start:
                ctx.add(file, vline, say("range_reversed", full=full, end=end, start=start))
                continue
            if key:
                _check_value(ctx, file, vline, param, value, keyed=False)
                if param.at(start) is None:
                    first = min(v.start for v in param.values)
                    ctx.add(file, vline, say("no_value_to_change", name=name, start=start),
                            say("no_value_to_change.fix", first=first))  # fmt: skip
            else:
                _check_value(ctx, file, vline, param, value, keyed=bool(param.keyed_by))
            citation = Citation(f"scenario:{sid}", file, True, "scenario value, not law",
                                file, vline)  # fmt: skip
            out.append(Override(name, key or None, start, end, freeze(value), citation))
    return tuple(out)


def _span(key: Any) -> tuple[dt.date, dt.date | None] | None:
    if isinstance(key, dt.date):
        return key, None
    text = str(key)
    if RANGE_SEPARATOR in text:
        a, _, b = text.partition(RANGE_SEPARATOR)
        start, end = _as_date(a.strip()), _as_date(b.strip())
        return (start, end) if start is not None and end is not None else None
    start = _as_date(text)
    return (start, None) if start is not None else None


def _extra_indicators(ctx: Collector, file: str, sid: str, section: Any, book: Rulebook
                      ) -> tuple[Rule, ...]:  # fmt: skip
    if section is None:
        return ()
    if not isinstance(section, list):
        ctx.add(file, getattr(section, "line", 0), say("indicators_add_list"))
        return ()
    known = {r.id for r in book.indicators}
    out: list[Rule] = []
    for item in section:
        if not ctx.keys(item, file, ("id", "dimension", "label", "deprived_when"),
                        ("description",), say("what.extra_indicator")):  # fmt: skip
            continue
        rid, dim = str(item["id"]), str(item["dimension"])
        if rid in known or rid in {r.id for r in out}:
            ctx.add(file, item.line_of("id"), say("indicator_exists", id=rid),
                    say("indicator_exists.fix"))  # fmt: skip
        if dim not in book.dimensions:
            ctx.add(file, item.line_of("dimension"), say("unknown_dimension", dimension=dim),
                    _hint(dim, list(book.dimensions)))  # fmt: skip
        elif not rid.startswith(f"{dim}."):
            ctx.add(file, item.line_of("id"), say("id_dimension", id=rid),
                    say("id_dimension.fix", expected=f"{dim}.{rid.rsplit('.', 1)[-1]}"))  # fmt: skip
        try:
            node = c.parse_condition(item["deprived_when"], item.line_of("deprived_when"))
        except c.SyntaxProblem as exc:
            ctx.add(file, exc.line, exc.message, exc.suggestion)
            continue
        line = item.line_of("deprived_when")
        citation = Citation(f"scenario:{sid}", file, True,
                            "provincial indicator of a scenario, not law", file, line)  # fmt: skip
        out.append(Rule(rid, "indicator", "household", bilingual(ctx, item["label"], file, "label"),
                        bilingual(ctx, item["description"], file, "description")
                        if "description" in item else {"vi": "", "en": ""}, dim,
                        (Definition(EXTRA_START, None, node, citation),), file,
                        item.line))  # fmt: skip
    checker = Checker(ctx, book.params, book.facts, (*book.indicators, *out), book.statuses)
    for rule in out:
        definition = rule.definitions[0]
        checker.cond(definition.condition, "household", file, definition.citation.line, "rule")
    return tuple(out)


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _check_value(ctx: Collector, file: str, line: int, param: Parameter, value: Any,
                 keyed: bool) -> None:  # fmt: skip
    if keyed:
        keys = _DOMAINS[param.keyed_by]
        if not isinstance(value, dict) or tuple(value) != keys:
            ctx.add(file, line, say("keyed_needs_each", name=param.name, field=param.keyed_by),
                    say("keyed_needs_each.fix", keys=", ".join(keys),
                        one=f"{param.name}.{keys[0]}"))  # fmt: skip
            return
        scalars = list(value.values())
    else:
        scalars = [value]
    codes = _DOMAINS.get(param.codes_of, ())
    for s in scalars:
        check_scalar(ctx, file, line, param.name, param.type, s, codes)


def _hint(word: str, options: list[str]) -> Text:
    return suggest(word, options, fallback=say("known_ids", options=", ".join(options[:8])))


__all__ = ["Override", "Problem", "Scenario", "ScenarioError", "load_scenario",
           "scenario_from_dict"]
