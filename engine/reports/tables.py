"""The layout every area form shares: rows for the whole, each former district and each of its
communes; numbered columns summed over the households of the row, rates computed from the
sums; a column the source cannot fill written as "not available" with the reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from engine.text import words_file

LEVELS = ("total", "district", "commune")


@cache
def words() -> dict[str, Any]:
    """The forms' words (``engine/data/report_forms.yaml``)."""
    found: dict[str, Any] = words_file("report_forms.yaml")
    return found


def label(key: str, lang: str) -> str:
    return str(words()["labels"][key][lang])


def reason(key: str, lang: str) -> str:
    return f"{label('not_available', lang)}: {words()['reasons'][key][lang]}"


@dataclass
class Column:
    """One numbered column: ``values`` per household (summed), or a rate of two columns'
    sums (``rate``: numerator and denominator numbers), or not available (``missing``: a
    reason key)."""

    number: int
    title: str
    values: Any = None
    rate: tuple[int, int] | None = None
    missing: str | None = None


@dataclass
class Form:
    """A sheet: its title, notes, the table (label columns then numbered columns) and the
    identities it was checked against."""

    key: str
    sheet: str
    title: str
    table: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    checks: list[dict[str, Any]] = field(default_factory=list)


def rate(num: Any, den: Any) -> float | None:
    """``num / den`` in percent, two decimals; None when the denominator is zero."""
    if den is None or num is None or pd.isna(den) or pd.isna(num) or float(den) == 0:
        return None
    return round(100.0 * float(num) / float(den), 2)


def header(column: Column) -> str:
    return f"({column.number}) {column.title}"


def area_rows(hh: pd.DataFrame, columns: list[Column], lang: str,
              denominators: dict[int, pd.DataFrame] | None = None) -> pd.DataFrame:  # fmt: skip
    """The rows of an area form. ``denominators``: a column number whose sums are given per
    commune instead (the ``communes`` table: district, commune, value)."""
    keys = hh[["district", "commune"]].astype(str)
    sums = {c.number: np.asarray(c.values, dtype=np.float64) for c in columns
            if c.values is not None and c.missing is None}  # fmt: skip
    frame = pd.concat([keys, pd.DataFrame(sums, index=hh.index)], axis=1)
    by_commune = frame.groupby(["district", "commune"], sort=True).sum().reset_index()
    for number, given in (denominators or {}).items():
        look = {(str(d), str(c)): v for d, c, v in given.itertuples(index=False)}
        by_commune[number] = [look.get((d, c), v) for d, c, v in  # else the batch's count
                              zip(by_commune["district"], by_commune["commune"],
                                  by_commune[number], strict=True)]
    with_communes = bool((by_commune["commune"] != "").any())
    districts = by_commune.drop(columns=["commune"]).groupby("district", sort=True).sum(
        min_count=1).reset_index()  # fmt: skip
    total = districts.drop(columns=["district"]).sum(min_count=1)
    rows: list[dict[Any, Any]] = [{"level": "total", "district": label("total", lang),
                                   "commune": "", **total.to_dict()}]  # fmt: skip
    for d in districts.to_dict("records"):
        rows.append({"level": "district", "commune": "", **d})
        if with_communes:
            for c in by_commune[by_commune["district"] == d["district"]].to_dict("records"):
                rows.append({"level": "commune", **c})
    table = pd.DataFrame(rows)
    out = pd.DataFrame({"level": table["level"], label("no", lang): _numbering(table["level"]),
                        label("district", lang): table["district"],
                        label("commune", lang): table["commune"]})  # fmt: skip
    for c in columns:
        if c.missing is not None:
            out[header(c)] = reason(c.missing, lang)
        elif c.rate is not None:
            num, den = c.rate
            out[header(c)] = [rate(a, b) for a, b in zip(table[num], table[den], strict=True)]
        else:
            out[header(c)] = pd.array(table[c.number].round().to_numpy(), dtype="Int64")
    return out


def _numbering(levels: pd.Series) -> list[str]:
    """District rows numbered I, II, …; commune rows 1, 2, … within their district."""
    out, district, commune = [], 0, 0
    for level in levels:
        if level == "district":
            district, commune = district + 1, 0
            out.append(_roman(district))
        elif level == "commune":
            commune += 1
            out.append(str(commune))
        else:
            out.append("")
    return out


def _roman(n: int) -> str:
    numerals = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
                (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    text = ""
    for value, letters in numerals:
        while n >= value:
            text, n = text + letters, n - value
    return text


def two_units(hh: pd.DataFrame, households: list[Column], persons: list[Column],
              lang: str) -> pd.DataFrame:  # fmt: skip
    """An area form with two lines per area, households then persons (the forms' H / NK)."""
    a = area_rows(hh, households, lang)
    b = area_rows(hh, persons, lang)
    a.insert(4, label("unit", lang), label("households", lang))
    b.insert(4, label("unit", lang), label("persons", lang))
    a["_order"], b["_order"] = np.arange(len(a)) * 2, np.arange(len(b)) * 2 + 1
    both = pd.concat([a, b], ignore_index=True).sort_values("_order", kind="stable")
    return both.drop(columns=["_order"]).reset_index(drop=True)


def sums_check(form: str, table: pd.DataFrame, numbers: list[str],
               unit: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Every district row is the sum of its communes, the total row the sum of the districts
    (for the count columns ``numbers``, headers of ``table``; ``unit``: the column of a
    ``two_units`` table, each unit's rows checked apart)."""
    bad: list[str] = []
    groups = [table] if unit is None else [table[table[unit] == u] for u in table[unit].unique()]
    for part in groups:
        levels = part["level"].tolist()
        for name in numbers:
            values = pd.to_numeric(part[name], errors="coerce").fillna(0).tolist()
            districts = [v for v, lv in zip(values, levels, strict=True) if lv == "district"]
            if levels and levels[0] == "total" and values[0] != sum(districts):
                bad.append(f"{name}: total")
            i = 0
            while i < len(levels):
                if levels[i] == "district":
                    j = i + 1
                    while j < len(levels) and levels[j] == "commune":
                        j += 1
                    if j > i + 1 and values[i] != sum(values[i + 1:j]):
                        bad.append(f"{name}: row {i + 1}")
                    i = j
                else:
                    i += 1
    return {"form": form, "identity": "sums", "rows": len(table), "holds": not bad,
            "detail": "; ".join(bad[:5])}
