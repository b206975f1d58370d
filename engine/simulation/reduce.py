"""A simulation's tables as sums that add up across batches.

``partial`` turns the runs on one batch (the baseline and each scenario) into counts and sums
that are exact to add across batches holding disjoint households: households per district and
class, per district and pair of classes, deprived households per indicator, the cost sums by
action and by district (a household is in one batch, so even the households counted per group
add up), the Alkire–Foster sums as integers, and the movers. ``finish`` adds the parts of every
batch and derives the tables (shares, differences, H, A, M0) only once, from the totals. A
single batch is one part, so a batch simulated whole and the same households simulated
partition by partition (``engine.national``) give the same tables by the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.results.summaries import summary_from_counts
from engine.rulebook import Resolved
from engine.simulation.outcome import RunOutcome, districts_of
from engine.simulation.scenario import Scenario
from engine.simulation.tables import (
    DESCRIBE_COLUMNS,
    compare_cost_sums,
    cost_sums,
    describe,
    transition_rows,
)
from engine.text import TOTAL_LABEL, UNNAMED_DISTRICT
from household_models.batch import ParsedBatch

BASELINE = "baseline"
ACTION_KEYS = ["department_code", "department", "action_id", "action"]
DISTRICT_KEYS = ["district"]


@dataclass
class Partial:
    """The sums of one batch's runs (see the module's docstring)."""

    households: int = 0
    valid: int = 0
    counts: pd.DataFrame = field(default_factory=pd.DataFrame)  # run, district, class, n
    transitions: pd.DataFrame = field(default_factory=pd.DataFrame)  # scenario, district, from, to, n
    deprived: dict[str, dict[str, int]] = field(default_factory=dict)  # run -> indicator -> n
    costs: dict[str, dict[str, pd.DataFrame]] = field(default_factory=dict)  # run -> keys -> sums
    af: dict[str, pd.DataFrame] = field(default_factory=dict)  # run -> district sums
    movers: dict[str, pd.DataFrame] = field(default_factory=dict)  # scenario -> households


def _af_sums(result: RunOutcome, district: np.ndarray) -> pd.DataFrame:
    """Per district (valid households only): n, the poor q (score ≥ k/d), the sum of their
    deprivation counts s, and each indicator's deprived poor households (integers)."""
    ids = [rule.id for rule, _ in result.resolved.indicators]
    valid = ~result.invalid
    deprived = np.column_stack([result.evaluation.indicators[i].t for i in ids]).astype(np.int64)
    count = deprived.sum(axis=1)
    cutoff = int(result.resolved.param("deprivation_cutoff"))
    poor = (count >= cutoff) & valid
    frame = pd.DataFrame({"district": district[valid], "n": 1, "q": poor[valid].astype(np.int64),
                          "s": np.where(poor, count, 0)[valid]})  # fmt: skip
    for j, ind in enumerate(ids):
        frame[f"c:{ind}"] = (deprived[:, j] * poor)[valid]
    return frame.groupby("district", sort=True).sum()


def partial(batch: ParsedBatch, runs: dict[str, RunOutcome]) -> Partial:
    """The sums of the runs (baseline first) on one batch."""
    names = list(runs)
    base = runs[names[0]]
    district = districts_of(batch)
    valid_mask = ~batch.household_invalid
    hh_ids = batch.households["household_id"].values
    commune = batch.households["commune"]
    commune_text = np.where(commune.missing, "", commune.values).astype(object)
    out = Partial(batch.n_households, int(valid_mask.sum()))
    counts, moves = [], []
    for name, res in runs.items():
        frame = pd.DataFrame({"district": district, "class": res.codes})
        counts.append(frame.groupby(["district", "class"], sort=False).size()
                      .reset_index(name="n").assign(run=name))  # fmt: skip
        out.deprived[name] = {rule.id: int((res.evaluation.indicators[rule.id].t
                                            & valid_mask).sum())
                              for rule, _ in res.resolved.indicators}  # fmt: skip
        out.costs[name] = {"action": cost_sums(res.costs, ACTION_KEYS),
                           "district": cost_sums(res.costs, DISTRICT_KEYS)}  # fmt: skip
        out.af[name] = _af_sums(res, district)
        if name == names[0]:
            continue
        pairs = pd.DataFrame({"district": district.astype(str), "from": base.codes,
                              "to": res.codes})  # fmt: skip
        moves.append(pairs.groupby(["district", "from", "to"], sort=False).size()
                     .reset_index(name="n").assign(scenario=name))  # fmt: skip
        changed = base.codes != res.codes
        out.movers[name] = pd.DataFrame({
            "scenario": name, "household_id": hh_ids[changed], "district": district[changed],
            "commune": commune_text[changed], "from": base.codes[changed],
            "to": res.codes[changed]})  # fmt: skip
    out.counts = pd.concat(counts, ignore_index=True)
    out.transitions = pd.concat(moves, ignore_index=True) if moves else pd.DataFrame(
        columns=["district", "from", "to", "n", "scenario"])  # fmt: skip
    return out


