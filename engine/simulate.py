"""Simulating policy changes: the baseline and each scenario on the same batch, as tidy tables.

``simulate(data, scenarios, as_of)`` evaluates the batch under the baseline rulebook and under
each scenario's overlay, and returns tidy DataFrames (one row per observation):

* ``scenarios``: what each scenario changes, with its rulebook version (for audit);
* ``classes``: scenario × district × class: households and share, baseline and scenario, and the
  differences;
* ``transitions``: scenario × district (and "Tất cả") × from-class × to-class: households;
* ``indicators``: scenario × indicator: households deprived, baseline and scenario;
* ``costs``: scenario × department × action: recommendations, first-year cost, loan volume,
  baseline and scenario;
* ``costs_by_district``: scenario × district: the same figures by where the households live;
* ``alkire_foster``: baseline and each scenario × district: H, A, M0 with k = the rulebook's
  deprivation cut-off over the indicators in force (equal weights) and each indicator's
  contribution; analytics, not legal status;
* ``movers``: the households that change class (id, district, commune, from → to).

The runs share the work that does not depend on the rulebook's choices: the batch is parsed once,
and each member fact (age, working age, schooling, …) is computed once for every rulebook that
defines it the same way with the same parameter values. A scenario's decisions are exactly those
of ``classify`` under the overlaid rulebook (a test proves it); the per-household texts (reasons,
triggers) are not built here, since the report counts and sums.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.classify import (
    ALL_DISTRICTS,
    UNNAMED_DISTRICT,
    class_codes,
    indicator_states,
    summary_table,
)
from engine.recommend import recommendation_costs
from engine.rulebook import DOMAIN_CODES, Resolved, Rulebook, default_rulebook
from engine.scenario import Scenario, load_scenario, scenario_from_dict
from engine.vectorised import Evaluation, Evaluator, Tables, Tri
from household_models.parse import ParsedBatch

BASELINE = "baseline"


@dataclass
class Outcome:
    """One rulebook's decisions on the batch, without the per-household texts."""

    name: str
    resolved: Resolved
    evaluation: Evaluation
    classes: npt.NDArray[np.object_]
    invalid: npt.NDArray[np.bool_]
    summary: pd.DataFrame
    costs: pd.DataFrame  # one row per recommendation: position, district, action, amounts

    @property
    def class_counts(self) -> dict[str, int]:
        values, counts = np.unique(self.classes.astype(str), return_counts=True)
        found = dict(zip(values.tolist(), counts.tolist(), strict=True))
        return {c: int(found.get(c, 0)) for c in self.resolved.classification.classes}

    def indicator_states(self, indicator: str) -> npt.NDArray[np.object_]:
        """``deprived``/``ok``/``unknown`` per household, as in classify's results."""
        return indicator_states(self.evaluation.indicators[indicator], self.invalid)


@dataclass
class Simulation:
    baseline: Outcome
    scenarios: dict[str, Outcome]
    tables: dict[str, pd.DataFrame]
    definitions: dict[str, Scenario] = field(default_factory=dict)


def outcome(batch: ParsedBatch, resolved: Resolved, name: str,
            shared_facts: dict[tuple[Any, ...], Tri] | None = None,
            lang: str = "vi") -> Outcome:  # fmt: skip
    """Evaluate the batch under one resolved rulebook (``shared_facts``: member facts computed
    by an earlier run on the same batch, reused where they are defined the same way)."""
    tables = Tables(batch.households, batch.members, batch.member_household, batch.n_households)
    ev = Evaluator(resolved, tables, batch.household_invalid, shared_facts=shared_facts)
    evaluation = ev.run()
    classes = class_codes(resolved, evaluation, batch.household_invalid)
    summary = summary_table(_districts(batch), classes, resolved)
    costs = recommendation_costs(resolved, evaluation, batch, lang)
    return Outcome(name, resolved, evaluation, classes, batch.household_invalid, summary, costs)


def _districts(batch: ParsedBatch) -> npt.NDArray[np.object_]:
    col = batch.households["district"]
    return np.where(col.missing, "", col.values).astype(str).astype(object)


def _as_batch(data: Any) -> ParsedBatch:
    if isinstance(data, ParsedBatch):
        return data
    from household_models import parse_batch, read_survey
    from household_models.readers import RawBatch, SourceTable

    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(x, pd.DataFrame)
                                                          for x in data):  # fmt: skip
        households, members = data
        return parse_batch(RawBatch(SourceTable(households, "households", "", 2),
                                    SourceTable(members, "members", "", 2)))  # fmt: skip
    paths = [data] if isinstance(data, str | Path) else list(data)
    return parse_batch(read_survey([Path(p) for p in paths]))


def _as_scenario(item: Scenario | Path | str | dict[str, Any], book: Rulebook) -> Scenario:
    if isinstance(item, Scenario):
        return item
    if isinstance(item, dict):
        return scenario_from_dict(item, book)
    return load_scenario(item, book)


