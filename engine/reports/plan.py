"""Monitoring against the plan: where each former district stands, round by round, against the
plan's Appendix 01 (households, poor households, rate), with the flows that explain the year's
change; and the Appendix 02 service indicators the survey can measure, against their targets.

A round counts for the plan year of its evaluation date. The actual numbers are the registry's
recognised lists (each household's latest assessment; the commune's decision where recorded).
Households are placed in a former district by the survey's district column (the former
district, as the plan reports) or, where it names none of them, by their commune through the
crosswalk of ``engine.reports.places`` (estimates where a commune straddles districts)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from engine.loader import DEFAULT_RULES_DIR
from engine.registry.history import FLOW_KEYS, current_sql, flows, rounds
from engine.registry.store import Registry
from engine.reports.places import Crosswalk, apportion, load_crosswalk, number
from engine.reports.population import Population
from engine.reports.tables import rate
from engine.text import words_file


@dataclass
class Targets:
    """The plan's targets: per former district and year (``districts``), the appendix's
    printed total row (``printed``), the service indicators (``services``), the citations."""

    districts: pd.DataFrame  # district, year, households, poor, rate, result (bool)
    printed: dict[int, dict[str, float]]
    services: pd.DataFrame
    cite: dict[str, str]
    trained: tuple[str, ...]  # the education levels of a trained worker
    crosswalk: Crosswalk  # new communes -> former districts
    ledger: dict[str, dict[str, Any]]  # indicators counted from the support ledger


def load_targets(root: Path | None = None) -> Targets:
    """The targets under ``rules/plan`` (``plan.yaml`` and its two tables)."""
    folder = (root or DEFAULT_RULES_DIR) / "plan"
    meta = yaml.safe_load((folder / "plan.yaml").read_text("utf-8"))
    wide = pd.read_csv(folder / meta["poverty"]["file"])
    rows = []
    for year in range(2021, 2026):
        part = wide[["district", f"households_{year}", f"poor_{year}", f"poor_rate_{year}_pct"]]
        part.columns = ["district", "households", "poor", "rate"]
        rows.append(part.assign(year=year, result=year in meta["poverty"]["results"]))
    services = pd.read_csv(folder / meta["services"]["file"])
    crosswalk = load_crosswalk(root, wide["district"])
    return Targets(pd.concat(rows, ignore_index=True),
                   {int(y): v for y, v in meta["poverty"]["total_row"].items()}, services,
                   {"poverty": meta["poverty"]["clause"],
                    "services": meta["services"]["clause"]},
                   tuple(meta["services"]["trained_levels"]), crosswalk,
                   dict(meta["services"].get("ledger") or {}))  # fmt: skip


def _actual(reg: Registry, round_name: str,
            targets: Targets) -> tuple[dict[str, dict[str, float]], dict[str, float]]:  # fmt: skip
    found = reg.records(
        "SELECT coalesce(district, '') AS district, coalesce(commune, '') AS commune, "
        "count(*) AS households, count(*) FILTER (WHERE recognised = 'poor') AS poor FROM (" +
        current_sql("c.round = ? AND c.class <> 'invalid'", "district, commune, recognised") +
        ") GROUP BY 1, 2", round_name)  # fmt: skip
    return apportion(found, ("households", "poor"), targets.crosswalk,
                     targets.districts["district"])  # fmt: skip


def placed(pop: Population, targets: Targets) -> Population:
    """``pop`` with each household's district the plan district it is listed under (the
    largest share of its commune where the district column names none of the plan's)."""
    from dataclasses import replace

    hh = pop.households
    names = set(targets.districts["district"])
    pairs = pd.MultiIndex.from_arrays([hh["district"].fillna(""), hh["commune"].fillna("")])
    known = pairs.unique()  # looked up once per (district, commune), not once per household
    to = [targets.crosswalk.majority(d, c, names) for d, c in known]
    district = np.asarray(to, dtype=object)[known.get_indexer(pairs)]
    return replace(pop, households=hh.assign(district=district))


