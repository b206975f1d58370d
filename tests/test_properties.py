"""Properties of the classification over generated households (hypothesis)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import frames, run_cases, run_frames

AS_OF = dt.date(2025, 6, 30)
RANK = {"poor": 0, "near_poor": 1, "average": 2, "not_poor": 3}
# Incomes on and around every line and ceiling of both areas (written from Decree 07/2021).
EDGE_INCOMES = [0, 1_499_999, 1_500_000, 1_500_001, 1_999_999, 2_000_000, 2_000_001,
                2_249_999, 2_250_000, 2_250_001, 2_999_999, 3_000_000, 3_000_001]  # fmt: skip


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy, strategy, strategy)


members = st.fixed_dictionaries(
    {
        "sex": maybe(st.sampled_from(["male", "female"])),
        "age": maybe(
            st.sampled_from(
                [0, 2, 3, 5, 6, 10, 14, 15, 16, 17, 18, 30, 31, 45, 56, 57, 60, 61, 62, 80]
            )
        ),  # fmt: skip
        "health_insurance": maybe(st.booleans()),
        "disability": st.sampled_from(["none", "none", "mild", "severe", "especially_severe"]),
        "employment": maybe(
            st.sampled_from(
                [
                    "wage_contract",
                    "wage_no_contract",
                    "self_employed",
                    "unemployed",
                    "not_in_labour_force",
                ]
            )
        ),  # fmt: skip
        "education": maybe(
            st.sampled_from(
                ["primary", "lower_secondary", "upper_secondary", "vocational_elementary"]
            )
        ),  # fmt: skip
        "in_school": maybe(st.booleans()),
        "school_on_track": maybe(st.booleans()),
        "stunted": maybe(st.booleans()),
        "underweight": maybe(st.booleans()),
        "social_allowance": st.booleans(),
        "pregnant_or_nursing": st.booleans(),
        "serious_illness": st.booleans(),
        "meritorious": st.booleans(),
    }
)
households = st.fixed_dictionaries(
    {
        "area": maybe(st.sampled_from(["rural", "urban"])),
        "income_per_capita_vnd": maybe(
            st.one_of(st.sampled_from(EDGE_INCOMES), st.integers(0, 5_000_000))
        ),  # fmt: skip
        "income_score": maybe(st.sampled_from([100, 139, 140, 141, 174, 175, 176, 300])),
        "durable_frame": maybe(st.booleans()),
        "durable_walls": maybe(st.booleans()),
        "durable_roof": maybe(st.booleans()),
        "floor_area_m2": maybe(st.sampled_from([7.9, 8, 15, 16, 24, 40, 100])),
        "water_source": maybe(st.sampled_from(["piped", "rainwater", "surface_water", "other"])),
        "latrine": maybe(st.sampled_from(["septic", "biogas", "simple_pit", "none"])),
        "uses_telecom": maybe(st.booleans()),
        "info_devices": st.sampled_from(["", "tv", "smartphone;radio"]),
        "causes": st.sampled_from(["", "no_land", "no_capital;no_tools", "illness", "no_labour",
                                   "no_skills;other"]),  # fmt: skip
        "previous_status": maybe(st.sampled_from(["poor", "near_poor", "average", "not_poor"])),
        "left_list_on": maybe(st.sampled_from(["2022-06-29", "2022-06-30", "2024-12-31",
                                               "2025-07-15"])),  # fmt: skip
    }
)
cases = st.builds(lambda h, m: {"household": h, "members": m}, households,
                  st.lists(members, min_size=1, max_size=6))  # fmt: skip
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(cases, st.integers(1, 3_000_000))
def test_more_income_never_worsens_the_class(case: dict[str, Any], rise: int) -> None:
    base = case["household"].get("income_per_capita_vnd")
    if base is None:
        base = 0
    richer = {**case, "household": {**case["household"], "income_per_capita_vnd": base + rise}}
    poorer = {**case, "household": {**case["household"], "income_per_capita_vnd": base}}
    out = run_cases([poorer, richer], AS_OF)
    a, b = out["class"].iloc[0], out["class"].iloc[1]
    if a in RANK and b in RANK:
        assert RANK[b] >= RANK[a]


DEPRIVE = [("uses_telecom", False), ("latrine", "none"), ("water_source", "surface_water")]


@FAST
@given(cases, st.sampled_from(DEPRIVE))
def test_one_more_deprivation_never_improves_the_class(case: dict[str, Any], change: Any) -> None:
    field, value = change
    worse = {**case, "household": {**case["household"], field: value}}
    out = run_cases([case, worse], AS_OF)
    a, b = out["class"].iloc[0], out["class"].iloc[1]
    if a in RANK and b in RANK:
        assert RANK[b] <= RANK[a]
    assert out["deprivation_count"].iloc[1] >= out["deprivation_count"].iloc[0]


COMPARED = ["class", "deprivation_count", "missing", "reason", "statuses", "recommendations"]


@FAST
@given(st.lists(cases, min_size=2, max_size=8))
def test_a_batch_equals_its_rows_one_by_one(batch: list[dict[str, Any]]) -> None:
    together = run_cases(batch, AS_OF)
    hh, mem = frames(batch)
    for i in range(len(batch)):
        hid = hh["household_id"].iloc[i]
        one = run_frames(hh.iloc[[i]].reset_index(drop=True),
                         mem[mem["household_id"] == hid].reset_index(drop=True), AS_OF).results  # fmt: skip
        cols = [c for c in together.columns if "." in c] + COMPARED
        pd.testing.assert_series_equal(together.iloc[i][cols], one.iloc[0][cols], check_names=False)


@FAST
@given(st.lists(cases, min_size=2, max_size=8), st.randoms(use_true_random=False))
def test_row_order_does_not_matter(batch: list[dict[str, Any]], rnd: Any) -> None:
    hh, mem = frames(batch)
    base = run_frames(hh, mem, AS_OF).results.set_index("household_id")
    hh2 = hh.sample(frac=1, random_state=rnd.randint(0, 10_000)).reset_index(drop=True)
    mem2 = mem.sample(frac=1, random_state=rnd.randint(0, 10_000)).reset_index(drop=True)
    shuffled = run_frames(hh2, mem2, AS_OF).results.set_index("household_id")
    pd.testing.assert_frame_equal(base.sort_index(), shuffled.sort_index())


@FAST
@given(st.lists(cases, min_size=1, max_size=6))
def test_every_recommendation_has_a_firing_and_a_citation(batch: list[dict[str, Any]]) -> None:
    hh, mem = frames(batch)
    result = run_frames(hh, mem, AS_OF)
    position = {hid: i for i, hid in enumerate(hh["household_id"])}
    member_no = result.evaluator.columns["member"]["member_no"].values
    member_hh = result.evaluator.tables.member_household
    for rec in result.recommendations.to_dict("records"):
        assert rec["legal_basis"] and rec["department"] and rec["plan_section"], rec
        assert rec["trigger"], rec
        fired = result.evaluation.actions[rec["action_id"]]
        pos = position[rec["household_id"]]
        assert fired.when.t[pos] and fired.fires[pos]
        assert result.results.iloc[pos]["class"] not in ("invalid",)
        if not pd.isna(rec["member_no"]):
            assert fired.members is not None and fired.member_fires is not None
            rows = (member_hh == pos) & (member_no == rec["member_no"])
            assert fired.members.t[rows].all() and fired.member_fires[rows].all()


@FAST
@given(st.lists(cases, min_size=1, max_size=6))
def test_an_ok_indicator_never_triggers_its_action(batch: list[dict[str, Any]]) -> None:
    hh, mem = frames(batch)
    result = run_frames(hh, mem, AS_OF)
    in_force = {rule.id for rule, _ in result.resolved.indicators}
    recs = result.recommendations
    for action, _ in result.resolved.interventions:
        addressed = [i for i in action.addresses if i in in_force]
        if not addressed:
            continue
        all_ok = (result.results[addressed] == "ok").all(axis=1)
        ok_ids = set(hh["household_id"].to_numpy()[all_ok.to_numpy()])
        fired = set(recs.loc[recs["action_id"] == action.id, "household_id"])
        assert not (ok_ids & fired), (action.id, ok_ids & fired)
