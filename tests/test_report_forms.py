"""``giamngheo report forms``: the review's report forms from a registry round and from a
plain batch, with numbers worked by hand from the three rounds of ``tests/test_registry.py``
(the same households and flows) and from the bundled example."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tests.helpers import EXAMPLES, run
from tests.rounds import three_rounds

NA = "không có dữ liệu"


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    """Every sheet as a table: the header is the row that starts with STT (or 'form')."""
    out = {}
    for name, raw in pd.read_excel(path, sheet_name=None, header=None, dtype=object).items():
        first = raw.iloc[:, 0].astype(str).tolist()
        at = next(i for i, v in enumerate(first) if v in ("STT", "No.", "form", "STT hộ"))
        table = raw.iloc[at + 1:].reset_index(drop=True)
        table.columns = [str(c) for c in raw.iloc[at]]
        out[name] = table
    return out


def _column(table: pd.DataFrame, number: int) -> str:
    return next(c for c in table.columns if c.startswith(f"({number})"))


def _total(table: pd.DataFrame, number: int, unit: str | None = None) -> Any:
    rows = table[table["Huyện (cũ)"] == "Tổng số"]
    if unit is not None:
        rows = rows[rows["Đơn vị tính"] == unit]
    return rows[_column(table, number)].iloc[0]


@pytest.fixture(scope="module")
def forms_2025(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    registry = three_rounds(tmp_path_factory.mktemp("rounds"))
    out = tmp_path_factory.mktemp("forms") / "bao-cao-2025.xlsx"
    code, text = run("report", "forms", "--registry", str(registry["reg"]), "--round", "2025",
                     "-o", str(out))  # fmt: skip
    assert code == 0, text
    return _sheets(out)


def test_results_form_of_a_round(forms_2025: dict[str, pd.DataFrame]) -> None:
    # 2025: T-01, T-02, T-03, T-04, T-07, T-08, three members each; poor at the end: T-03 and
    # T-08; near-poor: T-01 (the commune's decision), T-04, T-07.
    f = forms_2025["01 Kết quả"]
    expected = {1: 6, 2: 18, 3: 2, 4: 33.33, 5: 3, 6: 50.0, 9: 6, 10: 33.33, 11: 9, 12: 50.0}
    assert {k: float(_total(f, k)) for k in expected} == expected
    for k in (7, 8, 13, 14):  # no farm-household column in these batches
        assert str(_total(f, k)).startswith(NA)


def test_flow_forms_are_the_flows_of_the_round(forms_2025: dict[str, pd.DataFrame]) -> None:
    poor, near = forms_2025["02 Diễn biến HN"], forms_2025["03 Diễn biến HCN"]
    assert [int(_total(poor, k, "Hộ")) for k in range(1, 10)] == [3, 2, 0, 1, 0, 1, 0, 1, 2]
    assert [int(_total(near, k, "Hộ")) for k in range(1, 10)] == [0, 0, 0, 0, 2, 0, 1, 0, 3]
    # three members in every household
    assert [int(_total(poor, k, "Nhân khẩu")) for k in range(1, 10)] == \
        [9, 6, 0, 3, 0, 3, 0, 3, 6]  # fmt: skip


def test_deprivations_children_and_groups(forms_2025: dict[str, pd.DataFrame]) -> None:
    # both poor households are built on HY-001: an unprotected dug well and a simple pit
    # latrine, which the decree does not count as hygienic; one child of 12, insured
    f4 = forms_2025["04 Thiếu hụt HN"]
    water = next(c for c in f4.columns if "Nguồn nước" in c)
    latrine = next(c for c in f4.columns if "Nhà tiêu" in c)
    total = f4[f4["Huyện (cũ)"] == "Tổng số"].iloc[0]
    assert (int(total[_column(f4, 1)]), int(total[water]), int(total[latrine])) == (2, 2, 2)
    f5 = forms_2025["05 Tỷ lệ thiếu hụt HN"]
    total5 = f5[f5["Huyện (cũ)"] == "Tổng số"].iloc[0]
    assert float(total5[next(c for c in f5.columns if "Nguồn nước" in c)]) == 100.0
    f11 = forms_2025["11 Trẻ em"]
    assert [int(_total(f11, k)) for k in (1, 2)] == [2, 0]
    f8 = forms_2025["08 Nhóm đối tượng"]
    assert int(_total(f8, 1, "Hộ")) == 2 and int(_total(f8, 5, "Hộ")) == 2
    assert str(_total(f8, 2, "Hộ")).startswith(NA)  # no ethnicity column


def test_detailed_lists_mark_flows_and_delivered_support(
        forms_2025: dict[str, pd.DataFrame]) -> None:  # fmt: skip
    poor = forms_2025["15 DS hộ nghèo"]
    heads = poor[poor["STT hộ"].notna()].set_index("Mã hộ")
    assert sorted(heads.index) == ["T-03", "T-08"] and len(poor) == 6
    assert heads.loc["T-03", _column(poor, 6)] == "x"  # tái nghèo
    assert heads.loc["T-08", _column(poor, 5)] == "x"  # moved in poor: newly listed
    assert pd.isna(heads.loc["T-08", _column(poor, 6)])
    # the ledger: a loan to the household, tuition support to its member 3
    assert heads.loc["T-03", _column(poor, 14)] == "x"
    t03 = poor[poor["Mã hộ"] == "T-03"].set_index("STT thành viên")
    assert t03.loc[3, _column(poor, 12)] == "x" and pd.isna(t03.loc[1, _column(poor, 12)])
    assert "Chủ hộ" not in " ".join(poor["Họ và tên"].astype(str))  # members' names, not the head's label
    near = forms_2025["14 DS hộ cận nghèo"]
    heads = near[near["STT hộ"].notna()].set_index("Mã hộ")
    assert sorted(heads.index) == ["T-01", "T-04", "T-07"]
    assert (heads[_column(near, 5)] == "x").all()  # from the poor list, or new


def test_every_identity_holds(forms_2025: dict[str, pd.DataFrame]) -> None:
    checks = forms_2025["checks"]
    assert len(checks) >= 20
    assert (checks["holds"] == "đúng").all(), checks[checks["holds"] != "đúng"]
    assert "registry" in set(checks["form"])  # the rebuilt classes were compared


def test_forms_of_a_plain_batch_mark_what_needs_history(tmp_path: Path) -> None:
    communes = tmp_path / "xa.csv"
    pd.DataFrame([{"xã": "Xã Tam Đa", "huyện": "Phù Cừ", "tổng số hộ dân cư": 400,
                   "tổng số nhân khẩu": 1500}]).to_csv(communes, index=False)  # fmt: skip
    out = tmp_path / "bao-cao.xlsx"
    code, text = run("report", "forms", str(EXAMPLES / "survey.xlsx"), "--as-of", "2025-10-15",
                     "-o", str(out), "--communes", str(communes))  # fmt: skip
    assert code == 0, text
    sheets = _sheets(out)
    f1 = sheets["01 Kết quả"]
    tam_da = f1[f1["Xã, phường"] == "Xã Tam Đa"].iloc[0]
    assert (int(tam_da[_column(f1, 1)]), int(tam_da[_column(f1, 2)])) == (400, 1500)
    raw = pd.read_excel(out, sheet_name="01 Kết quả", header=None).iloc[:4, 0].astype(str)
    assert any("bảng communes" in v for v in raw)
    flows = sheets["02 Diễn biến HN"]
    assert str(flows[_column(flows, 1)].iloc[0]).startswith(NA)
    assert (sheets["checks"]["holds"] == "đúng").all()
    # the example's poor households, counted by hand from its classes
    code, text = run("classify", str(EXAMPLES / "survey.xlsx"), "--as-of", "2025-10-15", "-o",
                     str(tmp_path / "c.csv"))  # fmt: skip
    classes = pd.read_csv(tmp_path / "c.csv")["class"]
    assert int(_total(f1, 3)) == int((classes == "poor").sum()) == 3


def test_without_names_and_bad_input(tmp_path: Path) -> None:
    out = tmp_path / "f.xlsx"
    code, text = run("report", "forms", str(EXAMPLES / "survey.xlsx"), "--as-of", "2025-10-15",
                     "-o", str(out), "--without-names")  # fmt: skip
    assert code == 0, text
    lists = _sheets(out)["15 DS hộ nghèo"]
    assert "Nguyễn Văn An" not in lists.to_string()
    bad = tmp_path / "xa.csv"
    pd.DataFrame([{"xã": "Xã Tam Đa", "tổng số hộ dân cư": "nhiều",
                   "tổng số nhân khẩu": 10}]).to_csv(bad, index=False)  # fmt: skip
    code, text = run("report", "forms", str(EXAMPLES / "survey.xlsx"), "--as-of", "2025-10-15",
                     "-o", str(tmp_path / "g.xlsx"), "--communes", str(bad))  # fmt: skip
    assert code == 2 and "xa.csv" in text and "nhiều" in text
    assert not (tmp_path / "g.xlsx").exists()
    code, text = run("report", "forms", str(EXAMPLES / "survey.xlsx"), "-o", str(out))
    assert code == 2 and "--as-of" in text
    shutil.copy(EXAMPLES / "survey.xlsx", tmp_path / "s.xlsx")
    code, text = run("report", "forms", str(tmp_path / "s.xlsx"), "--as-of", "2025-10-15", "-o",
                     str(tmp_path / "s.xlsx"))  # fmt: skip
    assert code == 2


def test_ethnicity_splits_the_lists_when_given(tmp_path: Path) -> None:
    hh = pd.read_csv(EXAMPLES / "households.csv", dtype=str, keep_default_na=False)
    mem = pd.read_csv(EXAMPLES / "members.csv", dtype=str, keep_default_na=False)
    # the head of HY-001 (member 1, no relationship column) is Tày, everyone else Kinh
    mem["dân tộc"] = ["Tày" if (h, n) == ("HY-001", "1") else "Kinh"
                      for h, n in zip(mem["mã hộ"], mem["stt"], strict=True)]  # fmt: skip
    paths = [tmp_path / "hh.csv", tmp_path / "mem.csv"]
    hh.to_csv(paths[0], index=False)
    mem.to_csv(paths[1], index=False)
    out = tmp_path / "f.xlsx"
    code, text = run("report", "forms", *map(str, paths), "--as-of", "2025-10-15", "-o", str(out))
    assert code == 0, text
    sheets = _sheets(out)
    code, _ = run("classify", *map(str, paths), "--as-of", "2025-10-15", "-o",
                  str(tmp_path / "c.csv"))  # fmt: skip
    classes = pd.read_csv(tmp_path / "c.csv").set_index("mã hộ")["class"]
    assert classes["HY-001"] == "poor"
    poor = int((classes == "poor").sum())
    f9 = sheets["09 Dân tộc"]
    # poor: total (1), Kinh (2), minorities (3), Tày (4), not given (5)
    assert [int(_total(f9, k)) for k in range(1, 6)] == [poor, poor - 1, 1, 1, 0]
    assert "Tày" in _column(f9, 4)
    f8 = sheets["08 Nhóm đối tượng"]
    assert int(_total(f8, 2, "Hộ")) == 1
    f12 = sheets["12 Kết quả HN"]
    assert [int(_total(f12, k)) for k in (9, 10, 11)] == [poor, poor - 1, 1]
    assert (sheets["checks"]["holds"] == "đúng").all()