def alkire_foster(result: Outcome, district: npt.NDArray[np.object_], label: str) -> pd.DataFrame:
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
    for k, name in enumerate([*names, ALL_DISTRICTS["vi"]]):
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


def _transitions(sid: str, district_code: npt.NDArray[np.int64], districts: list[str],
                 before: npt.NDArray[np.object_], after: npt.NDArray[np.object_]
                 ) -> pd.DataFrame:  # fmt: skip
    """From-class × to-class counts per district and overall, by one bincount."""
    classes = list(dict.fromkeys([*DOMAIN_CODES["class"], *before.tolist(), *after.tolist()]))
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    b = pd.Series(before).map(index).to_numpy(dtype=np.int64)
    a = pd.Series(after).map(index).to_numpy(dtype=np.int64)
    flat = (district_code * k + b) * k + a
    counts = np.bincount(flat, minlength=len(districts) * k * k).reshape(len(districts), k, k)
    rows = []
    for name, matrix in [*zip(districts, counts, strict=True), (ALL_DISTRICTS["vi"],
                                                                  counts.sum(axis=0))]:  # fmt: skip
        for i, j in zip(*np.nonzero(matrix), strict=True):
            rows.append({"scenario": sid, "district": name or UNNAMED_DISTRICT, "from": classes[i],
                         "to": classes[j], "households": int(matrix[i, j])})  # fmt: skip
    return pd.DataFrame(rows, columns=["scenario", "district", "from", "to", "households"])


DESCRIBE_COLUMNS = ("scenario", "label_vi", "label_en", "description_vi", "file", "standard",
                    "parameters", "indicators_off", "indicators_add", "rulebook_version",
                    "as_of")  # fmt: skip
COST_SUMS = ["recommendations", "households", "first_year_cost_vnd", "loan_volume_vnd"]


