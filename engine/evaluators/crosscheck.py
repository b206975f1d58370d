"""The durable_rules evaluator's decisions as an evaluation, and their comparison with the
vectorised evaluator's (the shadow check of ``classify --verify`` and ``--engine durable``)."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from engine.evaluators import CROSSCHECK_MAX
from engine.evaluators.durable.runtime import DurableOutcome, evaluate_households
from engine.evaluators.evaluation import Evaluation, Tri
from engine.evaluators.reference import from_batch
from engine.rulebook import Resolved
from engine.rulebook import conditions as c
from household_models.batch import Column, ParsedBatch


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
    rows = batch.member_rows(sorted(outcomes))
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
    rows = batch.member_rows(sorted(outcomes))
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


PER_STRATUM = 3  # households taken from each decision pattern and each threshold value


@dataclass(frozen=True)
class Sample:
    """The households of a cross-check and how they were drawn."""

    positions: list[int]
    patterns: int  # decision strata present among the valid households (see ``_decisions``)
    patterns_covered: int  # of which at least one household is in the sample
    thresholds: int  # (field, threshold value) pairs some household sits at
    thresholds_covered: int
    uniform: int  # households drawn uniformly beyond the strata


def thresholds(r: Resolved) -> dict[str, set[float]]:
    """The numbers each input field is compared with anywhere in the rules in force (the
    poverty lines by area, the age limits, ...): a household *at the line* sits on one."""
    roots: list[c.Node] = [d.condition for _, d in r.facts.values()]
    roots += [d.condition for _, d in r.indicators]
    roots += [row.when for row in r.classification.rows]
    for _, d in (*r.statuses, *r.interventions):
        roots += [n for n in (d.when, d.members, d.priority) if n is not None]
    out: dict[str, set[float]] = {}
    for root in roots:
        for node in c.walk(root):
            if not isinstance(node, c.Compare):
                continue
            for a, b in ((node.left, node.right), (node.right, node.left)):
                if isinstance(a, c.FieldRef):
                    out.setdefault(a.name, set()).update(_numbers(r, b))
    return {k: v for k, v in out.items() if v}


def _numbers(r: Resolved, node: c.Node) -> list[float]:
    if isinstance(node, c.Literal):
        value = node.value
    elif isinstance(node, c.ParamRef):
        value = r.param(node.name)
    else:
        return []
    leaves = value.values() if isinstance(value, dict) else [value]
    return [float(v) for v in leaves if isinstance(v, int | float) and not isinstance(v, bool)]


def _decisions(r: Resolved, evaluation: Evaluation, batch: ParsedBatch,
               valid: npt.NDArray[np.int64]) -> list[npt.NDArray[np.int64]]:  # fmt: skip
    """The decision strata of the valid households (as indices into ``valid``): each class,
    and within each class, the households holding each status (a member status: held by any
    member), getting each action, and unknown in each indicator."""
    marks: list[npt.NDArray[np.bool_]] = [np.ones(batch.n_households, dtype=bool)]
    for status, _ in r.statuses:
        t = evaluation.statuses[status.id].t
        marks.append(_of_households(batch, t) if status.context == "member" else t)
    marks += [evaluation.actions[action.id].fires for action, _ in r.interventions]
    marks += [~(tri.t | tri.f) for tri in evaluation.indicators.values()]
    classes = evaluation.class_index[valid]
    out: list[npt.NDArray[np.int64]] = []
    marks = [mark[valid] for mark in marks]
    for cls in np.unique(classes).tolist():
        mine = classes == cls
        for mark in marks:
            found = np.flatnonzero(mine & mark)
            if len(found):
                out.append(found)
    return out


def _of_households(batch: ParsedBatch, members: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """The households with at least one of the ``members`` marked."""
    out = np.zeros(batch.n_households, dtype=bool)
    out[batch.member_household[members]] = True
    return out


def _at_thresholds(r: Resolved, batch: ParsedBatch, valid: npt.NDArray[np.int64],
                   columns: dict[str, dict[str, Column]]) -> list[npt.NDArray[np.int64]]:  # fmt: skip
    """For every (field, value) pair some valid household sits at, those households (as
    indices into ``valid``). ``columns``: the household and member fields, derived ones (ages
    on the evaluation date) included."""
    n = batch.n_households
    out: list[npt.NDArray[np.int64]] = []
    for name, values in sorted(thresholds(r).items()):
        for value in sorted(values):
            at = np.zeros(n, dtype=bool)
            col = columns["household"].get(name)
            if col is not None and col.kind in ("int", "number"):
                at |= ~col.missing & (col.values == value)
            col = columns["member"].get(name)
            if col is not None and col.kind in ("int", "number"):
                at |= _of_households(batch, ~col.missing & (col.values == value))
            found = np.flatnonzero(at[valid])
            if len(found):
                out.append(found)
    return out


def crosscheck_sample(r: Resolved, evaluation: Evaluation, batch: ParsedBatch, fraction: float,
                      seed: int = 0, most: int = CROSSCHECK_MAX,
                      columns: dict[str, dict[str, Column]] | None = None) -> Sample:  # fmt: skip
    """A reproducible sample of the valid households for the durable_rules cross-check.

    It holds, for every decision stratum present in the batch (each class, and within it each
    status, each action and each unknown indicator) and for every threshold value of the rules
    some household sits at exactly, ``PER_STRATUM`` households (fewer where there are
    fewer), the rarest strata first; then ``fraction`` of the households drawn uniformly (at
    least 20); ``most`` households in all (0: no limit). ``fraction`` 1 is every household.
    """
    valid = np.flatnonzero(~batch.household_invalid).astype(np.int64)
    if fraction <= 0 or len(valid) == 0:
        return Sample([], 0, 0, 0, 0, 0)
    if fraction >= 1:
        return Sample(valid.tolist(), 0, 0, 0, 0, len(valid))
    rng = np.random.default_rng(seed)
    rank = rng.permutation(len(valid))  # a random order of the valid households

    def first(members: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The stratum's PER_STRATUM households first in the random order, in that order."""
        keys = rank[members]
        if len(members) > PER_STRATUM:
            top = np.argpartition(keys, PER_STRATUM - 1)[:PER_STRATUM]
            members, keys = members[top], keys[top]
        return members[np.argsort(keys)]

    strata = [(len(s), first(s)) for s in _decisions(r, evaluation, batch, valid)]
    at_line = [(len(s), first(s)) for s in _at_thresholds(r, batch, valid, columns or {
        "household": batch.households, "member": batch.members})]  # fmt: skip
    picks: list[npt.NDArray[np.int64]] = []
    everything = [s for _, s in sorted((*strata, *at_line), key=lambda x: x[0])]  # rarest first
    for i in range(PER_STRATUM):  # one from every stratum, then a second, ...
        picks += [s[i : i + 1] for s in everything if len(s) > i]
    uniform = min(max(math.ceil(fraction * len(valid)), 20), len(valid))
    by_rank = np.empty_like(rank)
    by_rank[rank] = np.arange(len(rank))  # the households in the random order
    by_rank = by_rank[:uniform]
    order = np.concatenate([*picks, by_rank]) if picks else by_rank
    _, seen = np.unique(order, return_index=True)
    order = order[np.sort(seen)]  # each household once, in the order it was picked
    if most > 0:
        order = order[: max(most, 1)]
    chosen = set(order.tolist())
    covered = sum(1 for _, s in strata if chosen.intersection(s.tolist()))
    line_covered = sum(1 for _, s in at_line if chosen.intersection(s.tolist()))
    stratified = len({int(x) for p in picks for x in p} & chosen)
    return Sample(sorted(valid[order].tolist()), len(strata), covered, len(at_line),
                  line_covered, len(chosen) - stratified)  # fmt: skip
