"""Simulating policy changes: the baseline and each scenario on the same batch, as tidy tables.

``simulate(batch, book, scenarios, as_of)`` classifies the batch under the baseline rulebook and
under each scenario's overlay, and returns tidy DataFrames (one row per observation):

* ``classes``: scenario × district × class: households and share, baseline and scenario, and the
  differences;
* ``transitions``: scenario × district (and "Tất cả") × from-class × to-class: households;
* ``indicators``: scenario × indicator: households deprived, baseline and scenario;
* ``costs``: scenario × department × action: recommendations, first-year cost, loan volume,
  baseline and scenario;
* ``alkire_foster``: scenario (and baseline) × district: H, A, M0 with k = the rulebook's
  deprivation cut-off of the indicators in force (equal weights) and each indicator's contribution; analytics, not legal status;
* ``movers``: the households that change class (id, district, from → to).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.classify import ALL_DISTRICTS, BatchResult, classify
from engine.rulebook import Rulebook
from engine.scenario import Scenario
from household_models.parse import ParsedBatch


@dataclass
class Simulation:
    baseline: BatchResult
    scenarios: dict[str, BatchResult]
    tables: dict[str, pd.DataFrame]


def _district(batch: ParsedBatch) -> np.ndarray:
    col = batch.households["district"]
    return pd.Series(col.values, dtype=object).fillna("").astype(str).to_numpy()


def alkire_foster(result: BatchResult, district: np.ndarray, label: str) -> pd.DataFrame:
    """H, A and M0 per district and in total, with each indicator's contribution to M0."""
    ids = [rule.id for rule, _ in result.resolved.indicators]
    d = len(ids)
    valid = ~(result.results["class"] == result.resolved.classification.invalid).to_numpy()
    deprived = np.column_stack([result.evaluation.indicators[i].t for i in ids]).astype(float)
    score = deprived.sum(axis=1) / d
    cutoff = int(result.resolved.param("deprivation_cutoff"))  # k, as in the classification
    poor = (score >= cutoff / d) & valid
    names = sorted(set(district[valid]))
    code = np.full(len(district), len(names), dtype=np.int64)  # invalid rows: a spare bin
    lookup = {name: k for k, name in enumerate(names)}
    code[valid] = [lookup[x] for x in district[valid]]
    bins = len(names) + 1

    def per_district(weights: np.ndarray) -> np.ndarray:
        counts = np.bincount(code, weights=weights, minlength=bins)[: len(names)]
        return np.append(counts, counts.sum())

    n = per_district(valid.astype(float))
    q = per_district(poor.astype(float))
    s = per_district(np.where(poor, score, 0.0))
    censored = [per_district(deprived[:, j] * poor) for j in range(d)]
    rows = []
    for k, name in enumerate([*names, ALL_DISTRICTS["vi"]]):
        h = q[k] / n[k] if n[k] else 0.0
        a = s[k] / q[k] if q[k] else 0.0
        m0 = h * a
        row = {"scenario": label, "district": name or "(không ghi)", "households": int(n[k]),
               "k": f"{cutoff}/{d}", "H": round(h, 6), "A": round(a, 6),
               "M0": round(m0, 6)}  # fmt: skip
        for j, ind in enumerate(ids):
            share = censored[j][k] / n[k] if n[k] else 0.0
            row[f"contribution:{ind}"] = round(share / d / m0, 6) if m0 else 0.0
        rows.append(row)
    out = pd.DataFrame(rows)
    out["note"] = "phân tích, không phải phân loại theo luật / analytics, not legal status"
    return out


