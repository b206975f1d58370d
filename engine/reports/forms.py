"""The report forms of the annual review, built from a ``Population``: one ``Form`` per sheet,
then the ``checks`` of every identity the forms must satisfy.

Forms 02 and 03 (the flows) need the registry's history, and the flows come from the same
query as ``review flows``; from a plain batch they are produced with every column marked as
not available. Columns that need an input the source lacks (ethnicity, the farm flag, causes,
delivered support) are marked likewise, with the reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from engine.registry.history import FLOW_KEYS
from engine.reports.population import Population
from engine.reports.tables import (
    Column,
    Form,
    area_rows,
    header,
    label,
    rate,
    reason,
    sums_check,
    two_units,
    words,
)
from household_models.schema import FIELD_SPECS
from household_models.vocab import code_label


def _title(key: str, lang: str) -> tuple[str, str]:
    form = words()["forms"][key]
    return str(form["sheet"]), str(form["title"][lang])


def _cols(key: str, lang: str) -> list[str]:
    return [str(c[lang]) for c in words()["forms"][key]["columns"]]


def _counts(columns: list[Column]) -> list[str]:
    return [header(c) for c in columns if c.missing is None and c.rate is None]


def _rates_check(form: str, table: pd.DataFrame, columns: list[Column]) -> dict[str, Any]:
    by_number = {c.number: header(c) for c in columns}
    bad = []
    for c in columns:
        if c.rate is None or c.missing is not None:
            continue
        num, den = (by_number[k] for k in c.rate)
        for i, (a, b, r) in enumerate(zip(table[num], table[den], table[header(c)], strict=True)):
            if rate(a, b) != (None if r is None or pd.isna(r) else r):
                bad.append(f"{header(c)}: row {i + 1}")
    return {"form": form, "identity": "rates", "rows": len(table), "holds": not bad,
            "detail": "; ".join(bad[:5])}  # fmt: skip


def form_01(pop: Population, lang: str) -> Form:
    hh = pop.households
    cls, persons = hh["class"], hh["persons"].to_numpy(dtype=np.float64)
    farm = None
    if "farm_household" in pop.given:
        farm = (hh["farm_household"].fillna(False).astype(bool) & (cls == "average")).to_numpy()
    titles = _cols("01", lang)
    poor, near = (cls == "poor").to_numpy(), (cls == "near_poor").to_numpy()
    missing_farm = None if farm is not None else "farm_household"
    columns = [
        Column(1, titles[0], np.ones(len(hh))), Column(2, titles[1], persons),
        Column(3, titles[2], poor), Column(4, titles[3], rate=(3, 1)),
        Column(5, titles[4], near), Column(6, titles[5], rate=(5, 1)),
        Column(7, titles[6], farm, missing=missing_farm),
        Column(8, titles[7], rate=(7, 1), missing=missing_farm),
        Column(9, titles[8], poor * persons), Column(10, titles[9], rate=(9, 2)),
        Column(11, titles[10], near * persons), Column(12, titles[11], rate=(11, 2)),
        Column(13, titles[12], None if farm is None else farm * persons, missing=missing_farm),
        Column(14, titles[13], rate=(13, 2), missing=missing_farm),
    ]  # fmt: skip
    denominators = None
    notes = [label("denominators_batch", lang)]
    if pop.communes is not None and not pop.communes.empty:
        c = pop.communes
        denominators = {1: c[["district", "commune", "households_total"]],
                        2: c[["district", "commune", "persons_total"]]}  # fmt: skip
        notes = [label("denominators_communes", lang)]
    table = area_rows(hh, columns, lang, denominators)
    sheet, title = _title("01", lang)
    form = Form("01", sheet, title, table, notes + [label("rates", lang)])
    form.checks += [sums_check("01", table, _counts(columns)),
                    _rates_check("01", table, columns)]  # fmt: skip
    return form


def form_flows(pop: Population, lang: str, flows: dict[str, Any] | None, key: str) -> Form:
    """Form 02 (poor) or 03 (near-poor): the flows of ``review flows``, households and
    persons."""
    name = "poor" if key == "02" else "near_poor"
    titles = _cols(key, lang)
    sheet, title = _title(key, lang)
    keys = FLOW_KEYS[name]
    if flows is None:
        columns = [Column(k + 1, t, missing="history") for k, t in enumerate(titles)]
        table = two_units(pop.households, columns, columns, lang)
        return Form(key, sheet, title, table, [reason("history", lang)])
    frames = []
    for unit in ("households", "persons"):
        rows = [r for r in flows["rows"] if r["list"] == name and r["unit"] == unit]
        frame = pd.DataFrame(rows)
        frame["_unit"] = unit
        frames.append(frame)
    both = pd.concat(frames, ignore_index=True)
    levels = {"total": 0, "district": 1, "commune": 2}
    both["_order"] = [(d if lv != "total" else "", levels[lv] if lv != "commune" else 2, c, u)
                      for lv, d, c, u in zip(both["level"], both["district"], both["commune"],
                                             both["_unit"], strict=True)]  # fmt: skip
    both = both.sort_values("_order", kind="stable").reset_index(drop=True)
    table = pd.DataFrame({
        "level": both["level"], label("no", lang): "",
        label("district", lang): [label("total", lang) if lv == "total" else d
                                  for lv, d in zip(both["level"], both["district"], strict=True)],
        label("commune", lang): both["commune"],
        label("unit", lang): [label(u, lang) for u in both["_unit"]],
    })  # fmt: skip
    columns = [Column(k + 1, t) for k, t in enumerate(titles)]
    for c, k in zip(columns, keys, strict=True):
        table[header(c)] = pd.array(both[k].to_numpy(), dtype="Int64")
    form = Form(key, sheet, title, table, [f"{label('round', lang)}: {flows['round']}"])
    h = [header(c) for c in columns]
    balance = (table[h[0]] - table[h[1]] - table[h[2]] - table[h[3]] + table[h[4]] + table[h[5]]
               + table[h[6]] + table[h[7]] == table[h[8]])  # fmt: skip
    form.checks += [sums_check(key, table, h, label("unit", lang)),
                    {"form": key, "identity": "flow_balance", "rows": len(table),
                     "holds": bool(balance.all()),
                     "detail": "" if balance.all() else f"row {int(np.argmin(balance)) + 1}"}]
    return form


def form_deprivations(pop: Population, lang: str, key: str) -> Form:
    """Forms 04–07: the households of a list deprived in each indicator (04, 06), or the
    share of them (05, 07)."""
    name = "poor" if key in ("04", "05") else "near_poor"
    hh = pop.households
    listed = (hh["class"] == name).to_numpy()
    sheet, title = _title(key, lang)
    head = label(name, lang)
    columns = [Column(1, head, listed)]
    if key in ("04", "06"):
        total = sum(hh[f"d:{i}"].to_numpy() for i, _ in pop.indicators) * listed
        columns.append(Column(2, label("deprivations_total", lang), total))
        for k, (ind, lab) in enumerate(pop.indicators):
            columns.append(Column(k + 3, lab[lang], hh[f"d:{ind}"].to_numpy() & listed))
        table = area_rows(hh, columns, lang)
        form = Form(key, sheet, title, table)
        form.checks.append(sums_check(key, table, _counts(columns)))
        ind_cols = [header(c) for c in columns[2:]]
        ok = (table[ind_cols].sum(axis=1) == table[header(columns[1])]) & \
            (table[ind_cols].max(axis=1) <= table[header(columns[0])])  # fmt: skip
        form.checks.append({"form": key, "identity": "deprivation_total", "rows": len(table),
                            "holds": bool(ok.all()), "detail": ""})  # fmt: skip
        return form
    counts = [Column(100 + k, lab[lang], hh[f"d:{ind}"].to_numpy() & listed)
              for k, (ind, lab) in enumerate(pop.indicators)]  # fmt: skip
    rates = [Column(k + 2, f"{lab[lang]} (%)", rate=(100 + k, 1))
             for k, (_, lab) in enumerate(pop.indicators)]  # fmt: skip
    table = area_rows(hh, [*columns, *counts, *rates], lang)
    table = table.drop(columns=[header(c) for c in counts])
    form = Form(key, sheet, title, table, [label("rates", lang)])
    form.checks.append(sums_check(key, table, [header(columns[0])]))
    return form


def form_08(pop: Population, lang: str) -> Form:
    """Target groups, each household in the first group it belongs to (the sheet says in
    which order)."""
    hh = pop.households
    groups = [str(g[lang]) for g in words()["forms"]["08"]["groups"]]
    minority_given = "ethnicity" in pop.given
    minority = hh["minority"].fillna(False).astype(bool).to_numpy() if minority_given else \
        np.zeros(len(hh), dtype=bool)  # fmt: skip
    nwc = hh["status.without_working_capacity"].to_numpy(dtype=bool) & ~minority
    merit = hh["status.meritorious"].to_numpy(dtype=bool) & ~minority & ~nwc
    persons = hh["persons"].to_numpy(dtype=np.float64)

    def block(weight: np.ndarray) -> list[Column]:
        out = []
        for offset, name in ((0, "poor"), (5, "near_poor")):
            on = (hh["class"] == name).to_numpy()
            parts = [on, on & minority, on & nwc, on & merit, on & ~minority & ~nwc & ~merit]
            for k, part in enumerate(parts):
                missing = "ethnicity" if k == 1 and not minority_given else None
                out.append(Column(offset + k + 1, f"{label(name, lang)}: {groups[k]}",
                                  part * weight, missing=missing))  # fmt: skip
        return out

    table = two_units(hh, block(np.ones(len(hh))), block(persons), lang)
    sheet, title = _title("08", lang)
    form = Form("08", sheet, title, table, [label("precedence", lang)])
    cols = [c for c in table.columns if c.startswith("(")]
    counts = [c for c in cols if pd.api.types.is_numeric_dtype(table[c])]
    form.checks.append(sums_check("08", table, counts, label("unit", lang)))
    ok = True
    for first in (0, 5):
        nums = [pd.to_numeric(table[cols[first + k]], errors="coerce").fillna(0) for k in range(5)]
        ok &= bool((nums[0] - nums[1] - nums[2] - nums[3] == nums[4]).all())
    form.checks.append({"form": "08", "identity": "groups_add_up", "rows": len(table),
                        "holds": ok, "detail": ""})  # fmt: skip
    return form


def _lists_form(pop: Population, lang: str, key: str,
                parts: Callable[[np.ndarray], list[tuple[str, Any, str | None]]]) -> Form:
    """A form of numbered columns, the poor list's then the near-poor list's: ``parts(on)``
    gives a list's columns (title, values per household, the reason if not available)."""
    columns: list[Column] = []
    for name in ("poor", "near_poor"):
        on = (pop.households["class"] == name).to_numpy()
        for title, values, missing in parts(on):
            columns.append(Column(len(columns) + 1, f"{label(name, lang)}: {title}", values,
                                  missing=missing))  # fmt: skip
    table = area_rows(pop.households, columns, lang)
    sheet, title = _title(key, lang)
    form = Form(key, sheet, title, table)
    form.checks.append(sums_check(key, table, _counts(columns)))
    return form


