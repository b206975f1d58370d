"""The summary tables: households per class by district (with a total row), and the work of
each responsible department (households, people, recommendations, first-year cost, loans)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.rulebook import Resolved
from engine.text import TOTAL_LABEL, UNNAMED_DISTRICT
from household_models.batch import ParsedBatch


def summarise(results: pd.DataFrame, batch: ParsedBatch, r: Resolved) -> pd.DataFrame:
    """Households per class, by district and in total, with the share of each class."""
    district_col = batch.households["district"]
    district = pd.Series(district_col.values, dtype=object).fillna("").astype(str)
    return summary_table(district.to_numpy(), results["class"].to_numpy(), r)


def summary_table(district: Any, classes_of: Any, r: Resolved) -> pd.DataFrame:
    """Households per district and class, with each class's share of the district, the
    province total last."""
    frame = pd.DataFrame({"district": district, "class": classes_of})
    return summary_from_counts(frame.groupby(["district", "class"]).size().reset_index(name="n"),
                               r)  # fmt: skip


def summary_from_counts(counted: pd.DataFrame, r: Resolved) -> pd.DataFrame:
    """``summary_table`` from households already counted per (district, class) (column ``n``;
    a pair may come more than once, from several batches: they are added)."""
    classes = list(r.classification.classes)
    counts = counted.groupby(["district", "class"])["n"].sum().unstack(fill_value=0)
    counts = counts.reindex(columns=classes, fill_value=0)
    counts.loc[TOTAL_LABEL["vi"]] = counts.sum(axis=0)
    rows = []
    for name, row in counts.iterrows():
        total = int(row.sum())
        for cls in classes:
            n = int(row[cls])
            rows.append({
                "district": name or UNNAMED_DISTRICT,
                "class": cls,
                "class_vi": r.classification.classes[cls]["vi"],
                "households": n,
                "share_pct": round(100.0 * n / total, 2) if total else 0.0,
            })  # fmt: skip
    summary = pd.DataFrame(rows)
    summary["rulebook_version"] = r.rulebook_version
    summary["as_of"] = r.as_of.isoformat()
    return summary


def department_summary(frame: pd.DataFrame, r: Resolved, lang: str) -> pd.DataFrame:
    """Per responsible department (code and the name in force on the evaluation date, which can
    differ by the function of the action): households, people named, recommendations, estimated
    first-year cost (grants, allowances, insurance) and loan volume. Departments with nothing to
    do are listed with zeros; the last row is the total."""
    small = pd.DataFrame({
        "department_code": frame["department_code"].astype(object),
        "department": frame["department"].astype(object),
        "pos": frame["pos"].to_numpy(dtype=np.int64),
        "person": frame["member_no"].notna().to_numpy(),
        "cost": frame["first_year_vnd"].fillna(0).to_numpy(dtype=np.int64),
        "loan": np.where(frame["amount_kind"] == "loan",
                         frame["amount_vnd"].fillna(0).to_numpy(dtype=np.int64), 0),
        "no_amount": frame["amount_vnd"].isna().to_numpy(),
    })  # fmt: skip
    columns = {"households": ("pos", "nunique"), "people": ("person", "sum"),
               "recommendations": ("pos", "size"), "first_year_cost_vnd": ("cost", "sum"),
               "loan_volume_vnd": ("loan", "sum"),
               "recommendations_without_amount": ("no_amount", "sum")}  # fmt: skip
    grouped = small.groupby(["department_code", "department"], sort=False).agg(**columns)
    found = {key: row for key, row in zip(grouped.index, grouped.to_dict("records"), strict=True)}
    zero = dict.fromkeys(columns, 0)
    rows = []
    for code, dep in r.departments.items():
        names = sorted(name for c, name in found if c == code)
        for name in names or [dep.name_at(r.as_of)[0][lang]]:
            values = found.get((code, name), zero)
            rows.append({"department_code": code, "department": name,
                         "department_plan_name": dep.plan_name[lang],
                         **{k: int(v) for k, v in values.items()}})  # fmt: skip
    total = {k: int(v) for k, v in small.agg({c: f for c, f in columns.values()}).items()}
    rows.append({"department_code": "", "department": TOTAL_LABEL[lang],
                 "department_plan_name": "", "households": int(small["pos"].nunique()),
                 "people": total["person"], "recommendations": len(small),
                 "first_year_cost_vnd": total["cost"], "loan_volume_vnd": total["loan"],
                 "recommendations_without_amount": total["no_amount"]})  # fmt: skip
    out = pd.DataFrame(rows)
    out["rulebook_version"] = r.rulebook_version
    out["as_of"] = r.as_of.isoformat()
    return out