def monitor(reg: Registry, targets: Targets) -> list[dict[str, Any]]:
    """One row per round of a plan year and former district, then the province: the plan's
    households, poor households and rate; the actual ones; the gap in points and households;
    on track or not; and the poor list's flows of the round."""
    out: list[dict[str, Any]] = []
    years = set(targets.districts["year"])
    for info in rounds(reg):
        year = info.as_of.year
        if year not in years:
            continue
        plan = targets.districts[targets.districts["year"] == year].set_index("district")
        actual, assumed = _actual(reg, info.name, targets)
        found = flows(reg, info.name)["rows"]
        poor_flows = [r for r in found if r["list"] == "poor" and r["unit"] == "households"]
        moves, _ = apportion([r for r in poor_flows if r["level"] == "commune"],
                             FLOW_KEYS["poor"], targets.crosswalk, plan.index)  # fmt: skip
        total_flows = next((r for r in poor_flows if r["level"] == "total"), None)
        names = list(plan.index) + sorted(d for d in actual if d not in plan.index)
        for district in [*names, None]:  # None: the province
            p_h: Any
            p_p: Any
            if district is None:
                p_h, p_p = plan["households"].sum(), plan["poor"].sum()
                a_h = sum(a["households"] for a in actual.values())
                a_p = sum(a["poor"] for a in actual.values())
                row_flows: dict[str, Any] | None = total_flows
                guessed = sum(assumed.values())
            else:
                p_h = plan["households"].get(district)
                p_p = plan["poor"].get(district)
                a_h = actual.get(district, {}).get("households", 0.0)
                a_p = actual.get(district, {}).get("poor", 0.0)
                row_flows = moves.get(district)
                guessed = assumed.get(district, 0.0)
            a_h, a_p = number(a_h), number(a_p)
            p_rate = None if p_h is None else rate(p_p, p_h)
            a_rate = rate(a_p, a_h)
            # the poor households above what the planned rate allows among the actual ones
            over = None if p_h is None or not p_h or not a_h else \
                a_p - int(p_p) * a_h / int(p_h)  # fmt: skip
            out.append({
                "round": info.name, "year": year, "district": district,
                "plan_households": None if p_h is None else int(p_h),
                "plan_poor": None if p_p is None else int(p_p), "plan_rate": p_rate,
                "plan_is_result": bool(plan["result"].iloc[0]) if len(plan) else False,
                "households": a_h, "poor": a_p, "rate": a_rate,
                "estimated_households": number(guessed),
                "gap_points": None if p_rate is None or a_rate is None else
                round(a_rate - p_rate, 2),
                "gap_households": None if p_p is None or not a_h else number(a_p - int(p_p)),
                "to_leave": None if over is None else max(0, int(np.ceil(over - 1e-9))),
                "on_track": None if p_rate is None or a_rate is None else a_rate <= p_rate,
                "printed_total": targets.printed.get(year) if district is None else None,
                "flows": None if row_flows is None else
                {k: number(row_flows[k]) for k in FLOW_KEYS["poor"]},
            })  # fmt: skip
    return out


# Why an indicator is not measured: health-sector statistics of all under-fives; a degree or
# certificate the survey does not record; the ledger's indicators when the round has no ledger.
WHY = {"child_underweight": "health_statistics", "child_stunting": "health_statistics",
       "workers_certified": "not_in_survey"}


def _ledger(pop: Population, spec: dict[str, Any]) -> tuple[int, int]:
    """(received, need) of one ledger indicator: the people (or households) of the round the
    rulebook recommends one of ``spec``'s actions to, and those of them the ledger records one
    of those actions delivered to."""
    actions = set(spec["actions"])
    rec = pop.result.recommendations
    rec = rec[rec["action_id"].astype(str).isin(actions)]
    if spec.get("classes"):
        listed = set(pop.households.loc[pop.households["class"].isin(spec["classes"]),
                                        "household_id"].astype(str))  # fmt: skip
        rec = rec[rec["household_id"].astype(str).isin(listed)]
    s = pop.support
    assert s is not None  # the caller counts these only with a ledger
    s = s[s["action_id"].astype(str).isin(actions)]
    need: set[Any]
    got: set[Any]
    if spec["unit"] == "households":
        need = set(rec["household_id"].astype(str))
        got = set(s["household_id"].astype(str))
    else:
        rec = rec[rec["member_no"].notna()]
        need = set(zip(rec["household_id"].astype(str), rec["member_no"].astype(int),
                       strict=True))  # fmt: skip
        s = s[s["member_no"].notna()]
        got = set(zip(s["household_id"].astype(str), s["member_no"].astype(int), strict=True))
    return len(need & got), len(need)


def services(pop: Population, targets: Targets, year: int) -> list[dict[str, Any]]:
    """Each Appendix 02 indicator of ``year``: measured (numerator, denominator, rate, target,
    met), or why it is not."""
    hh, m = pop.households, pop.members
    listed = hh["class"].isin(["poor", "near_poor"]).to_numpy()
    escaped = hh["status.newly_escaped"].to_numpy(dtype=bool)
    at = m["position"].to_numpy(dtype=np.int64)
    age = m["age_years"].to_numpy(dtype=np.float64)
    r = pop.result.resolved
    counts: dict[str, tuple[int, int]] = {}
    for key, indicator in (("clean_water", "water.source"), ("hygienic_latrine", "water.latrine"),
                           ("telecom_access", "information.telecom")):  # fmt: skip
        ok = ~hh[f"d:{indicator}"].to_numpy(dtype=bool)
        counts[key] = (int((ok & listed).sum()), int(listed.sum()))
    school_age = listed[at] & (age >= r.param("school_min_age")) & \
        m["child"].to_numpy(dtype=bool)  # fmt: skip
    counts["school_at_right_age"] = (
        int((school_age & ~m["out_of_school_child"].to_numpy(dtype=bool)).sum()),
        int(school_age.sum()))  # fmt: skip
    members = listed[at]
    insured = (m["health_insurance"].astype(object) == True).to_numpy()  # noqa: E712
    counts["health_insurance_support"] = (int((members & insured).sum()), int(members.sum()))
    workers = (listed | escaped)[at] & (age >= r.param("working_age_min"))
    trained = m["education"].isin(targets.trained).to_numpy()
    counts["workers_trained"] = (int((workers & trained).sum()), int(workers.sum()))
    if pop.support is not None:
        for key, spec in targets.ledger.items():
            counts[key] = _ledger(pop, spec)
    words = words_file("report_plan.yaml")  # what each measured indicator counts, vi and en
    out = []
    column = f"target_{year}" if f"target_{year}" in targets.services else None
    for row in targets.services.to_dict("records"):
        target = row.get(column) if column else None
        item: dict[str, Any] = {"id": row["id"], "indicator_vi": row["indicator_vi"],
                                "indicator_en": row["indicator_en"], "short_vi": row["short_vi"],
                                "short_en": row["short_en"], "target": target,
                                "lead_department": row["lead_department"]}  # fmt: skip
        if row["id"] in counts:
            num, den = counts[row["id"]]
            value = rate(num, den)  # every measured target is a floor ("at least")
            item |= {"measured": True, "numerator": num, "denominator": den, "rate": value,
                     "counts": words[f"counts_{row['id']}"],
                     "met": None if value is None or target is None or pd.isna(target) else
                     value >= target}  # fmt: skip
        else:
            item |= {"measured": False, "why": WHY.get(row["id"], "support_ledger")}
        out.append(item)
    return out