def form_09(pop: Population, lang: str) -> Form:
    """By ethnicity of the head: Kinh, all minorities, one column per group present."""
    hh = pop.households
    if "ethnicity" not in pop.given:
        form = _lists_form(pop, lang, "09", lambda on: [(label("total", lang), on, "ethnicity")])
        form.notes.append(reason("ethnicity", lang))
        return form
    from household_models.vocab import match_key

    names = hh["head_ethnicity"].map(lambda v: None if pd.isna(v) else str(v).strip())
    keys = names.map(lambda v: None if pd.isna(v) else match_key(v))
    groups = sorted({k for k in keys.dropna().unique() if k != "kinh"})
    shown = {k: names[keys == k].iloc[0] for k in groups}
    kinh, known = (keys == "kinh").to_numpy(), keys.notna().to_numpy()

    def parts(on: np.ndarray) -> list[tuple[str, Any, str | None]]:
        return [(label("total", lang), on, None), ("Kinh", on & kinh, None),
                (label("minorities", lang), on & known & ~kinh, None),
                *((shown[g], on & (keys == g).to_numpy(), None) for g in groups),
                (label("unknown_ethnicity", lang), on & ~known, None)]  # fmt: skip

    return _lists_form(pop, lang, "09", parts)


def form_10(pop: Population, lang: str) -> Form:
    """By cause of poverty (a household may give several), poor then near-poor."""
    causes = pop.households["causes"]
    given = None if "causes" in pop.given else "causes"
    has = {code: causes.str.contains(rf"(?:^|;){code}(?:;|$)").to_numpy()
           for code in FIELD_SPECS["household"]["causes"].codes}  # fmt: skip
    return _lists_form(pop, lang, "10", lambda on: [
        (code_label("causes", code, lang), on & mask, given) for code, mask in has.items()])


