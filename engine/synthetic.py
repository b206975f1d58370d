"""A deterministic synthetic Hưng Yên population in the survey format (docs/input-format.md).

Real survey data is personal and not available, so examples, demos and benchmarks use this. The
ten former districts get the plan's household counts (Appendix 01, ``plan_poverty_targets``);
each household is drawn for a *target class* so that the share of poor households in each district
is the plan's rate for the chosen year, then given a family, ages, schooling, work, housing, water,
sanitation, telecom and income consistent with that class:

* poor: income at 35–100 % of the line and three to six deprivations;
* near-poor: income at 45–100 % of the line and at most two deprivations;
* average: income above the line, at most the ceiling;
* not poor: income above the ceiling (log-normal), deprivations as they fall.

How calibration works: the counts of poor households per district are fixed first
(largest-remainder rounding of rate × households), and the noise that makes the errors path run
(a missing value, an invalid code, an orphan member) is only put on households whose class it
cannot change (``not_poor`` with income far above the ceiling), so classifying the sample gives
the plan's rate to within rounding. The near-poor and average shares are assumptions, not the
plan's (the plan gives no figures): near-poor 1.3 × the poor rate + 0.8 %, average 7 %.

Everything is vectorised with NumPy; one seed gives the same files on any machine.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.loader import DEFAULT_RULES_DIR, default_rulebook

DATA = DEFAULT_RULES_DIR / "plan"  # the plan's appendix 01, with the rulebook
PROVINCE_2025 = 418_246
# Parameters of the draw (assumptions for a plausible Red River Delta population, not law).
NEAR_POOR_FACTOR, NEAR_POOR_BASE, AVERAGE_SHARE = 1.3, 0.008, 0.07
URBAN_SHARE = {"TP Hưng Yên": 0.65, "Mỹ Hào": 0.35, "Văn Giang": 0.2, "Văn Lâm": 0.15}
HOUSEHOLD_DEPRIVERS = ["housing.quality", "housing.area", "water.source", "water.latrine",
                       "information.telecom", "information.devices"]  # fmt: skip
CAUSES = ["no_land", "no_capital", "no_labour", "no_tools", "no_knowledge", "no_skills",
          "illness", "other"]  # fmt: skip
CAUSE_WEIGHTS = [0.12, 0.25, 0.18, 0.05, 0.08, 0.1, 0.17, 0.05]


def where(condition: Any, a: Any, b: Any) -> Any:
    """``np.where`` for object arrays holding None (untyped on purpose)."""
    return np.where(condition, a, b)


@dataclass
class District:
    name: str
    households: int
    poor_rate: float  # share, from the plan


def plan_districts(year: int, data_dir: Path | None = None) -> list[District]:
    """The ten former districts with the plan's households and poor rate for ``year``."""
    path = (data_dir or DATA) / "poverty_targets_2021_2025.csv"
    if not path.exists():
        raise FileNotFoundError(f"{path}: the plan's appendix 01 is needed for the sample")
    if year not in range(2021, 2026):
        raise ValueError(f"year {year}: the plan gives districts for 2021–2025")
    out = []
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            n, poor = int(row[f"households_{year}"]), int(row[f"poor_{year}"])
            out.append(District(row["district"], n, poor / n))
    return out


def _allocate(total: int, weights: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    """Largest-remainder rounding of total × weights (sums exactly to total)."""
    raw = total * weights / weights.sum()
    base = np.floor(raw).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(raw - base), kind="stable")
    base[order[:rest]] += 1
    return np.asarray(base, dtype=np.int64)


def generate(households: int | None = None, *, year: int = 2025, seed: int = 1,
             noise: float = 0.002, data_dir: Path | None = None, first_id: int = 1
             ) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """Households and members frames (canonical column names). ``households=None`` gives the
    plan's count for ``year`` (the full province for 2025: 418,246)."""
    hh, mem, _ = generate_with_classes(households, year=year, seed=seed, noise=noise,
                                       data_dir=data_dir, first_id=first_id)  # fmt: skip
    return hh, mem


