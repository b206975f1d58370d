"""An empty survey workbook to fill in (``giamngheo template``): the households and members
sheets and the optional side tables, with Vietnamese headers, a drop-down list of Vietnamese
labels on every coded column, number and date formats, frozen header rows and a sheet of
instructions. Every word comes from ``template.yaml`` and the vocabulary; the workbook is saved
by the caller (``engine.files.save_workbook``)."""

from __future__ import annotations

from typing import Any

from engine.text import words_file
from household_models.columns import ColumnSpec
from household_models.vocab import code_label

LISTS = "danh_muc"  # the hidden sheet of the drop-down lists
DATA_ROWS = 20_000  # rows the validation and formats cover below the header
FORMATS = {"int": "#,##0", "number": "0.0#", "date": "DD/MM/YYYY", "text": "@"}


def _tables() -> list[tuple[str, tuple[ColumnSpec, ...]]]:
    from household_models.columns import specs_for
    from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS
    from household_models.side import MODELS, SHEETS

    out = [("ho", HOUSEHOLD_SPECS), ("thanh_vien", MEMBER_SPECS)]
    for name, model in MODELS.items():
        out.append((SHEETS[name][1], specs_for(model)))
    return out


def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index))


def labels(spec: ColumnSpec) -> list[str]:
    """The Vietnamese labels a coded or yes/no column accepts (its drop-down list)."""
    if spec.kind in ("code", "codes"):
        domain = spec.domain or spec.name
        return [code_label(domain, code, "vi") for code in spec.codes]
    if spec.kind == "bool":
        say = words_file("template.yaml", "household_models")
        return [say["yes"]["vi"], say["no"]["vi"]]
    return []


def build_template() -> Any:
    """The workbook (openpyxl), not yet saved."""
    import openpyxl
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    say = words_file("template.yaml", "household_models")
    wb = openpyxl.Workbook()
    guide = wb.active
    guide.title = "huong_dan"
    lists = wb.create_sheet(LISTS)
    lists.sheet_state = "hidden"
    head_font, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    guide.append([say["title"]["vi"]])
    guide.append([say["title"]["en"]])
    guide["A1"].font = Font(bold=True, size=14)
    for key in ("intro", "sheets", "codes", "multi", "dates", "required"):
        guide.append([say[key]["vi"]])
        guide.append([say[key]["en"]])
    guide.append([])
    columns = ["sheet", "header", "field", "required", "kind", "values"]
    guide.append([f"{say[c]['vi']} / {say[c]['en']}" for c in columns])
    for cell in guide[guide.max_row]:
        cell.font, cell.fill = head_font, fill
    list_column = 0
    ranges: dict[tuple[str, ...], str] = {}
    for sheet_name, specs in _tables():
        ws = wb.create_sheet(sheet_name)
        ws.append([s.vi for s in specs])
        ws.freeze_panes = "A2"
        for k, spec in enumerate(specs, start=1):
            letter = _column(k)
            cell = ws.cell(row=1, column=k)
            cell.font, cell.fill = head_font, fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[letter].width = max(12, min(40, len(spec.vi) + 4))
            kind = "text" if spec.kind in ("code", "codes") else spec.kind
            if kind in FORMATS:
                ws.column_dimensions[letter].number_format = FORMATS[kind]
            values = labels(spec)
            target = f"{letter}2:{letter}{DATA_ROWS + 1}"
            if values and spec.kind != "codes":
                known = tuple(values)
                if known not in ranges:
                    list_column += 1
                    col = _column(list_column)
                    lists.cell(row=1, column=list_column, value=spec.domain or spec.name)
                    for r, value in enumerate(values, start=2):
                        lists.cell(row=r, column=list_column, value=value)
                    ranges[known] = f"{LISTS}!${col}$2:${col}${len(values) + 1}"
                rule = DataValidation(type="list", formula1=f"={ranges[known]}", allow_blank=True,
                                      showErrorMessage=True, errorTitle=say["bad_title"]["vi"],
                                      error=say["bad_value"]["vi"])  # fmt: skip
                rule.add(target)
                ws.add_data_validation(rule)
            elif values:  # several codes in one cell: a reminder, no restriction
                hint = "; ".join(values)
                rule = DataValidation(allow_blank=True, showInputMessage=True,
                                      promptTitle=say["multi_title"]["vi"][:32],
                                      prompt=hint[:250])  # fmt: skip
                rule.add(target)
                ws.add_data_validation(rule)
                cell.comment = Comment(f"{say['multi']['vi']}\n{hint}", "giamngheo")
            guide.append([sheet_name, spec.vi, spec.name, spec.required, spec.kind,
                          "; ".join(values)])  # fmt: skip
    guide.column_dimensions["A"].width = 14
    guide.column_dimensions["B"].width = 34
    guide.column_dimensions["F"].width = 80
    wb.move_sheet(LISTS, offset=len(wb.sheetnames))
    return wb
