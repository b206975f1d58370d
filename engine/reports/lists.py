"""Forms 14 and 15: the detailed lists of near-poor and poor households, one line per member,
the household's marks on its head's line; then every form of a population, with the checks
sheet, ready for the one workbook writer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.reports import forms as f
from engine.reports.population import Population
from engine.reports.tables import Form, label, reason, words
from household_models.vocab import code_label

# The flows that put a household in each mark of the list (its flow code in the round);
# a household that comes from the other list, or moved in, counts as newly listed.
MARKS = {
    "poor": {5: ("new_poor", "entered_poor", "near_poor_to_poor"), 6: ("re_poor",),
             7: ("poor_continuing",)},
    "near_poor": {5: ("new_near_poor", "entered_near_poor", "poor_to_near_poor"),
                  6: ("re_near_poor",), 7: ("near_poor_continuing",)},
}  # fmt: skip
# The support columns: the first part of a delivered action's id (its folder of the rulebook).
SUPPORT = {11: ("health",), 12: ("education",), 13: ("employment", "cause"), 14: ("credit",),
           15: ("housing",)}  # fmt: skip


def form_list(pop: Population, lang: str, key: str) -> Form:
    name = "near_poor" if key == "14" else "poor"
    hh, m = pop.households, pop.members
    on = np.flatnonzero((hh["class"] == name).to_numpy())
    order = hh.iloc[on].sort_values(["district", "commune", "village", "household_id"],
                                    na_position="first", kind="stable")  # fmt: skip
    number = {pos: k + 1 for k, pos in enumerate(order.index.tolist())}
    lines = m[m["position"].isin(number)].copy()
    lines["_no"] = lines["position"].map(number)
    lines = lines.sort_values(["_no", "member_no"], kind="stable")
    head = (~lines["_no"].duplicated()).to_numpy()
    year = pd.to_datetime(lines["birth_date"], errors="coerce").dt.year
    year = year.fillna(pop.as_of.year - pd.to_numeric(lines["age"], errors="coerce"))
    male, female = lines["sex"] == "male", lines["sex"] == "female"
    titles = [str(t[lang]) for t in words()["lists"]]
    out = pd.DataFrame({
        label("head_no", lang): _only(head, lines["_no"].to_numpy()),
        label("member_no", lang): pd.array(pd.to_numeric(lines["member_no"]).to_numpy(),
                                           dtype="Int64"),
        label("household_id", lang): lines["household_id"].to_numpy(),
        label("name", lang): lines["name"].to_numpy() if "name" in pop.given
        else reason("names", lang),
        label("district", lang): hh["district"].to_numpy()[lines["position"]],
        label("commune", lang): hh["commune"].to_numpy()[lines["position"]],
        label("village", lang): hh["village"].to_numpy()[lines["position"]],
        label("birth_male", lang): pd.array(year.where(male).to_numpy(), dtype="Int64"),
        label("birth_female", lang): pd.array(year.where(female).to_numpy(), dtype="Int64"),
        label("ethnicity", lang): lines["ethnicity"].to_numpy() if "ethnicity" in pop.given
        else reason("ethnicity", lang),
        label("relationship", lang): [None if v is None or v != v else
                                      code_label("relationship", str(v), lang)
                                      for v in lines["relationship"]],
    })  # fmt: skip
    yes = label("yes", lang)
    flow = hh["flow"].to_numpy()[lines["position"]] if pop.history else None
    for k in (5, 6, 7):
        column = f"({k}) {titles[k - 5]}"
        out[column] = reason("history", lang) if flow is None else \
            _only(head & np.isin(flow, MARKS[name][k]), yes)  # fmt: skip
    merit = (lines["meritorious"].astype(object) == True).to_numpy()  # noqa: E712
    out[f"(8) {titles[3]}"] = _only(merit, yes)
    out[f"(9) {titles[4]}"] = reason("local_minority", lang)
    nwc = hh["status.without_working_capacity"].to_numpy()[lines["position"]]
    out[f"(10) {titles[5]}"] = _only(head & np.asarray(nwc, dtype=bool), yes)
    _support(out, lines, pop, titles, lang, head)
    sheet, title = f._title(key, lang)
    form = Form(key, sheet, title, out)
    persons = int(hh["persons"].to_numpy()[on].sum())
    form.checks.append({"form": key, "identity": "list_matches_counts", "rows": len(out),
                        "holds": int(head.sum()) == len(on) and len(out) == persons,
                        "detail": f"{int(head.sum())} / {len(on)}, {len(out)} / {persons}"})
    return form


def _only(where: np.ndarray, value: Any) -> np.ndarray:
    """``value`` (one, or one per row) where ``where`` holds, else None."""
    out = np.full(len(where), None, dtype=object)
    out[where] = value[where] if isinstance(value, np.ndarray) else value
    return out


def _support(out: pd.DataFrame, lines: pd.DataFrame, pop: Population, titles: list[str],
             lang: str, head: np.ndarray) -> None:  # fmt: skip
    """Columns 11–16: support delivered to the member (or to the household, on its head's
    line), from the registry's ledger."""
    if pop.support is None or pop.support.empty:  # no ledger: not available, never "none"
        for k in range(11, 17):
            out[f"({k}) {titles[k - 5]}"] = reason("support", lang)
        return
    s = pop.support
    kind = s["action_id"].astype(str).str.split(".").str[0]
    column = pd.Series(16, index=s.index)
    for k, prefixes in SUPPORT.items():
        column[kind.isin(prefixes)] = k
    got: dict[int, set[tuple[str, Any]]] = {k: set() for k in range(11, 17)}
    for hid, member, k in zip(s["household_id"].astype(str), s["member_no"], column, strict=True):
        got[int(k)].add((hid, None if member is None or member != member else int(member)))
    ids = lines["household_id"].astype(str).tolist()
    nos = pd.to_numeric(lines["member_no"]).tolist()
    yes = label("yes", lang)
    for k in range(11, 17):
        marks = [yes if (h, int(n)) in got[k] or (first and (h, None) in got[k]) else None
                 for h, n, first in zip(ids, nos, head, strict=True)]  # fmt: skip
        out[f"({k}) {titles[k - 5]}"] = marks


