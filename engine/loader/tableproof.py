"""Load-time proof that the classification table has no gap and no overlap.

For one evaluation date it builds every combination of area × income (0, each line and ceiling
of the rulebook ± 1 VND, and far above) × deprivation count (0 … number of indicators), with and
without an income score, evaluates the table's rows and reports any combination where not
exactly one row holds.
"""

from __future__ import annotations

import itertools

import numpy as np

from engine.errors import Text, say
from engine.evaluators.evaluation import Num, Tables
from engine.evaluators.vectorised import Evaluator
from engine.rulebook import Resolved
from engine.rulebook import conditions as c
from household_models.batch import Column, encode
from household_models.schema import FIELD_SPECS


def _income_points(r: Resolved, field_name: str) -> list[float]:
    points = {0.0, 1e12}
    nodes = [n for row in r.classification.rows for n in c.walk(row.when)]
    nodes += [n for _, d in r.facts.values() for n in c.walk(d.condition)]
    for n in nodes:
        if (
            isinstance(n, c.Compare)
            and isinstance(n.left, c.FieldRef)
            and n.left.name == field_name
            and isinstance(n.right, c.ParamRef)
        ):
            value = r.param(n.right.name)
            for v in value.values() if isinstance(value, dict) else [value]:
                points.update({float(v) - 1, float(v), float(v) + 1})
    return sorted(p for p in points if p >= 0)


def check_classification_table(r: Resolved) -> list[Text]:
    specs = FIELD_SPECS["household"]
    areas = specs["area"].codes
    incomes = _income_points(r, "income_per_capita_vnd")
    scores = [None, *_income_points(r, "income_score")]
    counts = range(len(r.indicators) + 1)
    combos = list(itertools.product(areas, incomes, scores, counts))
    n = len(combos)
    columns: dict[str, Column] = {}
    for spec in specs.values():
        arr, miss = encode(spec, [spec.default] * n)
        columns[spec.name] = Column(spec.kind, arr, miss, spec.codes)
    for name, idx in (("area", 0), ("income_per_capita_vnd", 1), ("income_score", 2)):
        arr, miss = encode(specs[name], [combo[idx] for combo in combos])
        columns[name] = Column(specs[name].kind, arr, miss, specs[name].codes)
    tables = Tables(columns, {}, np.zeros(0, dtype=np.int64), n)
    ev = Evaluator(r, tables)
    count = np.array([combo[3] for combo in combos], dtype=np.float64)
    ev.deprivation = Num(count, count)
    rows = np.array([ev.cond(row.when, "household").t for row in r.classification.rows])
    hits = rows.sum(axis=0)
    problems: list[Text] = []
    for i in np.flatnonzero(hits != 1)[:5]:
        area, income, score, k = combos[i]
        which = [r.classification.rows[j].cls for j in np.flatnonzero(rows[:, i])]
        problems.append(say("table_gap_or_overlap", kind=say("overlap" if hits[i] > 1 else "gap"),
                            when=r.as_of, area=area, income=f"{income:.0f}", score=score,
                            count=k, rows=which or say("no_rows")))  # fmt: skip
    return problems
