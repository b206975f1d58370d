"""The durable_rules cross-check's sample: reproducible, capped, holding every decision stratum
and every household at a threshold, so that a wrong operator at the line is caught on a large
batch where a uniform 1 % sample would almost never see it."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from engine import classify, default_rulebook
from engine.evaluators.crosscheck import compare, crosscheck_sample, run_durable
from engine.synthetic import generate
from household_models import parse_batch, read_survey
from household_models.batch import ParsedBatch
from tests.helpers import EXAMPLES, batch_of, wrong_operator_rulebook

AS_OF = dt.date(2025, 6, 30)


@pytest.fixture(scope="module")
def province_part() -> tuple[ParsedBatch, object]:
    hh, mem = generate(20_000, year=2025, seed=3)
    batch = batch_of(hh, mem)
    return batch, classify(batch, default_rulebook(), AS_OF, verify=0)


def test_every_decision_stratum_is_in_the_sample(province_part: tuple[ParsedBatch, object]) -> None:
    batch, result = province_part
    ev, r = result.evaluation, result.resolved  # type: ignore[attr-defined]
    s = crosscheck_sample(r, ev, batch, 0.01, columns=result.evaluator.columns)  # type: ignore[attr-defined]
    chosen = np.zeros(batch.n_households, dtype=bool)
    chosen[s.positions] = True
    assert len(s.positions) <= 1000 and not batch.household_invalid[s.positions].any()
    # Written here from the evaluation, not from the sampler: each class present, and within
    # it each status held, each action given, each indicator unknown.
    valid = ~batch.household_invalid
    member_held = {st.id: np.bincount(batch.member_household[ev.statuses[st.id].t],
                                      minlength=batch.n_households) > 0
                   for st, _ in r.statuses if st.context == "member"}  # fmt: skip
    marks = [np.ones(batch.n_households, dtype=bool)]
    marks += [member_held.get(st.id, ev.statuses[st.id].t) for st, _ in r.statuses]
    marks += [ev.actions[a.id].fires for a, _ in r.interventions]
    marks += [~(t.t | t.f) for t in ev.indicators.values()]
    present = 0
    for cls in np.unique(ev.class_index[valid]):
        for mark in marks:
            stratum = valid & (ev.class_index == cls) & mark
            if stratum.any():
                present += 1
                assert (chosen & stratum).sum() >= min(3, stratum.sum())
    assert s.patterns == present > 20
    assert s.patterns_covered == s.patterns


def test_the_sample_is_reproducible_and_capped(province_part: tuple[ParsedBatch, object]) -> None:
    batch, result = province_part
    ev, r = result.evaluation, result.resolved  # type: ignore[attr-defined]
    a = crosscheck_sample(r, ev, batch, 0.01, seed=0)
    assert a == crosscheck_sample(r, ev, batch, 0.01, seed=0)
    assert a.positions != crosscheck_sample(r, ev, batch, 0.01, seed=1).positions
    assert len(crosscheck_sample(r, ev, batch, 0.5, most=300).positions) == 300
    half = crosscheck_sample(r, ev, batch, 0.5, most=0)
    n_valid = int((~batch.household_invalid).sum())
    assert half.uniform + 3 * (half.patterns + half.thresholds) >= len(half.positions)
    assert len(half.positions) >= math.ceil(n_valid / 2)
    assert crosscheck_sample(r, ev, batch, 0).positions == []
    every = crosscheck_sample(r, ev, batch, 1.0).positions
    assert every == np.flatnonzero(~batch.household_invalid).tolist()


def test_a_wrong_operator_at_the_line_is_caught_by_the_default_sample(tmp_path: Path) -> None:
    """20,000 households, one of them rural at exactly 1,500,000 VND a person (the rural poverty
    line of Decree 07/2021): the default sample holds it, and a durable_rules rulebook where
    '≤ line' became '< line' disagrees on its class."""
    wrong = wrong_operator_rulebook(tmp_path).resolve(AS_OF)
    hh, mem = generate(20_000, year=2025, seed=4)
    rural = np.flatnonzero((hh["area"] == "rural").to_numpy())
    at = int(rural[len(rural) // 2])
    hh["income_per_capita_vnd"] = hh["income_per_capita_vnd"].astype(object)
    hh.loc[hh["income_per_capita_vnd"] == 1_500_000, "income_per_capita_vnd"] = 1_500_100
    hh.loc[at, "income_per_capita_vnd"] = 1_500_000
    batch = batch_of(hh, mem)
    result = classify(batch, default_rulebook(), AS_OF, verify=0)
    s = crosscheck_sample(result.resolved, result.evaluation, batch, 0.01,
                          columns=result.evaluator.columns)  # fmt: skip
    assert at in s.positions and s.thresholds >= 1
    found = compare(result.resolved, result.evaluation, batch,
                    run_durable(wrong, batch, s.positions))  # fmt: skip
    assert {d.position for d in found if d.what == "class"} == {at}


def test_classify_reports_the_sample() -> None:
    batch = parse_batch(read_survey([EXAMPLES / "survey.xlsx"]))
    result = classify(batch, default_rulebook(), AS_OF, verify=0.01)
    valid = np.flatnonzero(~batch.household_invalid).tolist()
    assert result.verified == len(valid) == 15  # at least 20: every valid household here
    assert result.sample.positions == valid and result.disagreements == 0