def simulate(batch: ParsedBatch, book: Rulebook, scenarios: list[Scenario], as_of: dt.date,
             lang: str = "vi") -> Simulation:  # fmt: skip
    baseline = classify(batch, book, as_of, lang=lang)
    results = {s.id: classify(batch, book, as_of, lang=lang, resolved=s.apply(book, as_of))
               for s in scenarios}  # fmt: skip
    district = _district(batch)
    ids = batch.households["household_id"].values
    base_class = baseline.results["class"].to_numpy()
    classes, transitions, indicators, costs, af, movers = [], [], [], [], [], []
    af.append(alkire_foster(baseline, district, "baseline"))
    base_summary = baseline.summary.set_index(["district", "class"])
    base_recs = baseline.recommendations
    for sid, res in results.items():
        s = res.summary.set_index(["district", "class"])
        joined = s[["households", "share_pct"]].merge(
            base_summary[["households", "share_pct"]], left_index=True, right_index=True,
            how="outer", suffixes=("", "_baseline")).fillna(0)  # fmt: skip
        joined["households_diff"] = joined["households"] - joined["households_baseline"]
        joined["share_pct_diff"] = (joined["share_pct"] - joined["share_pct_baseline"]).round(2)
        classes.append(joined.reset_index().assign(scenario=sid))
        to_class = res.results["class"].to_numpy()
        frame = pd.DataFrame({"district": district, "from": base_class, "to": to_class})
        by_district = frame.groupby(["district", "from", "to"]).size().rename("households")
        overall = frame.groupby(["from", "to"]).size().rename("households").reset_index()
        overall["district"] = ALL_DISTRICTS["vi"]
        transitions.append(pd.concat([by_district.reset_index(), overall],
                                     ignore_index=True).assign(scenario=sid))  # fmt: skip
        changed = base_class != to_class
        movers.append(pd.DataFrame({"scenario": sid, "household_id": ids[changed],
                                    "district": district[changed], "from": base_class[changed],
                                    "to": to_class[changed]}))  # fmt: skip
        names = {rule.id for rule, _ in baseline.resolved.indicators} | {
            rule.id for rule, _ in res.resolved.indicators}
        for ind in sorted(names):
            base_tri = baseline.evaluation.indicators.get(ind)
            tri = res.evaluation.indicators.get(ind)
            b = int(base_tri.t.sum()) if base_tri is not None else 0
            v = int(tri.t.sum()) if tri is not None else 0
            indicators.append({"scenario": sid, "indicator": ind, "deprived_baseline": b,
                               "deprived": v, "difference": v - b})  # fmt: skip
        def agg(frame: pd.DataFrame) -> pd.DataFrame:
            keys = ["department_code", "department", "action_id"]
            return frame.groupby(keys, dropna=False).agg(
                recommendations=("action_id", "size"),
                first_year_cost_vnd=("first_year_vnd", "sum"),
                loan_volume_vnd=("amount_vnd", lambda x: int(x[frame.loc[x.index, "amount_kind"]
                                                                == "loan"].sum())),
            )  # fmt: skip

        merged = agg(res.recommendations).merge(agg(base_recs), left_index=True,
                                                right_index=True, how="outer",
                                                suffixes=("", "_baseline")).fillna(0)  # fmt: skip
        merged["cost_difference_vnd"] = (merged["first_year_cost_vnd"]
                                         - merged["first_year_cost_vnd_baseline"])  # fmt: skip
        costs.append(merged.reset_index().assign(scenario=sid))
        af.append(alkire_foster(res, district, sid))
    tables = {
        "classes": pd.concat(classes, ignore_index=True) if classes else pd.DataFrame(),
        "transitions": pd.concat(transitions, ignore_index=True) if transitions else pd.DataFrame(),
        "indicators": pd.DataFrame(indicators),
        "costs": pd.concat(costs, ignore_index=True) if costs else pd.DataFrame(),
        "alkire_foster": pd.concat(af, ignore_index=True),
        "movers": pd.concat(movers, ignore_index=True) if movers else pd.DataFrame(),
    }
    for name, frame in tables.items():
        if "scenario" in frame.columns:
            tables[name] = frame[["scenario", *[c for c in frame.columns if c != "scenario"]]]
    return Simulation(baseline, results, tables)
