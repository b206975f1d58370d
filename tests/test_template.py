"""``giamngheo template``: the empty survey workbook, filled in programmatically as a user
would in Excel (labels from its drop-down lists), classifies with no input error."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl

from tests.helpers import run


def _lists(wb: openpyxl.Workbook, sheet: str) -> dict[str, list[str]]:
    """Each header of ``sheet`` whose column has a drop-down list -> the list's values."""
    ws, lists = wb[sheet], wb["danh_muc"]
    head = [c.value for c in ws[1]]
    out = {}
    for rule in ws.data_validations.dataValidation:
        if rule.type != "list":
            continue
        ref = rule.formula1.split("!")[1].replace("$", "")
        start, end = ref.split(":")
        values = [c.value for row in lists[start:end] for c in row]
        for bounds in str(rule.sqref).split():
            column = openpyxl.utils.column_index_from_string(bounds.split(":")[0].rstrip("0123456789"))
            out[head[column - 1]] = values
    return out


def test_the_template_has_every_sheet_list_and_format(tmp_path: Path) -> None:
    out = tmp_path / "mau.xlsx"
    code, text = run("template", "-o", str(out))
    assert code == 0, text
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames[:3] == ["huong_dan", "ho", "thanh_vien"]
    assert {"bien_dong", "ho_tro", "quyet_dinh", "xa"} <= set(wb.sheetnames)
    assert wb["danh_muc"].sheet_state == "hidden"
    ho = _lists(wb, "ho")
    assert ho["khu vực"] == ["nông thôn", "thành thị"]
    assert "giếng khoan" in ho["nguồn nước"] and ho["tường bền chắc"] == ["có", "không"]
    assert _lists(wb, "thanh_vien")["giới tính"] == ["nam", "nữ"]
    for sheet in ("ho", "thanh_vien"):
        assert wb[sheet].freeze_panes == "A2"
    head = [c.value for c in wb["ho"][1]]
    letter = openpyxl.utils.get_column_letter(head.index("thu nhập bình quân") + 1)
    assert wb["ho"].column_dimensions[letter].number_format == "#,##0"
    again = tmp_path / "again.xlsx"
    assert run("template", "-o", str(again))[0] == 0
    assert again.read_bytes() == out.read_bytes()  # its bytes depend on its content only
    code, text = run("template", "-o", str(tmp_path / "mau.csv"))
    assert code == 4 and ".xlsx" in text  # an output it cannot write


def test_a_filled_template_classifies_with_no_error(tmp_path: Path) -> None:
    out = tmp_path / "mau.xlsx"
    assert run("template", "-o", str(out))[0] == 0
    wb = openpyxl.load_workbook(out)
    ho, tv = _lists(wb, "ho"), _lists(wb, "thanh_vien")
    household = {"mã hộ": "HY-900", "họ tên chủ hộ": "Nguyễn Văn A", "huyện": "Phù Cừ",
                 "xã": "Tống Trân", "khu vực": ho["khu vực"][0], "thu nhập bình quân": 1_200_000,
                 "khung cột bền chắc": "không", "tường bền chắc": "không", "mái bền chắc": "có",
                 "diện tích nhà ở": 40.5, "nguồn nước": ho["nguồn nước"][1],
                 "nhà tiêu": ho["nhà tiêu"][0], "sử dụng điện thoại/internet": "có",
                 "phương tiện thông tin": "ti vi; điện thoại thông minh",
                 "ngày rà soát": dt.date(2025, 9, 20)}  # fmt: skip
    members = [
        {"stt": 1, "họ tên": "Nguyễn Văn A", "giới tính": tv["giới tính"][0], "tuổi": 45,
         "có thẻ BHYT": "có", "việc làm": tv["việc làm"][2], "trình độ": tv["trình độ"][1]},
        {"stt": 2, "họ tên": "Nguyễn Thị B", "giới tính": tv["giới tính"][1],
         "ngày sinh": dt.date(2014, 3, 2), "có thẻ BHYT": "có", "đang đi học": "có",
         "học đúng cấp": "có", "suy dinh dưỡng chiều cao": "không",
         "suy dinh dưỡng cân nặng": "không"}]  # fmt: skip
    head = [c.value for c in wb["ho"][1]]
    wb["ho"].append([household.get(h) for h in head])
    head = [c.value for c in wb["thanh_vien"][1]]
    for m in members:
        wb["thanh_vien"].append([{"mã hộ": "HY-900", **m}.get(h) for h in head])
    filled = tmp_path / "filled.xlsx"
    wb.save(filled)
    code, text = run("classify", str(filled), "--as-of", "2025-10-15", "-o",
                     str(tmp_path / "r.csv"))  # fmt: skip
    assert code == 0, text
    errors = (tmp_path / "r.errors.csv").read_text("utf-8-sig").splitlines()
    assert errors[1:] == [], errors
    results = (tmp_path / "r.csv").read_text("utf-8-sig")
    assert "HY-900" in results
