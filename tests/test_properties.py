"""Properties of the classification over generated households (hypothesis)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from tests.helpers import AS_OF, FAST, cases, frames, run_cases, run_frames

RANK = {"poor": 0, "near_poor": 1, "average": 2, "not_poor": 3}


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
