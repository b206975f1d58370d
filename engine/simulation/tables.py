"""The comparison tables of a simulation: transitions between classes, cost sums by department,
action and district, and what each scenario changes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.rulebook import Resolved
from engine.simulation.scenario import Scenario
from engine.text import TOTAL_LABEL, UNNAMED_DISTRICT
from household_models.schema import DOMAIN_CODES


def transition_rows(sid: str, pairs: pd.DataFrame) -> pd.DataFrame:
    """From-class × to-class counts per district (in sorted order) and overall, from the
    households counted per (district, from, to) in ``pairs`` (column ``n``)."""
    extra = sorted((set(pairs["from"]) | set(pairs["to"])) - set(DOMAIN_CODES["class"]))
    classes = [*DOMAIN_CODES["class"], *extra]
    index = {c: i for i, c in enumerate(classes)}
    k = len(classes)
    districts, district_code = np.unique(pairs["district"].to_numpy(dtype=str),
                                         return_inverse=True)  # fmt: skip
    b = pairs["from"].map(index).to_numpy(dtype=np.int64)
    a = pairs["to"].map(index).to_numpy(dtype=np.int64)
    flat = (district_code.astype(np.int64) * k + b) * k + a
    counts = np.bincount(flat, weights=pairs["n"].to_numpy(dtype=np.float64),
                         minlength=len(districts) * k * k).astype(np.int64)
    counts = counts.reshape(len(districts), k, k)
    rows = []
    for name, matrix in [*zip(districts.tolist(), counts, strict=True), (TOTAL_LABEL["vi"],
                                                                  counts.sum(axis=0))]:  # fmt: skip
        for i, j in zip(*np.nonzero(matrix), strict=True):
            rows.append({"scenario": sid, "district": name or UNNAMED_DISTRICT, "from": classes[i],
                         "to": classes[j], "households": int(matrix[i, j])})  # fmt: skip
    return pd.DataFrame(rows, columns=["scenario", "district", "from", "to", "households"])


DESCRIBE_COLUMNS = ("scenario", "label_vi", "label_en", "description_vi", "file", "standard",
                    "parameters", "indicators_off", "indicators_add", "rulebook_version",
                    "as_of")  # fmt: skip
COST_SUMS = ["recommendations", "households", "first_year_cost_vnd", "loan_volume_vnd", "loans",
             "loans_without_amount"]


def cost_sums(costs: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    small = pd.DataFrame({
        **{k: costs[k].astype(object) for k in keys},
        "pos": costs["pos"].to_numpy(dtype=np.int64),
        "cost": costs["first_year_vnd"].fillna(0).to_numpy(dtype=np.int64),
        "loan": np.where(costs["amount_kind"] == "loan",
                         costs["amount_vnd"].fillna(0).to_numpy(dtype=np.int64), 0),
        "is_loan": (costs["amount_kind"] == "loan").to_numpy(),
        "no_amount": ((costs["amount_kind"] == "loan") & costs["amount_vnd"].isna()).to_numpy(),
    })  # fmt: skip
    return small.groupby(keys, dropna=False).agg(
        recommendations=("pos", "size"), households=("pos", "nunique"),
        first_year_cost_vnd=("cost", "sum"), loan_volume_vnd=("loan", "sum"),
        loans=("is_loan", "sum"), loans_without_amount=("no_amount", "sum"))  # fmt: skip


def compare_cost_sums(sid: str, base: pd.DataFrame, scen: pd.DataFrame) -> pd.DataFrame:
    """A scenario's cost sums (``cost_sums``, added over batches) beside the baseline's, and
    the differences."""
    merged = scen.merge(base, left_index=True, right_index=True, how="outer",
                        suffixes=("", "_baseline")).fillna(0)  # fmt: skip
    for col in COST_SUMS:
        merged[col] = merged[col].astype(np.int64)
        merged[f"{col}_baseline"] = merged[f"{col}_baseline"].astype(np.int64)
    merged["cost_difference_vnd"] = (merged["first_year_cost_vnd"]
                                     - merged["first_year_cost_vnd_baseline"])  # fmt: skip
    # The loan volume counts only loans with an amount (the plan gives one only for the newly
    # escaped): a difference is given only where every loan on both sides has one, else it is
    # missing (not a fall in lending) and the loan counts tell the change.
    difference = pd.array((merged["loan_volume_vnd"] - merged["loan_volume_vnd_baseline"])
                          .to_numpy(dtype=np.int64), dtype="Int64")  # fmt: skip
    incomplete = ((merged["loans_without_amount"] > 0)
                  | (merged["loans_without_amount_baseline"] > 0)).to_numpy()  # fmt: skip
    difference[incomplete] = pd.NA
    merged["loan_difference_vnd"] = difference
    merged["loans_difference"] = merged["loans"] - merged["loans_baseline"]
    return merged.reset_index().assign(scenario=sid)


def describe(s: Scenario, r: Resolved) -> dict[str, Any]:
    return {"scenario": s.id, "label_vi": s.label["vi"], "label_en": s.label["en"],
            "description_vi": s.description["vi"], "file": s.file,
            "standard": s.standard or "", "parameters": "; ".join(s.override_texts()),
            "indicators_off": "; ".join(s.indicators_off),
            "indicators_add": "; ".join(r.id for r in s.indicators_add),
            "rulebook_version": r.rulebook_version, "as_of": r.as_of.isoformat()}  # fmt: skip
