"""The Alkire–Foster measures of a run: H, A and M0 with k = the rulebook's deprivation cut-off
over the indicators in force (equal weights), per district and in total, with each indicator's
contribution. Analytics, not legal status."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.simulation.outcome import RunOutcome
from engine.text import TOTAL_LABEL, UNNAMED_DISTRICT


def alkire_foster(result: RunOutcome, district: npt.NDArray[np.object_], label: str) -> pd.DataFrame:
    """H, A and M0 per district and in total, with each indicator's contribution to M0."""
    ids = [rule.id for rule, _ in result.resolved.indicators]
    d = len(ids)
    valid = ~result.invalid
    deprived = np.column_stack([result.evaluation.indicators[i].t for i in ids]).astype(float)
    score = deprived.sum(axis=1) / d
    cutoff = int(result.resolved.param("deprivation_cutoff"))  # k, as in the classification
    poor = (score >= cutoff / d) & valid
    names = sorted(set(district[valid]))
    code = np.full(len(district), len(names), dtype=np.int64)  # invalid rows: a spare bin
    lookup = {name: k for k, name in enumerate(names)}
    code[valid] = [lookup[x] for x in district[valid]]
    bins = len(names) + 1

    def per_district(weights: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        counts = np.bincount(code, weights=weights, minlength=bins)[: len(names)]
        return np.append(counts, counts.sum())

    n = per_district(valid.astype(float))
    q = per_district(poor.astype(float))
    s = per_district(np.where(poor, score, 0.0))
    censored = [per_district(deprived[:, j] * poor) for j in range(d)]
    rows = []
    for k, name in enumerate([*names, TOTAL_LABEL["vi"]]):
        h = q[k] / n[k] if n[k] else 0.0
        a = s[k] / q[k] if q[k] else 0.0
        m0 = h * a
        row = {"scenario": label, "district": name or UNNAMED_DISTRICT, "households": int(n[k]),
               "k": f"{cutoff}/{d}", "H": round(h, 6), "A": round(a, 6),
               "M0": round(m0, 6)}  # fmt: skip
        for j, ind in enumerate(ids):
            share = censored[j][k] / n[k] if n[k] else 0.0
            row[f"contribution:{ind}"] = round(share / d / m0, 6) if m0 else 0.0
        rows.append(row)
    out = pd.DataFrame(rows)
    out["note"] = "phân tích, không phải phân loại theo luật / analytics, not legal status"
    return out
