"""The plan monitoring report as data (JSON), as a workbook and as one self-contained HTML page
with charts (inline SVG, no script, readable offline and on A4). Every word comes from
``engine/data/report_plan.yaml``, Vietnamese first."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pandas as pd

from engine.files import write_tables, write_text
from engine.registry.history import FLOW_KEYS
from engine.simulation.report import CSS, bars, html_table
from engine.text import format_number, html_page, words_file

PRINT_CSS = "@page{size:A4;margin:12mm}@media print{body{max-width:none;margin:0}svg{max-width:100%}}"
POVERTY_COLUMNS = ("round", "year", "district", "plan_households", "plan_poor", "plan_rate",
                   "households", "poor", "rate", "estimated_households", "gap_points",
                   "gap_households", "to_leave", "on_track")  # fmt: skip


def plan_words(lang: str) -> dict[str, str]:
    return {k: v[lang] for k, v in words_file("report_plan.yaml").items()}


def _district(row: dict[str, Any], w: dict[str, str]) -> str:
    if row["district"] is None:
        return w["province"]
    return str(row["district"]) or w["no_district"]


def _cell(key: str, row: dict[str, Any], w: dict[str, str]) -> Any:
    value = row[key]
    if key == "district":
        return _district(row, w)
    if key == "on_track":
        if value is None:
            return w["not_in_plan"] if row["plan_rate"] is None else w["no_households"]
        return w["yes"] if value else w["no"]
    if key == "year":
        return str(value)
    return "" if value is None else value


def poverty_table(data: dict[str, Any], w: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame([{w[k]: _cell(k, r, w) for k in POVERTY_COLUMNS}
                         for r in data["districts"]])  # fmt: skip


def flows_table(data: dict[str, Any], w: dict[str, str]) -> pd.DataFrame:
    """The poor list's flows of each round and district (as in form 02)."""
    return pd.DataFrame([{w["round"]: r["round"], w["district"]: _district(r, w),
                          **{w[k]: r["flows"][k] for k in FLOW_KEYS["poor"]}}
                         for r in data["districts"] if r["flows"]])  # fmt: skip


def services_table(data: dict[str, Any], w: dict[str, str], lang: str) -> pd.DataFrame:
    rows = []
    for s in data["services"]:
        measured = s["measured"]
        rows.append({w["indicator"]: s[f"indicator_{lang}"],
                     w["numerator"]: s.get("numerator", "") if measured else "",
                     w["denominator"]: s.get("denominator", "") if measured else "",
                     w["rate"]: s.get("rate") if measured else w[f"why_{s['why']}"],
                     w["target"]: s["target"],
                     w["met"]: "" if not measured or s["met"] is None else
                     (w["yes"] if s["met"] else w["no"]),
                     w["counts"]: s["counts"][lang] if measured else "", w["department"]: s["lead_department"]})
    return pd.DataFrame(rows)


def gap_table(data: dict[str, Any], w: dict[str, str], lang: str,
              selected_only: bool = False) -> pd.DataFrame:  # fmt: skip
    """Every poor household of the districts off track, ranked, the ones behind the gap
    marked (``selected_only``: those alone)."""
    from household_models.vocab import code_label

    labels = data.get("labels", {"indicators": {}, "actions": {}})

    def named(kind: str, ids: list[str]) -> str:
        return "; ".join(labels[kind].get(i, {}).get(lang, i) for i in ids)

    rows = []
    for d in data.get("gap", []):
        for h in d["households"]:
            if selected_only and not h["selected"]:
                continue
            row = {w["district"]: d["district"], w["household_id"]: h["household_id"],
                   w["commune"]: h["commune"], w["fix"]: h["fix"],
                   w["indicators"]: named("indicators", h["indicators"]),
                   w["to"]: code_label("previous_status", h["to"], lang) if h["to"] else "",
                   w["income_rise"]: h["income_rise_vnd"],
                   w["actions"]: named("actions", h["actions"]),
                   w["first_year"]: h["first_year_vnd"],
                   w["unpriced"]: named("actions", h["unpriced"])}  # fmt: skip
            if not selected_only:
                row[w["selected"]] = w["yes"] if h["selected"] else ""
            rows.append(row)
    return pd.DataFrame(rows)


