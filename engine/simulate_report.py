"""The simulation report as one self-contained HTML page (inline SVG charts, no script, no link),
readable offline, Vietnamese first."""

from __future__ import annotations

import html
from typing import Any

import pandas as pd

from engine.simulate import Simulation

COLOURS = ["#546e7a", "#b71c1c", "#1565c0", "#2e7d32", "#6a1b9a", "#ef6c00"]
WORDS = {
    "vi": {"title": "Mô phỏng chính sách giảm nghèo", "rates": "Tỷ lệ hộ nghèo theo huyện (%)",
           "classes": "Số hộ theo phân loại", "transitions": "Chuyển đổi phân loại (toàn tỉnh)",
           "costs": "Chi phí ước tính năm đầu theo đơn vị (đồng)", "baseline": "Hiện hành",
           "movers": "Số hộ đổi phân loại", "from": "từ", "to": "sang",
           "af": "Chỉ số nghèo đa chiều Alkire–Foster (phân tích, không phải phân loại theo luật)"},
    "en": {"title": "Poverty-reduction policy simulation", "rates": "Poor-household rate by district (%)",
           "classes": "Households by class", "transitions": "Class transitions (province)",
           "costs": "Estimated first-year cost by department (VND)", "baseline": "Baseline",
           "movers": "Households changing class", "from": "from", "to": "to",
           "af": "Alkire–Foster multidimensional poverty (analytics, not legal status)"},
}  # fmt: skip


def _bars(groups: list[str], series: dict[str, list[float]], unit: str = "") -> str:
    """A grouped horizontal bar chart in SVG."""
    names = list(series)
    top = max((v for vals in series.values() for v in vals), default=0) or 1
    bar, gap, label_w, width = 12, 10, 170, 640
    height = len(groups) * (bar * len(names) + gap) + 30 + 18 * len(names)
    parts = [f'<svg width="{width}" height="{height}" '
             f'role="img" font-family="system-ui, sans-serif" font-size="12">']  # fmt: skip
    y = 10
    for g, group in enumerate(groups):
        parts.append(f'<text x="0" y="{y + bar * len(names) / 2 + 4}">{html.escape(group)}</text>')
        for s, name in enumerate(names):
            value = series[name][g]
            w = (width - label_w - 90) * value / top
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar - 2}" '
                         f'fill="{COLOURS[s % len(COLOURS)]}"><title>{html.escape(name)}: '
                         f'{value:,.2f}{unit}</title></rect>')  # fmt: skip
            parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + bar - 3}">{value:,.2f}'
                         f"{unit}</text>")  # fmt: skip
            y += bar
        y += gap
    for s, name in enumerate(names):
        parts.append(f'<rect x="{label_w}" y="{y + 18 * s}" width="12" height="12" '
                     f'fill="{COLOURS[s % len(COLOURS)]}"/><text x="{label_w + 18}" '
                     f'y="{y + 18 * s + 11}">{html.escape(name)}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _table(frame: pd.DataFrame) -> str:
    return frame.to_html(index=False, border=0, classes="t", float_format=lambda v: f"{v:,.2f}")


def render_html(sim: Simulation, lang: str = "vi") -> str:
    w = WORDS[lang]
    r = sim.baseline.resolved
    labels = {k: v[lang] for k, v in r.classification.classes.items()}
    parts = [f"<h1>{html.escape(w['title'])}</h1>",
             f"<p>{html.escape(r.as_of.isoformat())} · {html.escape(r.rulebook_version)}</p>"]  # fmt: skip
    # Rates by district: baseline and each scenario.
    base = sim.baseline.summary
    districts = [d for d in base["district"].unique() if d != "Tất cả"]
    series: dict[str, list[float]] = {}
    for name, summary in [(w["baseline"], base), *((sid, res.summary) for sid, res in
                                                   sim.scenarios.items())]:  # fmt: skip
        poor = summary[summary["class"] == "poor"].set_index("district")["share_pct"]
        series[name] = [float(poor.get(d, 0.0)) for d in districts]
    parts += [f"<h2>{html.escape(w['rates'])}</h2>", _bars(districts, series, " %")]
    # Classes and movers per scenario.
    classes = sim.tables["classes"]
    total = classes[classes["district"] == "Tất cả"].copy()
    if not total.empty:
        total["class"] = total["class"].map(labels)
        parts += [f"<h2>{html.escape(w['classes'])}</h2>",
                  _table(total[["scenario", "class", "households_baseline", "households",
                                "households_diff"]])]  # fmt: skip
    transitions = sim.tables["transitions"]
    if not transitions.empty:
        overall = transitions[transitions["district"] == "Tất cả"]
        parts.append(f"<h2>{html.escape(w['transitions'])}</h2>")
        for sid, part in overall.groupby("scenario"):
            matrix = part.pivot_table(index="from", columns="to", values="households",
                                      aggfunc="sum", fill_value=0)  # fmt: skip
            matrix.index = [f"{w['from']} {labels.get(str(i), i)}" for i in matrix.index]
            matrix.columns = [f"{w['to']} {labels.get(str(c), c)}" for c in matrix.columns]
            parts += [f"<h3>{html.escape(str(sid))}</h3>",
                      matrix.to_html(border=0, classes="t")]  # fmt: skip
    costs = sim.tables["costs"]
    if not costs.empty:
        by_dep = costs.groupby(["department", "scenario"])[
            ["first_year_cost_vnd_baseline", "first_year_cost_vnd"]].sum().reset_index()  # fmt: skip
        deps = sorted(by_dep["department"].unique())
        series = {w["baseline"]: [float(by_dep[(by_dep["department"] == d)]
                                        ["first_year_cost_vnd_baseline"].iloc[0]) for d in deps]}  # fmt: skip
        for sid in sim.scenarios:
            part = by_dep[by_dep["scenario"] == sid].set_index("department")
            series[sid] = [float(part["first_year_cost_vnd"].get(d, 0.0)) for d in deps]
        parts += [f"<h2>{html.escape(w['costs'])}</h2>", _bars(deps, series)]
    af = sim.tables["alkire_foster"]
    parts += [f"<h2>{html.escape(w['af'])}</h2>",
              _table(af[af["district"] == "Tất cả"][["scenario", "households", "k", "H", "A",
                                                     "M0"]])]  # fmt: skip
    movers = sim.tables["movers"]
    counts: Any = movers.groupby("scenario").size() if not movers.empty else {}
    items = "".join(f"<li>{html.escape(sid)}: {int(counts.get(sid, 0)):,}</li>"
                    for sid in sim.scenarios)  # fmt: skip
    parts += [f"<h2>{html.escape(w['movers'])}</h2>", f"<ul>{items}</ul>"]
    css = ("body{font-family:system-ui,sans-serif;margin:2em auto;max-width:62em;padding:0 1em;"
           "color:#1d2733}h1{border-bottom:2px solid #b71c1c}h2{color:#b71c1c;margin-top:1.6em}"
           "table.t{border-collapse:collapse;font-size:.9em}table.t td,table.t th{padding:.2em "
           ".6em;border-bottom:1px solid #cfd8dc;text-align:right}")  # fmt: skip
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>'
            f"{html.escape(w['title'])}</title><style>{css}</style></head><body>\n"
            + "\n".join(parts) + "\n</body></html>\n")  # fmt: skip
