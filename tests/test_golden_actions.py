"""Worked examples of the support actions, statuses and department names.

Every number is written from the decree or the plan in the YAML cases, never read from rules/.
A case builds one household from BASE_HOUSEHOLD / BASE_MEMBER (tests/helpers.py): rural,
1,000,000 VND per person, no deprivation, hence near-poor; ``deprived: 3`` makes it poor.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import default_rulebook
from engine.classify import BatchResult
from tests.helpers import frames, run_frames
from tests.test_golden import DEPRIVERS

GOLDEN = Path(__file__).parent / "golden"
RULES = Path(__file__).parent.parent / "rules"
CHILD = {"employment": None, "education": None, "in_school": True, "school_on_track": True,
         "stunted": False, "underweight": False}  # fmt: skip


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def run_case(case: dict[str, Any]) -> BatchResult:
    household = dict(case.get("household", {}))
    for extra in DEPRIVERS[: case.get("deprived", 0)]:
        household.update(extra)
    members = []
    for m in case.get("members", [{}]):
        m = dict(m)
        if m.pop("preset", None) == "child":
            m = {**CHILD, **m}
        members.append(m)
    hh, mem = frames([{"household": household, "members": members}])
    return run_frames(hh, mem, _date(case["as_of"]))


def _cases(folder: str, key: str) -> list[Any]:
    params = []
    for path in sorted((GOLDEN / folder).rglob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        for case in data["cases"]:
            params.append(pytest.param(data[key], case, id=f"{data[key]}: {case['name']}"))
    return params


def test_every_intervention_and_status_has_golden_cases() -> None:
    for folder, pattern in (("interventions", "*/*.yaml"), ("statuses", "*.yaml")):
        rules = {str(p.relative_to(RULES / folder)) for p in (RULES / folder).glob(pattern)}
        golden = {str(p.relative_to(GOLDEN / folder)) for p in (GOLDEN / folder).glob(pattern)}
        assert rules == golden, folder


@pytest.mark.parametrize(("action_id", "case"), _cases("interventions", "intervention"))
def test_intervention(action_id: str, case: dict[str, Any]) -> None:
    result = run_case(case)
    row = result.results.iloc[0]
    assert row["class"] != "invalid", row["error"]
    recs = result.recommendations
    mine = recs[recs["action_id"] == action_id]
    if case["expect"] == "not_fired":
        assert mine.empty, mine.to_dict("records")
        assert action_id not in str(row["recommendations"]).split("; ")
        return
    assert not mine.empty, (row["class"], row["reason"], row["recommendations"])
    assert action_id in str(row["recommendations"])
    if "named" in case:
        assert sorted(int(x) for x in mine["member_no"]) == case["named"]
    if "priority" in case:
        assert sorted(int(x) for x in mine.loc[mine["priority"], "member_no"]) == case["priority"]
    if "amount_vnd" in case:
        assert [int(x) for x in mine["amount_vnd"]] == case["amount_vnd"]
    if "first_year_vnd" in case:
        assert [int(x) for x in mine["first_year_vnd"]] == case["first_year_vnd"]
    if "department" in case:
        assert set(mine["department"]) == {case["department"]}
    if "plan_department" in case:
        assert set(mine["department_plan_name"]) == {case["plan_department"]}
    if "basis_contains" in case:
        assert all(case["basis_contains"] in b for b in mine["legal_basis"])
    if "text_contains" in case:
        assert all(case["text_contains"] in t for t in mine["action_text"])
    # Every recommendation says why, on what basis and who is responsible.
    assert (mine["trigger"] != "").all() and (mine["legal_basis"] != "").all()
    assert (mine["department"] != "").all() and (mine["plan_section"] != "").all()


@pytest.mark.parametrize(("status_id", "case"), _cases("statuses", "status"))
def test_status(status_id: str, case: dict[str, Any]) -> None:
    result = run_case(case)
    statuses = result.evaluation.statuses
    expect = case["expect"]
    if expect == "absent":
        assert status_id not in statuses
        return
    tri = statuses[status_id]
    codes = str(result.results.iloc[0]["statuses"]).split("; ")
    if isinstance(expect, list):  # member status: the members that hold it
        member_no = result.evaluator.columns["member"]["member_no"].values
        assert sorted(int(x) for x in member_no[tri.t]) == expect
        token = f"{status_id}[{','.join(str(x) for x in expect)}]"
        assert (token in codes) == bool(expect), codes
    else:
        state = "true" if tri.t[0] else "false" if tri.f[0] else "unknown"
        assert state == expect, result.results.iloc[0]["reason"]
        assert (status_id in codes) == (expect == "true")


def _department_cases() -> list[Any]:
    data = yaml.safe_load((GOLDEN / "departments.yaml").read_text("utf-8"))
    return [pytest.param(c, id=f"{c['code']}/{c.get('function', '')}@{c['as_of']}")
            for c in data["cases"]]  # fmt: skip


@pytest.mark.parametrize("case", _department_cases())
def test_department_name(case: dict[str, Any]) -> None:
    dep = default_rulebook().departments[case["code"]]
    name, citation = dep.name_at(_date(case["as_of"]), case.get("function", ""))
    assert name["vi"] == case["expect"]
    assert citation.source and citation.clause
    if "plan" in case:
        assert dep.plan_name["vi"] == case["plan"]


def test_department_codes_are_those_of_the_domain() -> None:
    assert list(default_rulebook().departments) == [
        "labour", "agriculture", "industry_trade", "health", "education", "construction",
        "information", "planning", "finance", "vbsp", "front", "local",
    ]  # fmt: skip
