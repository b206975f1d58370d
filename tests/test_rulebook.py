"""The rulebook loads strictly: each kind of mistake is an error naming file, line and a fix."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from engine.rulebook import RulebookError, boundary_dates, load_rulebook
from engine.tablecheck import check_classification_table

RULES = Path(__file__).parent.parent / "rules"


def test_bundled_rulebook_loads() -> None:
    book = load_rulebook()
    r = book.resolve(dt.date(2025, 6, 30))
    assert len(r.indicators) == 12
    assert r.version.id == "vn-2022"
    assert book.resolve(dt.date(2027, 1, 1)).version.id == "vn-2027"
    with pytest.raises(ValueError, match="no standard"):
        book.resolve(dt.date(2020, 1, 1))


def test_classification_table_has_no_gap_or_overlap_on_every_date() -> None:
    book = load_rulebook(check_table=False)
    dates = boundary_dates(book)
    assert dt.date(2027, 1, 1) in dates and len(dates) >= 10
    for when in dates:
        assert check_classification_table(book.resolve(when)) == []


@pytest.fixture()
def rules(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(RULES, target, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return target


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), "utf-8")


def problems(root: Path) -> str:
    with pytest.raises(RulebookError) as info:
        load_rulebook(root)
    return str(info.value)


def test_duplicate_key(rules: Path) -> None:
    edit(
        rules / "indicators/water/source.yaml",
        "dimension: water",
        "dimension: water\ndimension: water",
    )
    assert "indicators/water/source.yaml:3: duplicate key 'dimension'" in problems(rules)


def test_unknown_key_with_suggestion(rules: Path) -> None:
    edit(rules / "indicators/water/latrine.yaml", "description:", "descripton:")
    out = problems(rules)
    assert "water/latrine.yaml:4: unknown key 'descripton'" in out
    assert "did you mean 'description'?" in out


def test_dangling_parameter(rules: Path) -> None:
    edit(
        rules / "indicators/housing/area.yaml",
        "param: min_area_per_person_m2",
        "param: min_area_per_persn_m2",
    )
    out = problems(rules)
    assert "unknown parameter 'min_area_per_persn_m2'" in out
    assert "did you mean 'min_area_per_person_m2'?" in out


def test_field_the_models_lack(rules: Path) -> None:
    edit(rules / "indicators/information/telecom.yaml", "field: uses_telecom", "field: uses_telcom")
    out = problems(rules)
    assert "information/telecom.yaml" in out
    assert "the household model has no field 'uses_telcom'" in out
    assert "did you mean 'uses_telecom'?" in out


def test_member_field_outside_a_quantifier(rules: Path) -> None:
    edit(
        rules / "indicators/information/telecom.yaml",
        "field: uses_telecom",
        "field: health_insurance",
    )
    assert "is a member field; read it inside any_member" in problems(rules)


def test_overlapping_dates(rules: Path) -> None:
    edit(rules / "indicators/health/nutrition.yaml", "    to: 2026-12-31\n", "    to: 2027-03-31\n")
    out = problems(rules)
    assert "health/nutrition.yaml" in out and "definitions of health.nutrition overlap" in out


def test_same_start_date_twice(rules: Path) -> None:
    edit(
        rules / "parameters/deprivation.yaml",
        "      - from: 2027-01-01\n        value: 3",
        "      - from: 2021-03-15\n        value: 3",
    )
    assert "two values of deprivation_cutoff start on 2021-03-15" in problems(rules)


def test_wrong_type_in_condition(rules: Path) -> None:
    edit(
        rules / "indicators/water/source.yaml",
        "param: clean_water_sources",
        "param: hygienic_latrines",
    )
    assert "'in' compares code:water_source with codes:latrine" in problems(rules)


def test_coverage_must_list_every_provisional_fact(rules: Path) -> None:
    edit(rules / "coverage.yaml", "  - parameter:min_area_per_person_m2@2021-03-15\n", "")
    assert (
        "provisional fact 'parameter:min_area_per_person_m2@2021-03-15' is not listed"
        in problems(rules)
    )


def test_overlap_in_the_classification_table_is_caught(rules: Path) -> None:
    # A deliberately wrong operator: near_poor with "le" instead of "lt" overlaps poor at 3.
    edit(
        rules / "classification.yaml",
        "        - lt: [{deprivation_count: indicators}",
        "        - le: [{deprivation_count: indicators}",
    )
    out = problems(rules)
    assert "overlap on 2021-03-15" in out and "deprivations=3" in out


def test_gap_in_the_classification_table_is_caught(rules: Path) -> None:
    edit(
        rules / "classification.yaml",
        "        - fact: income_at_or_below_ceiling",
        "        - lt: [{field: income_per_capita_vnd}, {param: average_ceiling_vnd, by: {field: area}}]",
    )
    assert "gap on 2021-03-15" in problems(rules)