def generate_with_classes(households: int | None = None, *, year: int = 2025, seed: int = 1,
                          noise: float = 0.002, data_dir: Path | None = None, first_id: int = 1
                          ) -> tuple[pd.DataFrame, pd.DataFrame, npt.NDArray[np.object_]]:  # fmt: skip
    """``generate``, with the class each household was drawn for."""
    rng = np.random.default_rng(seed)
    districts = plan_districts(year, data_dir)
    counts = np.array([d.households for d in districts], dtype=np.float64)
    total = int(counts.sum()) if households is None else int(households)
    per_district = _allocate(total, counts)
    # Target classes per district: exact poor counts, then near-poor, average, not poor.
    district_idx = np.repeat(np.arange(len(districts)), per_district)
    n = total
    target = np.empty(n, dtype=object)
    start = 0
    for k, d in enumerate(districts):
        m = int(per_district[k])
        poor = int(round(d.poor_rate * m))
        near = int(round((NEAR_POOR_FACTOR * d.poor_rate + NEAR_POOR_BASE) * m))
        avg = int(round(AVERAGE_SHARE * m))
        labels = np.array(["poor"] * poor + ["near_poor"] * near + ["average"] * avg
                          + ["not_poor"] * (m - poor - near - avg), dtype=object)  # fmt: skip
        target[start : start + m] = labels[rng.permutation(m)]
        start += m
    names = np.array([d.name for d in districts], dtype=object)
    urban_p = np.array([URBAN_SHARE.get(d.name, 0.05) for d in districts])[district_idx]
    area = where(rng.random(n) < urban_p, "urban", "rural").astype(object)
    # The income line and ceiling of the year come from the rulebook (Decree 07/2021).
    standard = default_rulebook().resolve(dt.date(year, 6, 30))
    lines, ceilings = standard.param("income_line_vnd"), standard.param("average_ceiling_vnd")
    line = where(area == "urban", lines["urban"], lines["rural"]).astype(np.float64)
    ceiling = where(area == "urban", ceilings["urban"], ceilings["rural"]).astype(np.float64)
    is_poor, is_near = target == "poor", target == "near_poor"
    is_avg, is_not = target == "average", target == "not_poor"
    income = np.empty(n, dtype=np.float64)
    income[is_poor] = line[is_poor] * rng.uniform(0.35, 1.0, is_poor.sum())
    income[is_near] = line[is_near] * rng.uniform(0.45, 1.0, is_near.sum())
    span = ceiling[is_avg] - line[is_avg]
    income[is_avg] = line[is_avg] + 1 + rng.random(is_avg.sum()) * (span - 1)
    income[is_not] = ceiling[is_not] + 1 + rng.lognormal(np.log(1_800_000), 0.7, is_not.sum())
    income = np.floor(income).astype(np.int64)

    # Household deprivations (household-level switches): poor 3–6, near-poor 0–2, others rare.
    k_dep = np.zeros(n, dtype=np.int64)
    k_dep[is_poor] = rng.integers(3, 7, is_poor.sum())
    k_dep[is_near] = rng.choice([0, 0, 1, 1, 2], is_near.sum())
    scores = rng.random((n, len(HOUSEHOLD_DEPRIVERS)))
    ranks = np.argsort(np.argsort(scores, axis=1), axis=1)
    switched = ranks < k_dep[:, None]
    other = (is_avg | is_not)[:, None] & (rng.random((n, len(HOUSEHOLD_DEPRIVERS))) < 0.015)
    switched |= other
    dep = {name: switched[:, i] for i, name in enumerate(HOUSEHOLD_DEPRIVERS)}

    # Families: size 1–7; poor and near-poor households are smaller and older.
    size = rng.choice([1, 2, 3, 4, 5, 6, 7], n, p=[0.08, 0.2, 0.22, 0.27, 0.14, 0.06, 0.03])
    small = is_poor | is_near
    size[small] = rng.choice([1, 2, 3, 4, 5], small.sum(), p=[0.22, 0.33, 0.2, 0.17, 0.08])
    floor = rng.uniform(9, 30, n) * np.maximum(size, 1)
    floor = where(dep["housing.area"], size * rng.uniform(3, 7.9, n), floor)
    durable_frame = ~dep["housing.quality"] | (rng.random(n) < 0.0)
    durable_walls = ~dep["housing.quality"]
    durable_roof = where(dep["housing.quality"], rng.random(n) < 0.3, rng.random(n) > 0.02)
    water = where(dep["water.source"],
                     rng.choice(["unprotected_dug_well", "surface_water", "unprotected_spring"], n),
                     rng.choice(["piped", "drilled_well", "protected_dug_well", "rainwater"], n,
                                p=[0.72, 0.2, 0.05, 0.03]))  # fmt: skip
    latrine = where(dep["water.latrine"], rng.choice(["simple_pit", "hanging", "none"], n),
                       rng.choice(["septic", "semi_septic", "pour_flush", "biogas"], n,
                                  p=[0.7, 0.2, 0.07, 0.03]))  # fmt: skip
    telecom = ~dep["information.telecom"]
    devices = where(dep["information.devices"], "",
                       rng.choice(["tv;smartphone", "smartphone", "tv", "tv;laptop;smartphone"], n,
                                  p=[0.55, 0.2, 0.1, 0.15]))  # fmt: skip
    numbers = np.arange(first_id, first_id + n).astype(str)
    ids = np.char.add("HY-", np.char.zfill(numbers, 6)).astype(object)
    causes = np.full(n, "", dtype=object)
    listed = np.flatnonzero(small)
    first = rng.choice(len(CAUSES), len(listed), p=CAUSE_WEIGHTS)
    second = rng.choice(len(CAUSES), len(listed), p=CAUSE_WEIGHTS)
    both = rng.random(len(listed)) < 0.35
    causes[listed] = [CAUSES[a] + (";" + CAUSES[b] if t and b != a else "")
                      for a, b, t in zip(first, second, both, strict=True)]  # fmt: skip
    previous = np.full(n, None, dtype=object)
    left = np.full(n, None, dtype=object)
    previous[is_poor] = where(rng.random(is_poor.sum()) < 0.85, "poor", "near_poor")
    previous[is_near] = rng.choice(["poor", "near_poor", "average"], is_near.sum(),
                                   p=[0.15, 0.75, 0.1])  # fmt: skip
    escaped = is_avg & (rng.random(n) < 0.25)
    previous[escaped] = rng.choice(["poor", "near_poor"], escaped.sum(), p=[0.4, 0.6])
    previous[is_avg & ~escaped] = "average"
    previous[is_not] = where(rng.random(is_not.sum()) < 0.97, "not_poor", "average")
    left_days = rng.integers(0, 3 * 365, escaped.sum())
    left[escaped] = [str(np.datetime64(f"{year}-01-01") - int(x)) for x in left_days]
    households_frame = pd.DataFrame({
        "household_id": ids, "head_name": None, "district": names[district_idx],
        "commune": None, "area": area, "income_per_capita_vnd": income, "income_score": None,
        "durable_frame": durable_frame, "durable_walls": durable_walls,
        "durable_roof": durable_roof, "floor_area_m2": np.round(floor, 1),
        "water_source": water, "latrine": latrine, "uses_telecom": telecom,
        "info_devices": devices, "waste_treated": rng.random(n) > 0.1, "causes": causes,
        "previous_status": previous, "left_list_on": left,
    })  # fmt: skip
    members = _members(rng, ids, size, target, year)
    hh, mem = _noise(rng, households_frame, members, target, income, ceiling, noise)
    return hh, mem, target


