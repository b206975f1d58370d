"""The forms written as one workbook (through the one table writer): each sheet its title,
the source and date, its notes, then the table; and the ``communes`` table read as the
forms' denominators."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from engine.files import write_tables
from engine.reports.population import Population
from engine.reports.tables import Form, label


def write_forms(forms: list[Form], pop: Population, path: Path, lang: str) -> Path:
    """Write every form as a sheet of the workbook ``path`` (atomically); returns the path."""
    where = label(pop.source, lang)
    if pop.round_name:
        where += f", {label('round', lang)} {pop.round_name}"
    tables: dict[str, pd.DataFrame] = {}
    preambles: dict[str, list[list[Any]]] = {}
    for form in forms:
        tables[form.sheet] = form.table.drop(columns=["level"], errors="ignore")
        head = f"Biểu {form.key}" if lang == "vi" and form.key.isdigit() else \
            (f"Form {form.key}" if form.key.isdigit() else "")  # fmt: skip
        preambles[form.sheet] = [[f"{head}: {form.title}" if head else form.title],
                                 [f"{label('source', lang)}: {where}; "
                                  f"{label('as_of', lang)}: {pop.as_of.isoformat()}"],
                                 *([note] for note in form.notes), []]  # fmt: skip
    written = write_tables(tables, path, workbook=True, preambles=preambles)
    return written[0]


def communes_frame(path: Path) -> pd.DataFrame:
    """The ``communes`` table (district, commune, resident households and persons); a table
    with a bad row is refused, each row listed."""
    from engine.errors import InputError
    from household_models.side import read_side_table

    table = read_side_table(path, "communes")
    if table.errors:
        lines = "; ".join(f"{e['file']} [{e['sheet']}] dòng/row {e['row']} {e['column']} "
                          f"'{e['value']}': {e['message_vi']} / {e['message_en']}"
                          for e in table.errors[:20])  # fmt: skip
        raise InputError("table_rows_invalid", table="communes", path=path,
                         count=len(table.errors), detail=lines)
    return pd.DataFrame([{"district": r["district"] or "", "commune": r["commune"],
                          "households_total": r["households_total"],
                          "persons_total": r["persons_total"]} for r in table.rows],
                        columns=["district", "commune", "households_total", "persons_total"])
