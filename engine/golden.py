"""Golden cases: worked examples in YAML, run against a rulebook (``giamngheo test``).

One schema for every golden file (``schemas/golden-1.json``, documented in
``docs/golden-cases.md``): a file names what it tests (``indicator``, ``status`` or
``intervention`` with an id; or nothing, for the classification, department-name and scenario
cases) and lists ``cases``. A household case builds one household from the base household of
``data/golden.yaml`` with the case's ``household`` and ``members`` laid over it and ``deprived``
deprivations added, classifies it on ``as_of`` through the real reader → parser → evaluator path,
and compares what it ``expect``s. The numbers in the cases are written from the decree, never
read from the rulebook under test.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from engine.errors import GoldenCaseError, InputError, Problem, Text, say, vi_of
from engine.results.classify import BatchResult, classify
from engine.rulebook import Rulebook
from engine.text import words_file
from household_models.parse import parse_batch
from household_models.readers import RawBatch, SourceTable

SCHEMA_PATH = Path(__file__).resolve().parent / "schemas" / "golden-1.json"
SUBJECTS = ("indicator", "status", "intervention")


@cache
def base() -> dict[str, Any]:
    """The base household, member, member presets and deprivers of ``data/golden.yaml``."""
    data: dict[str, Any] = words_file("golden.yaml")
    return data


def frames(cases: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households and members frames from cases ``{household: {...}, members: [{...}]}``:
    household values override the base household (None removes a value), each member the
    base member; households without an id get ``HH-<n>``."""
    hh_rows, mem_rows = [], []
    for i, case in enumerate(cases):
        hh = {"household_id": f"HH-{i:05d}", **base()["household"], **case.get("household", {})}
        hh_rows.append(hh)
        for j, m in enumerate(case.get("members", [{}])):
            mem_rows.append({**base()["member"], "member_no": j + 1, **m,
                             "household_id": hh["household_id"]})  # fmt: skip
    return pd.DataFrame(hh_rows, dtype=object), pd.DataFrame(mem_rows, dtype=object)


def classify_frames(hh: pd.DataFrame, mem: pd.DataFrame, book: Rulebook,
                    as_of: dt.date) -> BatchResult:  # fmt: skip
    """Classify households and members frames through the reader's path (file names
    ``households`` and ``members``)."""
    raw = RawBatch(SourceTable(hh, "households", "", 2), SourceTable(mem, "members", "", 2))
    return classify(parse_batch(raw), book, as_of)


@dataclass
class GoldenCase:
    file: str
    kind: str  # indicator | status | intervention | classification | department | scenario
    subject: str  # the id tested ('' for classification and scenario cases)
    case: dict[str, Any]
    defaults: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        if self.kind == "department":
            return f"{self.case['code']}/{self.case.get('function', '')}@{self.case['as_of']}"
        return str(self.case.get("name", ""))

    @property
    def id(self) -> str:
        return f"{self.subject}: {self.name}" if self.subject else self.name

    @property
    def as_of(self) -> dt.date:
        value = self.case.get("as_of", self.defaults.get("as_of"))
        if value is None:
            raise GoldenCaseError([Problem(self.file, 0, say("golden_no_as_of", name=self.name),
                                           say("golden_no_as_of.fix"))])
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))

    def household(self) -> dict[str, Any]:
        """The case's household and members as laid over the base household."""
        household = dict(self.case.get("household") or {})
        for extra in base()["deprivers"][: self.case.get("deprived", 0)]:
            household.update(extra)
        members = []
        for m in self.case.get("members") or [{}]:
            m = dict(m)
            preset = m.pop("preset", None)
            members.append({**base()["presets"][preset], **m} if preset else m)
        return {"household": household, "members": members}


@dataclass
class Outcome:
    """What one golden case found: the differences (none when it passed)."""

    case: GoldenCase
    failures: list[Text]
    result: BatchResult | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


# -- reading ------------------------------------------------------------------------------------


def _kind(data: dict[str, Any], case: dict[str, Any]) -> tuple[str, str]:
    for subject in SUBJECTS:
        if subject in data:
            return subject, str(data[subject])
    if "code" in case:
        return "department", ""
    if "scenario" in case:
        return "scenario", ""
    return "classification", ""


