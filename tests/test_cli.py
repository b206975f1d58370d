"""The command line on every input format, Vietnamese headers, invalid rows and unreadable input."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import EXAMPLES, ROOT, run


def expected() -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / "expected_results.csv", dtype=str, keep_default_na=False)


def check_against_expected(results: pd.DataFrame) -> None:
    exp = expected()
    got = results.set_index(results.columns[0])
    for _, row in exp.iterrows():
        r = got.loc[row["household_id"]]
        assert r["class"] == row["class"], (row["household_id"], r["reason"])
        if row["deprivation_count"]:
            assert int(r["deprivation_count"]) == int(row["deprivation_count"]), row["household_id"]
        deprived = {c for c in got.columns if "." in c and r[c] == "deprived"}
        unknown = {c for c in got.columns if "." in c and r[c] == "unknown"}
        assert deprived == set(filter(None, row["deprived"].split(";"))), row["household_id"]
        assert unknown == set(filter(None, row["unknown"].split(";"))), row["household_id"]
        got_statuses = set(filter(None, str(r["statuses"]).split("; ")))
        assert got_statuses == set(filter(None, row["statuses"].split(";"))), row["household_id"]


def check_recommendations(recs: pd.DataFrame) -> None:
    """The actions, people, departments and amounts worked by hand in the example files."""
    exp = pd.read_csv(EXAMPLES / "expected_recommendations.csv", dtype=str,
                      keep_default_na=False)  # fmt: skip
    columns = ["household_id", "action_id", "member_no", "department_code", "department",
               "amount_vnd"]  # fmt: skip
    got = recs[columns].astype(str).replace({"<NA>": "", "nan": ""})
    got["member_no"] = got["member_no"].str.replace(r"\.0$", "", regex=True)
    got["amount_vnd"] = got["amount_vnd"].str.replace(r"\.0$", "", regex=True)
    as_set = lambda f: set(map(tuple, f[columns].to_numpy().tolist()))  # noqa: E731
    assert as_set(got) == as_set(exp), (as_set(got) ^ as_set(exp))


def check_departments(departments: pd.DataFrame) -> None:
    """Totals by department agree with the hand-worked actions: 2 houses × 80,000,000 + …"""
    exp = pd.read_csv(EXAMPLES / "expected_recommendations.csv", dtype=str,
                      keep_default_na=False)  # fmt: skip
    by_code = departments.set_index("department_code")
    for code, part in exp.groupby("department_code"):  # a code has one row per successor name
        assert by_code.loc[[code], "recommendations"].astype(int).sum() == len(part), code
    # first-year cost: housing 3 × 80,000,000; telecom 2 × 500,000; insurance 1,263,600;
    # disability allowance 12 × 1,000,000 (loans are counted apart: 2 × 100,000,000).
    total = departments[departments["department"] == "Tất cả"].iloc[0]
    assert int(total["first_year_cost_vnd"]) == 3 * 80_000_000 + 2 * 500_000 + 1_263_600 + 12_000_000
    assert int(total["loan_volume_vnd"]) == 2 * 100_000_000


def test_example_csv_pair(tmp_path: Path) -> None:
    out = tmp_path / "results.csv"
    code, output = run("classify", str(EXAMPLES / "households.csv"), str(EXAMPLES / "members.csv"),
                       "-o", str(out), "--as-of", "2025-06-30")  # fmt: skip
    assert code == 0, output
    results = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    check_against_expected(results)
    assert list(results.columns[:3]) == ["mã hộ", "họ tên chủ hộ", "huyện"]  # passed through
    assert "ghi chú" in results.columns  # unknown columns kept
    errors = pd.read_csv(tmp_path / "results.errors.csv", dtype=str, keep_default_na=False)
    assert set(errors["code"]) == {"bad_code", "no_members", "out_of_range", "orphan_member",
                                   "unknown_column"}  # the example's 'ghi chú' column, kept
    bad_area = errors[errors["code"] == "bad_code"].iloc[0]
    assert (bad_area["file"], bad_area["row"], bad_area["column"], bad_area["value"]) == (
        "households.csv",
        "12",
        "khu vực",
        "miền núi",
    )
    assert "rural, urban" in bad_area["message_vi"] and "rural, urban" in bad_area["message_en"]
    summary = pd.read_csv(tmp_path / "results.summary.csv", dtype=str, keep_default_na=False)
    total = summary[summary["district"] == "Tất cả"]
    assert total["households"].astype(int).sum() == 18
    assert "Hộ nghèo" in output and "18 hộ" in output
    check_recommendations(
        pd.read_csv(tmp_path / "results.recommendations.csv", dtype=str, keep_default_na=False)
    )
    departments = pd.read_csv(tmp_path / "results.departments.csv", dtype=str,
                              keep_default_na=False)  # fmt: skip
    check_departments(departments)


def test_example_workbook(tmp_path: Path) -> None:
    out = tmp_path / "results.xlsx"
    code, output = run(
        "classify", str(EXAMPLES / "survey.xlsx"), "-o", str(out), "--as-of", "2025-06-30"
    )
    assert code == 0, output
    sheets = pd.read_excel(out, sheet_name=None, dtype=str, keep_default_na=False)
    assert set(sheets) == {"results", "errors", "summary", "recommendations", "departments"}
    check_against_expected(sheets["results"])
    check_recommendations(sheets["recommendations"])
    check_departments(sheets["departments"])
    assert set(sheets["errors"]["sheet"]) == {"ho", "thanh_vien"}


def test_parquet_pair(tmp_path: Path) -> None:
    hh = pd.read_csv(EXAMPLES / "households.csv", dtype=str, keep_default_na=False)
    mem = pd.read_csv(
        EXAMPLES / "members.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    mem["tuổi"] = pd.to_numeric(mem["tuổi"])  # a typed column, as Parquet producers write them
    hh.to_parquet(tmp_path / "h.parquet")
    mem.to_parquet(tmp_path / "m.parquet")
    out = tmp_path / "r.parquet"
    code, output = run("classify", str(tmp_path / "m.parquet"), str(tmp_path / "h.parquet"),
                       "-o", str(out), "--as-of", "2025-06-30")  # fmt: skip
    assert code == 0, output
    check_against_expected(pd.read_parquet(out))
    assert (tmp_path / "r.errors.parquet").exists() and (tmp_path / "r.summary.parquet").exists()


def test_nfd_text_and_bom(tmp_path: Path) -> None:
    import unicodedata

    for name in ("households.csv", "members.csv"):
        text = (EXAMPLES / name).read_text("utf-8-sig")
        (tmp_path / name).write_text("\ufeff" + unicodedata.normalize("NFD", text), "utf-8")
    out = tmp_path / "r.csv"
    code, output = run("classify", str(tmp_path / "households.csv"), str(tmp_path / "members.csv"),
                       "-o", str(out), "--as-of", "2025-06-30")  # fmt: skip
    assert code == 0, output
    results = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    results.columns = [unicodedata.normalize("NFC", c) for c in results.columns]
    check_against_expected(results)


def test_unreadable_input_exits_non_zero_and_names_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "h.csv"
    bad.write_bytes(b"m\xe3 h\xf4,khu v\xf9c\nA,n\xf4ng th\xf4n\n")  # Windows-1258 bytes
    shutil.copy(EXAMPLES / "members.csv", tmp_path / "m.csv")
    out = tmp_path / "r.csv"
    code, output = run("classify", str(bad), str(tmp_path / "m.csv"), "-o", str(out),
                       "--as-of", "2025-06-30")  # fmt: skip
    assert code == 2
    assert "h.csv" in output and "UTF-8" in output
    assert not out.exists() and list(tmp_path.glob(".*tmp")) == []


def test_missing_id_column_is_fatal(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("khu vực\nnông thôn\n", "utf-8")
    shutil.copy(EXAMPLES / "members.csv", tmp_path / "m.csv")
    code, output = run("classify", str(tmp_path / "h.csv"), str(tmp_path / "m.csv"), "-o",
                       str(tmp_path / "r.csv"), "--as-of", "2025-06-30")  # fmt: skip
    assert code == 2 and "household_id" in output


def test_as_of_is_required_and_checked(tmp_path: Path) -> None:
    code, output = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(tmp_path / "r.xlsx"))
    assert code != 0 and "--as-of" in output
    code, output = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(tmp_path / "r.xlsx"),
                       "--as-of", "2019-01-01")  # fmt: skip
    assert code != 0 and "no standard" in output


def test_invalid_rows_stay_in_results(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    run("classify", str(EXAMPLES / "households.csv"), str(EXAMPLES / "members.csv"), "-o", str(out),
        "--as-of", "2025-06-30")  # fmt: skip
    results = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(results) == len(pd.read_csv(EXAMPLES / "households.csv"))
    invalid = results[results["class"] == "invalid"]
    assert set(invalid["mã hộ"]) == {"HY-011", "HY-012", "HY-013"}
    assert (invalid["error"] != "").all() and (invalid["employment.jobs"] == "").all()


def test_rules_check_command() -> None:
    code, output = run("rules", "check")
    assert code == 0 and "13 indicators" in output  # 12 per version: devices to 2026, waste from 2027
    assert "vn-2022" in output and "vn-2027" in output


def test_readme_quick_start_commands_run(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "make example" in readme and "make test" in readme
    makefile = (ROOT / "Makefile").read_text("utf-8")
    example_line = next(line for line in makefile.splitlines() if "giamngheo classify" in line)
    assert "examples/survey.xlsx" in example_line and "--as-of 2025-06-30" in example_line
    exe = Path(sys.executable).parent / "giamngheo"
    if not exe.exists():
        pytest.skip("console script not installed in this environment")
    proc = subprocess.run([str(exe), "classify", "examples/survey.xlsx", "-o", str(tmp_path / "r.xlsx"),
                           "--as-of", "2025-06-30"], cwd=ROOT, capture_output=True, text=True)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.xlsx").exists()
