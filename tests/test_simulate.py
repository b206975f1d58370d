"""Scenarios and simulation: inline YAML cases, properties, and agreement with plain classify."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine import classify, default_rulebook, load_rulebook
from engine.errors import RulebookError
from engine.simulation.scenario import load_scenario, scenario_from_dict
from engine.simulation.simulate import simulate
from household_models import parse_batch, read_survey
from tests.helpers import EXAMPLES, FAST, ROOT, batch_of, cases, frames, run

AS_OF = dt.date(2025, 6, 30)
RULES = Path(__file__).parent.parent / "rules"


def scenario_file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_an_empty_scenario_moves_nobody(tmp_path: Path) -> None:
    book = default_rulebook()
    empty = load_scenario(scenario_file(tmp_path, {"id": "empty", "label": {"vi": "x", "en": "x"}}),
                          book)  # fmt: skip
    sim = simulate(EXAMPLES / "survey.xlsx", [empty], AS_OF, book=book)
    assert sim.tables["movers"].empty
    assert (sim.tables["classes"]["households_diff"] == 0).all()
    assert (sim.tables["costs"]["cost_difference_vnd"] == 0).all()


@FAST
@given(st.lists(cases, min_size=1, max_size=6), st.integers(1_500_000, 2_250_000))
def test_raising_the_line_never_lowers_the_poor_count(batch_cases: list[dict[str, Any]],
                                                      line: int) -> None:  # fmt: skip
    import tempfile

    book = default_rulebook()
    with tempfile.TemporaryDirectory() as tmp:
        data = {"id": "line", "label": {"vi": "x", "en": "x"},
                "parameters": {"income_line_vnd": {"2021-03-15": {"rural": line,
                                                                   "urban": max(line, 2_000_000)}}}}  # fmt: skip
        scenario = load_scenario(scenario_file(Path(tmp), data), book)
    hh, mem = frames(batch_cases)
    sim = simulate(batch_of(hh, mem), [scenario], AS_OF, book=book)
    before = (sim.baseline.classes == "poor").sum()
    after = (sim.scenarios["line"].classes == "poor").sum()
    assert after >= before


CARE_BURDEN_FILE = """\
id: health.care_burden
dimension: health
label: {vi: "Gánh nặng chăm sóc", en: "Care burden"}
definitions:
  - from: 2021-03-15
    source: decree_07_2021
    clause: "test copy of a scenario indicator"
    deprived_when:
      any_member:
        any:
          - {field: serious_illness}
          - in: [{field: disability}, [severe, especially_severe]]
"""
# Each shipped scenario, and the same change made by editing a copy of the rulebook's files:
# (file under rules/, text before, text after), or a new indicator file.
EDITS = {
    "rural_line_1800k": ("parameters/income.yaml", "rural: 1500000", "rural: 1800000"),
    "housing_area_10m2": ("parameters/deprivation.yaml",
                          "      - from: 2021-03-15\n        value: 8\n",
                          "      - from: 2021-03-15\n        value: 10\n"),
    "health_insurance_all_ages": ("parameters/ages.yaml",
                                  "      - from: 2021-03-15\n        value: 6\n",
                                  "      - from: 2021-03-15\n        value: 0\n"),
    "care_burden_indicator": ("indicators/health/care_burden.yaml", "", CARE_BURDEN_FILE),
}  # fmt: skip


@pytest.fixture(scope="module")
def sample_batch(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from engine.synthetic import generate

    tmp = tmp_path_factory.mktemp("sample")
    hh, mem = generate(6_000, seed=9, year=2025)
    hh.to_parquet(tmp / "h.parquet")
    mem.to_parquet(tmp / "m.parquet")
    return parse_batch(read_survey([tmp / "h.parquet", tmp / "m.parquet"]))


@FAST
@given(st.lists(cases, min_size=1, max_size=6), st.integers(1_200_000, 2_250_000),
       st.sampled_from([6, 8, 10, 12]), st.sampled_from([0, 6, 16]),
       st.sampled_from([[], ["information.devices"], ["water.source", "housing.area"]]))
def test_any_scenario_equals_classify_under_its_rulebook(
        batch_cases: list[dict[str, Any]], line: int, area: int, insurance_age: int,
        off: list[str]) -> None:  # fmt: skip
    """Property: whatever the scenario, simulate decides for every household what a plain
    classify run under the scenario's rulebook decides, and counts the same."""
    book = default_rulebook()
    scenario = scenario_from_dict({
        "id": "p", "label": {"vi": "x", "en": "x"}, "indicators_off": off,
        "parameters": {"income_line_vnd.rural": {"2021-03-15": line},
                       "min_area_per_person_m2": {"2021-03-15": area},
                       "insurance_min_age": {"2021-03-15": insurance_age}}}, book)  # fmt: skip
    hh, mem = frames(batch_cases)
    batch = batch_of(hh, mem)
    sim = simulate(batch, [scenario], AS_OF, book=book)
    plain = classify(batch, book, AS_OF, resolved=scenario.apply(book, AS_OF))
    assert list(sim.scenarios["p"].classes) == list(plain.results["class"])
    assert sim.scenarios["p"].class_counts == plain.class_counts
    assert list(sim.baseline.classes) == list(classify(batch, book, AS_OF).results["class"])