def _cost_sums(costs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    small = pd.DataFrame({
        **{k: costs[k].astype(object) for k in keys},
        "pos": costs["pos"].to_numpy(dtype=np.int64),
        "cost": costs["first_year_vnd"].fillna(0).to_numpy(dtype=np.int64),
        "loan": np.where(costs["amount_kind"] == "loan",
                         costs["amount_vnd"].fillna(0).to_numpy(dtype=np.int64), 0),
    })  # fmt: skip
    return small.groupby(keys, dropna=False).agg(
        recommendations=("pos", "size"), households=("pos", "nunique"),
        first_year_cost_vnd=("cost", "sum"), loan_volume_vnd=("loan", "sum"))  # fmt: skip


def _compare_costs(sid: str, base: pd.DataFrame, scen: pd.DataFrame, keys: list[str]
                   ) -> pd.DataFrame:  # fmt: skip
    merged = _cost_sums(scen, keys).merge(_cost_sums(base, keys), left_index=True,
                                          right_index=True, how="outer",
                                          suffixes=("", "_baseline")).fillna(0)  # fmt: skip
    for col in COST_SUMS:
        merged[col] = merged[col].astype(np.int64)
        merged[f"{col}_baseline"] = merged[f"{col}_baseline"].astype(np.int64)
    merged["cost_difference_vnd"] = (merged["first_year_cost_vnd"]
                                     - merged["first_year_cost_vnd_baseline"])  # fmt: skip
    merged["loan_difference_vnd"] = (merged["loan_volume_vnd"]
                                     - merged["loan_volume_vnd_baseline"])  # fmt: skip
    return merged.reset_index().assign(scenario=sid)


def _describe(s: Scenario, result: Outcome) -> dict[str, Any]:
    return {"scenario": s.id, "label_vi": s.label["vi"], "label_en": s.label["en"],
            "description_vi": s.description["vi"], "file": s.file,
            "standard": s.standard or "", "parameters": "; ".join(s.override_texts()),
            "indicators_off": "; ".join(s.indicators_off),
            "indicators_add": "; ".join(r.id for r in s.indicators_add),
            "rulebook_version": result.resolved.rulebook_version,
            "as_of": result.resolved.as_of.isoformat()}  # fmt: skip


def simulate(data: ParsedBatch | tuple[pd.DataFrame, pd.DataFrame] | str | Path | Sequence[Any],
             scenarios: Iterable[Scenario | Path | str | dict[str, Any]], as_of: dt.date, *,
             book: Rulebook | None = None, lang: str = "vi",
             share_facts: bool = True) -> Simulation:  # fmt: skip
    """Evaluate ``data`` (a parsed batch, a (households, members) pair of DataFrames, or survey
    file paths) under the baseline rulebook and each scenario (objects, YAML paths or inline
    dicts) on the evaluation date ``as_of``; return the outcomes and the tidy tables.
    ``share_facts=False`` computes every member fact anew in every run (for measurement)."""
    book = book if book is not None else default_rulebook()
    defs = [_as_scenario(s, book) for s in scenarios]
    ids = [s.id for s in defs]
    if len(set(ids)) != len(ids):
        from engine.rulebook import Problem
        from engine.scenario import ScenarioError

        dup = next(i for i in ids if ids.count(i) > 1)
        files = ", ".join(dict.fromkeys(s.file for s in defs if s.id == dup))
        raise ScenarioError([Problem(files, 0, f"scenario id '{dup}' is given more than once",
                                     "give each scenario its own id")])  # fmt: skip
    resolved = {s.id: s.apply(book, as_of) for s in defs}  # all checked before the batch is read
    batch = _as_batch(data)
    shared: dict[tuple[Any, ...], Tri] | None = {} if share_facts else None
    baseline = outcome(batch, book.resolve(as_of), BASELINE, shared, lang)
    results = {sid: outcome(batch, r, sid, shared, lang) for sid, r in resolved.items()}
    district = _districts(batch)
    districts, district_code = np.unique(district.astype(str), return_inverse=True)
    hh_ids = batch.households["household_id"].values
    commune = batch.households["commune"]
    commune_text = np.where(commune.missing, "", commune.values).astype(object)
    labels = {c: v["vi"] for c, v in book.classification.classes.items()}
    base_summary = baseline.summary.set_index(["district", "class"])
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in (
        "classes", "transitions", "indicators", "costs", "costs_by_district", "movers")}
    af = [alkire_foster(baseline, district, BASELINE)]
    valid_mask = ~batch.household_invalid  # an invalid household is deprived in nothing
    valid = int(valid_mask.sum())
    for sid, res in results.items():
        s = res.summary.set_index(["district", "class"])
        joined = s[["households", "share_pct"]].merge(
            base_summary[["households", "share_pct"]], left_index=True, right_index=True,
            how="outer", suffixes=("", "_baseline")).fillna(0)  # fmt: skip
        joined["households_diff"] = joined["households"] - joined["households_baseline"]
        joined["share_pct_diff"] = (joined["share_pct"] - joined["share_pct_baseline"]).round(2)
        joined = joined.reset_index()
        joined.insert(2, "class_vi", joined["class"].map(labels))
        tables["classes"].append(joined.assign(scenario=sid))
        tables["transitions"].append(_transitions(sid, district_code.astype(np.int64),
                                                  list(districts), baseline.classes,
                                                  res.classes))  # fmt: skip
        changed = baseline.classes != res.classes
        tables["movers"].append(pd.DataFrame({
            "scenario": sid, "household_id": hh_ids[changed],
            "district": district[changed], "commune": commune_text[changed],
            "from": baseline.classes[changed], "to": res.classes[changed],
            "from_vi": pd.Series(baseline.classes[changed], dtype=object).map(labels).to_numpy(),
            "to_vi": pd.Series(res.classes[changed], dtype=object).map(labels).to_numpy(),
        }))  # fmt: skip
        rows = []
        rules = {rule.id: rule for rule, _ in (*baseline.resolved.indicators,
                                               *res.resolved.indicators)}  # fmt: skip
        for ind, rule in sorted(rules.items()):
            base_tri = baseline.evaluation.indicators.get(ind)
            tri = res.evaluation.indicators.get(ind)
            b = int((base_tri.t & valid_mask).sum()) if base_tri is not None else 0
            v = int((tri.t & valid_mask).sum()) if tri is not None else 0
            rows.append({"scenario": sid, "indicator": ind, "label_vi": rule.label["vi"],
                         "in_baseline": base_tri is not None, "in_scenario": tri is not None,
                         "deprived_baseline": b, "deprived": v, "difference": v - b,
                         "share_pct_baseline": round(100 * b / valid, 2) if valid else 0.0,
                         "share_pct": round(100 * v / valid, 2) if valid else 0.0})  # fmt: skip
        tables["indicators"].append(pd.DataFrame(rows))
        tables["costs"].append(_compare_costs(sid, baseline.costs, res.costs,
                                              ["department_code", "department", "action_id",
                                               "action"]))  # fmt: skip
        tables["costs_by_district"].append(_compare_costs(sid, baseline.costs, res.costs,
                                                          ["district"]))  # fmt: skip
        af.append(alkire_foster(res, district, sid))
    out: dict[str, pd.DataFrame] = {
        "scenarios": pd.DataFrame([_describe(s, results[s.id]) for s in defs],
                                  columns=list(DESCRIBE_COLUMNS)),  # fmt: skip
    }
    for name, parts in tables.items():
        out[name] = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    out["alkire_foster"] = pd.concat(af, ignore_index=True)
    if not out["costs_by_district"].empty:
        out["costs_by_district"]["district"] = out["costs_by_district"]["district"].replace(
            "", UNNAMED_DISTRICT)  # fmt: skip
    order = ["scenarios", "classes", "transitions", "indicators", "costs", "costs_by_district",
             "alkire_foster", "movers"]  # fmt: skip
    tables_out = {}
    for name in order:
        frame = out[name]
        if "scenario" in frame.columns:
            frame = frame[["scenario", *[c for c in frame.columns if c != "scenario"]]]
        tables_out[name] = frame
    return Simulation(baseline, results, tables_out, {s.id: s for s in defs})

