"""The three evaluators agree: vectorised (NumPy), durable_rules (Rete) and the plain-Python
reference interpreter, on examples, generated households and an exhaustive enumeration; and
each known limit of durable-rules 2.0.28 is met."""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import unicodedata
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import classify, default_rulebook
from engine.evaluators.crosscheck import compare, run_durable
from engine.evaluators.durable import (
    DurableError,
    DurableEvaluator,
    QuietHost,
    household_facts,
    normalise,
    number,
)
from engine.evaluators.reference import Reference, from_batch
from engine.rulebook import Resolved
from household_models import parse_batch, read_survey
from household_models.batch import ParsedBatch
from tests.helpers import EXAMPLES, FAST, batch_of, cases, frames, wrong_operator_rulebook

RULES = Path(__file__).parent.parent / "rules"


def reference_disagreements(r: Resolved, result: Any, batch: ParsedBatch) -> list[str]:
    """Where the reference interpreter differs from the vectorised evaluation."""
    ref = Reference(r)
    out = []
    rows: dict[int, list[int]] = {}
    for m, h in enumerate(batch.member_household.tolist()):
        rows.setdefault(h, []).append(m)
    ev = result.evaluation
    for p, hh in enumerate(from_batch(batch)):
        if batch.household_invalid[p]:
            continue
        o = ref.evaluate(hh)
        for ind, v in o.indicators.items():
            tri = ev.indicators[ind]
            if v != (True if tri.t[p] else False if tri.f[p] else None):
                out.append(f"{p}: {ind}")
        if o.cls != result.results.iloc[p]["class"]:
            out.append(f"{p}: class {o.cls} vs {result.results.iloc[p]['class']}")
        for sid, v in o.statuses.items():
            if (v is True) != bool(ev.statuses[sid].t[p]):
                out.append(f"{p}: status {sid}")
        for sid, vals in o.member_statuses.items():
            mine = [bool(ev.statuses[sid].t[m]) for m in rows.get(p, [])]
            if [v is True for v in vals] != mine:
                out.append(f"{p}: member status {sid}")
        for aid, fires in o.actions.items():
            if fires != bool(ev.actions[aid].fires[p]):
                out.append(f"{p}: action {aid}")
            named = o.action_members.get(aid)
            member_fires = ev.actions[aid].member_fires
            if (named is not None and member_fires is not None
                    and named != [bool(member_fires[m]) for m in rows.get(p, [])]):  # fmt: skip
                out.append(f"{p}: members of {aid}")
    return out


# -- examples --------------------------------------------------------------------------------------


@pytest.mark.parametrize("as_of", ["2024-06-30", "2025-06-30", "2025-07-01", "2027-03-01"])
def test_examples_agree_on_all_three(as_of: str) -> None:
    batch = parse_batch(read_survey([EXAMPLES / "survey.xlsx"]))
    when = dt.date.fromisoformat(as_of)
    result = classify(batch, default_rulebook(), when)
    outcomes = run_durable(result.resolved, batch, list(range(batch.n_households)))
    assert len(outcomes) == 15  # every valid household
    assert compare(result.resolved, result.evaluation, batch, outcomes) == []
    assert reference_disagreements(result.resolved, result, batch) == []


def test_engine_durable_gives_the_same_outputs() -> None:
    batch = parse_batch(read_survey([EXAMPLES / "survey.xlsx"]))
    when = dt.date(2025, 6, 30)
    fast = classify(batch, default_rulebook(), when, verify=0)
    durable = classify(batch, default_rulebook(), when, engine="durable")
    assert (durable.verified, durable.disagreements) == (15, 0)
    pd.testing.assert_frame_equal(fast.results, durable.results)
    pd.testing.assert_frame_equal(fast.recommendations, durable.recommendations)
    checked = classify(batch, default_rulebook(), when, verify=0.01)
    assert checked.verified == 15 and checked.disagreements == 0  # at least 20 (all 15 here)


# -- generated households ------------------------------------------------------------------------


@FAST
@given(st.lists(cases, min_size=1, max_size=5))
def test_generated_households_agree_on_all_three(batch_cases: list[dict[str, Any]]) -> None:
    hh, mem = frames(batch_cases)
    batch = batch_of(hh, mem)
    result = classify(batch, default_rulebook(), dt.date(2025, 6, 30), verify=0)
    outcomes = run_durable(result.resolved, batch, list(range(batch.n_households)))
    assert compare(result.resolved, result.evaluation, batch, outcomes) == []
    assert reference_disagreements(result.resolved, result, batch) == []


