"""Scenarios and simulation: inline YAML cases, properties, and agreement with plain classify."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from engine import classify, default_rulebook, load_rulebook
from engine.rulebook import RulebookError
from engine.scenario import load_scenario
from engine.simulate import simulate
from household_models import parse_batch, read_survey
from tests.helpers import frames
from tests.test_cli import EXAMPLES, run
from tests.test_durable import batch_of
from tests.test_properties import FAST, cases

AS_OF = dt.date(2025, 6, 30)
RULES = Path(__file__).parent.parent / "rules"
GOLDEN = Path(__file__).parent / "golden" / "scenarios.yaml"


def scenario_file(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def _golden() -> list[Any]:
    data = yaml.safe_load(GOLDEN.read_text("utf-8"))
    return [pytest.param(c, id=c["name"]) for c in data["cases"]]


@pytest.mark.parametrize("case", _golden())
def test_scenario_case(case: dict[str, Any], tmp_path: Path) -> None:
    book = default_rulebook()
    scenario = load_scenario(scenario_file(tmp_path, case["scenario"]), book)
    hh, mem = frames([{"household": case.get("household", {}),
                       "members": case.get("members", [{}])}])  # fmt: skip
    sim = simulate(batch_of(hh, mem), book, [scenario], AS_OF)
    base = sim.baseline.results.iloc[0]
    after = sim.scenarios[scenario.id].results.iloc[0]
    expect = case["expect"]
    assert (base["class"], after["class"]) == (expect["baseline"], expect["scenario"])
    if "indicator" in expect:
        assert base[expect["indicator"]] == expect["baseline_indicator"]
        assert after[expect["indicator"]] == expect["scenario_indicator"]
    moved = sim.tables["movers"]
    assert len(moved) == int(expect["baseline"] != expect["scenario"])


def test_an_empty_scenario_moves_nobody(tmp_path: Path) -> None:
    book = default_rulebook()
    empty = load_scenario(scenario_file(tmp_path, {"id": "empty", "label": {"vi": "x", "en": "x"}}),
                          book)  # fmt: skip
    batch = parse_batch(read_survey([EXAMPLES / "survey.xlsx"]))
    sim = simulate(batch, book, [empty], AS_OF)
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
    sim = simulate(batch_of(hh, mem), book, [scenario], AS_OF)
    before = (sim.baseline.results["class"] == "poor").sum()
    after = (sim.scenarios["line"].results["class"] == "poor").sum()
    assert after >= before


def test_scenario_counts_equal_classify_under_the_overridden_rulebook(tmp_path: Path) -> None:
    book = default_rulebook()
    scenario = load_scenario(EXAMPLES / "scenarios" / "rural_line_1800k.yaml", book)
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    income = rules / "parameters" / "income.yaml"
    text = income.read_text("utf-8")
    assert "rural: 1500000" in text
    income.write_text(text.replace("rural: 1500000", "rural: 1800000", 1), "utf-8")
    overridden = load_rulebook(rules)
    from engine.sample import generate

    hh, mem = generate(4_000, seed=9, year=2025)
    hh.to_parquet(tmp_path / "h.parquet")
    mem.to_parquet(tmp_path / "m.parquet")
    batch = parse_batch(read_survey([tmp_path / "h.parquet", tmp_path / "m.parquet"]))
    sim = simulate(batch, book, [scenario], AS_OF)
    plain = classify(batch, overridden, AS_OF)
    pd.testing.assert_series_equal(sim.scenarios[scenario.id].results["class"],
                                   plain.results["class"])  # fmt: skip
    counts = sim.tables["classes"]
    total = counts[(counts["district"] == "Tất cả")].set_index("class")["households"]
    assert total.to_dict() == plain.class_counts
    assert len(sim.tables["movers"]) > 0


def test_every_shipped_scenario_loads_and_runs() -> None:
    book = default_rulebook()
    shipped = [load_scenario(p, book) for p in sorted((EXAMPLES / "scenarios").glob("*.yaml"))]
    assert {s.id for s in shipped} >= {"standard_2027_today", "rural_line_1800k",
                                       "housing_area_10m2", "health_insurance_all_ages"}  # fmt: skip
    batch = parse_batch(read_survey([EXAMPLES / "survey.xlsx"]))
    sim = simulate(batch, book, shipped, AS_OF)
    af = sim.tables["alkire_foster"]
    total = af[(af["scenario"] == "baseline") & (af["district"] == "Tất cả")].iloc[0]
    # 15 valid example households; HY-001 (5 of 12), HY-003 (3), HY-017 (4) have k ≥ 3.
    assert total["households"] == 15
    assert total["H"] == pytest.approx(3 / 15)
    assert total["A"] == pytest.approx((5 + 3 + 4) / 12 / 3)


def test_invalid_scenarios_are_reported_with_suggestions(tmp_path: Path) -> None:
    bad = {"id": "bad", "label": {"vi": "x", "en": "x"}, "standard": "vn-2028",
           "parameters": {"income_line": {"2025-01-01": 5},
                          "income_line_vnd": {"2025-01-01": 1800000}},
           "indicators_off": ["water.sourc"]}  # fmt: skip
    with pytest.raises(RulebookError) as info:
        load_scenario(scenario_file(tmp_path, bad), default_rulebook())
    text = str(info.value)
    assert "did you mean 'income_line_vnd'" in text and "did you mean 'water.source'" in text
    assert "unknown standard 'vn-2028'" in text and "needs a value for each area" in text


def test_simulate_command(tmp_path: Path) -> None:
    out = tmp_path / "report.xlsx"
    code, text = run("simulate", str(EXAMPLES / "survey.xlsx"), "--scenario",
                     str(EXAMPLES / "scenarios" / "rural_line_1800k.yaml"), "--as-of",
                     "2025-06-30", "-o", str(out))  # fmt: skip
    assert code == 0, text
    sheets = pd.read_excel(out, sheet_name=None)
    assert set(sheets) == {"classes", "transitions", "indicators", "costs", "alkire_foster",
                           "movers"}  # fmt: skip
    assert set(sheets["movers"]["household_id"]) == {"HY-004", "HY-015"}


def test_html_report_is_self_contained(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    code, text = run("simulate", str(EXAMPLES / "survey.xlsx"), "--scenario",
                     str(EXAMPLES / "scenarios" / "rural_line_1800k.yaml"), "--as-of",
                     "2025-06-30", "-o", str(out))  # fmt: skip
    assert code == 0, text
    page = out.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2
    assert "Tỷ lệ hộ nghèo theo huyện" in page and "Chuyển đổi phân loại" in page
    assert not any(marker in page for marker in ("src=", "href=", "<script", "http"))
    assert "rural_line_1800k: 2</li>" in page  # HY-004 and HY-015 move