@pytest.mark.parametrize("sid", sorted(EDITS))
def test_scenario_equals_classify_under_an_edited_rulebook(sid: str, tmp_path: Path,
                                                           sample_batch: Any) -> None:  # fmt: skip
    """The scenario's decisions and figures equal a plain classify run with the rulebook's own
    files edited the same way: the overlay mechanism is not used on the other side."""
    book = default_rulebook()
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    name, before, after = EDITS[sid]
    target = rules / name
    if before:
        text = target.read_text("utf-8")
        assert text.count(before) >= 1, before
        target.write_text(text.replace(before, after, 1), "utf-8")
    else:
        target.write_text(after, "utf-8")
    edited = load_rulebook(rules)
    sim = simulate(sample_batch, [ROOT / "rules" / "scenarios" / f"{sid}.yaml"], AS_OF, book=book)
    plain = classify(sample_batch, edited, AS_OF)
    assert list(sim.scenarios[sid].classes) == list(plain.results["class"])
    classes = sim.tables["classes"]
    total = classes[classes["district"] == "Tất cả"].set_index("class")["households"]
    assert total.to_dict() == plain.class_counts
    per_district = plain.summary.set_index(["district", "class"])["households"]
    mine = classes.set_index(["district", "class"])["households"]
    assert mine.sort_index().to_dict() == per_district.sort_index().to_dict()
    for rule, _ in plain.resolved.indicators:  # indicator headcounts
        row = sim.tables["indicators"].set_index("indicator").loc[rule.id]
        assert row["deprived"] == (plain.results[rule.id] == "deprived").sum()
    deps = plain.departments[plain.departments["department_code"] != ""]
    costs = sim.tables["costs"].groupby(["department_code", "department"])[
        ["recommendations", "first_year_cost_vnd", "loan_volume_vnd"]].sum()  # fmt: skip
    for dep in deps.to_dict("records"):
        key = (dep["department_code"], dep["department"])
        got = costs.loc[key] if key in costs.index else {"recommendations": 0,
                                                          "first_year_cost_vnd": 0,
                                                          "loan_volume_vnd": 0}  # fmt: skip
        assert (got["recommendations"], got["first_year_cost_vnd"], got["loan_volume_vnd"]) == (
            dep["recommendations"], dep["first_year_cost_vnd"], dep["loan_volume_vnd"]), key
    moved = (np.asarray(sim.baseline.classes) != plain.results["class"].to_numpy()).sum()
    assert len(sim.tables["movers"]) == moved


def test_sharing_member_facts_changes_nothing(sample_batch: Any) -> None:
    shipped = sorted((ROOT / "rules" / "scenarios").glob("*.yaml"))
    shared = simulate(sample_batch, shipped, AS_OF)
    alone = simulate(sample_batch, shipped, AS_OF, share_facts=False)
    for name, frame in shared.tables.items():
        pd.testing.assert_frame_equal(frame, alone.tables[name], obj=name)
    for sid, res in shared.scenarios.items():
        assert list(res.classes) == list(alone.scenarios[sid].classes)


def test_the_2027_standard_today_equals_classify_with_that_rulebook(sample_batch: Any) -> None:
    book = default_rulebook()
    scenario = load_scenario(ROOT / "rules" / "scenarios" / "standard_2027_today.yaml", book)
    sim = simulate(sample_batch, [scenario], AS_OF, book=book)
    plain = classify(sample_batch, book, AS_OF, resolved=scenario.apply(book, AS_OF))
    assert list(sim.scenarios[scenario.id].classes) == list(plain.results["class"])
    assert "water.waste" in " ".join(sim.scenarios[scenario.id].evaluation.indicators)
    assert "information.devices" not in sim.scenarios[scenario.id].evaluation.indicators
    assert len(sim.tables["movers"]) > 0


def test_member_facts_are_shared_between_runs_only_when_defined_alike(sample_batch: Any) -> None:
    book = default_rulebook()
    ages = {"id": "ages", "label": {"vi": "x", "en": "x"},
            "parameters": {"insurance_min_age": {"2021-03-15": 0}}}  # fmt: skip
    sim = simulate(sample_batch, [ages, {"id": "same", "label": {"vi": "x", "en": "x"}}], AS_OF,
                   book=book)  # fmt: skip
    base = sim.baseline.evaluation.member_facts
    same = sim.scenarios["same"].evaluation.member_facts
    assert base and all(same[name] is base[name] for name in base)  # the very same arrays
    changed = sim.scenarios["ages"].evaluation.member_facts
    reads_age = [name for name in base if "insurance_min_age" in repr(
        book.resolve(AS_OF).facts[name][1].condition)]  # fmt: skip
    assert all(changed[name] is not base[name] for name in reads_age)


