"""The problem collector of the strict loader, and the small readers every rulebook file uses
(bilingual labels, ISO dates, citations, typed scalars). Every problem is collected with file,
line, message and a suggestion, so that all of them are reported at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import Problem, suggest
from engine.loader.yamlio import DuplicateKeyError, YDict, load_yaml
from engine.rulebook import Citation


class Collector:
    """Collects the problems of a load (or of a scenario) with where they are."""

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
                hint = suggest(key, allowed, fallback=f"allowed: {', '.join(allowed)}")
                self.add(file, obj.line_of(key) if isinstance(obj, YDict) else line,
                         f"unknown key '{key}' in {what}", hint)  # fmt: skip
                ok = False
        for key in required:
            if key not in obj:
                self.add(file, line, f"{what} lacks the key '{key}'")
                ok = False
        return ok


def bilingual(ctx: Collector, obj: Any, file: str, what: str) -> dict[str, str]:
    if ctx.keys(obj, file, ("vi", "en"), (), what):
        return {"vi": str(obj["vi"]), "en": str(obj["en"])}
    return {"vi": "", "en": ""}


def date_of(ctx: Collector, obj: Any, key: str, file: str, line: int) -> dt.date | None:
    value = obj.get(key)
    if isinstance(value, dt.date):
        return value
    ctx.add(file, line, f"'{key}' must be an ISO date (YYYY-MM-DD), got {value!r}")
    return None


def citation(ctx: Collector, obj: YDict, file: str, sources: dict[str, Any]) -> Citation:
    source = str(obj.get("source", ""))
    if source not in sources:
        ctx.add(file, obj.line_of("source"), f"unknown source '{source}'",
                suggest(source, sources, fallback="add it to rules/sources.yaml"))  # fmt: skip
    provisional = obj.get("provisional", False)
    if not isinstance(provisional, bool):
        ctx.add(file, obj.line_of("provisional"), "'provisional' must be true or false")
        provisional = True
    return Citation(source, str(obj.get("clause", "")), provisional, str(obj.get("note", "")),
                    file, obj.line)  # fmt: skip


CITATION_KEYS = ("source", "clause", "provisional", "note")


def freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): freeze(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def check_scalar(ctx: Collector, file: str, line: int, name: str, ptype: str, value: Any,
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
                    suggest(str(code), list(codes)),
                )



def check_no_overlap(ctx: Collector, file: str, rid: str, definitions: Sequence[Any]) -> None:
    """Dated definitions (sorted by start) must not overlap: each ends before the next begins."""
    for a, b in zip(definitions, definitions[1:], strict=False):
        if a.end is None or b.start <= a.end:
            ctx.add(file, b.citation.line, f"definitions of {rid} overlap: one from {a.start} "
                    f"{'has no end' if a.end is None else f'to {a.end}'}, the next from {b.start}",
                    "give the earlier one a 'to' date before the later 'from'")  # fmt: skip
