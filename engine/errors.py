"""The one error tree of giamngheo, its exit codes, and ``suggest()`` for every "did you mean".

Every failure a user can cause is a ``GiamngheoError``: it carries a catalogue code, an exit
code and its message in Vietnamese and English (from ``data/errors.yaml``), and, for files with
several problems (a rulebook, a scenario), the list of problems with file, line, message and a
suggestion. The command line has one handler for the whole tree, so the same kind of failure
exits with the same code in every command:

====  ==========================================================================================
code  meaning
====  ==========================================================================================
0     done
1     the run finished and found a failure: the evaluators disagree, a replay differs, a golden
      case fails
2     the command cannot run on what it was given: a usage error, an input that cannot be read,
      an invalid scenario, an unknown household, an evaluation date outside every standard
3     the rulebook has problems
4     an output cannot be written
====  ==========================================================================================

This module is a leaf: it imports nothing of the project, so every layer may use it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

EXIT_OK = 0
EXIT_FAILED_CHECK = 1
EXIT_BAD_INPUT = 2
EXIT_BAD_RULES = 3
EXIT_OUTPUT = 4
EXIT_CODES = {
    EXIT_OK: "done",
    EXIT_FAILED_CHECK: "the run finished and found a failure (disagreement, replay, test)",
    EXIT_BAD_INPUT: "the command cannot run on what it was given (usage, input, scenario)",
    EXIT_BAD_RULES: "the rulebook has problems",
    EXIT_OUTPUT: "an output cannot be written",
}


class Text(str):
    """A message in English (the string itself) that carries its Vietnamese text in ``vi``."""

    vi: str

    def __new__(cls, en: str, vi: str | None = None) -> Text:
        obj = super().__new__(cls, en)
        obj.vi = en if vi is None else vi
        return obj


def vi_of(text: str) -> str:
    """The Vietnamese of a message (itself, for a plain string)."""
    return text.vi if isinstance(text, Text) else text


@cache
def problem_catalogue() -> dict[str, dict[str, str]]:
    """The texts of the problems of rulebooks, scenarios and golden files
    (``data/problems.yaml``), Vietnamese first."""
    path = Path(__file__).parent / "data" / "problems.yaml"
    data: dict[str, dict[str, str]] = yaml.safe_load(path.read_text("utf-8"))
    return data


def say(key: str, /, **fields: Any) -> Text:
    """A problem's text from the catalogue, in both languages; a field that is itself a ``Text``
    is written in each language."""
    entry = problem_catalogue()[key]
    en = entry["en"].format(**{k: str(v) for k, v in fields.items()})
    vi = entry["vi"].format(**{k: vi_of(v) if isinstance(v, str) else v
                               for k, v in fields.items()})  # fmt: skip
    return Text(en, vi)


def suggest(word: str, options: Iterable[str], *, fallback: str = "", n: int = 1) -> Text:
    """The one "did you mean" of the project: ``did you mean 'x'?`` (or ``'x', 'y'`` for
    ``n > 1``) when a close option exists, else ``fallback``."""
    close = close_matches(word, options, n=n)
    if not close:
        return fallback if isinstance(fallback, Text) else Text(fallback)
    return say("did_you_mean", options=", ".join(f"'{c}'" for c in close))


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """The messages of the error tree by code, Vietnamese first (``data/errors.yaml``)."""
    path = Path(__file__).parent / "data" / "errors.yaml"
    data: dict[str, dict[str, str]] = yaml.safe_load(path.read_text("utf-8"))
    return data


@dataclass(frozen=True)
class Problem:
    """One problem of a file with several: where it is, what it is and how to fix it. The
    message and suggestion are English; a ``Text`` carries the Vietnamese too."""

    file: str
    line: int
    message: str
    suggestion: str = ""

    def __str__(self) -> str:
        tail = f" ({self.suggestion})" if self.suggestion else ""
        return f"{self.file}:{self.line}: {self.message}{tail}"

    def vietnamese(self) -> str:
        tail = f" ({vi_of(self.suggestion)})" if self.suggestion else ""
        return f"{self.file}:{self.line}: {vi_of(self.message)}{tail}"

    def lines(self) -> list[str]:
        """The problem as printed: Vietnamese, then English (once when they are the same)."""
        vi, en = self.vietnamese(), str(self)
        return [vi, en] if vi != en else [en]


class GiamngheoError(Exception):
    """The base of every error a user can cause. ``code`` names the catalogue entry whose
    Vietnamese and English texts are filled with ``fields``."""

    exit_code = EXIT_BAD_INPUT
    code = "error"

    def __init__(self, code: str | None = None, /, *, problems: Sequence[Problem] = (),
                 **fields: Any) -> None:  # fmt: skip
        self.code = code or type(self).code
        self.fields = fields
        self.problems = list(problems)
        entry = catalogue().get(self.code) or catalogue()["error"]
        values = {k: "" if v is None else v for k, v in fields.items()}
        values.setdefault("count", len(self.problems))
        self.vi = entry["vi"].format(**values)
        self.en = entry["en"].format(**values)
        super().__init__(self.text())

    def text(self) -> str:
        """The message as printed: Vietnamese, English, then each problem on its own line."""
        lines = [self.vi, self.en] if self.vi != self.en else [self.vi]
        lines += [f"  {line}" for p in self.problems for line in p.lines()]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


class InputError(GiamngheoError):
    """Something the user gave cannot be used: a file, a value, an option (exit 2)."""

    exit_code = EXIT_BAD_INPUT
    code = "input"


class SurveyReadError(InputError):
    """The survey cannot be read at all; the message names the file and the fix."""

    code = "survey_unreadable"

    def __init__(self, path: str | Path, vi: str, en: str) -> None:
        self.path = str(path)
        super().__init__("survey_unreadable", path=self.path, detail_vi=vi, detail_en=en)
        self.detail_vi, self.detail_en = vi, en


class AsOfError(InputError, ValueError):
    """No standard is in force on the evaluation date (a ValueError too: a bad date value)."""

    code = "no_standard"


class HouseholdNotFound(InputError):
    code = "household_not_found"


class TraceError(InputError):
    """A trace that cannot be replayed (not a trace, another rulebook, edited inputs)."""

    code = "trace_invalid"


class RegistryError(InputError):
    """A registry of review rounds that cannot be used as asked (exit 2): not a registry, a
    newer schema, another process writing, a closed round, a date before the previous round's.
    A registry found altered is a ``CheckFailed`` (exit 1)."""

    code = "registry_error"


class RulebookError(GiamngheoError):
    """The rulebook has problems (exit 3); every problem is listed with file and line."""

    exit_code = EXIT_BAD_RULES
    code = "rulebook_invalid"

    def __init__(self, problems: Sequence[Problem], code: str | None = None, **fields: Any) -> None:
        super().__init__(code or type(self).code, problems=problems, **fields)


class ScenarioError(RulebookError):
    """Problems of a scenario file (exit 2: the scenario is the user's input). A RulebookError,
    so callers can catch either."""

    exit_code = EXIT_BAD_INPUT
    code = "scenario_invalid"


class GoldenCaseError(InputError):
    """A golden-case file that does not follow the golden schema."""

    code = "golden_invalid"

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__("golden_invalid", problems=problems)


class OutputError(GiamngheoError):
    """An output cannot be written (exit 4): a bad suffix, a directory, no permission, a full
    disk. Nothing half-written is left behind."""

    exit_code = EXIT_OUTPUT
    code = "output_failed"


class CheckFailed(GiamngheoError):
    """The run finished and found a failure (exit 1)."""

    exit_code = EXIT_FAILED_CHECK
    code = "check_failed"


class EngineError(Exception):
    """An internal failure of an evaluator (durable_rules compile or run): a bug, not the
    user's input. Reported with its cause; not part of the user-facing tree."""


class Finding(Exception):  # noqa: N818 - a signal, not an error that reaches anyone
    """Raised inside a reader at the first problem of one value or one node, and caught by its
    caller, which records it (a ``Problem`` of the file, or a row of the errors table) and goes
    on. Never reaches a user as such."""


def close_matches(word: str, options: Iterable[str], *, n: int = 1,
                  positional: bool = False) -> list[str]:
    """The options closest to ``word`` (difflib's ratio); ``positional`` prefers, among similar
    ones, those that differ in the fewest positions (a mistyped 0 for O in an id)."""
    choices = list(options)
    if not positional:
        return difflib.get_close_matches(str(word), choices, n=n)
    close = difflib.get_close_matches(str(word), choices, n=20, cutoff=0.6)
    close.sort(key=lambda k: (-sum(a == b for a, b in zip(k, word, strict=False)),
                              abs(len(k) - len(word)), k))  # fmt: skip
    return close[:n]
