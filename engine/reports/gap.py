"""The households behind a district's gap to the plan: for each poor household of an
off-track district, the cheapest way off the poor list, found by re-running the evaluator as
``explain`` does for "what would change the class" (never by a formula):

* the fewest deprivations to remove (in the rulebook's order of the indicators), with the
  recommended support that addresses them and its first-year cost from the rulebook's amounts;
* or the rise of income per head that takes it above the line, where that is the only way.

Households are ranked by the deprivations to remove, then the cost; the first ``to_leave`` of
a district (``report plan``) are the ones behind its gap. A planning aid, not a decision."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.evaluators.evaluation import Tables, Tri
from engine.evaluators.vectorised import Evaluator
from engine.reports.population import Population
from engine.trace.whatif import compared_params
from household_models.batch import Column


def _subset(pop: Population, positions: np.ndarray) -> tuple[Tables, np.ndarray]:
    batch = pop.batch
    owner = np.asarray(batch.member_household, dtype=np.int64)
    keep = np.flatnonzero(np.isin(owner, positions))
    where = np.full(batch.n_households, -1, dtype=np.int64)
    where[positions] = np.arange(len(positions))

    def take(cols: dict[str, Column], idx: np.ndarray) -> dict[str, Column]:
        return {k: Column(v.kind, v.values[idx], v.missing[idx], v.codes) for k, v in cols.items()}

    tables = Tables(take(batch.households, positions), take(batch.members, keep),
                    where[owner[keep]], len(positions))  # fmt: skip
    return tables, batch.household_invalid[positions]


def _classes(pop: Population, tables: Tables, invalid: np.ndarray,
             override: dict[str, Tri] | None = None) -> np.ndarray:  # fmt: skip
    r = pop.result.resolved
    ev = Evaluator(r, tables, invalid)
    ev.indicator_override = override or {}
    index = ev.run().class_index
    names = np.array([row.cls for row in r.classification.rows] + [r.classification.undecided],
                     dtype=object)  # fmt: skip
    return names[np.where(index >= 0, index, len(names) - 1)]


def _income_candidates(pop: Population) -> dict[str, list[float]]:
    """Each income field the classification compares with a parameter, with every value of
    the parameter (all its keys) and one more: the incomes to try."""
    r = pop.result.resolved
    out: dict[str, set[float]] = {}
    for field, param in compared_params(r):
        value = r.param(param.name)
        values = value.values() if isinstance(value, dict) else [value]
        for v in values:
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.setdefault(field, set()).update({float(v), float(v) + 1})
    return {k: sorted(v) for k, v in out.items()}


def behind(pop: Population, to_leave: dict[str, int]) -> list[dict[str, Any]]:
    """For each district of ``to_leave`` (district -> households that must leave poverty),
    its poor households ranked by the cheapest path out, the first ``to_leave`` marked."""
    hh = pop.households
    r = pop.result.resolved
    poor = (hh["class"] == "poor").to_numpy() & hh["district"].isin(list(to_leave)).to_numpy()
    positions = np.flatnonzero(poor)
    if not len(positions):
        return []
    tables, invalid = _subset(pop, positions)
    ids = [rule.id for rule, _ in r.indicators]
    tris = pop.result.evaluation.indicators
    deprived = np.column_stack([tris[i].t[positions] for i in ids])
    # the cheapest deprivations first: by the first-year cost of the recommended support that
    # addresses each (none recommended: last), then in the rulebook's order
    cost, actions = _indicator_costs(pop, positions, ids)
    rank = np.argsort(np.argsort(np.where(deprived, cost, np.inf), axis=1, kind="stable"),
                      axis=1)  # fmt: skip
    engine = hh["engine_class"].to_numpy()[positions]
    fixes = np.where(engine != "poor", 0, -1)  # recognised poor by decision alone: nothing to fix
    reach = np.full(len(positions), None, dtype=object)
    for k in range(1, len(ids) + 1):
        open_ = fixes < 0
        if not open_.any():
            break
        fix = deprived & (rank < k)
        override = {i: Tri(tris[i].t[positions] & ~fix[:, j], tris[i].f[positions] | fix[:, j])
                    for j, i in enumerate(ids)}  # fmt: skip
        classes = _classes(pop, tables, invalid, override)
        done = open_ & (classes != "poor") & (deprived.sum(axis=1) >= k)
        fixes[done], reach[done] = k, classes[done]
    rises = np.full(len(positions), np.nan)
    for field, candidates in _income_candidates(pop).items():
        col = tables.households.get(field)
        if col is None:
            continue
        now = np.asarray(col.values, dtype=np.float64)
        for value in candidates:
            trial = np.where(col.missing | (now >= value), now, value)
            households = dict(tables.households)
            households[field] = Column(col.kind, trial, col.missing, col.codes)
            changed = Tables(households, tables.members, tables.member_household,
                             tables.n_households)  # fmt: skip
            left = (_classes(pop, changed, invalid) != "poor") & np.isnan(rises) & ~col.missing
            rises[left] = (trial - now)[left]
    fixed = deprived & (rank < np.maximum(fixes, 0)[:, None])
    out = []
    districts = hh["district"].to_numpy()[positions]
    hids = hh["household_id"].to_numpy()[positions]
    communes = hh["commune"].to_numpy()[positions]
    villages = hh["village"].to_numpy()[positions]
    paid = [_paid(actions[k], fixed[k]) for k in range(len(positions))]
    for district, need in to_leave.items():
        mine = [k for k in range(len(positions)) if districts[k] == district]
        mine.sort(key=lambda k: (fixes[k] if fixes[k] >= 0 else 99, len(paid[k][2]), paid[k][0],
                                 hids[k]))  # fmt: skip
        rows = []
        for place, k in enumerate(mine):
            rows.append({
                "household_id": hids[k], "commune": communes[k],
                "village": None if villages[k] is None or villages[k] != villages[k] else
                str(villages[k]),
                "fix": int(fixes[k]) if fixes[k] >= 0 else None,
                "indicators": [i for j, i in enumerate(ids) if fixed[k, j]],
                "to": reach[k], "income_rise_vnd": None if np.isnan(rises[k]) else
                int(rises[k]), "actions": paid[k][1], "first_year_vnd": paid[k][0],
                "unpriced": paid[k][2],
                "selected": place < need,
            })  # fmt: skip
        chosen = [row for row in rows if row["selected"]]
        out.append({"district": district, "to_leave": need, "poor": len(rows),
                    "first_year_vnd": sum(row["first_year_vnd"] for row in chosen),
                    "households": rows})  # fmt: skip
    return out


UNPRICED = 1e15  # ranks an indicator whose support has no amount after every priced one


def _indicator_costs(pop: Population, positions: np.ndarray,
                     ids: list[str]) -> tuple[np.ndarray, list[list[dict[str, int | None]]]]:  # fmt: skip
    """For each household and indicator, the first-year cost of the recommended actions that
    address it, and those actions with their cost (None: the rulebook gives no amount). An
    indicator whose support has no amount ranks after every priced one (it is not free), one
    with no support recommended last (inf)."""
    addresses = {a.id: set(a.addresses) for a, _ in pop.result.resolved.interventions}
    column = {i: j for j, i in enumerate(ids)}
    cost = np.full((len(positions), len(ids)), np.inf)
    actions: list[list[dict[str, int | None]]] = [[{} for _ in ids] for _ in positions]
    hid = pop.households["household_id"].to_numpy()[positions]
    index = {h: k for k, h in enumerate(hid.tolist())}
    rec = pop.result.recommendations
    if rec.empty:
        return cost, actions
    for h, action, amount in zip(rec["household_id"].astype(str), rec["action_id"].astype(str),
                                 rec["first_year_vnd"], strict=True):  # fmt: skip
        k = index.get(h)
        if k is None:
            continue
        for indicator in addresses.get(action, set()):
            j = column.get(indicator)
            if j is None:
                continue
            known = actions[k][j].get(action, 0)
            value = None if pd.isna(amount) or known is None else known + int(amount)
            actions[k][j][action] = value
    for k, row in enumerate(actions):
        for j, found in enumerate(row):
            if found:
                priced = sum(v for v in found.values() if v is not None)
                cost[k, j] = priced + (UNPRICED if None in found.values() else 0)
    return cost, actions


def _paid(actions: list[dict[str, int | None]],
          fixed: np.ndarray) -> tuple[int, list[str], list[str]]:  # fmt: skip
    """The first-year cost of the support for the indicators ``fixed`` (an action that
    addresses two of them counted once), the actions, and those without an amount."""
    chosen: dict[str, int | None] = {}
    for j in np.flatnonzero(fixed).tolist():
        chosen |= actions[j]
    return (sum(v for v in chosen.values() if v is not None), sorted(chosen),
            sorted(a for a, v in chosen.items() if v is None))