def _summed(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    frame = pd.concat(frames, ignore_index=True)
    return frame.groupby(keys, sort=False, dropna=False)["n"].sum().reset_index()


def _cost_total(parts: list[Partial], run: str, grouping: str) -> pd.DataFrame:
    frames = [p.costs[run][grouping] for p in parts]
    frame = pd.concat(frames)
    return frame.groupby(level=list(frame.index.names), dropna=False).sum()


def _alkire_foster(parts: list[Partial], run: str, r: Resolved) -> pd.DataFrame:
    """H, A and M0 per district and in total, with each indicator's contribution to M0."""
    ids = [rule.id for rule, _ in r.indicators]
    d = len(ids)
    cutoff = int(r.param("deprivation_cutoff"))
    sums = pd.concat([p.af[run] for p in parts]).groupby(level=0, sort=True).sum()
    sums.loc[TOTAL_LABEL["vi"]] = sums.sum(axis=0)
    rows = []
    for name, row in sums.iterrows():
        n, q, s = int(row["n"]), int(row["q"]), int(row["s"])
        h = q / n if n else 0.0
        a = s / d / q if q else 0.0
        m0 = h * a
        out = {"scenario": run, "district": name or UNNAMED_DISTRICT, "households": n,
               "k": f"{cutoff}/{d}", "H": round(h, 6), "A": round(a, 6), "M0": round(m0, 6)}
        for ind in ids:
            share = int(row[f"c:{ind}"]) / n if n else 0.0
            out[f"contribution:{ind}"] = round(share / d / m0, 6) if m0 else 0.0
        rows.append(out)
    frame = pd.DataFrame(rows)
    frame["note"] = "phân tích, không phải phân loại theo luật / analytics, not legal status"
    return frame


@dataclass
class Totals:
    """What a report needs of one run over every batch: its rulebook, its district summary and
    its class counts (a simulation of a partitioned dataset keeps no household's decisions)."""

    name: str
    resolved: Resolved
    summary: pd.DataFrame

    @property
    def class_counts(self) -> dict[str, int]:
        rows = self.summary[self.summary["district"] == TOTAL_LABEL["vi"]]
        found = dict(zip(rows["class"], rows["households"], strict=True))
        return {c: int(found.get(c, 0)) for c in self.resolved.classification.classes}


def finish(defs: list[Scenario], resolved: dict[str, Resolved], parts: list[Partial]
           ) -> tuple[dict[str, pd.DataFrame], dict[str, Totals]]:  # fmt: skip
    """The tables of the simulation (``resolved``: every run's rulebook, the baseline first)
    from the parts of every batch, and each run's totals."""
    names = list(resolved)
    base_name = names[0]
    counts = _summed([p.counts for p in parts], ["run", "district", "class"])
    totals = {name: Totals(name, r, summary_from_counts(counts[counts["run"] == name], r))
              for name, r in resolved.items()}  # fmt: skip
    base = totals[base_name]
    labels = {c: v["vi"] for c, v in base.resolved.classification.classes.items()}
    base_summary = base.summary.set_index(["district", "class"])
    moves = _summed([p.transitions for p in parts], ["scenario", "district", "from", "to"])
    valid = sum(p.valid for p in parts)
    tables: dict[str, list[pd.DataFrame]] = {name: [] for name in (
        "classes", "transitions", "indicators", "costs", "costs_by_district", "movers")}
    af = [_alkire_foster(parts, base_name, base.resolved)]
    for sid in names[1:]:
        r = resolved[sid]
        s = totals[sid].summary.set_index(["district", "class"])
        joined = s[["households", "share_pct"]].merge(
            base_summary[["households", "share_pct"]], left_index=True, right_index=True,
            how="outer", suffixes=("", "_baseline")).fillna(0)  # fmt: skip
        joined["households_diff"] = joined["households"] - joined["households_baseline"]
        joined["share_pct_diff"] = (joined["share_pct"] - joined["share_pct_baseline"]).round(2)
        joined = joined.reset_index()
        joined.insert(2, "class_vi", joined["class"].map(labels))
        tables["classes"].append(joined.assign(scenario=sid))
        tables["transitions"].append(transition_rows(sid, moves[moves["scenario"] == sid]))
        movers = pd.concat([p.movers[sid] for p in parts], ignore_index=True)
        movers["from_vi"] = movers["from"].map(labels)
        movers["to_vi"] = movers["to"].map(labels)
        tables["movers"].append(movers)
        rules = {rule.id: rule for rule, _ in (*base.resolved.indicators, *r.indicators)}
        in_base = {rule.id for rule, _ in base.resolved.indicators}
        in_scen = {rule.id for rule, _ in r.indicators}
        rows = []
        for ind, rule in sorted(rules.items()):
            b = sum(p.deprived[base_name].get(ind, 0) for p in parts)
            v = sum(p.deprived[sid].get(ind, 0) for p in parts)
            rows.append({"scenario": sid, "indicator": ind, "label_vi": rule.label["vi"],
                         "in_baseline": ind in in_base, "in_scenario": ind in in_scen,
                         "deprived_baseline": b, "deprived": v, "difference": v - b,
                         "share_pct_baseline": round(100 * b / valid, 2) if valid else 0.0,
                         "share_pct": round(100 * v / valid, 2) if valid else 0.0})  # fmt: skip
        tables["indicators"].append(pd.DataFrame(rows))
        tables["costs"].append(compare_cost_sums(sid, _cost_total(parts, base_name, "action"),
                                                 _cost_total(parts, sid, "action")))  # fmt: skip
        tables["costs_by_district"].append(compare_cost_sums(
            sid, _cost_total(parts, base_name, "district"), _cost_total(parts, sid, "district")))
        af.append(_alkire_foster(parts, sid, r))
    by_id = {s.id: s for s in defs}
    out: dict[str, pd.DataFrame] = {
        "scenarios": pd.DataFrame([describe(by_id[sid], resolved[sid]) for sid in names[1:]],
                                  columns=list(DESCRIBE_COLUMNS)),  # fmt: skip
    }
    for name, frames in tables.items():
        out[name] = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    out["alkire_foster"] = pd.concat(af, ignore_index=True)
    if not out["costs_by_district"].empty:
        out["costs_by_district"]["district"] = out["costs_by_district"]["district"].replace(
            "", UNNAMED_DISTRICT)  # fmt: skip
    order = ["scenarios", "classes", "transitions", "indicators", "costs", "costs_by_district",
             "alkire_foster", "movers"]  # fmt: skip
    tables_out: dict[str, pd.DataFrame] = {}
    for name in order:
        frame = out[name]
        if "scenario" in frame.columns:
            frame = frame[["scenario", *[c for c in frame.columns if c != "scenario"]]]
        tables_out[name] = frame
    return tables_out, totals


def moved(tables: dict[str, pd.DataFrame], sid: str) -> int:
    """How many households a scenario moves to another class (its transitions in total)."""
    t = tables["transitions"]
    mine = t[(t["scenario"] == sid) & (t["district"] == TOTAL_LABEL["vi"]) & (t["from"] != t["to"])]
    return int(mine["households"].sum())


def run_all(batch: ParsedBatch, base: Resolved, resolved: dict[str, Resolved], lang: str,
            share_facts: bool = True) -> dict[str, RunOutcome]:  # fmt: skip
    """The baseline and each scenario's outcome on a batch, sharing member facts."""
    from engine.simulation.outcome import outcome

    shared: dict[tuple[Any, ...], Any] | None = {} if share_facts else None
    runs = {BASELINE: outcome(batch, base, BASELINE, shared, lang)}
    runs |= {sid: outcome(batch, r, sid, shared, lang) for sid, r in resolved.items()}
    return runs