def _schema_problems(data: Any, file: str) -> list[Problem]:
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for error in sorted(validator.iter_errors(_jsonable(data)), key=lambda e: list(e.path)):
        where = "/".join(str(p) for p in error.path) or "(top)"
        out.append(Problem(file, 0, say("golden_schema", where=where, detail=error.message),
                           say("golden_schema.see")))  # fmt: skip
    return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def golden_files(paths: Iterable[Path | str]) -> list[Path]:
    """The YAML files named, and those under the folders named, in order."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(p.rglob("*.yaml")))
        elif p.exists():
            out.append(p)
        else:
            raise InputError("golden_none", paths=p)
    return out


def load_cases(paths: Iterable[Path | str]) -> list[GoldenCase]:
    """Every case of the golden files under ``paths``, checked against the golden schema."""
    names = list(paths)
    files = golden_files(names)
    if not files:
        raise InputError("golden_none", paths=", ".join(map(str, names)))
    cases: list[GoldenCase] = []
    problems: list[Problem] = []
    for path in files:
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            problems.append(Problem(str(path), 0, say("golden_unreadable", detail=exc)))
            continue
        found = _schema_problems(data, str(path))
        if found:
            problems.extend(found)
            continue
        defaults = {k: v for k, v in data.items() if k == "as_of"}
        for case in data["cases"]:
            kind, subject = _kind(data, case)
            cases.append(GoldenCase(str(path), kind, subject, case, defaults))
    if problems:
        raise GoldenCaseError(problems)
    return cases


# -- running ------------------------------------------------------------------------------------


def run_case(gc: GoldenCase, book: Rulebook) -> Outcome:
    """Run one golden case against ``book``."""
    if gc.kind == "department":
        return Outcome(gc, _department(gc, book))
    if gc.kind == "scenario":
        return Outcome(gc, _scenario(gc, book))
    hh, mem = frames([gc.household()])
    result = classify_frames(hh, mem, book, gc.as_of)
    row = result.results.iloc[0]
    if gc.kind != "classification" and row["class"] == "invalid":
        return Outcome(gc, [say("golden.invalid", error=row["error"])], result)
    check = {"indicator": _indicator, "classification": _classification, "status": _status,
             "intervention": _intervention}[gc.kind]  # fmt: skip
    return Outcome(gc, check(gc, result), result)


def run(paths: Iterable[Path | str], book: Rulebook) -> list[Outcome]:
    """Run every golden case under ``paths``."""
    return [run_case(gc, book) for gc in load_cases(paths)]


def _differs(what: str, expected: Any, actual: Any) -> list[Text]:
    return [] if expected == actual else [say("golden.differs", what=what, expected=repr(expected),
                                              actual=repr(actual))]  # fmt: skip


def _indicator(gc: GoldenCase, result: BatchResult) -> list[Text]:
    results = result.results
    if gc.case["expect"] == "absent":
        return [] if gc.subject not in results.columns else [
            say("golden.in_force", id=gc.subject, when=gc.as_of)]
    if gc.subject not in results.columns:
        return [say("golden.not_in_force", id=gc.subject, expected=repr(gc.case["expect"]))]
    return _differs(gc.subject, gc.case["expect"], results.iloc[0][gc.subject])


def _classification(gc: GoldenCase, result: BatchResult) -> list[Text]:
    row = result.results.iloc[0]
    out = _differs("class", gc.case["expect"], row["class"])
    if "deprived" in gc.case and gc.case["expect"] != "incomplete" and not out:
        out += _differs("deprivation_count", gc.case["deprived"], int(row["deprivation_count"]))
    return out


def _status(gc: GoldenCase, result: BatchResult) -> list[Text]:
    statuses = result.evaluation.statuses
    expect = gc.case["expect"]
    if expect == "absent":
        return [] if gc.subject not in statuses else [say("golden.absent", id=gc.subject)]
    if gc.subject not in statuses:
        return [say("golden.not_in_force", id=gc.subject, expected=repr(expect))]
    tri = statuses[gc.subject]
    codes = str(result.results.iloc[0]["statuses"]).split("; ")
    if isinstance(expect, list):  # a member status: the members that hold it
        member_no = result.evaluator.columns["member"]["member_no"].values
        out = _differs("members", expect, sorted(int(x) for x in member_no[tri.t]))
        token = f"{gc.subject}[{','.join(str(x) for x in expect)}]"
        if (token in codes) != bool(expect):
            out.append(say("golden.status_column", codes=codes, token=repr(token),
                           presence=say("golden.present" if expect else "golden.missing")))  # fmt: skip
        return out
    state = "true" if tri.t[0] else "false" if tri.f[0] else "unknown"
    out = _differs(gc.subject, expect, state)
    if (gc.subject in codes) != (expect == "true"):
        out.append(say("golden.status_column", codes=codes, token=repr(gc.subject),
                       presence=say("golden.present" if expect == "true" else "golden.missing")))  # fmt: skip
    return out


def _intervention(gc: GoldenCase, result: BatchResult) -> list[Text]:
    case, aid = gc.case, gc.subject
    row = result.results.iloc[0]
    recs = result.recommendations
    mine = recs[recs["action_id"] == aid]
    listed = aid in str(row["recommendations"]).split("; ") or f"{aid}[" in str(
        row["recommendations"])  # fmt: skip
    if case["expect"] == "not_fired":
        if not mine.empty or listed:
            return [say("golden.fired", id=aid, recommendations=row["recommendations"])]
        return []
    if mine.empty or not listed:
        return [say("golden.not_fired", id=aid, cls=row["class"],
                    recommendations=row["recommendations"] or say("golden.none"))]  # fmt: skip
    out: list[Text] = []
    if "named" in case:
        out += _differs("members named", case["named"], sorted(int(x) for x in mine["member_no"]))
    if "priority" in case:
        out += _differs("priority", case["priority"],
                        sorted(int(x) for x in mine.loc[mine["priority"], "member_no"]))  # fmt: skip
    if "amount_vnd" in case:
        out += _differs("amount_vnd", case["amount_vnd"], [int(x) for x in mine["amount_vnd"]])
    if "first_year_vnd" in case:
        out += _differs("first_year_vnd", case["first_year_vnd"],
                        [int(x) for x in mine["first_year_vnd"]])  # fmt: skip
    if "department" in case:
        out += _differs("department", {case["department"]}, set(mine["department"]))
    if "plan_department" in case:
        out += _differs("department_plan_name", {case["plan_department"]},
                        set(mine["department_plan_name"]))  # fmt: skip
    if "basis_contains" in case and not all(case["basis_contains"] in b for b in mine["legal_basis"]):
        out.append(say("golden.contains", column="legal_basis",
                       expected=repr(case["basis_contains"]), actual=list(mine["legal_basis"])))  # fmt: skip
    if "text_contains" in case and not all(case["text_contains"] in t for t in mine["action_text"]):
        out.append(say("golden.contains", column="action_text",
                       expected=repr(case["text_contains"]), actual=list(mine["action_text"])))  # fmt: skip
    # Every recommendation says why, on what basis and who is responsible.
    for column in ("trigger", "legal_basis", "department", "plan_section"):
        if (mine[column] == "").any():
            out.append(say("golden.empty", column=column))
    return out


def _department(gc: GoldenCase, book: Rulebook) -> list[Text]:
    case = gc.case
    dep = book.departments.get(case["code"])
    if dep is None:
        return [say("golden.no_department", code=case["code"])]
    name, citation = dep.name_at(gc.as_of, case.get("function", ""))
    out = _differs("name", case["expect"], name["vi"])
    if not (citation.source and citation.clause):
        out.append(say("golden.no_citation"))
    if "plan" in case:
        out += _differs("plan name", case["plan"], dep.plan_name["vi"])
    return out


def _scenario(gc: GoldenCase, book: Rulebook) -> list[Text]:
    from engine.simulation.simulate import simulate

    hh, mem = frames([gc.household()])
    case, expect = gc.case, gc.case["expect"]
    sim = simulate((hh, mem), [case["scenario"]], gc.as_of, book=book)
    after = sim.scenarios[case["scenario"]["id"]]
    out = _differs("classes (baseline, scenario)", (expect["baseline"], expect["scenario"]),
                   (sim.baseline.codes[0], after.codes[0]))  # fmt: skip
    if "indicator" in expect:
        ind = expect["indicator"]
        if "baseline_indicator" in expect:
            out += _differs(f"{ind} (baseline)", expect["baseline_indicator"],
                            sim.baseline.indicator_states(ind)[0])  # fmt: skip
        elif ind in sim.baseline.evaluation.indicators:
            out.append(say("golden.in_baseline", id=ind))
        out += _differs(f"{ind} (scenario)", expect["scenario_indicator"],
                        after.indicator_states(ind)[0])  # fmt: skip
    out += _differs("movers", int(expect["baseline"] != expect["scenario"]),
                    len(sim.tables["movers"]))  # fmt: skip
    return out


# -- reporting ----------------------------------------------------------------------------------


def _in(text: str, lang: str) -> str:
    return vi_of(text) if lang == "vi" else str(text)


def summary(outcomes: list[Outcome], lang: str = "vi") -> str:
    """``N passed, M failed`` (``N đạt, M không đạt``)."""
    failed = sum(not o.passed for o in outcomes)
    return _in(say("golden.summary", passed=len(outcomes) - failed, failed=failed), lang)


def describe_failure(outcome: Outcome, book: Rulebook, lang: str = "vi",
                     explain: bool = True) -> str:  # fmt: skip
    """A failing case for people: where it is, the household, what differs, and the
    explanation of the decision (``explain``'s text)."""
    gc = outcome.case
    lines = [_in(say("golden.fail", file=gc.file, id=gc.id, when=gc.as_of), lang)]
    if gc.kind not in ("department",):
        built = gc.household()
        household = built["household"] or say("golden.base_household")
        lines.append("  " + _in(say("golden.household", household=household), lang))
        lines.append("  " + _in(say("golden.members", members=built["members"]), lang))
    lines += [f"  {_in(f, lang)}" for f in outcome.failures]
    if outcome.result is not None and explain:
        from engine.trace.build import build_trace
        from engine.trace.render import render_text

        hh, mem = frames([gc.household()])
        raw = RawBatch(SourceTable(hh, "households", "", 2), SourceTable(mem, "members", "", 2))
        trace = build_trace(parse_batch(raw), book, gc.as_of, "HH-00000").trace
        lines.append("  " + _in(say("golden.explanation"), lang))
        lines += ["    " + line for line in render_text(trace, book.sources, lang).splitlines()]
    return "\n".join(lines)
