"""Simulating policy changes: the baseline and each scenario on the same batch, as tidy tables.

``simulate(data, scenarios, as_of)`` evaluates the batch under the baseline rulebook and under
each scenario's overlay, and returns tidy DataFrames (one row per observation):

* ``scenarios``: what each scenario changes, with its rulebook version (for audit);
* ``classes``: scenario × district × class: households and share, baseline and scenario, and the
  differences;
* ``transitions``: scenario × district (and the province total) × from-class × to-class: households;
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
import pandas as pd

from engine.errors import Problem, ScenarioError, say
from engine.evaluators.evaluation import Tri
from engine.loader import default_rulebook
from engine.rulebook import Rulebook
from engine.simulation.alkire_foster import alkire_foster
from engine.simulation.outcome import RunOutcome, districts_of, outcome
from engine.simulation.scenario import Scenario, load_scenario, scenario_from_dict
from engine.simulation.tables import DESCRIBE_COLUMNS, compare_costs, describe, transitions
from engine.text import UNNAMED_DISTRICT
from household_models.batch import ParsedBatch

BASELINE = "baseline"


@dataclass
class Simulation:
    baseline: RunOutcome
    scenarios: dict[str, RunOutcome]
    tables: dict[str, pd.DataFrame]
    definitions: dict[str, Scenario] = field(default_factory=dict)

    @property
    def classes(self) -> pd.DataFrame:
        """Every household's class, baseline and each scenario, indexed by household id."""
        index = pd.Index(self.baseline.household_ids, name="household_id")
        return pd.DataFrame({BASELINE: self.baseline.codes,
                             **{sid: res.codes for sid, res in self.scenarios.items()}},
                            index=index)  # fmt: skip


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
        dup = next(i for i in ids if ids.count(i) > 1)
        files = ", ".join(dict.fromkeys(s.file for s in defs if s.id == dup))
        raise ScenarioError([Problem(files, 0, say("scenario_twice", id=dup),
                                     say("scenario_twice.fix"))])  # fmt: skip
    resolved = {s.id: s.apply(book, as_of) for s in defs}  # all checked before the batch is read
    batch = _as_batch(data)
    shared: dict[tuple[Any, ...], Tri] | None = {} if share_facts else None
    baseline = outcome(batch, book.resolve(as_of), BASELINE, shared, lang)
    results = {sid: outcome(batch, r, sid, shared, lang) for sid, r in resolved.items()}
    district = districts_of(batch)
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
        tables["transitions"].append(transitions(sid, district_code.astype(np.int64),
                                                  list(districts), baseline.codes,
                                                  res.codes))  # fmt: skip
        changed = baseline.codes != res.codes
        tables["movers"].append(pd.DataFrame({
            "scenario": sid, "household_id": hh_ids[changed],
            "district": district[changed], "commune": commune_text[changed],
            "from": baseline.codes[changed], "to": res.codes[changed],
            "from_vi": pd.Series(baseline.codes[changed], dtype=object).map(labels).to_numpy(),
            "to_vi": pd.Series(res.codes[changed], dtype=object).map(labels).to_numpy(),
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
        tables["costs"].append(compare_costs(sid, baseline.costs, res.costs,
                                              ["department_code", "department", "action_id",
                                               "action"]))  # fmt: skip
        tables["costs_by_district"].append(compare_costs(sid, baseline.costs, res.costs,
                                                          ["district"]))  # fmt: skip
        af.append(alkire_foster(res, district, sid))
    out: dict[str, pd.DataFrame] = {
        "scenarios": pd.DataFrame([describe(s, results[s.id]) for s in defs],
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

