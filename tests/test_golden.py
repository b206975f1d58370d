"""Worked examples: the YAML golden cases under tests/golden/, run through the same runner as
``giamngheo test`` (engine/golden.py). The decree's numbers are written in the cases, never read
from rules/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from engine import default_rulebook
from engine.errors import GoldenCaseError
from engine.golden import describe_failure, load_cases, run_case
from tests.helpers import GOLDEN, RULES, run


def _cases() -> list[Any]:
    return [pytest.param(gc, id=gc.id) for gc in load_cases([GOLDEN])]


@pytest.mark.parametrize("gc", _cases())
def test_golden_case(gc: Any) -> None:
    book = default_rulebook()
    outcome = run_case(gc, book)
    assert outcome.passed, describe_failure(outcome, book, "en")


def test_every_rule_file_has_golden_cases() -> None:
    for folder, pattern in (("indicators", "*/*.yaml"), ("interventions", "*/*.yaml"),
                            ("statuses", "*.yaml")):  # fmt: skip
        rules = {str(p.relative_to(RULES / folder)) for p in (RULES / folder).glob(pattern)
                 if p.name != "dimensions.yaml"}  # fmt: skip
        golden = {str(p.relative_to(GOLDEN / folder)) for p in (GOLDEN / folder).glob(pattern)}
        assert rules == golden, folder


def test_every_kind_of_case_is_there() -> None:
    kinds = {gc.kind for gc in load_cases([GOLDEN])}
    assert kinds == {"indicator", "classification", "status", "intervention", "department",
                     "scenario"}  # fmt: skip


def test_department_codes_are_those_of_the_domain() -> None:
    assert list(default_rulebook().departments) == [
        "labour", "agriculture", "industry_trade", "health", "education", "construction",
        "information", "planning", "finance", "vbsp", "front", "local",
    ]  # fmt: skip


def _write(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_a_wrong_expectation_fails_with_the_household_and_the_explanation(tmp_path: Path) -> None:
    # Rural 1,500,000 VND with 3 deprivations is poor (Decree 07/2021 Art. 3); expect near_poor.
    path = _write(tmp_path / "mine.yaml", {"cases": [
        {"name": "wrong on purpose", "as_of": "2025-06-30", "deprived": 3,
         "household": {"income_per_capita_vnd": 1500000}, "expect": "near_poor"}]})  # fmt: skip
    book = default_rulebook()
    [outcome] = [run_case(gc, book) for gc in load_cases([path])]
    assert not outcome.passed
    text = describe_failure(outcome, book, "en")
    assert "expected 'near_poor', got 'poor'" in text
    assert "income_per_capita_vnd': 1500000" in text and "EXPLANATION" in text.upper()
    assert "DEPRIVATION INDICATORS" in text  # explain's own text, in English


def test_giamngheo_test_command(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yaml", {"indicator": "information.telecom", "cases": [
        {"name": "no phone", "as_of": "2025-06-30", "household": {"uses_telecom": False},
         "expect": "deprived"}]})  # fmt: skip
    code, out = run("test", str(good))
    assert code == 0 and "1 passed, 0 failed" in out, out
    bad = _write(tmp_path / "bad.yaml", {"indicator": "information.telecom", "cases": [
        {"name": "no phone", "as_of": "2025-06-30", "household": {"uses_telecom": False},
         "expect": "ok"}]})  # fmt: skip
    code, out = run("test", str(good), str(bad))
    assert code == 1 and "1 passed, 1 failed" in out and "KHÔNG ĐẠT" in out and "bad.yaml" in out
    assert "cần 'ok', nhận được 'deprived'" in out  # Vietnamese by default
    code, out = run("test", str(bad), "--lang", "en", "-q")
    assert code == 1 and "FAIL" in out and "expected 'ok', got 'deprived'" in out
    assert "explanation" not in out
    code, out = run("test", str(GOLDEN / "indicators" / "water"), "-q")
    assert code == 0, out


def test_a_file_off_the_schema_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "typo.yaml", {"indicator": "water.source", "cases": [
        {"name": "x", "as_of": "2025-06-30", "expct": "ok"}]})  # fmt: skip
    with pytest.raises(GoldenCaseError) as info:
        load_cases([path])
    assert "expct" in str(info.value) and "'expect' is a required property" in str(info.value)
    code, out = run("test", str(path))
    assert code == 2 and "typo.yaml" in out