def _members(rng: np.random.Generator, ids: npt.NDArray[np.object_], size: npt.NDArray[np.int64],
             target: npt.NDArray[np.object_], year: int) -> pd.DataFrame:  # fmt: skip
    n = len(ids)
    hh = np.repeat(np.arange(n), size)
    m = len(hh)
    order = np.arange(m) - np.repeat(np.cumsum(size) - size, size)  # 0 = head
    poorish = np.isin(target[hh], ["poor", "near_poor"])
    head_age = rng.integers(24, 82, n)
    head_age[np.isin(target, ["poor", "near_poor"])] = rng.integers(30, 88,
                                                                   np.isin(target, ["poor", "near_poor"]).sum())  # fmt: skip
    age = where(order == 0, head_age[hh],
                   where(order == 1, np.clip(head_age[hh] + rng.integers(-6, 4, m), 18, 95),
                            where(order >= 4, np.clip(head_age[hh] + rng.integers(20, 30, m),
                                                         0, 99),
                                     np.clip(head_age[hh] - rng.integers(18, 36, m), 0, 60))))  # fmt: skip
    sex = where(order == 1, where(rng.random(m) < 0.92, "female", "male"),
                   rng.choice(["male", "female"], m))  # fmt: skip
    working = (age >= 15) & (age < 60)
    # Near-poor households must stay below three deprivations: their members are not deprived.
    clean = target[hh] == "near_poor"
    employment = where(age >= 15, rng.choice(
        ["wage_contract", "self_employed", "unemployed", "wage_no_contract", "not_in_labour_force"],
        m, p=[0.38, 0.36, 0.03, 0.08, 0.15]), None)  # fmt: skip
    employment = where((age >= 60) & (employment != None), "not_in_labour_force",  # noqa: E711
                          employment)  # fmt: skip
    employment = where(clean & working, where(rng.random(m) < 0.5, "self_employed",
                                                    "wage_contract"), employment)  # fmt: skip
    school_age = (age >= 3) & (age <= 30)
    in_school = where(school_age, (age <= 17) | ((age <= 22) & (rng.random(m) < 0.35)), None)
    on_track = where((age >= 3) & (age < 16), rng.random(m) > 0.015, None)
    on_track = where(clean & (age >= 3) & (age < 16), True, on_track)
    education = where(age >= 16, rng.choice(
        ["primary", "lower_secondary", "upper_secondary", "vocational_intermediate", "college",
         "university"], m, p=[0.12, 0.33, 0.35, 0.08, 0.05, 0.07]), None)  # fmt: skip
    young_adult = (age >= 16) & (age <= 30)
    education = where(clean & young_adult, "upper_secondary", education)
    insured = where(clean | poorish, True, rng.random(m) > 0.06)
    child = age < 16
    stunted = where(child, (rng.random(m) < 0.06) & ~clean, None)
    underweight = where(child, (rng.random(m) < 0.05) & ~clean, None)
    disability = where(rng.random(m) < 0.03,
                          rng.choice(["mild", "severe", "especially_severe"], m, p=[0.6, 0.3, 0.1]),
                          "none")  # fmt: skip
    # Near-poor households: dependants at most half the members (else a deprivation). Past
    # working age is taken conservatively (women from 55, men from 60) for every year.
    old = ((sex == "female") & (age >= 55)) | ((sex == "male") & (age >= 60))
    dependant = child | old | np.isin(disability, ["severe", "especially_severe"])
    share = np.bincount(hh, weights=dependant, minlength=n) / np.maximum(size, 1)
    too_many = clean & (share[hh] > 0.5)
    disability = where(too_many, "none", disability)
    age = where(too_many & old, rng.integers(30, 50, m), age)
    age = where(too_many & child & (order > 1), rng.integers(16, 25, m), age)
    # recompute what depends on age for the households just changed
    child = age < 16
    working = (age >= 15) & (age < 60)
    employment = where(too_many & working, "self_employed", employment)
    employment = where(too_many & ~(age >= 15), None, employment)
    education = where(too_many & (age >= 16), "upper_secondary", education)
    education = where(too_many & (age < 16), None, education)
    in_school = where(too_many, where((age >= 3) & (age <= 30), age <= 24, None), in_school)
    on_track = where(too_many, where((age >= 3) & (age < 16), True, None), on_track)
    stunted = where(too_many, where(child, False, None), stunted)
    underweight = where(too_many, where(child, False, None), underweight)
    return pd.DataFrame({
        "household_id": ids[hh], "member_no": order + 1, "name": None, "sex": sex, "age": age,
        "birth_date": None, "health_insurance": insured, "disability": disability,
        "serious_illness": rng.random(m) < 0.02, "employment": employment,
        "education": education, "in_school": in_school, "school_on_track": on_track,
        "stunted": stunted, "underweight": underweight,
        "social_allowance": (age >= 80) | (np.isin(disability, ["severe", "especially_severe"])
                                           & (rng.random(m) < 0.6)),
        "meritorious": rng.random(m) < 0.01,
        "pregnant_or_nursing": (sex == "female") & (age >= 18) & (age <= 40) & (rng.random(m) < 0.08),
    })  # fmt: skip