def test_every_shipped_scenario_loads_and_runs() -> None:
    book = default_rulebook()
    shipped = [load_scenario(p, book) for p in sorted((ROOT / "rules" / "scenarios").glob("*.yaml"))]
    assert {s.id for s in shipped} >= {"standard_2027_today", "rural_line_1800k",
                                       "housing_area_10m2", "health_insurance_all_ages"}  # fmt: skip
    assert any(s.indicators_add for s in shipped)  # a provincial extra indicator is shipped
    sim = simulate(EXAMPLES / "survey.xlsx", shipped, AS_OF, book=book)
    assert list(sim.tables["scenarios"]["scenario"]) == [s.id for s in shipped]
    af = sim.tables["alkire_foster"]
    total = af[(af["scenario"] == "baseline") & (af["district"] == "Tất cả")].iloc[0]
    # 15 valid example households; HY-001 (5 of 12), HY-003 (3), HY-017 (4) have k ≥ 3.
    assert total["households"] == 15
    assert total["H"] == pytest.approx(3 / 15)
    assert total["A"] == pytest.approx((5 + 3 + 4) / 12 / 3)


def test_invalid_scenarios_are_reported_with_suggestions(tmp_path: Path) -> None:
    bad = {"id": "bad", "label": {"vi": "x", "en": "x"}, "standard": "vn-2028",
           "parameters": {"income_line": {"2025-01-01": 5},
                          "income_line_vnd": {"2025-01-01": 1800000},
                          "income_line_vnd.rurall": {"2025-01-01": 1800000},
                          "insurance_min_age.rural": {"2025-01-01": 0},
                          "average_ceiling_vnd.rural": {"2025-12-31..2025-01-01": 2500000,
                                                        "2025-13-01": 2500000},
                          "min_area_per_person_m2": {"2025-01-01": "ten"}},
           "indicators_off": ["water.sourc"],
           "indicators_add": [{"id": "health.insurance", "dimension": "health",
                               "label": {"vi": "x", "en": "x"},
                               "deprived_when": {"field": "incom_per_capita_vnd"}},
                              {"id": "care", "dimension": "helth",
                               "label": {"vi": "x", "en": "x"},
                               "deprived_when": {"any_member": {"field": "serious_illness"}}}]}  # fmt: skip
    with pytest.raises(RulebookError) as info:
        load_scenario(scenario_file(tmp_path, bad), default_rulebook())
    text = str(info.value)
    expected = [
        "did you mean 'income_line_vnd'", "did you mean 'water.source'",
        "unknown standard 'vn-2028'", "needs a value for each area",
        "'rurall' is not a area of income_line_vnd", "did you mean 'rural'",
        "'insurance_min_age' has one value, not one per key",
        "the range ends (2025-01-01) before it starts (2025-12-31)",
        "'2025-13-01' is not an ISO date or range",
        "min_area_per_person_m2: 'ten' is not a number",
        "indicator 'health.insurance' already exists",
        "incom_per_capita_vnd", "unknown dimension 'helth'",
    ]  # fmt: skip
    missing = [e for e in expected if e not in text]
    assert not missing, text
    assert "bad.yaml:" in text  # the file is named, with the line


def test_classify_with_a_scenario_gives_the_scenario_classes(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    code, text = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(out), "--as-of",
                     "2025-06-30", "--verify", "0", "--scenario",
                     str(ROOT / "rules" / "scenarios" / "rural_line_1800k.yaml"))  # fmt: skip
    assert code == 0, text
    results = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    moved = results.set_index("mã hộ").loc[["HY-004", "HY-015"], "class"]
    assert set(moved) == {"near_poor"}
    assert results["rulebook_version"].str.contains(r"\+rural_line_1800k@").all()
    code, text = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(out), "--as-of",
                     "2025-06-30", "--scenario", str(tmp_path / "nope.yaml"))  # fmt: skip
    assert code == 2 and "nope.yaml" in text


def simulate_example(out: Path) -> tuple[int, str]:
    """The simulate command on the example batch with the rural-line scenario."""
    return run("simulate", str(EXAMPLES / "survey.xlsx"), "--scenario",
               str(ROOT / "rules" / "scenarios" / "rural_line_1800k.yaml"), "--as-of", "2025-06-30",
               "-o", str(out))  # fmt: skip


def test_simulate_command(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    code, text = simulate_example(out)
    assert code == 0, text
    sheets = pd.read_excel(out, sheet_name=None)
    assert list(sheets) == ["scenarios", "classes", "transitions", "indicators", "costs",
                            "costs_by_district", "alkire_foster", "movers"]  # fmt: skip
    assert set(sheets["movers"]["household_id"]) == {"HY-004", "HY-015"}


def test_html_report_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, text = simulate_example(out)
    assert code == 0, text
    page = out.read_text("utf-8")
    # Poor and near-poor rates by district, one transition heat map, cost by department.
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 4
    assert "Tỷ lệ hộ nghèo theo huyện" in page and "Chuyển đổi phân loại" in page
    assert not any(marker in page for marker in ("src=", "href=", "<script", "http", "url("))
    assert "Chuẩn nghèo nông thôn của tỉnh 1.800.000 đồng: 2</h3>" in page  # HY-004, HY-015
    assert "<td>HY-004</td>" in page and "<td>HY-015</td>" in page
