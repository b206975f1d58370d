"""The synthetic province: deterministic, in the survey format, and calibrated to the plan."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from engine import classify, default_rulebook
from engine.synthetic import generate
from household_models import parse_batch, read_survey
from tests.helpers import run

# Poor-household rates per former district, 2022 results (%), from the plan's Appendix 01.
PLAN_2022 = {"Phù Cừ": 2.21, "Tiên Lữ": 2.09, "TP Hưng Yên": 0.81, "Kim Động": 1.74,
             "Ân Thi": 3.79, "Khoái Châu": 2.26, "Yên Mỹ": 1.83, "Mỹ Hào": 1.27,
             "Văn Lâm": 1.42, "Văn Giang": 1.00}  # fmt: skip
PLAN_2025 = {"Phù Cừ": 0.65, "Tiên Lữ": 0.55, "TP Hưng Yên": 0.37, "Kim Động": 0.49,
             "Ân Thi": 0.73, "Khoái Châu": 0.52, "Yên Mỹ": 0.47, "Mỹ Hào": 0.36,
             "Văn Lâm": 0.38, "Văn Giang": 0.37}  # fmt: skip


def classified(tmp_path: Path, households: int, year: int, noise: float = 0.002) -> pd.DataFrame:
    hh, mem = generate(households, year=year, seed=7, noise=noise)
    hh.to_parquet(tmp_path / "h.parquet")
    mem.to_parquet(tmp_path / "m.parquet")
    batch = parse_batch(read_survey([tmp_path / "h.parquet", tmp_path / "m.parquet"]))
    result = classify(batch, default_rulebook(), dt.date(year, 6, 30), verify=0)
    return result.results


@pytest.mark.parametrize(("year", "plan"), [(2022, PLAN_2022), (2025, PLAN_2025)])
def test_classifying_the_sample_reproduces_the_plan_rates(tmp_path: Path, year: int,
                                                          plan: dict[str, float]) -> None:  # fmt: skip
    results = classified(tmp_path, 60_000, year)
    assert set(results["district"]) == set(plan)
    for district, group in results.groupby("district"):
        rate = 100 * (group["class"] == "poor").mean()
        assert abs(rate - plan[str(district)]) <= 0.15, (district, rate)
    counts = results["class"].value_counts()
    assert counts["near_poor"] > counts["poor"] and counts["average"] > 0
    assert counts["invalid"] > 0  # the errors path runs


def test_the_sample_is_deterministic() -> None:
    a = generate(3_000, seed=3)
    b = generate(3_000, seed=3)
    c = generate(3_000, seed=4)
    pd.testing.assert_frame_equal(a[0], b[0])
    pd.testing.assert_frame_equal(a[1], b[1])
    assert not a[0]["income_per_capita_vnd"].equals(c[0]["income_per_capita_vnd"])


def test_noise_never_changes_the_poor(tmp_path: Path) -> None:
    clean = classified(tmp_path, 20_000, 2022, noise=0)
    noisy = classified(tmp_path, 20_000, 2022, noise=0.02)
    assert (clean["class"] == "poor").sum() == (noisy["class"] == "poor").sum()
    assert (clean["class"] == "invalid").sum() == 0 < (noisy["class"] == "invalid").sum()


def test_sample_command(tmp_path: Path) -> None:
    out = tmp_path / "s.parquet"
    code, text = run("sample", "-o", str(out), "--households", "1500", "--seed", "2")
    assert code == 0, text
    members = tmp_path / "s.members.parquet"
    assert len(pd.read_parquet(out)) == 1500 and members.exists()
    code, text = run("classify", str(out), str(members), "-o", str(tmp_path / "r.csv"),
                     "--as-of", "2025-06-30", "--verify", "0")  # fmt: skip
    assert code == 0, text
    code, text = run("sample", "-o", str(tmp_path / "x.xlsx"), "--households", "300")
    assert code == 0 and (tmp_path / "x.xlsx").exists()
    code, text = run("sample", "-o", str(out), "--households", "10", "--province")
    assert code == 2 and "exactly one" in text


def test_chunks_give_the_same_results(tmp_path: Path) -> None:
    """A batch classified 700 households at a time equals one run: results, recommendations,
    summary, departments, and the errors (as a set, with the file's row numbers), including a
    household id repeated in another chunk, an orphan member and members in shuffled order."""
    hh, mem = generate(3_000, seed=5, noise=0.01)
    hh.loc[2_500, "household_id"] = hh.loc[10, "household_id"]
    orphan = pd.DataFrame({"household_id": ["NOPE-1"], "member_no": [1], "sex": ["male"],
                           "age": [30], "health_insurance": [True]})  # fmt: skip
    mem = pd.concat([mem, orphan], ignore_index=True).sample(frac=1, random_state=1)
    hh.to_parquet(tmp_path / "h.parquet")
    mem.reset_index(drop=True).to_parquet(tmp_path / "m.parquet")
    inputs = [str(tmp_path / "h.parquet"), str(tmp_path / "m.parquet")]
    for out, extra in (("a", []), ("b", ["--chunk-size", "1000"]), ("c", ["--chunk-size", "1000"])):
        suffix = ".csv" if out == "c" else ".parquet"
        code, text = run("classify", *inputs, "-o", str(tmp_path / f"{out}{suffix}"),
                         "--as-of", "2025-06-30", "--verify", "0", *extra)  # fmt: skip
        assert code == 0, text
    for name in ("", ".errors", ".summary", ".recommendations", ".departments"):
        a = pd.read_parquet(tmp_path / f"a{name}.parquet")
        b = pd.read_parquet(tmp_path / f"b{name}.parquet")
        if name == ".errors":
            assert set(a["code"]) >= {"duplicate_household", "orphan_member", "out_of_range"}
            a, b = (f.sort_values(["file", "row", "column", "code"]).reset_index(drop=True)
                    for f in (a, b))  # fmt: skip
        pd.testing.assert_frame_equal(a, b)
    c = pd.read_csv(tmp_path / "c.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(c) == 3_000 and list(c["class"]) == list(pd.read_parquet(tmp_path / "a.parquet")["class"])
