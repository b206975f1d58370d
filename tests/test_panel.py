"""The synthetic panel (``sample --panel``): the same households year after year, each year's
poor rate per former district that of the plan, and five rounds recorded in a registry with
flows that balance."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from tests.helpers import run

# Appendix 01 of the provincial plan: poor-household rate (%) per former district, 2023 and 2025
# (written from the appendix, not read from rules/).
PLAN_RATE = {
    2023: {"Phù Cừ": 1.51, "Tiên Lữ": 1.24, "TP Hưng Yên": 0.53, "Kim Động": 1.20, "Ân Thi": 1.91,
           "Khoái Châu": 1.15, "Yên Mỹ": 1.17, "Mỹ Hào": 0.82, "Văn Lâm": 0.89,
           "Văn Giang": 0.52},
    2025: {"Phù Cừ": 0.65, "Tiên Lữ": 0.55, "TP Hưng Yên": 0.37, "Kim Động": 0.49, "Ân Thi": 0.73,
           "Khoái Châu": 0.52, "Yên Mỹ": 0.47, "Mỹ Hào": 0.36, "Văn Lâm": 0.38,
           "Văn Giang": 0.37},
}  # fmt: skip


@pytest.fixture(scope="module")
def panel(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("panel")
    code, out = run("sample", "-o", str(folder / "panel"), "--households", "12000", "--panel",
                    "2021-2025")  # fmt: skip
    assert code == 0, out
    reg = folder / "panel.duckdb"
    for year in range(2021, 2026):
        here = folder / "panel" / str(year)
        events = ["--events", str(here / "events.csv")] if year > 2021 else []
        code, out = run("review", "record", str(here / "survey.parquet"),
                        str(here / "survey.members.parquet"), "--registry", str(reg), "--round",
                        str(year), "--as-of", f"{year}-10-15", "--verify", "0",
                        "-o", str(here / "results.parquet"), *events)  # fmt: skip
        assert code == 0, (year, out)
        assert run("review", "close", "--registry", str(reg), "--round", str(year))[0] == 0
    return {"folder": folder / "panel", "reg": reg}


def test_the_same_households_year_after_year(panel: dict[str, Any]) -> None:
    ids = {y: set(pd.read_parquet(panel["folder"] / str(y) / "survey.parquet")["household_id"])
           for y in range(2021, 2026)}  # fmt: skip
    for y in range(2022, 2026):
        kept = len(ids[y] & ids[y - 1]) / len(ids[y - 1])
        assert 0.97 < kept < 1.0, (y, kept)  # a few move out or dissolve, none is redrawn
    members = {y: pd.read_parquet(panel["folder"] / str(y) / "survey.members.parquet")
               for y in (2021, 2022)}  # fmt: skip
    both = members[2021].merge(members[2022], on=["household_id", "member_no"])
    assert len(both) > 0.9 * len(members[2021])
    assert (both["age_y"].astype(int) == both["age_x"].astype(int) + 1).all()  # ageing
    events = pd.read_csv(panel["folder"] / "2024" / "events.csv")
    assert {"moved_in", "moved_out", "split_from"} <= set(events["kind"])


@pytest.mark.parametrize("year", [2023, 2025])
def test_each_year_reproduces_the_plan_per_district(panel: dict[str, Any], year: int) -> None:
    results = pd.read_parquet(panel["folder"] / str(year) / "results.parquet")
    rate = results.groupby("district")["class"].apply(lambda s: 100 * (s == "poor").mean())
    for district, planned in PLAN_RATE[year].items():
        assert abs(rate[district] - planned) <= 0.15, (year, district, rate[district], planned)


def test_five_rounds_give_balanced_plausible_flows(panel: dict[str, Any]) -> None:
    for year in range(2022, 2026):
        code, out = run("review", "flows", "--registry", str(panel["reg"]), "--round", str(year),
                        "--format", "json")  # fmt: skip
        assert code == 0, out
        data = json.loads(out[out.index("{"):])
        for row in data["rows"]:
            other = "near_poor" if row["list"] == "poor" else "poor"
            assert row["end"] == (row["start"] - row[f"to_{other}"] - row["escaped"]
                                  - row["other_decrease"] + row[f"from_{other}"]
                                  + row["re_entered"] + row["new"] + row["other_increase"])
        total = next(r for r in data["rows"] if r["level"] == "total" and r["list"] == "poor"
                     and r["unit"] == "households")  # fmt: skip
        assert total["escaped"] > 0 and total["new"] > 0 and total["from_near_poor"] > 0
        if year >= 2023:
            assert total["re_entered"] > 0, year
    code, out = run("review", "verify", "--registry", str(panel["reg"]))
    assert code == 0, out
