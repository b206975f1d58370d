"""The rulebook loads strictly: each kind of mistake is an error naming file, line and a fix."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from engine.loader import RulebookError, load_rulebook
from engine.loader.tableproof import check_classification_table
from engine.rulebook import boundary_dates

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


# -- statuses, interventions and departments ----------------------------------------------------

ACTION_MISTAKES = [
    pytest.param("interventions/water/clean_water.yaml", "lead: agriculture", "lead: agricultur",
                 "clean_water.yaml:7: unknown department code 'agricultur' (did you mean "
                 "'agriculture'?)", id="unknown department"),
    pytest.param("interventions/cause/social_protection.yaml", "function: social_protection",
                 "function: social_protect", "unknown function 'social_protect'",
                 id="unknown function"),
    pytest.param("interventions/cause/social_protection.yaml", "status: without_working_capacity",
                 "status: without_capacity", "unknown status 'without_capacity'",
                 id="unknown status"),
    pytest.param("interventions/water/clean_water.yaml", "indicator: water.source",
                 "indicator: water.sources", "unknown indicator 'water.sources' (did you mean "
                 "'water.source'?)", id="unknown indicator"),
    pytest.param("interventions/information/telecom_support.yaml",
                 "remains.\"\n    when:\n      all:\n        - in: [{field: class}, [poor, near_poor]]"
                 "\n        - indicator: information.telecom",
                 "remains.\"\n    when:\n      all:\n        - in: [{field: class}, [poor, near_poor]]"
                 "\n        - indicator: information.devices",
                 "reads indicator 'information.devices', which is not in force on 2027-01-01",
                 id="indicator out of force"),
    pytest.param("interventions/employment/job_placement.yaml", "      fact: lacks_decent_job",
                 "      status: low_income_worker\n", "employment.job_placement reads status "
                 "'low_income_worker', which has no definition on 2023-11-01",
                 id="status read before it is in force"),
    pytest.param("statuses/low_income_worker.yaml", "    members:\n      fact: working_age\n", "",
                 "low_income_worker is about members: its definition needs 'members'",
                 id="member status without members"),
    pytest.param("statuses/newly_escaped.yaml", "        - in: [{field: class}, [average, not_poor]]",
                 "        - status: escaped_near_poverty",
                 "statuses are read by interventions only", id="status reads a status"),
    pytest.param("indicators/water/source.yaml", "deprived_when:\n",
                 "deprived_when:\n      all:\n        - in: [{field: class}, [poor]]\n        - ",
                 "the household model has no field 'class'", id="class read before it exists"),
    pytest.param("interventions/housing/great_solidarity_house.yaml", "[poor, near_poor]]",
                 "[poorest, near_poor]]", "'poorest' is not a class code (did you mean 'poor'?)",
                 id="unknown class code"),
    pytest.param("interventions/credit/vbsp_poor.yaml", "{param:vbsp_rate_poor_pct}",
                 "{param:vbsp_rate_poor}", "names unknown parameter 'vbsp_rate_poor'",
                 id="unknown parameter in action text"),
    pytest.param("departments.yaml", "          social_protection: {vi: \"Sở Y tế\"",
                 "          social_care: {vi: \"Sở Y tế\"", "unknown function 'social_care'",
                 id="unknown function in departments"),
    pytest.param("interventions/allowance/disability.yaml", "  per: member", "  per: person",
                 "amount per 'person' is not allowed", id="bad amount"),
]


@pytest.mark.parametrize(("file", "old", "new", "message"), ACTION_MISTAKES)
def test_action_mistakes(rules: Path, file: str, old: str, new: str, message: str) -> None:
    edit(rules / file, old, new)
    assert message in problems(rules)


def test_provisional_department_names_are_listed(rules: Path) -> None:
    edit(rules / "departments.yaml", 'clause: "Tổ chức lại cơ quan chuyên môn cấp tỉnh (hiệu lực '
         '01/3/2025)", note: "Confidence [C]: Information',
         'clause: "x", provisional: true, note: "Confidence [C]: Information')
    assert "provisional fact 'department:information@2025-03-01' is not listed" in problems(rules)
