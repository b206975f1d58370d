"""A synthetic panel: the same Hưng Yên households surveyed year after year (``giamngheo sample
--province --panel 2021-2025``), for the registry of review rounds.

Each year every district has the plan's household count and poor count (Appendix 01) and the
near-poor and average shares of ``engine.synthetic``; what changes is that households persist:

* **who is poor** follows assumed transition shares (not the plan's: it gives none): of a year's
  poor households about 70 % were poor the year before, 15 % near-poor, 5 % were on a list in
  an earlier year (re-poor) and the rest were never listed; of the near-poor about 60 % were
  near-poor, 20 % poor, 5 % re-near-poor; the households leaving the lists become average first.
  Where a group is too small the rest come from the households never listed;
* **members** age a year each year; about 2 % of households have a baby, members of 75 and over
  die at 4 % a year; a household with no member left is dissolved;
* **moves**: 0.8 % of households move out each year and households move in or split from a
  household of four or more (an adult child of 20–40 leaving with nobody else) to reach the
  next year's count; each is a row of that year's events table;
* **housing and income** stay as they were while a household keeps its class, and are drawn
  anew (from a fresh synthetic household of its district, area and new class) when it changes.

A near-poor household's members are made not deprived (insured, working, at school) and its
house is drawn with no deprivation, so that it stays under three deprivations; a poor one has
three to six household deprivations. So classifying each year gives the plan's poor count per
district exactly (to the rounding of rate × households). The first year carries the survey's
``previous_status`` and ``left_list_on`` (the start of a registry); later years leave them blank
for the registry to derive.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.synthetic import (
    AVERAGE_SHARE,
    NEAR_POOR_BASE,
    NEAR_POOR_FACTOR,
    _allocate,
    generate_with_classes,
    plan_districts,
)

LISTED = ("poor", "near_poor")
HOUSEHOLD_FIELDS = ["_pp", "area", "income_per_capita_vnd", "income_score", "durable_frame",
                    "durable_walls", "durable_roof", "floor_area_m2", "water_source", "latrine",
                    "uses_telecom", "info_devices", "waste_treated", "causes"]  # fmt: skip
MOVE_OUT, BIRTH, DEATH_AGE, DEATH = 0.008, 0.02, 75, 0.04
# Shares of a year's poor / near-poor households by where they come from (assumptions; the
# rest were never listed). Each year's split is drawn multinomially.
POOR_FROM = {"poor": 0.70, "near_poor": 0.15, "re": 0.05}
NEAR_FROM = {"near_poor": 0.60, "poor": 0.20, "re": 0.05}


@dataclass
class Year:
    year: int
    households: pd.DataFrame
    members: pd.DataFrame
    events: pd.DataFrame
    classes: np.ndarray  # the class each household was drawn for


def _targets(rng: np.random.Generator, district: np.ndarray, prev: np.ndarray,
             ever: np.ndarray, counts: dict[int, tuple[int, int, int]]) -> np.ndarray:  # fmt: skip
    """Each present household's class for the year: per district the plan's poor count, the
    near-poor and average counts, drawn by the transition shares of the module's docstring."""
    out = np.full(len(district), "not_poor", dtype=object)
    for d, (poor, near, avg) in counts.items():
        here = np.flatnonzero(district == d)
        free = np.ones(len(here), dtype=bool)

        def take(mask: np.ndarray, k: int, label: str, here: np.ndarray = here,
                 free: np.ndarray = free) -> int:  # fmt: skip
            pool = np.flatnonzero(mask & free)
            k = max(0, min(k, len(pool)))
            chosen = rng.choice(pool, k, replace=False) if k else np.zeros(0, dtype=np.int64)
            out[here[chosen]] = label
            free[chosen] = False
            return k

        p, e = prev[here], ever[here]
        for label, total, shares in (("poor", poor, POOR_FROM), ("near_poor", near, NEAR_FROM)):
            got = 0
            split = rng.multinomial(max(total, 0), [*shares.values(), 1 - sum(shares.values())])
            for (source, _), k in zip(shares.items(), split, strict=False):
                mask = (~np.isin(p, LISTED) & e) if source == "re" else (p == source)
                got += take(mask, int(k), label)
            got += take(~e, total - got, label)  # never listed
            take(np.ones(len(here), dtype=bool), total - got, label)  # anyone left, if short
        take(np.isin(p, LISTED), avg, "average")  # the lists' leavers first
        take(np.ones(len(here), dtype=bool), avg - int((out[here] == "average").sum()), "average")
    return out