# -- exhaustive enumeration of the classification's abstract input space --------------------

CHILD = {"employment": None, "education": None, "in_school": True, "school_on_track": True,
         "stunted": False, "underweight": False}  # fmt: skip
ELDER = {"age": 70, "employment": "not_in_labour_force", "education": "primary"}
# Each deprivation is switched on by its own change; none touches another indicator.
TOGGLES = ["housing.quality", "housing.area", "water.source", "water.latrine",
           "information.telecom", "information.devices", "employment.jobs", "health.insurance",
           "education.adult", "education.children", "health.nutrition",
           "employment.dependants"]  # fmt: skip


def enumerated(line: int, ceiling: int, pattern_bits: range) -> list[dict[str, Any]]:
    """Every deprivation pattern × income band (at the line, 1 above, 1 above the ceiling,
    missing) × area, for the given line and ceiling (written from Decree 07/2021)."""
    out = []
    incomes = [line, line + 1, ceiling + 1, None]
    for bits, income, area in itertools.product(pattern_bits, incomes, ["rural", "urban"]):
        on = {t for i, t in enumerate(TOGGLES) if bits >> i & 1}
        scale = 1 if area == "rural" else 4 / 3  # urban lines (2,000,000 / 3,000,000)
        value = None if income is None else round(income * scale)
        household: dict[str, Any] = {
            "area": area, "income_per_capita_vnd": value, "floor_area_m2": 12 if
            "housing.area" in on else 200,
            "durable_frame": "housing.quality" not in on, "durable_walls":
            "housing.quality" not in on,
            "water_source": "surface_water" if "water.source" in on else "piped",
            "latrine": "none" if "water.latrine" in on else "septic",
            "uses_telecom": "information.telecom" not in on,
            "info_devices": "" if "information.devices" in on else "tv",
        }  # fmt: skip
        members = [
            {"age": 35, "employment": "unemployed" if "employment.jobs" in on else
             "wage_contract", "health_insurance": "health.insurance" not in on},
            {"age": 25, "education": "lower_secondary" if "education.adult" in on else
             "upper_secondary"},
            {**CHILD, "age": 10, "in_school": "education.children" not in on,
             "school_on_track": True if "education.children" not in on else None,
             "stunted": "health.nutrition" in on},
        ]  # fmt: skip
        if "employment.dependants" in on:
            members += [dict(ELDER), dict(ELDER)]
        out.append({"household": household, "members": members})
    return out


def test_the_toggles_switch_exactly_their_indicator() -> None:
    singles = [enumerated(1_500_000, 2_250_000, range(1 << i, (1 << i) + 1))[0]
               for i in range(len(TOGGLES))]  # fmt: skip
    every = enumerated(1_500_000, 2_250_000, range((1 << 12) - 1, 1 << 12))[0]
    hh, mem = frames([*singles, every])
    result = classify(batch_of(hh, mem), default_rulebook(), dt.date(2025, 6, 30), verify=0)
    for i, toggle in enumerate(TOGGLES):
        row = result.results.iloc[i]
        assert {t for t in TOGGLES if row[t] == "deprived"} == {toggle}
        assert {t for t in TOGGLES if row[t] == "unknown"} == set()
    assert int(result.results.iloc[-1]["deprivation_count"]) == 12


@pytest.mark.parametrize("block", range(4))
def test_exhaustive_enumeration_agrees_on_all_three(block: int) -> None:
    """4,096 deprivation patterns × 4 income bands × 2 areas = 32,768 households in 4 blocks."""
    bits = range(block * 1024, (block + 1) * 1024)
    hh, mem = frames(enumerated(1_500_000, 2_250_000, bits))
    batch = batch_of(hh, mem)
    result = classify(batch, default_rulebook(), dt.date(2025, 6, 30), verify=0)
    counts = result.results["class"].value_counts().to_dict()
    assert set(counts) == {"poor", "near_poor", "average", "not_poor", "incomplete"}
    outcomes = run_durable(result.resolved, batch, list(range(batch.n_households)), processes=2)
    assert compare(result.resolved, result.evaluation, batch, outcomes) == []
    assert reference_disagreements(result.resolved, result, batch) == []