def _gap_lines(data: dict[str, Any], w: dict[str, str], lang: str) -> list[str]:
    if not data.get("gap"):
        return [w["gap_none"]]
    return [w["gap_district"].format(district=d["district"],
                                     to_leave=format_number(d["to_leave"], lang),
                                     poor=format_number(d["poor"], lang),
                                     cost=format_number(d["first_year_vnd"], lang))
            for d in data["gap"]]  # fmt: skip


def scenario_table(data: dict[str, Any], w: dict[str, str]) -> pd.DataFrame:
    """Each district's standing under the scenario, beside the round's."""
    s = data["scenario"]
    actual = {(r["district"]): r for r in data["districts"]
              if r["round"] == data["services_of"]["round"]}  # fmt: skip
    return pd.DataFrame([{
        w["district"]: d["district"], w["households"]: d["households"],
        w["poor"]: actual.get(d["district"], {}).get("poor", ""),
        w["scenario_poor"]: d["poor"], w["scenario_rate"]: d["rate"],
        w["to_leave"]: "" if d["to_leave"] is None else d["to_leave"],
        w["first_year"]: d["first_year_vnd"]} for d in s["districts"]])


def _notes(data: dict[str, Any], w: dict[str, str], lang: str) -> list[str]:
    notes = [w["aid"], f"{w['source']}: {data['cite']['poverty']}; {data['cite']['services']}",
             w["placement"].format(file=data["crosswalk"]["file"],
                                   source=data["crosswalk"]["source"][lang])]  # fmt: skip
    notes += [w["estimated"].format(round=r["round"], households=format_number(
        r["estimated_households"], lang)) for r in data["districts"]
        if r["district"] is None and r["estimated_households"]]  # fmt: skip
    for r in data["districts"]:
        printed = r.get("printed_total")
        if printed and int(printed["poor"]) != r["plan_poor"]:
            notes.append(w["printed"].format(poor=format_number(int(printed["poor"]), lang),
                                             rate=format_number(printed["rate_pct"], lang),
                                             sum=format_number(r["plan_poor"], lang)))  # fmt: skip
    for year in sorted({r["year"] for r in data["districts"] if r["plan_is_result"]}):
        notes.append(w["result_year"].format(year=year))
    return notes


def write_plan_workbook(data: dict[str, Any], path: Path, lang: str) -> Path:
    w = plan_words(lang)
    tables = {"01 Tỷ lệ hộ nghèo": poverty_table(data, w),
              "02 Diễn biến": flows_table(data, w),
              "03 Chỉ tiêu dịch vụ": services_table(data, w, lang),
              "04 Hộ sau khoảng cách": gap_table(data, w, lang)}  # fmt: skip
    if data.get("scenario"):
        tables["05 Kịch bản"] = scenario_table(data, w)
        tables["06 Hộ theo kịch bản"] = gap_table(data["scenario"] | {
            "labels": data["labels"]}, w, lang)  # fmt: skip
    if tables["04 Hộ sau khoảng cách"].empty:
        tables["04 Hộ sau khoảng cách"] = pd.DataFrame({w["district"]: []})
    head = [[w["title"]], *([n] for n in _notes(data, w, lang)), []]
    services_head = [[w["services"]], [w["services_of"].format(**data["services_of"])], []]
    preambles = {"01 Tỷ lệ hộ nghèo": [*head, [w["poverty"]]],
                 "02 Diễn biến": [[w["flows"]], []], "03 Chỉ tiêu dịch vụ": services_head,
                 "04 Hộ sau khoảng cách": [[w["gap"]], [w["aid"]], [w["gap_about"]],
                                           *([line] for line in _gap_lines(data, w, lang)),
                                           []]}  # fmt: skip
    if data.get("scenario"):
        title = [[w["scenario_title"].format(label=data["scenario"]["label"][lang],
                                             file=data["scenario"]["file"])], [w["aid"]], []]
        preambles["05 Kịch bản"] = title
        preambles["06 Hộ theo kịch bản"] = [*title[:2], [w["gap_about"]], []]
    return write_tables(tables, path, workbook=True, preambles=preambles)[0]