def under_scenario(pop: Population, targets: Targets, year: int,
                   path: Path) -> dict[str, Any]:  # fmt: skip
    """The round's households classified again under a policy scenario: each former
    district's poor households and rate, the households that must then leave poverty to meet
    the plan, and those households with their support and its cost."""
    from engine.reports.gap import behind
    from engine.reports.population import from_batch
    from engine.results.classify import classify
    from engine.simulation.scenario import load_scenario

    scenario = load_scenario(path, pop.book)
    resolved = scenario.apply(pop.book, pop.as_of)
    again = placed(from_batch(pop.batch, classify(pop.batch, pop.book, pop.as_of,
                                                  resolved=resolved), pop.as_of, names=False),
                   targets)  # fmt: skip
    hh = again.households[again.households["class"] != "invalid"]
    plan = targets.districts[targets.districts["year"] == year].set_index("district")
    rows, off = [], {}
    order = {d: k for k, d in enumerate(plan.index)}  # the plan's order, then the others
    groups = sorted(hh.groupby("district", sort=True), key=lambda g: order.get(g[0], len(order)))
    for district, part in groups:
        poor = int((part["class"] == "poor").sum())
        row: dict[str, Any] = {"district": district, "households": len(part), "poor": poor,
                               "rate": rate(poor, len(part)), "to_leave": None}  # fmt: skip
        if district in plan.index:
            planned: Any = plan.loc[district]
            allowed = int(np.floor(int(planned["poor"]) * len(part) / int(planned["households"])
                                   + 1e-9))  # fmt: skip
            row["to_leave"] = max(0, poor - allowed)
            if row["to_leave"]:
                off[str(district)] = row["to_leave"]
        rows.append(row)
    gap = behind(again, off)
    for row in rows:
        found = next((g for g in gap if g["district"] == row["district"]), None)
        row["first_year_vnd"] = found["first_year_vnd"] if found else 0
    return {"id": scenario.id, "label": scenario.label, "file": path.name, "districts": rows,
            "gap": gap}


def plan_data(reg: Registry, name: str, round_name: str | None = None,
              root: Path | None = None, scenario: Path | None = None) -> dict[str, Any]:  # fmt: skip
    """Everything ``report plan`` shows, as data: the districts round by round, and the
    service indicators of ``round_name`` (default: the latest round); with ``scenario``, the
    same round's standing and gap under that policy scenario."""
    from engine.errors import RegistryError
    from engine.reports.population import from_registry

    targets = load_targets(root)
    infos = rounds(reg)
    if not infos:
        raise RegistryError("round_unknown", round=round_name or "—", known="—")
    chosen = next((r for r in infos if r.name == round_name), None) if round_name else infos[-1]
    if chosen is None:
        raise RegistryError("round_unknown", round=round_name,
                            known=", ".join(r.name for r in infos))  # fmt: skip
    from engine.reports.gap import behind

    pop = placed(from_registry(reg, chosen.name, names=False), targets)
    rows = monitor(reg, targets)
    off = {r["district"]: r["to_leave"] for r in rows if r["round"] == chosen.name
           and r["district"] is not None and r["to_leave"]}  # fmt: skip
    found = under_scenario(pop, targets, chosen.as_of.year, scenario) if scenario else None
    return {
        "scenario": found,
        "registry": name, "rounds": [r.name for r in infos], "cite": targets.cite,
        "crosswalk": {"file": targets.crosswalk.file, "source": targets.crosswalk.source},
        "districts": rows,
        "gap": behind(pop, off),
        "labels": {"indicators": {rule.id: dict(rule.label) for rule, _ in
                                  pop.result.resolved.indicators},
                   "actions": {a.id: dict(a.label) for a, _ in
                               pop.result.resolved.interventions}},
        "services_of": {"round": chosen.name, "year": chosen.as_of.year},
        "services": services(pop, targets, chosen.as_of.year),
    }  # fmt: skip
