"""``giamngheo report plan``: monitoring against the plan. The plan's numbers in these tests
are written from the plan's appendices (not read from rules/plan); the actual numbers are
worked by hand from the three rounds of tests/rounds.py (every household in Phù Cừ)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.simulation.report import COLOURS
from tests.browser import colour_pixels, screenshot
from tests.helpers import ROOT, run
from tests.rounds import three_rounds

# Appendix 01 of the plan, as printed (Phụ lục 01: Dự kiến tỷ lệ hộ nghèo 2023–2025).
PHU_CU = {2023: (29609, 448, 1.51), 2024: (30009, 319, 1.06), 2025: (30209, 195, 0.65)}
PROVINCE_2024 = {"districts": 2963, "printed": 2954, "households": 414847}
PROVINCE_2025 = (418246, 2069, 0.49)


@pytest.fixture(scope="module")
def plan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    registry = three_rounds(tmp_path_factory.mktemp("rounds"))
    code, out = run("report", "plan", "--registry", str(registry["reg"]))
    assert code == 0, out
    data = json.loads(out[out.index("{"):])
    data["_reg"] = registry["reg"]
    return data  # type: ignore[no-any-return]


def _row(data: dict[str, Any], round_name: str, district: str | None) -> dict[str, Any]:
    return next(r for r in data["districts"] if r["round"] == round_name
                and r["district"] == district)  # fmt: skip


def test_each_district_against_its_appendix_row(plan: dict[str, Any]) -> None:
    row = _row(plan, "2025", "Phù Cừ")
    assert (row["plan_households"], row["plan_poor"], row["plan_rate"]) == PHU_CU[2025]
    # 2025: six households, T-03 and T-08 poor
    assert (row["households"], row["poor"], row["rate"]) == (6, 2, 33.33)
    assert row["gap_points"] == round(33.33 - 0.65, 2) and row["on_track"] is False
    assert row["gap_households"] == 2 - 195
    # the planned rate allows floor(195 × 6 / 30209) = 0 poor households of six
    assert row["to_leave"] == 2
    assert row["flows"] == dict(zip(["start", "to_near_poor", "escaped", "other_decrease",
                                     "from_near_poor", "re_entered", "new", "other_increase",
                                     "end"], [3, 2, 0, 1, 0, 1, 0, 1, 2], strict=True))
    row = _row(plan, "2024", "Phù Cừ")  # T-01 to T-07; poor at the end: T-01, T-04, T-06
    assert (row["plan_poor"], row["households"], row["poor"], row["rate"]) == (319, 7, 3, 42.86)
    other = _row(plan, "2025", "Tiên Lữ")  # in the plan, not in these rounds
    assert other["households"] == 0 and other["rate"] is None and other["on_track"] is None


def test_the_province_and_the_seeds_own_inconsistency(plan: dict[str, Any]) -> None:
    total = _row(plan, "2024", None)
    assert total["plan_poor"] == PROVINCE_2024["districts"]
    assert total["printed_total"]["poor"] == PROVINCE_2024["printed"]
    assert total["plan_households"] == PROVINCE_2024["households"]
    total = _row(plan, "2025", None)
    assert (total["plan_households"], total["plan_poor"], total["plan_rate"]) == PROVINCE_2025
    assert {r["round"] for r in plan["districts"]} == {"2023", "2024", "2025"}


def test_service_indicators_with_numerator_and_denominator(plan: dict[str, Any]) -> None:
    by = {s["id"]: s for s in plan["services"]}
    assert plan["services_of"] == {"round": "2025", "year": 2025}
    # 2025 lists: T-03, T-08 (poor), T-01 (decided near-poor), T-04, T-07; the three built on
    # HY-001 drink from an unprotected dug well, the two on HY-002 have piped water
    water = by["clean_water"]
    assert (water["numerator"], water["denominator"], water["rate"]) == (2, 5, 40.0)
    assert water["target"] == 100 and water["met"] is False
    # HY-001's head has no card, the two others have; HY-002's three members have
    insurance = by["health_insurance_support"]
    assert (insurance["numerator"], insurance["denominator"]) == (3 * 2 + 2 * 3, 15)
    for key in ("child_underweight", "child_stunting"):
        assert by[key]["measured"] is False and by[key]["why"] == "health_statistics"
    assert all("numerator" not in s for s in plan["services"] if not s["measured"])


def test_the_page_and_the_workbook(plan: dict[str, Any], tmp_path: Path) -> None:
    page, book = tmp_path / "theo-doi.html", tmp_path / "theo-doi.xlsx"
    for target in (page, book):
        code, out = run("report", "plan", "--registry", str(plan["_reg"]), "-o", str(target))
        assert code == 0, out
    text = page.read_text("utf-8")
    assert "<script" not in text and "http" not in text.split("</style>")[1]
    assert text.count("<svg") >= 4 and "công cụ hỗ trợ lập kế hoạch" in text
    sheets = pd.read_excel(book, sheet_name=None, header=None)
    assert list(sheets) == ["01 Tỷ lệ hộ nghèo", "02 Diễn biến", "03 Chỉ tiêu dịch vụ",
                           "04 Hộ sau khoảng cách"]
    assert "T-03" in sheets["04 Hộ sau khoảng cách"].to_string()
    flat = [str(v) for v in sheets["01 Tỷ lệ hộ nghèo"].to_numpy().ravel().tolist()]
    assert "Phù Cừ" in flat and any("2.954" in v for v in flat)
    pixels = screenshot(page, tmp_path / "shot.png", 1100, 3000)
    ink = (pixels < 235).any(axis=2)
    assert ink.mean() > 0.02
    for colour in COLOURS[:2]:  # actual and plan bars
        assert colour_pixels(pixels, colour) > 300, colour
    assert np.flatnonzero(ink.any(axis=1))[-1] > 1000


def test_the_households_behind_the_gap(plan: dict[str, Any]) -> None:
    # Decree 07/2021 Art. 3(2)(a): under the poverty line a household is poor from 3
    # deprivations; the rural line is 1,500,000 VND a person a month.
    cutoff, rural_line, income = 3, 1_500_000, 1_200_000
    (gap,) = plan["gap"]
    assert (gap["district"], gap["to_leave"], gap["poor"]) == ("Phù Cừ", 2, 2)
    code, out = run("review", "history", "--registry", str(plan["_reg"]), "--household",
                    "T-03", "--format", "json")  # fmt: skip
    assert code == 0, out
    recorded = {r["round"]: r for r in json.loads(out[out.index("{"):])["rounds"]}["2025"]
    deprived = recorded["deprived"].split(";")
    by = {h["household_id"]: h for h in gap["households"]}
    t03 = by["T-03"]
    assert t03["selected"] and by["T-08"]["selected"]
    assert t03["fix"] == recorded["deprivation_count"] - (cutoff - 1)
    assert set(t03["indicators"]) <= set(deprived) and t03["to"] == "near_poor"
    assert t03["income_rise_vnd"] == rural_line + 1 - income
    assert gap["first_year_vnd"] == sum(h["first_year_vnd"] for h in gap["households"]
                                        if h["selected"])  # fmt: skip
    assert set(t03["unpriced"]) <= set(t03["actions"])


def test_the_gap_under_a_scenario(plan: dict[str, Any], tmp_path: Path) -> None:
    # the shipped scenario raises the rural poverty line to 1,800,000 VND; without the
    # commune's decision, T-01 (1,200,000, five deprivations) is poor again beside T-03, T-08
    scenario = ROOT / "rules" / "scenarios" / "rural_line_1800k.yaml"
    code, out = run("report", "plan", "--registry", str(plan["_reg"]), "--scenario",
                    str(scenario))  # fmt: skip
    assert code == 0, out
    data = json.loads(out[out.index("{"):])["scenario"]
    (district,) = data["districts"]
    assert (district["district"], district["households"], district["poor"]) == ("Phù Cừ", 6, 3)
    assert district["rate"] == 50.0 and district["to_leave"] == 3
    (gap,) = data["gap"]
    assert sorted(h["household_id"] for h in gap["households"] if h["selected"]) == \
        ["T-01", "T-03", "T-08"]  # fmt: skip
    assert {h["income_rise_vnd"] for h in gap["households"]} == {1_800_001 - 1_200_000}
    assert district["first_year_vnd"] == gap["first_year_vnd"]


# Communes of 1 July 2025 (Resolution 1666/NQ-UBTVQH15), with the former districts of their
# old units: Tân Hưng = Tân Hưng, Phương Nam (TP Hưng Yên) + Thủ Sỹ (Tiên Lữ): shared 2 : 1 by
# the crosswalk's assumption (one part per old unit); Quang Hưng lies wholly in Phù Cừ.
TAN_HUNG = {"TP Hưng Yên": 2 / 3, "Tiên Lữ": 1 / 3}


def test_a_round_under_the_new_communes_is_placed_through_the_crosswalk(
        tmp_path: Path) -> None:  # fmt: skip
    from tests.rounds import AS_OF, batch

    hh_path, mem_path = batch(tmp_path, "2025")
    hh = pd.read_csv(hh_path, dtype=str, keep_default_na=False)
    place = {"T-01": ("", "Xã Tân Hưng"), "T-03": ("", "xã  tân hưng"), "T-08": ("", "Tân Hưng"),
             "T-02": ("", "Quang Hưng"), "T-04": ("", "Phường Trà Lý"),
             "T-07": ("Phù Cừ", "Tân Hưng")}  # the district column wins where it names one
    hh["huyện"] = hh["mã hộ"].map(lambda h: place[h][0])
    hh["xã"] = hh["mã hộ"].map(lambda h: place[h][1])
    hh.to_csv(hh_path, index=False)
    reg = tmp_path / "new.duckdb"
    code, out = run("review", "record", str(hh_path), str(mem_path), "--registry", str(reg),
                    "--round", "2025", "--as-of", AS_OF["2025"], "--verify", "0")  # fmt: skip
    assert code == 0, out
    code, out = run("report", "plan", "--registry", str(reg))
    assert code == 0, out
    data = json.loads(out[out.index("{"):])
    # Tân Hưng: T-01, T-03 (poor, template P, low income) and T-08 (poor); T-02 and T-07 are
    # not poor, T-04 near-poor (no decision in this registry)
    city, tien_lu = _row(data, "2025", "TP Hưng Yên"), _row(data, "2025", "Tiên Lữ")
    assert (city["households"], city["poor"]) == (3 * TAN_HUNG["TP Hưng Yên"],) * 2
    assert (tien_lu["households"], tien_lu["poor"]) == (3 * TAN_HUNG["Tiên Lữ"],) * 2
    assert city["estimated_households"] == 2 and tien_lu["estimated_households"] == 1
    assert city["rate"] == 100.0 and city["flows"]["new"] == city["flows"]["end"] == 2
    # over the planned rate (2025: TP Hưng Yên 138 of 37,645; Tiên Lữ 183 of 33,329)
    assert city["to_leave"] == int(np.ceil(2 - 138 * 2 / 37645)) == 2
    assert tien_lu["to_leave"] == int(np.ceil(1 - 183 / 33329)) == 1
    phu_cu = _row(data, "2025", "Phù Cừ")  # T-02 (Quang Hưng) and T-07 (written Phù Cừ)
    assert (phu_cu["households"], phu_cu["poor"], phu_cu["estimated_households"]) == (2, 0, 0)
    unplaced = _row(data, "2025", "")  # Trà Lý: a ward of the former Thái Bình, kept as is
    assert (unplaced["households"], unplaced["plan_households"]) == (1, None)
    total = _row(data, "2025", None)
    assert (total["households"], total["poor"], total["estimated_households"]) == (6, 3, 3)
    # no support ledger in this registry: the ledger's indicators are not measured, never 0 %
    unmeasured = {s["id"]: s.get("why") for s in data["services"] if not s["measured"]}
    assert {k: unmeasured.get(k) for k in ("employment_support", "housing_support")} == {
        "employment_support": "support_ledger", "housing_support": "support_ledger"}
    # the households behind the gap are whole: each listed under its commune's largest share
    listed = {h["household_id"] for d in data["gap"] if d["district"] == "TP Hưng Yên"
              for h in d["households"]}  # fmt: skip
    assert listed == {"T-01", "T-03", "T-08"}
    assert not [h for d in data["gap"] if d["district"] == "Tiên Lữ" for h in d["households"]]
    code, out = run("report", "plan", "--registry", str(reg), "-o", str(tmp_path / "p.html"))
    assert code == 0, out
    page = (tmp_path / "p.html").read_text("utf-8")
    assert "rules/places/crosswalk.csv" in page and "1666/NQ-UBTVQH15" in page
    assert "Kỳ 2025: có 3 hộ" in page


def test_the_crosswalk_covers_the_39_new_units_and_checks_its_rows(tmp_path: Path) -> None:
    import shutil

    from engine.errors import RulebookError
    from engine.loader import DEFAULT_RULES_DIR
    from engine.reports.places import commune_key, load_crosswalk

    found = load_crosswalk()
    assert len(found.shares) == 39  # 6 wards and 33 communes (Resolution 1666, Article 1)
    for parts in found.shares.values():
        assert abs(sum(s for _, s, _ in parts) - 1) < 1e-9
    assert {d for d, _, _ in found.shares[commune_key("Phường Sơn Nam")]} == {
        "TP Hưng Yên", "Kim Động"}  # fmt: skip
    root = tmp_path / "rules"
    shutil.copytree(DEFAULT_RULES_DIR / "places", root / "places")
    path = root / "places" / "crosswalk.csv"
    text = path.read_text("utf-8").replace("Thủ Sỹ,1,old_units", "Thủ Sỹ,zero,old_units")
    path.write_text(text, "utf-8")
    with pytest.raises(RulebookError) as err:
        load_crosswalk(root, ["TP Hưng Yên", "Tiên Lữ"])
    lines = [str(p) for p in err.value.problems]
    assert any(line.startswith(f"{path}:3: weight 'zero'") for line in lines), lines
    assert any("'Phù Cừ' is not a district of the plan" in line for line in lines), lines
    # not part of the rulebook: editing it leaves the rulebook's version as it is
    from engine.loader.load import hash_tree

    whole = tmp_path / "whole"
    shutil.copytree(DEFAULT_RULES_DIR, whole)
    before = hash_tree(whole)
    (whole / "places" / "crosswalk.yaml").write_text("# edited\n", "utf-8")
    assert hash_tree(whole) == before == hash_tree(DEFAULT_RULES_DIR)


def test_the_ledger_indicators_count_delivered_support_among_those_who_need_it(
        plan: dict[str, Any], tmp_path: Path) -> None:  # fmt: skip
    import shutil

    from tests.rounds import table

    # without these actions in the ledger: measured, none delivered. Who needs them in 2025:
    # job placement, the unemployed head (member 1) of each poor or near-poor household built
    # on HY-001 (T-01, T-03, T-08); housing, the poor ones of those (T-01 was decided
    # near-poor); training for low-income workers, both working members of T-02
    by = {s["id"]: s for s in plan["services"]}
    assert [(by[k]["numerator"], by[k]["denominator"]) for k in (
        "employment_support", "housing_support", "skills_training_support")] == [
        (0, 3), (0, 2), (0, 2)]  # fmt: skip
    reg = tmp_path / "copy.duckdb"
    shutil.copy(plan["_reg"], reg)
    delivered = table(tmp_path / "more.csv", [
        {"household_id": h, "member_no": m, "action_id": a, "delivered_on": "2026-03-01"}
        for h, m, a in [("T-03", "1", "employment.job_placement"),
                        ("T-03", "2", "employment.job_placement"),  # not recommended to her
                        ("T-08", "", "housing.great_solidarity_house"),
                        ("T-01", "", "housing.great_solidarity_house"),  # near-poor by decision
                        ("T-02", "1", "employment.low_income_worker_training")]])  # fmt: skip
    code, out = run("review", "support", "--registry", str(reg), "--round", "2025",
                    str(delivered))  # fmt: skip
    assert code == 0, out
    code, out = run("report", "plan", "--registry", str(reg))
    assert code == 0, out
    by = {s["id"]: s for s in json.loads(out[out.index("{"):])["services"]}
    assert [(by[k]["numerator"], by[k]["denominator"], by[k]["rate"]) for k in (
        "employment_support", "housing_support", "skills_training_support")] == [
        (1, 3, 33.33), (1, 2, 50.0), (1, 2, 50.0)]  # fmt: skip
    assert by["housing_support"]["target"] == 100 and by["housing_support"]["met"] is False