def _noise(rng: np.random.Generator, hh: pd.DataFrame, mem: pd.DataFrame,
           target: npt.NDArray[np.object_], income: npt.NDArray[Any],
           ceiling: npt.NDArray[Any], noise: float
           ) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """A small share of missing and invalid values, only on households whose class they cannot
    change (not poor, income at least 500,000 above the ceiling), so calibration holds."""
    if noise <= 0:
        return hh, mem
    safe = np.flatnonzero((target == "not_poor") & (income > ceiling + 500_000))
    k = min(len(safe), int(round(noise * len(hh))))
    chosen = rng.choice(safe, k, replace=False)
    kinds = rng.integers(0, 4, k)
    hh = hh.copy()
    mem = mem.copy()
    hh["floor_area_m2"] = hh["floor_area_m2"].astype(object)
    hh.loc[chosen[kinds == 0], "floor_area_m2"] = None  # missing: housing.area unknown
    hh.loc[chosen[kinds == 1], "water_source"] = "giếng khơi"  # not a code: invalid household
    bad_age = hh.loc[chosen[kinds == 2], "household_id"]
    first_member = mem["household_id"].isin(bad_age) & (mem["member_no"] == 1)
    mem["age"] = mem["age"].astype(object)
    mem.loc[first_member, "age"] = 150  # out of range: invalid household
    orphans = hh.loc[chosen[kinds == 3], "household_id"].to_numpy()
    extra = pd.DataFrame({"household_id": [f"{x}-X" for x in orphans], "member_no": 1,
                          "sex": "male", "age": 30, "health_insurance": True})  # fmt: skip
    return hh, pd.concat([mem, extra], ignore_index=True)


PART_SIZE = 250_000  # households drawn at a time by ``generate_parts``


def generate_parts(households: int, *, year: int = 2025, seed: int = 1, noise: float = 0.002,
                   part_size: int | None = None
                   ) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:  # fmt: skip
    """The same population drawn in parts of ``part_size`` households (constant memory for a
    batch of any size): part k uses the seed ``seed * 1_000_003 + k`` and continues the ids.
    One part is exactly ``generate(households, seed=seed)``."""
    size = part_size or PART_SIZE
    if households <= size:
        yield generate(households, year=year, seed=seed, noise=noise)
        return
    for k, start in enumerate(range(0, households, size)):
        n = min(size, households - start)
        yield generate(n, year=year, seed=seed * 1_000_003 + k, noise=noise, first_id=start + 1)
