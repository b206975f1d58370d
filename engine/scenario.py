"""Policy scenarios: overlays on the rulebook, validated in full before they apply.

A scenario file (YAML)::

    id: rural_line_1800k
    label: {vi: "...", en: "..."}
    description: {vi: "...", en: "..."}          # optional
    standard: vn-2027                            # optional: apply another standard's rules today
    parameters:                                  # optional: new values from a date
      income_line_vnd: {2025-01-01: {rural: 1800000, urban: 2000000}}
    indicators_off: [information.devices]        # optional: indicators that no longer count

The baseline rulebook is never edited: ``apply`` returns the resolved rulebook of the scenario on
the evaluation date. Every problem (unknown parameter or indicator with a suggestion, a value of
the wrong type or keys, an unknown standard) is reported at once, with file and line.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.rulebook import DOMAIN_CODES as _DOMAINS
from engine.rulebook import (
    Citation,
    Parameter,
    ParamValue,
    Problem,
    Resolved,
    Rulebook,
    RulebookError,
    _check_scalar,
    _Ctx,
    _freeze,
    _label,
)
from engine.yamlio import YDict


@dataclass(frozen=True)
class Scenario:
    id: str
    label: dict[str, str]
    description: dict[str, str]
    standard: str | None
    parameters: dict[str, tuple[ParamValue, ...]]
    indicators_off: tuple[str, ...]
    file: str
    digest: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    def apply(self, book: Rulebook, as_of: dt.date) -> Resolved:
        """The scenario's rulebook in force on ``as_of`` (the baseline is not touched)."""
        params = dict(book.params)
        for name, values in self.parameters.items():
            base = params[name]
            kept = tuple(v for v in base.values if all(v.start != n.start for n in values))
            merged = tuple(sorted((*kept, *values), key=lambda v: v.start))
            params[name] = dataclasses.replace(base, values=merged)
        indicators = tuple(r for r in book.indicators if r.id not in self.indicators_off)
        overlay = dataclasses.replace(book, params=params, indicators=indicators)
        when = as_of
        if self.standard is not None:  # that standard's rules, evaluated on as_of
            version = next(v for v in book.versions if v.id == self.standard)
            if not version.start <= as_of <= version.end:
                when = version.start
        resolved = overlay.resolve(when)
        from engine.tablecheck import check_classification_table

        problems = check_classification_table(dataclasses.replace(resolved, as_of=when))
        if problems:
            raise RulebookError([Problem(self.file, 0, p) for p in problems])
        return dataclasses.replace(
            resolved, as_of=as_of,
            rulebook_version=f"{resolved.rulebook_version}+{self.id}@{self.digest}",
        )  # fmt: skip


def load_scenario(path: Path | str, book: Rulebook) -> Scenario:
    path = Path(path)
    ctx = _Ctx(path.parent)
    file = path.name
    text = path.read_text("utf-8")
    data = ctx.read(path)
    if ctx.problems:
        raise RulebookError(ctx.problems)
    if not ctx.keys(data, file, ("id", "label"),
                    ("description", "standard", "parameters", "indicators_off"), "a scenario"):  # fmt: skip
        raise RulebookError(ctx.problems)
    standard = data.get("standard")
    if standard is not None and standard not in {v.id for v in book.versions}:
        ctx.add(file, data.line_of("standard"), f"unknown standard '{standard}'",
                _hint(str(standard), [v.id for v in book.versions]))  # fmt: skip
    params: dict[str, tuple[ParamValue, ...]] = {}
    for name, dated in (data.get("parameters") or {}).items():
        line = data["parameters"].line_of(name)
        param = book.params.get(name)
        if param is None:
            ctx.add(file, line, f"unknown parameter '{name}'", _hint(name, list(book.params)))
            continue
        if not isinstance(dated, YDict):
            ctx.add(file, line, f"{name}: write {{DATE: VALUE}}", "e.g. {2026-01-01: 1800000}")
            continue
        values: list[ParamValue] = []
        for key, value in dated.items():
            vline = dated.line_of(key)
            start = _as_date(key)
            if start is None:
                ctx.add(file, vline, f"{name}: '{key}' is not an ISO date (YYYY-MM-DD)")
                continue
            _check_value(ctx, file, vline, param, value)
            values.append(ParamValue(start, _freeze(value),
                                     Citation(f"scenario:{data['id']}", file, True,
                                              "scenario value, not law", file, vline)))  # fmt: skip
        params[name] = tuple(values)
    off = tuple(str(x) for x in (data.get("indicators_off") or ()))
    known = [r.id for r in book.indicators]
    for ind in off:
        if ind not in known:
            ctx.add(file, data.line_of("indicators_off"), f"unknown indicator '{ind}'",
                    _hint(ind, known))  # fmt: skip
    if ctx.problems:
        raise RulebookError(ctx.problems)
    return Scenario(str(data["id"]), _label(ctx, data["label"], file, "label"),
                    _label(ctx, data["description"], file, "description") if "description" in data
                    else {"vi": "", "en": ""}, str(standard) if standard else None, params, off,
                    file, hashlib.sha256(text.encode()).hexdigest()[:8])  # fmt: skip


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _check_value(ctx: _Ctx, file: str, line: int, param: Parameter, value: Any) -> None:
    if param.keyed_by:
        keys = _DOMAINS[param.keyed_by]
        if not isinstance(value, dict) or tuple(value) != keys:
            ctx.add(file, line, f"{param.name} needs a value for each {param.keyed_by}",
                    f"keys {', '.join(keys)} in that order")  # fmt: skip
            return
        scalars = list(value.values())
    else:
        scalars = [value]
    codes = _DOMAINS.get(param.codes_of, ())
    for s in scalars:
        _check_scalar(ctx, file, line, param.name, param.type, s, codes)


def _hint(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1)
    return f"did you mean '{close[0]}'?" if close else f"known: {', '.join(options[:8])}…"


__all__ = ["Problem", "Scenario", "load_scenario"]