def _clean(mem: pd.DataFrame, near: set[str]) -> pd.DataFrame:
    """Fill what ageing leaves blank, and make near-poor households' members not deprived."""
    age = mem["age"].astype(int)
    blank = mem["employment"].isna() & (age >= 15)
    mem.loc[blank, "employment"] = np.where(age[blank] < 60, "self_employed",
                                            "not_in_labour_force")  # fmt: skip
    mem.loc[mem["education"].isna() & (age >= 16), "education"] = "lower_secondary"
    school = (age >= 3) & (age <= 30)
    mem.loc[school & mem["in_school"].isna(), "in_school"] = age[school] <= 17
    mem.loc[~school, "in_school"] = None
    young = (age >= 3) & (age < 16)
    mem.loc[young & mem["school_on_track"].isna(), "school_on_track"] = True
    mem.loc[~young, "school_on_track"] = None
    child = age < 16
    for col in ("stunted", "underweight"):
        mem.loc[child & mem[col].isna(), col] = False
        mem.loc[~child, col] = None
    n = mem["household_id"].isin(near)
    mem.loc[n, "health_insurance"] = True
    mem.loc[n & (age >= 15) & (age < 60), "employment"] = "self_employed"
    mem.loc[n & (age >= 16) & (age <= 30), "education"] = "upper_secondary"
    mem.loc[n & young, ["in_school", "school_on_track"]] = True
    mem.loc[n & child, ["stunted", "underweight"]] = False
    mem.loc[n, "disability"] = "none"
    return mem