def _short(text: str, width: int = 42) -> str:
    """A label that fits the charts' label column."""
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def render_plan_html(data: dict[str, Any], lang: str) -> str:
    w = plan_words(lang)
    esc = html.escape
    parts = [f"<h1>{esc(w['title'])}</h1>",
             f"<p class='meta'>{esc(w['meta'].format(registry=data['registry'], rounds=', '.join(data['rounds'])))}</p>"]
    parts += [f"<p class='note'>{esc(n)}</p>" for n in _notes(data, w, lang)]
    parts.append(f"<h2>{esc(w['poverty'])}</h2>")
    rows = data["districts"]
    for round_name in data["rounds"]:
        # the districts the round has households in, and the province
        mine = [r for r in rows if r["round"] == round_name and (r["households"] or
                                                                 r["district"] is None)]
        if not mine:
            continue
        groups = [_district(r, w) for r in mine]
        parts.append(f"<h3>{esc(w['round'])} {esc(round_name)} ({mine[0]['year']})</h3>")
        parts.append(f"<p>{esc(w['rate_chart'])}</p>")
        parts.append(bars(groups, {w["rate"]: [r["rate"] or 0 for r in mine],
                                   w["plan_rate"]: [r["plan_rate"] or 0 for r in mine]},
                          lang, " %"))  # fmt: skip
        behind = [r for r in mine if r["to_leave"]]
        if not behind:
            parts.append(f"<p class='note'>{esc(w['all_on_track'])}</p>")
            continue
        parts.append(f"<p>{esc(w['gap_chart'])}</p>")
        parts.append(bars([_district(r, w) for r in behind],
                          {w["gap_households"]: [max(0, r["gap_households"] or 0) for r in behind],
                           w["to_leave"]: [r["to_leave"] for r in behind]}, lang))  # fmt: skip
    for table in (poverty_table(data, w), flows_table(data, w)):
        if table is not None and len(table):
            parts.append(html_table(list(table.columns), table.values.tolist(), lang))
    parts.append(f"<h2>{esc(w['gap'])}</h2>")
    parts += [f"<p class='note'>{esc(w['aid'])} {esc(w['gap_about'])}</p>",
              *(f"<p>{esc(line)}</p>" for line in _gap_lines(data, w, lang))]
    shown = gap_table(data, w, lang, selected_only=True)
    if len(shown):
        parts.append(html_table(list(shown.columns), shown.values.tolist(), lang))
    if data.get("scenario"):
        s = data["scenario"]
        parts.append(f"<h2>{esc(w['scenario_title'].format(label=s['label'][lang], file=s['file']))}</h2>")
        table = scenario_table(data, w)
        parts.append(html_table(list(table.columns), table.values.tolist(), lang))
        shown = gap_table(s | {"labels": data["labels"]}, w, lang, selected_only=True)
        if len(shown):
            parts.append(html_table(list(shown.columns), shown.values.tolist(), lang))
    parts.append(f"<h2>{esc(w['services'])}</h2>")
    parts.append(f"<p class='meta'>{esc(w['services_of'].format(**data['services_of']))}</p>")
    measured = [s for s in data["services"] if s["measured"] and s["rate"] is not None]
    if measured:
        parts.append(f"<p>{esc(w['service_chart'])}</p>")
        parts.append(bars([_short(s[f"short_{lang}"]) for s in measured],
                          {w["rate"]: [s["rate"] for s in measured],
                           w["target"]: [float(s["target"] or 0) for s in measured]},
                          lang, " %"))  # fmt: skip
    services = services_table(data, w, lang)
    parts.append(html_table(list(services.columns), services.values.tolist(), lang))
    return html_page(w["title"], CSS + PRINT_CSS, "\n".join(parts), lang)


def write_plan_html(data: dict[str, Any], path: Path, lang: str) -> Path:
    return write_text(path, render_plan_html(data, lang))
