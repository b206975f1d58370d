"""Throughput of `classify` on a synthetic batch (not part of the test run).

Generates N households (about 3.4 members each) with a fixed seed, writes them as Parquet, then
times each phase: read, parse/validate, evaluate+assemble, write. As a same-process baseline it
also times the per-row pydantic path (``Household.model_validate``) on a sample, so the figures
can be read as ratios on a shared, noisy machine.

    python benchmarks/bench_classify.py --households 400000
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from engine import classify, default_rulebook, write_result
from household_models import Household, parse_batch, read_survey


def synthetic(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.char.add("HY-", np.arange(n).astype(str)).astype(object)
    hh = pd.DataFrame({
        "household_id": ids,
        "area": rng.choice(["rural", "urban"], n, p=[0.8, 0.2]),
        "income_per_capita_vnd": rng.lognormal(np.log(3_500_000), 0.6, n).astype(np.int64),
        "durable_frame": rng.random(n) > 0.03,
        "durable_walls": rng.random(n) > 0.03,
        "durable_roof": rng.random(n) > 0.05,
        "floor_area_m2": rng.uniform(15, 150, n).round(1),
        "water_source": rng.choice(["piped", "drilled_well", "surface_water"], n, p=[0.7, 0.27, 0.03]),
        "latrine": rng.choice(["septic", "semi_septic", "simple_pit", "none"], n, p=[0.8, 0.15, 0.04, 0.01]),
        "uses_telecom": rng.random(n) > 0.02,
        "info_devices": rng.choice(["tv;smartphone", "smartphone", ""], n, p=[0.8, 0.18, 0.02]),
        "district": rng.choice(["Phù Cừ", "Tiên Lữ", "Kim Động", "Ân Thi", "Khoái Châu"], n),
    })  # fmt: skip
    sizes = rng.integers(1, 7, n)
    m = int(sizes.sum())
    age = rng.integers(0, 90, m)
    mem = pd.DataFrame({
        "household_id": np.repeat(ids, sizes),
        "member_no": np.concatenate([np.arange(1, s + 1) for s in sizes]),
        "sex": rng.choice(["male", "female"], m),
        "age": age,
        "health_insurance": rng.random(m) > 0.08,
        "employment": np.where(age >= 15, rng.choice(["wage_contract", "self_employed", "unemployed",
                               "wage_no_contract", "not_in_labour_force"], m,
                               p=[0.4, 0.35, 0.03, 0.07, 0.15]), None),
        "education": np.where(age >= 16, rng.choice(["lower_secondary", "upper_secondary", "primary"],
                              m, p=[0.4, 0.5, 0.1]), None),
        "in_school": np.where((age >= 3) & (age <= 30), age < 19, None),
        "school_on_track": np.where((age >= 3) & (age < 16), rng.random(m) > 0.02, None),
        "stunted": np.where(age < 16, rng.random(m) < 0.05, None),
        "underweight": np.where(age < 16, rng.random(m) < 0.05, None),
    })  # fmt: skip
    return hh, mem


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--households", type=int, default=400_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    hh, mem = synthetic(args.households, args.seed)
    book = default_rulebook()
    as_of = dt.date(2025, 6, 30)
    with tempfile.TemporaryDirectory() as tmp:
        h_path, m_path = Path(tmp) / "h.parquet", Path(tmp) / "m.parquet"
        hh.to_parquet(h_path)
        mem.to_parquet(m_path)
        t0 = time.perf_counter()
        raw = read_survey([h_path, m_path])
        t1 = time.perf_counter()
        batch = parse_batch(raw)
        t2 = time.perf_counter()
        result = classify(batch, book, as_of)
        t3 = time.perf_counter()
        write_result(result, Path(tmp) / "r.parquet")
        t4 = time.perf_counter()
    sample = hh.head(2000).to_dict("records")
    b0 = time.perf_counter()
    for row in sample:
        Household.model_validate(row)
    per_row = (time.perf_counter() - b0) / len(sample)
    n = args.households
    print(f"households={n} members={len(mem)}")
    for name, secs in (("read", t1 - t0), ("parse+validate", t2 - t1), ("evaluate+assemble", t3 - t2),
                       ("write", t4 - t3), ("total", t4 - t0)):  # fmt: skip
        print(f"{name:>18}: {secs:7.2f} s  {n / secs:12,.0f} households/s")
    print(
        f"baseline per-row pydantic validation only: {1 / per_row:,.0f} households/s; "
        f"whole vectorised pipeline is {(n / (t4 - t0)) * per_row:.1f}x that"
    )
    print(f"classes: {result.class_counts}")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
