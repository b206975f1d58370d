"""The simulation report as one self-contained HTML page: inline SVG charts, no script, no link,
readable offline. Every word comes from ``data/simulate_report.yaml``, Vietnamese first."""

from __future__ import annotations

import html
import math
from typing import Any

import numpy as np
import pandas as pd

from engine.simulation.reduce import BASELINE
from engine.simulation.simulate import Simulation
from engine.text import TOTAL_LABEL, format_number, html_page, words_file
from household_models.schema import DOMAIN_CODES

COLOURS = ["#546e7a", "#b71c1c", "#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00"]
MOVERS_SHOWN = 100
ALL = TOTAL_LABEL["vi"]  # the label of the province row of the tables
CSS = ("body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:2em auto;max-width:64em;"
       "padding:0 1em;color:#1d2733}h1{border-bottom:2px solid #b71c1c}h2{color:#b71c1c;"
       "margin-top:1.6em}p.meta,p.note{color:#546e7a}table.t{border-collapse:collapse;"
       "font-size:.88em;margin:.6em 0}table.t td,table.t th{padding:.2em .6em;border-bottom:"
       "1px solid #cfd8dc;text-align:left;vertical-align:top}table.t td.n{text-align:right;"
       "white-space:nowrap}.up{color:#b71c1c}.down{color:#2e7d32}svg{display:block;"
       "margin:.5em 0}")


def report_words(lang: str) -> dict[str, str]:
    """The words of the report page (``data/simulate_report.yaml``) in ``lang``."""
    return {key: value[lang] for key, value in words_file("simulate_report.yaml").items()}


def _esc(value: Any) -> str:
    return html.escape(str(value))


def _num(value: Any, lang: str, signed: bool = False) -> str:
    return format_number(value, lang, signed=signed, decimals=2)