def build(pop: Population, lang: str = "vi", flows: dict[str, Any] | None = None) -> list[Form]:
    """Every form of the population, then the checks sheet (last)."""
    made = [f.form_01(pop, lang), f.form_flows(pop, lang, flows, "02"),
            f.form_flows(pop, lang, flows, "03")]  # fmt: skip
    made += [f.form_deprivations(pop, lang, k) for k in ("04", "05", "06", "07")]
    made += [f.form_08(pop, lang), f.form_09(pop, lang), f.form_10(pop, lang),
             f.form_11(pop, lang), f.form_results(pop, lang, "12"),
             f.form_results(pop, lang, "13"), form_list(pop, lang, "14"),
             form_list(pop, lang, "15")]  # fmt: skip
    checks = pop.checks + [c for form in made for c in form.checks]
    checks += _cross_checks(made)
    table = pd.DataFrame({
        "form": [c["form"] for c in checks],
        "identity": [words()["identities"][c["identity"]][lang] for c in checks],
        "rows": [c["rows"] for c in checks],
        "holds": [label("holds" if c["holds"] else "fails", lang) for c in checks],
        "detail": [str(c["detail"]) for c in checks],
    })  # fmt: skip
    sheet, title = f._title("checks", lang)
    made.append(Form("checks", sheet, title, table, checks=checks))
    return made


def _cross_checks(made: list[Form]) -> list[dict[str, Any]]:
    """Identities between forms: form 01's poor and near-poor households equal those of
    forms 12 and 13, of form 08, and the households of the detailed lists."""
    by = {form.key: form.table for form in made}

    def total(key: str, number: int) -> Any:
        table = by[key]
        column = next(c for c in table.columns if c.startswith(f"({number})"))
        return table[column].iloc[0]

    found = []
    for name, results, list_key, group in (("poor", "12", "15", 1), ("near_poor", "13", "14", 6)):
        listed = by[list_key].iloc[:, 0].notna().sum()
        values = [total("01", 3 if name == "poor" else 5), total(results, 9),
                  total("08", group), listed]  # fmt: skip
        found.append({"form": f"01/{results}/08/{list_key}", "identity": f"{name}_agree",
                      "rows": 1, "holds": len({int(v) for v in values}) == 1,
                      "detail": " = ".join(str(int(v)) for v in values)})  # fmt: skip
    return found
