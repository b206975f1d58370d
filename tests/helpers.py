"""Helpers to run hand-written cases through the real reader → parser → evaluator path."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from engine import classify, default_rulebook
from engine.classify import BatchResult
from household_models import parse_batch
from household_models.readers import RawBatch, SourceTable

BASE_HOUSEHOLD: dict[str, Any] = {
    "area": "rural",
    "income_per_capita_vnd": 1_000_000,
    "durable_frame": True,
    "durable_walls": True,
    "durable_roof": True,
    "floor_area_m2": 60,
    "water_source": "piped",
    "latrine": "septic",
    "uses_telecom": True,
    "info_devices": "tv",
}
BASE_MEMBER: dict[str, Any] = {
    "member_no": 1,
    "sex": "male",
    "age": 35,
    "health_insurance": True,
    "employment": "wage_contract",
    "education": "upper_secondary",
    "in_school": False,
}


def frames(cases: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Households and members frames from cases ``{household: {...}, members: [{...}]}``.

    Household values override BASE_HOUSEHOLD (None removes a value); each member overrides
    BASE_MEMBER. Missing household ids get HH-<n>.
    """
    hh_rows, mem_rows = [], []
    for i, case in enumerate(cases):
        hh = {"household_id": f"HH-{i:05d}", **BASE_HOUSEHOLD, **case.get("household", {})}
        hh_rows.append(hh)
        members = case.get("members", [{}])
        for j, m in enumerate(members):
            mem_rows.append({**BASE_MEMBER, "member_no": j + 1, **m,
                             "household_id": hh["household_id"]})  # fmt: skip
    return pd.DataFrame(hh_rows, dtype=object), pd.DataFrame(mem_rows, dtype=object)


def run_frames(hh: pd.DataFrame, mem: pd.DataFrame, as_of: dt.date) -> BatchResult:
    raw = RawBatch(SourceTable(hh, "households", "", 2), SourceTable(mem, "members", "", 2))
    return classify(parse_batch(raw), default_rulebook(), as_of)


def run_cases(cases: list[dict[str, Any]], as_of: dt.date) -> pd.DataFrame:
    hh, mem = frames(cases)
    return run_frames(hh, mem, as_of).results