def html_table(header: list[str], rows: list[list[Any]], lang: str,
           signed: set[int] | None = None) -> str:  # fmt: skip
    """A plain table; numbers formatted the Vietnamese way; columns in ``signed`` show the sign
    and a colour (red for more, green for fewer)."""
    signed = signed or set()
    out = ["<table class='t'><tr>", *(f"<th>{_esc(h)}</th>" for h in header), "</tr>"]
    for row in rows:
        out.append("<tr>")
        for i, cell in enumerate(row):
            if isinstance(cell, int | float | np.integer | np.floating) and not isinstance(
                    cell, bool):  # fmt: skip
                cls = "n"
                if i in signed and cell:
                    cls += " up" if cell > 0 else " down"
                out.append(f"<td class='{cls}'>{_num(cell, lang, i in signed)}</td>")
            else:
                out.append(f"<td>{_esc(cell)}</td>")
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def bars(groups: list[str], series: dict[str, list[float]], lang: str, unit: str = "") -> str:
    """A grouped horizontal bar chart in SVG, one colour per series, with a legend."""
    names = list(series)
    top = max((v for vals in series.values() for v in vals), default=0) or 1
    bar, gap, label_w, width = 13, 10, 250, 760
    span = width - label_w - 110
    height = len(groups) * (bar * len(names) + gap) + 20 + 18 * len(names)
    parts = [f'<svg width="{width}" height="{height}" '
             'role="img" font-family="DejaVu Sans, sans-serif" font-size="11">']  # fmt: skip
    y = 6
    for g, group in enumerate(groups):
        parts.append(f'<text x="0" y="{y + bar * len(names) / 2 + 4:.0f}">{_esc(group)}</text>')
        for s, name in enumerate(names):
            value = series[name][g]
            w = span * value / top
            colour = COLOURS[s % len(COLOURS)]
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar - 2}" '
                         f'fill="{colour}"><title>{_esc(name)}: {_num(value, lang)}{unit}'
                         "</title></rect>")  # fmt: skip
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 3}">'
                         f"{_num(value, lang)}{unit}</text>")  # fmt: skip
            y += bar
        y += gap
    for s, name in enumerate(names):
        parts.append(f'<rect x="{label_w}" y="{y + 18 * s}" width="12" height="12" '
                     f'fill="{COLOURS[s % len(COLOURS)]}"/><text x="{label_w + 18}" '
                     f'y="{y + 18 * s + 11}">{_esc(name)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _lines(text: str, width: int) -> list[str]:
    """Words of a label wrapped to lines of about ``width`` characters."""
    out: list[str] = []
    for word in text.split():
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    return out or [""]


def heatmap(labels: list[str], matrix: np.ndarray, lang: str, row_title: str,
            col_title: str) -> str:  # fmt: skip
    """A transition matrix in SVG: rows the baseline class, columns the scenario class; the
    diagonal (no change) in grey, moves in red, darker for more households."""
    k = len(labels)
    cell, row_h, label_w = 104, 40, 190
    wrapped = [_lines(name, 14) for name in labels]
    top_h = 30 + 14 * max(len(x) for x in wrapped)
    width, height = label_w + cell * k + 10, top_h + row_h * k + 10
    peak = math.log1p(float(matrix.max())) or 1.0
    parts = [f'<svg width="{width}" height="{height}" '
             'role="img" font-family="DejaVu Sans, sans-serif" font-size="11">',
             f'<text x="{label_w}" y="14" font-weight="bold">{_esc(col_title)}</text>',
             f'<text x="0" y="14" font-weight="bold">{_esc(row_title)}</text>']  # fmt: skip
    for j, lines in enumerate(wrapped):
        x = label_w + cell * j + cell / 2
        first = top_h - 6 - 14 * (len(lines) - 1)
        spans = "".join(f'<tspan x="{x:.0f}" y="{first + 14 * n}">{_esc(line)}</tspan>'
                        for n, line in enumerate(lines))  # fmt: skip
        parts.append(f'<text text-anchor="middle">{spans}</text>')
    for i, lines in enumerate(_lines(name, 26) for name in labels):
        y = top_h + row_h * i
        baseline = y + row_h // 2 + 4 - 7 * (len(lines) - 1)
        spans = "".join(f'<tspan x="0" y="{baseline + 14 * n}">{_esc(line)}</tspan>'
                        for n, line in enumerate(lines))  # fmt: skip
        parts.append(f"<text>{spans}</text>")
        for j in range(k):
            value = int(matrix[i, j])
            shade = math.log1p(value) / peak if value else 0.0
            if i == j:
                level = int(245 - 120 * shade)
                fill = f"rgb({level},{level},{level})"
            else:
                red = (int(250 - 70 * shade), int(240 - 200 * shade), int(240 - 200 * shade))
                fill = f"rgb{red}"
            ink = "#ffffff" if shade > 0.6 and i != j else "#1d2733"
            x = label_w + cell * j
            parts.append(f'<rect x="{x}" y="{y}" width="{cell - 2}" height="{row_h - 2}" '
                         f'fill="{fill}"/><text x="{x + cell / 2 - 1:.0f}" '
                         f'y="{y + row_h / 2 + 4:.0f}" text-anchor="middle" fill="{ink}">'
                         f"{format_number(value, lang)}</text>")  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def render_report_html(sim: Simulation[Any], lang: str = "vi") -> str:
    w = report_words(lang)
    r = sim.baseline.resolved
    class_label = {k: v[lang] for k, v in r.classification.classes.items()}
    names = {sid: s.label[lang] for sid, s in sim.definitions.items()}
    series_names = {BASELINE: w["baseline"], **{sid: names.get(sid, sid) for sid in sim.scenarios}}
    n_households = sim.households
    parts = [f"<h1>{_esc(w['title'])}</h1>",
             "<p class='meta'>" + _esc(w["meta"].format(
                 as_of=r.as_of.isoformat(), version=r.rulebook_version,
                 households=format_number(n_households, lang),
                 valid=format_number(sim.valid, lang))) + "</p>"]  # fmt: skip

    # The scenarios and what they change.
    rows: list[list[Any]] = []
    for sid, s in sim.definitions.items():
        changes = s.override_texts(lambda value: _value(value, lang))
        if s.standard:
            changes.append(f"{w['standard']} {s.standard}")
        if s.indicators_off:
            changes.append(f"{w['off']}: {', '.join(s.indicators_off)}")
        if s.indicators_add:
            changes.append(f"{w['add']}: " + ", ".join(f"{x.id} ({x.label[lang]})"
                                                      for x in s.indicators_add))  # fmt: skip
        rows.append([f"{s.label[lang]} ({sid})", s.description[lang], "; ".join(changes),
                     sim.scenarios[sid].resolved.rulebook_version])  # fmt: skip
    parts += [f"<h2>{_esc(w['scenarios'])}</h2>",
              html_table([w["scenario"], "", w["changes"], w["rulebook"]], rows, lang)]

    # Summary per scenario.
    base_counts = sim.baseline.class_counts
    costs = sim.tables["costs"]
    rows = []
    for sid, res in sim.scenarios.items():
        counts = res.class_counts
        mine = costs[costs["scenario"] == sid]
        rows.append([series_names[sid], sim.moved(sid),
                     base_counts["poor"], counts["poor"], counts["poor"] - base_counts["poor"],
                     base_counts["near_poor"], counts["near_poor"],
                     counts["near_poor"] - base_counts["near_poor"],
                     int(mine["cost_difference_vnd"].sum()), _loan_change(mine, w, lang)])  # fmt: skip
    parts += [f"<h2>{_esc(w['summary'])}</h2>",
              html_table([w["scenario"], w["movers_count"], f"{w['poor']}: {w['baseline']}",
                      f"{w['poor']}: {w['scenario']}", w["difference"],
                      f"{w['near_poor']}: {w['baseline']}", f"{w['near_poor']}: {w['scenario']}",
                      w["difference"], w["cost_change"], w["loan_change"]], rows, lang,
                     signed={4, 7, 8, 9})]  # fmt: skip

    # Rates by district: baseline and each scenario.
    summaries = {BASELINE: sim.baseline.summary, **{sid: res.summary
                                                   for sid, res in sim.scenarios.items()}}
    districts = [d for d in sim.baseline.summary["district"].unique() if d != ALL]
    for cls, title in (("poor", w["rates_poor"]), ("near_poor", w["rates_near"])):
        series: dict[str, list[float]] = {}
        for sid, summary in summaries.items():
            share = summary[summary["class"] == cls].set_index("district")["share_pct"]
            series[series_names[sid]] = [float(share.get(d, 0.0)) for d in [*districts, ALL]]
        parts += [f"<h2>{_esc(title)}</h2>",
                  bars([*districts, w["all"]], series, lang, " %")]  # fmt: skip

    # Transitions: one heat map per scenario.
    transitions = sim.tables["transitions"]
    if not transitions.empty:
        parts.append(f"<h2>{_esc(w['transitions'])}</h2>")
        overall = transitions[transitions["district"] == ALL]
        codes = [c for c in (*DOMAIN_CODES["class"], *r.classification.classes)
                 if c in set(overall["from"]) | set(overall["to"])]  # fmt: skip
        codes = list(dict.fromkeys(codes))
        index = {c: i for i, c in enumerate(codes)}
        for sid in sim.scenarios:
            part = overall[overall["scenario"] == sid]
            matrix = np.zeros((len(codes), len(codes)), dtype=np.int64)
            for x in _records(part):
                matrix[index[x["from"]], index[x["to"]]] += int(x["households"])
            parts += [f"<h3>{_esc(series_names[sid])}</h3>",
                      heatmap([class_label.get(c, c) for c in codes], matrix, lang,
                              f"{w['baseline']} ↓", f"{w['scenario']} →")]  # fmt: skip

    # Cost by department (chart) and by action (table).
    if not costs.empty:
        by_dep = costs.groupby(["department", "scenario"])[
            ["first_year_cost_vnd_baseline", "first_year_cost_vnd"]].sum().reset_index()  # fmt: skip
        deps = sorted(by_dep["department"].unique())
        first = by_dep.drop_duplicates("department").set_index("department")
        series = {w["baseline"]: [float(first.loc[d, "first_year_cost_vnd_baseline"]) / 1e6
                                  for d in deps]}  # fmt: skip
        for sid in sim.scenarios:
            mine = by_dep[by_dep["scenario"] == sid].set_index("department")
            series[series_names[sid]] = [float(mine["first_year_cost_vnd"].get(d, 0.0)) / 1e6
                                         for d in deps]  # fmt: skip
        parts += [f"<h2>{_esc(w['costs'])}</h2>", bars(deps, series, lang),
                  f"<p class='note'>{_esc(w['costs_note'])}</p>"]
        rows = [[series_names[x["scenario"]], x["action"], x["department"],
                 x["recommendations_baseline"], x["recommendations"],
                 x["first_year_cost_vnd_baseline"], x["first_year_cost_vnd"],
                 x["cost_difference_vnd"]]
                for x in _records(costs) if x["recommendations"] or x["recommendations_baseline"]]  # fmt: skip
        parts += [f"<h2>{_esc(w['actions'])}</h2>",
                  html_table([w["scenario"], w["action"], w["department"],
                          f"{w['recommendations']}: {w['baseline']}",
                          f"{w['recommendations']}: {w['scenario']}",
                          f"{w['cost']}: {w['baseline']}", f"{w['cost']}: {w['scenario']}",
                          w["difference"]], rows, lang, signed={7})]  # fmt: skip

    # Indicators.
    ind = sim.tables["indicators"]
    if not ind.empty:
        labels = {rule.id: rule.label[lang] for res in (sim.baseline, *sim.scenarios.values())
                  for rule, _ in res.resolved.indicators}  # fmt: skip
        rows = [[series_names[x["scenario"]], labels.get(x["indicator"], x["indicator"]),
                 x["deprived_baseline"], x["deprived"], x["difference"]]
                for x in _records(ind)]  # fmt: skip
        parts += [f"<h2>{_esc(w['indicators'])}</h2>",
                  html_table([w["scenario"], w["indicator"], w["baseline"], w["scenario"],
                          w["difference"]], rows, lang, signed={4})]  # fmt: skip

    # Alkire-Foster, province row of each run.
    af = sim.tables["alkire_foster"]
    total = af[af["district"] == ALL]
    rows = [[series_names.get(x["scenario"], x["scenario"]), x["households"], x["k"], x["H"],
             x["A"], x["M0"]] for x in _records(total)]  # fmt: skip
    parts += [f"<h2>{_esc(w['af'])}</h2>",
              html_table([w["scenario"], w["households"], "k", "H", "A", "M0"], rows, lang),
              f"<p class='note'>{_esc(w['af_note'])}</p>"]

    # Movers.
    movers = sim.tables["movers"]
    parts += [f"<h2>{_esc(w['movers'])}</h2>",
              f"<p class='note'>{_esc(w['movers_note'].format(n=MOVERS_SHOWN))}</p>"]
    for sid in sim.scenarios:
        mine = movers[movers["scenario"] == sid] if not movers.empty else pd.DataFrame()
        parts.append(f"<h3>{_esc(series_names[sid])}: {format_number(len(mine), lang)}</h3>")
        if len(mine):
            rows = [[x["household_id"], x["district"], x["commune"],
                     class_label.get(x["from"], x["from"]), class_label.get(x["to"], x["to"])]
                    for x in _records(mine.head(MOVERS_SHOWN))]  # fmt: skip
            parts.append(html_table([w["household"], w["district"], w["commune"], w["from"],
                                 w["to"]], rows, lang))  # fmt: skip
    return html_page(w["title"], CSS, "\n".join(parts), lang)


def _loan_change(costs: pd.DataFrame, w: dict[str, str], lang: str) -> Any:
    """The change in loan volume, or, where some loans have no amount (a volume would shrink
    when households move to a loan without one), the change in the number of loans, as text so
    that it is never coloured as good or bad news."""
    if not costs["loan_difference_vnd"].isna().any():
        return int(costs["loan_difference_vnd"].sum())
    return w["loans_not_comparable"].format(
        base=format_number(int(costs["loans_baseline"].sum()), lang),
        scen=format_number(int(costs["loans"].sum()), lang),
        missing=format_number(int(costs["loans_without_amount"].sum()
                                  + costs["loans_without_amount_baseline"].sum()), lang))


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _value(value: Any, lang: str) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_value(v, lang)}" for k, v in value.items()) + "}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format_number(value, lang)
    return str(value)