def generate_panel(years: list[int], *, households: int | None = None, seed: int = 1
                   ) -> Iterator[Year]:  # fmt: skip
    """One survey a year for the same households (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    hh, mem, target = generate_with_classes(households, year=years[0], seed=seed, noise=0)
    hh = hh.assign(**{"class": target, "_pp": _per_person(hh, mem)})
    ever = pd.Series(np.isin(target, LISTED), index=hh["household_id"].to_numpy())
    next_id = len(hh) + 1
    yield Year(years[0], hh.drop(columns=["class", "_pp"]), mem, _no_events(), target)
    for year in years[1:]:
        districts = plan_districts(year)
        names = [d.name for d in districts]
        total = sum(d.households for d in districts) if households is None else households
        per = _allocate(total, np.array([d.households for d in districts], dtype=np.float64))
        hh, mem, events = _age_and_leave(rng, hh, mem, year)
        pool, pool_mem, pool_target = generate_with_classes(
            max(20_000, total // 4), year=year, seed=seed * 7919 + year, noise=0,
            first_id=90_000_000)  # fmt: skip
        pool = pool.assign(**{"class": pool_target, "_pp": _per_person(pool, pool_mem)})
        need = {n: int(per[k]) - int((hh["district"] == n).sum()) for k, n in enumerate(names)}
        hh, mem, next_id = _enter(rng, hh, mem, pool, pool_mem, need, next_id, year, events)
        ever = ever.reindex(hh["household_id"].to_numpy(), fill_value=False)
        counts = {k: (int(round(d.poor_rate * per[k])),
                      int(round((NEAR_POOR_FACTOR * d.poor_rate + NEAR_POOR_BASE) * per[k])),
                      int(round(AVERAGE_SHARE * per[k]))) for k, d in enumerate(districts)}  # fmt: skip
        district = pd.Index(names).get_indexer(pd.Index(hh["district"]))
        new_class = _targets(rng, district, hh["class"].to_numpy(dtype=object),
                             ever.to_numpy(dtype=bool), counts)  # fmt: skip
        changed = new_class != hh["class"].to_numpy(dtype=object)
        hh = _redraw(rng, hh, np.flatnonzero(changed), new_class, pool)
        # a poor household's floor area a person stays as drawn while its family changes
        poor = new_class == "poor"
        size = mem.groupby("household_id").size().reindex(hh["household_id"]).fillna(1)
        hh.loc[poor, "floor_area_m2"] = (hh.loc[poor, "_pp"].astype(float)
                                         * size.to_numpy()[poor]).round(1)  # fmt: skip
        hh["class"] = new_class
        ever[np.isin(new_class, LISTED)] = True
        near = new_class == "near_poor"
        hh.loc[near, ["durable_frame", "durable_walls", "durable_roof", "uses_telecom"]] = True
        hh.loc[near, "floor_area_m2"] = 100.0
        hh.loc[near, ["water_source", "latrine", "info_devices"]] = ["piped", "septic",
                                                                      "tv;smartphone"]  # fmt: skip
        mem = _clean(mem.sort_values(["household_id", "member_no"], kind="stable"),
                     set(hh.loc[near, "household_id"]))  # fmt: skip
        out = hh.drop(columns=["class", "_pp"]).assign(previous_status=None, left_list_on=None)
        yield Year(year, out, mem.reset_index(drop=True), pd.DataFrame(events), new_class)


def _age_and_leave(rng: np.random.Generator, hh: pd.DataFrame, mem: pd.DataFrame,
                   year: int) -> tuple[pd.DataFrame, pd.DataFrame, list[dict[str, str]]]:  # fmt: skip
    """A year older: deaths, dissolved households, moves out, births."""
    mem = mem.assign(age=mem["age"].astype(int) + 1)
    mem = mem[~((mem["age"] >= DEATH_AGE) & (rng.random(len(mem)) < DEATH))]
    alive = hh["household_id"].isin(set(mem["household_id"]))
    moving = alive & (rng.random(len(hh)) < MOVE_OUT)
    events = [{"household_id": h, "kind": "dissolved", "on_date": f"{year}-03-01"}
              for h in hh.loc[~alive, "household_id"]]  # fmt: skip
    events += [{"household_id": h, "kind": "moved_out", "on_date": f"{year}-04-01"}
               for h in hh.loc[moving, "household_id"]]  # fmt: skip
    hh = hh[alive & ~moving].reset_index(drop=True)
    mem = mem[mem["household_id"].isin(set(hh["household_id"]))]
    mothers = mem.loc[(mem["sex"] == "female") & mem["age"].between(20, 40), "household_id"]
    candidates = mothers.drop_duplicates()
    homes = candidates[rng.random(len(candidates)) < BIRTH].to_numpy()
    if len(homes):
        last = mem.groupby("household_id")["member_no"].max()
        mem = pd.concat([mem, pd.DataFrame({
            "household_id": homes, "member_no": last.reindex(homes).to_numpy() + 1,
            "sex": rng.choice(["male", "female"], len(homes)), "age": 0,
            "health_insurance": True, "disability": "none", "serious_illness": False,
            "social_allowance": False, "meritorious": False, "pregnant_or_nursing": False,
        })], ignore_index=True)  # fmt: skip
    return hh, mem, events


def _enter(rng: np.random.Generator, hh: pd.DataFrame, mem: pd.DataFrame, pool: pd.DataFrame,
           pool_mem: pd.DataFrame, need: dict[str, int], next_id: int, year: int,
           events: list[dict[str, str]]) -> tuple[pd.DataFrame, pd.DataFrame, int]:  # fmt: skip
    """Households in, to each district's count: a third split from a household of four or
    more (an adult child of 20–40 as the head of their own), the rest move in."""
    new_hh, new_mem = [], []
    for name, k in need.items():
        if k < 0:  # the district shrinks: more households move out
            here = np.flatnonzero((hh["district"] == name).to_numpy())
            leaving = hh["household_id"].to_numpy()[rng.choice(here, -k, replace=False)]
            events += [{"household_id": h, "kind": "moved_out", "on_date": f"{year}-04-01"}
                       for h in leaving]  # fmt: skip
            hh = hh[~hh["household_id"].isin(set(leaving))].reset_index(drop=True)
            mem = mem[~mem["household_id"].isin(set(leaving))]
            continue
        if k == 0:
            continue
        sizes = mem.groupby("household_id").size()
        big = set(sizes[sizes >= 4].index) & set(hh.loc[hh["district"] == name, "household_id"])
        young = mem[mem["household_id"].isin(big) & mem["age"].between(20, 40)
                    & (mem["member_no"] > 1)].drop_duplicates("household_id")  # fmt: skip
        splits = young.iloc[rng.permutation(len(young))[: k // 3]]
        donors = pool[(pool["district"] == name) & (pool["class"] == "not_poor")]
        donors = donors.iloc[rng.permutation(len(donors))[:k]]
        ids = [f"HY-{next_id + j:06d}" for j in range(len(donors))]
        next_id += len(donors)
        rows = donors.assign(household_id=ids)
        new_hh.append(rows)
        split_ids = ids[: len(splits)]
        mem = mem.drop(index=splits.index)
        new_mem.append(splits.assign(household_id=split_ids, member_no=1))
        events += [{"household_id": h, "kind": "split_from", "on_date": f"{year}-05-01",
                    "related_household_id": f}
                   for h, f in zip(split_ids, splits["household_id"], strict=True)]  # fmt: skip
        moved = dict(zip(donors["household_id"].iloc[len(splits):], ids[len(splits):],
                         strict=True))  # fmt: skip
        came = pool_mem[pool_mem["household_id"].isin(set(moved))]
        new_mem.append(came.assign(household_id=came["household_id"].map(moved)))
        events += [{"household_id": h, "kind": "moved_in", "on_date": f"{year}-05-01"}
                   for h in moved.values()]  # fmt: skip
    if new_hh:
        hh = pd.concat([hh, *new_hh], ignore_index=True)
        mem = pd.concat([mem, *new_mem], ignore_index=True)
    return hh, mem, next_id


def _redraw(rng: np.random.Generator, hh: pd.DataFrame, changed: np.ndarray,
            new_class: np.ndarray, pool: pd.DataFrame) -> pd.DataFrame:  # fmt: skip
    """Housing and income drawn anew for the households whose class changed, each from a
    pool household of its district and new class (and its area where the pool has one)."""
    hh = hh.copy()
    if not len(changed):
        return hh
    fine = pool["district"].astype(str) + "|" + pool["area"].astype(str) + "|" + pool["class"]
    coarse = pool["district"].astype(str) + "|" + pool["class"]
    want_fine = (hh["district"].astype(str) + "|" + hh["area"].astype(str)).to_numpy()[changed] \
        + "|" + new_class[changed].astype(str)  # fmt: skip
    want_coarse = hh["district"].astype(str).to_numpy()[changed] + "|" + \
        new_class[changed].astype(str)  # fmt: skip
    picked = np.full(len(changed), -1, dtype=np.int64)
    for keys, wanted in ((fine.to_numpy(), want_fine), (coarse.to_numpy(), want_coarse)):
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        lo = np.searchsorted(sorted_keys, wanted, "left")
        hi = np.searchsorted(sorted_keys, wanted, "right")
        ok = (picked < 0) & (hi > lo)
        pick = lo + (rng.random(len(changed)) * (hi - lo)).astype(np.int64)
        picked[ok] = order[np.minimum(pick, len(order) - 1)][ok]
    has = picked >= 0
    rows = changed[has]
    for field in HOUSEHOLD_FIELDS:
        values = hh[field].to_numpy(dtype=object).copy()
        values[rows] = pool[field].to_numpy(dtype=object)[picked[has]]
        hh[field] = values
    return hh


def _per_person(hh: pd.DataFrame, mem: pd.DataFrame) -> np.ndarray:
    """Floor area a person (m²) of each household."""
    size = mem.groupby("household_id").size().reindex(hh["household_id"]).fillna(1)
    return np.asarray(hh["floor_area_m2"].astype(float).to_numpy() / size.to_numpy())


def _no_events() -> pd.DataFrame:
    return pd.DataFrame(columns=["household_id", "kind", "on_date"])
