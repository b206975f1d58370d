"""The durable_rules evaluator's decisions as an evaluation, and their comparison with the
vectorised evaluator's (the shadow check of ``classify --verify`` and ``--engine durable``)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np

from engine.evaluators.durable.runtime import DurableOutcome, evaluate_households
from engine.evaluators.evaluation import Evaluation, Tri
from engine.evaluators.reference import from_batch
from engine.rulebook import Resolved
from household_models.batch import ParsedBatch


@dataclass
class Disagreement:
    position: int
    what: str  # indicator id, "class", "status:<id>", "action:<id>"
    vectorised: str
    durable: str


def run_durable(resolved: Resolved, batch: ParsedBatch, positions: list[int],
                processes: int = 1, keep_firings: bool = False) -> dict[int, DurableOutcome]:  # fmt: skip
    valid = [p for p in positions if not batch.household_invalid[p]]
    households = list(zip(valid, from_batch(batch, valid), strict=True))
    return evaluate_households(resolved, households, processes, keep_firings)


def compare(r: Resolved, evaluation: Evaluation, batch: ParsedBatch,
            outcomes: dict[int, DurableOutcome]) -> list[Disagreement]:  # fmt: skip
    rows = batch.member_rows()
    out: list[Disagreement] = []
    row_classes = [row.cls for row in r.classification.rows]
    for p, o in sorted(outcomes.items()):
        for rule, _ in r.indicators:
            tri = evaluation.indicators[rule.id]
            v = "T" if tri.t[p] else "F" if tri.f[p] else "U"
            if v != o.indicators.get(rule.id):
                out.append(Disagreement(p, rule.id, v, str(o.indicators.get(rule.id))))
        index = int(evaluation.class_index[p])
        cls = row_classes[index] if index >= 0 else r.classification.undecided
        if cls != o.cls:
            out.append(Disagreement(p, "class", cls, o.cls))
        members = rows.get(p, [])
        for status, _ in r.statuses:
            tri = evaluation.statuses[status.id]
            if status.context == "member":
                mine = {i for i, m in enumerate(members) if tri.t[m]}
                theirs = o.member_statuses.get(status.id, set())
            else:
                mine = {0} if tri.t[p] else set()
                theirs = {0} if status.id in o.statuses else set()
            if mine != theirs:
                out.append(Disagreement(p, f"status:{status.id}", str(sorted(mine)),
                                        str(sorted(theirs))))  # fmt: skip
        for action, _ in r.interventions:
            res = evaluation.actions[action.id]
            fires = bool(res.fires[p])
            if fires != (action.id in o.actions):
                out.append(Disagreement(p, f"action:{action.id}", str(fires),
                                        str(action.id in o.actions)))  # fmt: skip
            if res.member_fires is not None:
                mine = {i for i, m in enumerate(members) if res.member_fires[m]}
                theirs = o.action_members.get(action.id, set())
                if mine != theirs:
                    out.append(Disagreement(p, f"action:{action.id}:members", str(sorted(mine)),
                                            str(sorted(theirs))))  # fmt: skip
    return out


def durable_evaluation(r: Resolved, evaluation: Evaluation, batch: ParsedBatch,
                       outcomes: dict[int, DurableOutcome]) -> Evaluation:  # fmt: skip
    """The vectorised evaluation with every decision replaced by durable_rules' (amounts,
    priorities and texts still come from the same rulebook through the other evaluators)."""
    out = copy.copy(evaluation)
    n = batch.n_households
    rows = batch.member_rows()
    positions = np.array(sorted(outcomes), dtype=np.int64)
    out.indicators = {}
    for rule, _ in r.indicators:
        t = np.zeros(n, dtype=bool)
        f = np.zeros(n, dtype=bool)
        for p in positions.tolist():
            v = outcomes[p].indicators[rule.id]
            t[p], f[p] = v == "T", v == "F"
        out.indicators[rule.id] = Tri(t, f)
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    index = np.full(n, -1, dtype=np.int64)
    classes = [row.cls for row in r.classification.rows]
    for p in positions.tolist():
        o = outcomes[p]
        lo[p], hi[p] = o.deprivation
        index[p] = classes.index(o.cls) if o.cls in classes else -1
    out.deprivation_lo, out.deprivation_hi, out.class_index = lo, hi, index
    n_members = len(batch.member_household)
    out.statuses = {}
    for status, _ in r.statuses:
        size = n_members if status.context == "member" else n
        t = np.zeros(size, dtype=bool)
        for p in positions.tolist():
            o = outcomes[p]
            if status.context == "member":
                for i in o.member_statuses.get(status.id, set()):
                    t[rows[p][i]] = True
            elif status.id in o.statuses:
                t[p] = True
        out.statuses[status.id] = Tri(t, ~t)
    out.actions = {}
    for action, _ in r.interventions:
        res = copy.copy(evaluation.actions[action.id])
        fires = np.zeros(n, dtype=bool)
        member_fires = np.zeros(n_members, dtype=bool) if res.member_fires is not None else None
        for p in positions.tolist():
            o = outcomes[p]
            fires[p] = action.id in o.actions
            if member_fires is not None:
                for i in o.action_members.get(action.id, set()):
                    member_fires[rows[p][i]] = True
        res.fires = fires
        res.member_fires = member_fires
        out.actions[action.id] = res
    return out


def crosscheck_positions(batch: ParsedBatch, fraction: float, seed: int = 0) -> list[int]:
    """A reproducible random sample of the valid households: ``fraction`` of them, at least
    min(20, all) when the fraction is above zero."""
    valid = np.flatnonzero(~batch.household_invalid)
    if fraction <= 0 or len(valid) == 0:
        return []
    size = min(len(valid), max(math.ceil(fraction * len(valid)), 20))
    rng = np.random.default_rng(seed)
    return sorted(rng.choice(valid, size=size, replace=False).tolist())