def test_a_wrong_operator_is_caught(tmp_path: Path) -> None:
    """A mutated rulebook (≤ line becomes < line) given to durable_rules alone: the comparison
    on the enumerated space finds the households at exactly the line."""
    wrong = wrong_operator_rulebook(tmp_path).resolve(dt.date(2025, 6, 30))
    hh, mem = frames(enumerated(1_500_000, 2_250_000, range(0, 64)))
    batch = batch_of(hh, mem)
    result = classify(batch, default_rulebook(), dt.date(2025, 6, 30), verify=0)
    outcomes = run_durable(wrong, batch, list(range(batch.n_households)))
    found = compare(result.resolved, result.evaluation, batch, outcomes)
    assert found and {d.what for d in found} >= {"class"}
    at_line = {p for p in range(batch.n_households)
               if result.results.iloc[p]["income_per_capita_vnd"] in (1_500_000, 2_000_000)}  # fmt: skip
    assert {d.position for d in found if d.what == "class"} <= at_line
    assert reference_disagreements(wrong, result, batch)  # the reference catches it too


# -- the limits of durable-rules 2.0.28 ---------------------------------------------------------


def test_the_host_starts_no_thread() -> None:
    before = threading.active_count()
    QuietHost({"no_threads_probe": {"r": {"all": [{"m": {"t": "x"}}], "run": lambda c: None}}})
    assert threading.active_count() == before


def test_one_session_per_household_deleted_after_use() -> None:
    r = default_rulebook().resolve(dt.date(2025, 6, 30))
    ev = DurableEvaluator(r)
    hh, mem = frames([{}] * 30)
    households = from_batch(batch_of(hh, mem))
    for h in households:
        outcome = ev.evaluate(h)
        assert outcome.firings and outcome.firings[0][0].startswith("seen")  # always fires
    # The sessions are gone: the engine no longer knows an evaluated session (error 309).
    with pytest.raises(Exception, match="309"):
        ev.host.get_state(ev.name, "0")


def test_more_sessions_than_the_engine_allows_live() -> None:
    r = default_rulebook().resolve(dt.date(2025, 6, 30))
    ev = DurableEvaluator(r)
    hh, mem = frames([{}])
    household = from_batch(batch_of(hh, mem))[0]
    for _ in range(1500):  # more than 1024 sessions, one after another
        ev.evaluate(household)


def test_values_are_normalised_before_asserting() -> None:
    assert number(1e-05) == 0 and isinstance(number(2.0), int)
    assert "e" not in repr(number(1.5e-4)) and number(0.333) == 0.333
    assert normalise(True) == 1 and normalise(False) == 0
    assert normalise(unicodedata.normalize("NFD", "nông thôn")) == "nông thôn"
    with pytest.raises(ValueError):
        number(float("inf"))
    r = default_rulebook().resolve(dt.date(2025, 6, 30))
    ev = DurableEvaluator(r)
    hh, mem = frames([{"household": {"floor_area_m2": 0.00001}}])
    facts = household_facts(from_batch(batch_of(hh, mem))[0], ev.compiled, Reference(r), r.as_of)
    for fact in facts:
        assert "id" not in fact and "sid" not in fact  # the engine's own keys
        for key, value in fact.items():
            assert not isinstance(value, float) or "e" not in repr(value), key
            assert not (isinstance(value, str) and value.replace(".", "").isdigit()), key


def test_rules_never_test_the_engine_keys() -> None:
    r = default_rulebook().resolve(dt.date(2025, 6, 30))
    text = repr(DurableEvaluator(r).compiled.rules)
    assert "'id'" not in text and "'sid'" not in text


def test_an_exception_inside_an_action_is_surfaced(monkeypatch: pytest.MonkeyPatch) -> None:
    r = default_rulebook().resolve(dt.date(2025, 6, 30))
    ev = DurableEvaluator(r)
    hh, mem = frames([{}])
    household = from_batch(batch_of(hh, mem))[0]
    from engine.evaluators.durable import runtime as durable_runtime

    def boom(*_: Any) -> None:
        raise RuntimeError("boom inside an action")

    monkeypatch.setattr(durable_runtime._Session, "fire", boom)
    with pytest.raises(DurableError, match="boom inside an action"):
        ev.evaluate(household)
