"""The problem collector of the strict loader, and the small readers every rulebook file uses
(bilingual labels, ISO dates, citations, typed scalars). Every problem is collected with file,
line, message and a suggestion, so that all of them are reported at once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from engine.errors import Problem, Text, say, suggest
from engine.loader.yamlio import DuplicateKeyError, YamlLimitError, YDict, load_yaml
from engine.rulebook import Citation

MAX_PROBLEMS = 200  # problems listed at most; the rest of a file's are not searched
MAX_VALUE_DIGITS = 15  # a parameter's number, as a survey's (household_models.vocab.MAX_DIGITS)


def yaml_problem(file: str, exc: BaseException) -> Problem:
    """The problem of a YAML document that cannot be read (syntax, or a limit of its size)."""
    if isinstance(exc, YamlLimitError):
        return Problem(file, exc.line, say("yaml_too_large", detail=exc))
    if isinstance(exc, OSError | UnicodeDecodeError):
        return Problem(file, 0, say("file_unreadable", detail=exc))
    mark = getattr(exc, "problem_mark", None)
    return Problem(file, mark.line + 1 if mark is not None else 0, say("not_yaml", detail=exc))


class Collector:
    """Collects the problems of a load (or of a scenario) with where they are."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.more = 0

    def rel(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root.parent))
        except ValueError:
            return str(path)

    @property
    def full(self) -> bool:
        """Enough problems are listed: later ones are only counted (``more``)."""
        return len(self.problems) >= MAX_PROBLEMS

    def add(self, file: str, line: int, message: str, suggestion: str = "") -> None:
        if self.full:
            self.more += 1
            if self.more == 1:
                self.problems.append(Problem(file, line, say("more_problems")))
            return
        self.problems.append(Problem(file, line, message, suggestion))

    def read(self, path: Path) -> Any:
        try:
            return load_yaml(path.read_text("utf-8"))
        except DuplicateKeyError as exc:
            self.add(self.rel(path), exc.line, say("duplicate_key", key=exc.key),
                     say("duplicate_key.fix", first=exc.first))  # fmt: skip
        except Exception as exc:  # yaml syntax errors carry their own position
            self.problems.append(yaml_problem(self.rel(path), exc))
        return None

    def keys(self, obj: Any, file: str, required: tuple[str, ...], optional: tuple[str, ...],
             what: str | Text) -> bool:  # fmt: skip
        line = getattr(obj, "line", 0)
        if not isinstance(obj, dict):
            self.add(file, line, say("not_mapping", what=what))
            return False
        ok = True
        allowed = required + optional
        for key in obj:
            if key not in allowed:
                hint = suggest(key, allowed, fallback=say("allowed_keys", keys=", ".join(allowed)))
                self.add(file, obj.line_of(key) if isinstance(obj, YDict) else line,
                         say("unknown_key", key=key, what=what), hint)  # fmt: skip
                ok = False
        for key in required:
            if key not in obj:
                self.add(file, line, say("lacks_key", what=what, key=key))
                ok = False
        return ok


def bilingual(ctx: Collector, obj: Any, file: str, what: str | Text) -> dict[str, str]:
    if ctx.keys(obj, file, ("vi", "en"), (), what):
        return {"vi": str(obj["vi"]), "en": str(obj["en"])}
    return {"vi": "", "en": ""}


def date_of(ctx: Collector, obj: Any, key: str, file: str, line: int) -> dt.date | None:
    value = obj.get(key)
    if isinstance(value, dt.date):
        return value
    ctx.add(file, line, say("not_iso_date", key=key, value=repr(value)))
    return None


def citation(ctx: Collector, obj: YDict, file: str, sources: dict[str, Any]) -> Citation:
    source = str(obj.get("source", ""))
    if source not in sources:
        ctx.add(file, obj.line_of("source"), say("unknown_source", source=source),
                suggest(source, sources, fallback=say("unknown_source.fix")))  # fmt: skip
    provisional = obj.get("provisional", False)
    if not isinstance(provisional, bool):
        ctx.add(file, obj.line_of("provisional"), say("provisional_bool"))
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
        ctx.add(file, line, say("not_integer", name=name, value=repr(value)))
    elif ptype == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        ctx.add(file, line, say("not_number", name=name, value=repr(value)))
    elif ptype in ("integer", "number") and not (abs(value) < 10**MAX_VALUE_DIGITS):
        shown = f"{str(value)[:20]}…" if len(str(value)) > 20 else str(value)
        ctx.add(file, line, say("value_too_large", name=name, value=shown,
                                digits=MAX_VALUE_DIGITS))  # fmt: skip
    elif ptype == "codes":
        if not isinstance(value, list):
            ctx.add(file, line, say("codes_is_list", name=name))
            return
        for code in value:
            if code not in codes:
                ctx.add(file, line, say("not_valid_code", name=name, code=code),
                        suggest(str(code), list(codes)))  # fmt: skip



def check_no_overlap(ctx: Collector, file: str, rid: str, definitions: Sequence[Any]) -> None:
    """Dated definitions (sorted by start) must not overlap: each ends before the next begins."""
    for a, b in zip(definitions, definitions[1:], strict=False):
        if a.end is None or b.start <= a.end:
            until = say("no_end") if a.end is None else say("until", end=a.end)
            ctx.add(file, b.citation.line, say("definitions_overlap", rid=rid, start=a.start,
                                               until=until, next=b.start),
                    say("definitions_overlap.fix"))  # fmt: skip