def form_11(pop: Population, lang: str) -> Form:
    """Children (the rulebook's ``child``) of poor and near-poor households and their
    deprivations in health (no insurance, malnourished) and education."""
    hh, m = pop.households, pop.members
    groups = [str(g[lang]) for g in words()["forms"]["11"]["groups"]]
    pos = m["position"].to_numpy(dtype=np.int64)
    child = m["child"].to_numpy(dtype=bool)
    uninsured = child & (m["health_insurance"].astype(object) == False).to_numpy()  # noqa: E712
    facts = [child, uninsured, m["malnourished_child"].to_numpy(dtype=bool),
             m["out_of_school_child"].to_numpy(dtype=bool)]
    per_household = [np.bincount(pos[fact], minlength=len(hh)) for fact in facts]
    return _lists_form(pop, lang, "11", lambda on: [
        (groups[k], counts * on, None) for k, counts in enumerate(per_household)])


def form_results(pop: Population, lang: str, key: str) -> Form:
    """Forms 12 (poor) and 13 (near-poor): all households and persons by ethnicity, the
    list's households and persons, target groups, the rates."""
    name = "poor" if key == "12" else "near_poor"
    hh = pop.households
    titles = [str(t[lang]) for t in words()["results12"]]
    given = "ethnicity" in pop.given
    kinh = hh["kinh"].fillna(False).astype(bool).to_numpy() if given else None
    minority = hh["minority"].fillna(False).astype(bool).to_numpy() if given else None
    persons = hh["persons"].to_numpy(dtype=np.float64)
    on = (hh["class"] == name).to_numpy()
    eth = None if given else "ethnicity"

    def pick(mask: np.ndarray | None, weight: np.ndarray) -> Any:
        return None if mask is None else mask * weight

    ones = np.ones(len(hh))
    values: list[Any] = [ones, pick(kinh, ones), pick(minority, ones), None,
                         persons, pick(kinh, persons), pick(minority, persons), None,
                         on * ones, pick(None if kinh is None else kinh & on, ones),
                         pick(None if minority is None else minority & on, ones), None,
                         on & hh["status.meritorious"].to_numpy(dtype=bool),
                         on & hh["status.without_working_capacity"].to_numpy(dtype=bool),
                         on & hh["female_head"].fillna(False).astype(bool).to_numpy(),
                         on * persons, pick(None if kinh is None else kinh & on, persons),
                         pick(None if minority is None else minority & on, persons), None]
    missing: list[str | None] = [None, eth, eth, "local_minority", None, eth, eth,
                                 "local_minority", None, eth, eth, "local_minority", None, None,
                                 None if "sex" in pop.given else "sex", None, eth, eth,
                                 "local_minority"]  # fmt: skip
    columns = [Column(k + 1, titles[k], v, missing=missing[k])
               for k, v in enumerate(values)]  # fmt: skip
    columns += [Column(20, titles[19], rate=(9, 1)),
                Column(21, titles[20], rate=(11, 3), missing=eth),
                Column(22, titles[21], rate=(12, 4), missing="local_minority")]  # fmt: skip
    table = area_rows(hh, columns, lang)
    sheet, title = _title(key, lang)
    form = Form(key, sheet, title, table, [label("rates", lang)])
    form.checks += [sums_check(key, table, _counts(columns)),
                    _rates_check(key, table, columns)]  # fmt: skip
    h = {c.number: header(c) for c in columns}
    if given:  # households whose head's ethnicity is not given are in (1) and (9) only
        unknown = hh["kinh"].isna().to_numpy()
        gaps = area_rows(hh, [Column(1, "", unknown), Column(2, "", unknown & on)], lang)
        ok = bool((table[h[1]] == table[h[2]] + table[h[3]] + gaps[header(Column(1, ""))]).all()
                  and (table[h[9]] == table[h[10]] + table[h[11]]
                       + gaps[header(Column(2, ""))]).all())  # fmt: skip
        form.checks.append({"form": key, "identity": "ethnicity_adds_up", "rows": len(table),
                            "holds": ok, "detail": int(unknown.sum())})  # fmt: skip
        if unknown.any():
            form.notes.append(f"{label('unknown_ethnicity', lang)}: {int(unknown.sum())}")
    return form
