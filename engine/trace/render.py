"""Rendering a trace for people: plain text (Vietnamese by default, or English) and a
self-contained HTML page that opens offline. Every word comes from ``data/explain.yaml``, the
rulebook's labels and the vocabulary; this module only lays them out."""

from __future__ import annotations

import html
from typing import Any

from engine.text import format_number, html_page, words_file
from engine.trace.build import dicts_in, sources_cited
from household_models.schema import FIELD_SPECS
from household_models.vocab import code_label

Line = tuple[int, str, str]  # indent, text, kind (heading | text | tree)


def explain_words() -> dict[str, Any]:
    """The words of the explanation (``data/explain.yaml``)."""
    data: dict[str, Any] = words_file("explain.yaml")
    return data


def _w(key: str, lang: str, **kw: Any) -> str:
    entry = explain_words()[key]
    text = entry if isinstance(entry, str) else entry[lang]
    return text.format(**kw) if kw else text


def fmt_number(value: Any, lang: str) -> str:
    return format_number(value, lang, decimals=2)


class Renderer:
    def __init__(self, trace: dict[str, Any], sources: dict[str, Any], lang: str) -> None:
        self.t = trace
        self.sources = sources
        self.lang = lang
        self.params = {p["name"]: p for p in trace.get("parameters", [])}
        self.indicators = {i["id"]: i for i in trace.get("indicators", [])}
        self.statuses = {s["id"]: s for s in trace.get("statuses", [])}

    # -- pieces ---------------------------------------------------------------------------------

    def tri(self, value: str) -> str:
        return str(explain_words()["values"][value][self.lang])

    def field_label(self, name: str) -> str:
        for context in ("household", "member"):
            spec = FIELD_SPECS[context].get(name)
            if spec is not None:
                return spec.vi if self.lang == "vi" else name.replace("_", " ")
        derived = explain_words()["derived_fields"].get(name)
        return str(derived[self.lang]) if derived else name

    def value(self, name: str | None, value: Any) -> str:
        lang = self.lang
        if value is None:
            return _w("blank", lang)
        if isinstance(value, bool):
            return self.tri("true" if value else "false")
        if isinstance(value, dict) and "from" in value:
            lo, hi = value["from"], value["to"]
            return f"{'?' if lo is None else fmt_number(lo, lang)}…" \
                   f"{'?' if hi is None else fmt_number(hi, lang)}"  # fmt: skip
        if isinstance(value, list):
            return ", ".join(self.value(name, v) for v in value) or _w("none", lang)
        if isinstance(value, str) and name:
            domain = "class" if name in ("class", "previous_status") else name
            if domain == "class":
                return code_label("previous_status", value, lang)
            return code_label(domain, value, lang)
        return fmt_number(value, lang)

    def basis(self, d: dict[str, Any]) -> str:
        title = self.sources.get(d.get("source", ""), {}).get("title", {}).get(self.lang)
        text = f"{title or d.get('source', '')}, {d.get('clause', '')}".strip(", ")
        if d.get("provisional"):
            text += f" [{_w('provisional', self.lang)}]"
        return text

    def expr(self, e: dict[str, Any], field_hint: str | None, extra: list[dict[str, Any]]) -> str:
        op = e["op"]
        lang = self.lang
        if op == "literal":
            return self.value(field_hint, e["value"])
        if op == "field":
            return f"{self.field_label(e['name'])} = {self.value(e['name'], e['value'])}"
        if op == "param":
            p = self.params.get(e["name"], {})
            label = p.get("label", {}).get(lang, e["name"])
            key = f" ({self.value('area' if e.get('key') in ('rural', 'urban') else None, e['key'])})" \
                if e.get("key") else ""  # fmt: skip
            return f"{label}{key} = {self.value(field_hint, e['value'])}"
        if op in ("count_members", "share_members", "deprivation_count", "months_since"):
            extra.extend(e.get("members", []))
            label = explain_words()["expressions"][op][lang]
            if op == "months_since":
                label += f" {self.field_label(e['field'])} ({self.value(None, e['input'])})"
            return f"{label} = {self.value(None, e['value'])}"
        if op in ("div", "mul"):
            sign = explain_words()["expressions"][op]
            return f"({self.expr(e['left'], None, extra)} {sign} " \
                   f"{self.expr(e['right'], None, extra)}) = {self.value(None, e['value'])}"  # fmt: skip
        if op == "if":
            return f"{self.value(None, e['value'])}"
        return str(e.get("value"))

    def tree(self, node: dict[str, Any], indent: int, out: list[Line]) -> None:
        op = node["op"]
        lang = self.lang
        val = self.tri(node["value"])
        ops = explain_words()["ops"]
        if op in ("all", "any", "first_known", "at_least"):
            head = ops[op][lang]
            if op == "at_least":
                head = head.format(n=self.value(None, node["n"]["value"]))
            out.append((indent, f"{head}: {val}", "tree"))
            for item in node["items"]:
                self.tree(item, indent + 1, out)
        elif op == "not":
            out.append((indent, f"{ops['not'][lang]}: {val}", "tree"))
            self.tree(node["item"], indent + 1, out)
        elif op == "household":
            out.append((indent, f"{ops['household'][lang]}: {val}", "tree"))
            self.tree(node["item"], indent + 1, out)
        elif op in ("lt", "le", "gt", "ge", "eq", "ne", "in", "intersects"):
            extra: list[dict[str, Any]] = []
            hint = node["left"].get("name") if node["left"]["op"] == "field" else None
            left = self.expr(node["left"], hint, extra)
            right = self.expr(node["right"], hint, extra)
            sign = ops[op] if isinstance(ops[op], str) else ops[op][lang]
            out.append((indent, f"{left} {sign} {right}: {val}", "tree"))
            self._members(extra, indent + 1, out)
        elif op == "fact":
            out.append((indent, f"{node['label'][lang]}: {val}", "tree"))
            self.tree(node["because"], indent + 1, out)
        elif op == "field":
            out.append((indent, f"{self.field_label(node['name'])} = "
                        f"{self.value(node['name'], node['input'])}", "tree"))  # fmt: skip
        elif op in ("any_member", "no_member"):
            out.append((indent, f"{ops[op][lang]}: {val}", "tree"))
            self._members(node["members"], indent + 1, out)
        elif op == "indicator":
            label = self.indicators.get(node["id"], {}).get("label", {}).get(lang, node["id"])
            out.append((indent, f"{explain_words()['results']['deprived'][lang].lower()}: {label}: {val}",
                        "tree"))  # fmt: skip
        elif op == "status":
            label = self.statuses.get(node["id"], {}).get("label", {}).get(lang, node["id"])
            out.append((indent, f"{label}: {val}", "tree"))

    def _members(self, members: list[dict[str, Any]], indent: int, out: list[Line]) -> None:
        for m in members:
            out.append((indent, f"{_w('member', self.lang)} {m['member_no']}: "
                        f"{self.tri(m['value'])}", "tree"))  # fmt: skip
            self.tree(m["because"], indent + 1, out)

    # -- the document ---------------------------------------------------------------------------

    def lines(self) -> list[Line]:
        t, lang = self.t, self.lang
        out: list[Line] = [(0, _w("title", lang, household_id=t["household_id"]), "title")]
        out.append((0, f"{_w('as_of', lang)}: {t['as_of']}", "text"))
        out.append((0, f"{_w('standard', lang)}: {t['standard']['label'][lang]}", "text"))
        out.append((0, f"{_w('rulebook', lang)}: {t['rulebook_version']}", "text"))
        out.append((0, f"{_w('input_hash', lang)}: {t['input_sha256']}", "text"))
        out.append((0, f"{_w('classification', lang)[3:]}: {t['class']['label'][lang]}", "result"))
        if "input_errors" in t:
            out.append((0, _w("invalid", lang), "heading"))
            for e in t["input_errors"]:
                msg = e["message_vi"] if lang == "vi" else e["message_en"]
                out.append((1, f"{e['file']} {e['sheet']} dòng/row {e['row']}, {e['column']}: "
                            f"{msg}", "text"))  # fmt: skip
            return out
        out.append((0, _w("indicators", lang), "heading"))
        for ind in t["indicators"]:
            result = explain_words()["results"][ind["result"]][lang]
            out.append((1, f"{ind['label'][lang]} ({ind['id']}): {result}", "item"))
            out.append((2, f"{_w('basis', lang)}: {self.basis(ind['definition'])}", "text"))
            self.tree(ind["because"], 2, out)
        count = t["deprivation_count"]
        out.append((1, _w("deprivation_count", lang, lo=count["known"], hi=count["at_most"]),
                    "text"))  # fmt: skip
        cl = t["classification"]
        out.append((0, _w("classification", lang), "heading"))
        out.append((1, f"{t['class']['label'][lang]} ({t['class']['id']})", "item"))
        if cl["row"] is not None:
            row = cl["rows"][cl["row"] - 1]
            out.append((2, f"{_w('class_row', lang)} {row['row']} ({row['class']}): "
                        f"{self.basis(row)}", "text"))  # fmt: skip
            self.tree(row["because"], 2, out)
        else:
            out.append((2, _w("no_row", lang), "text"))
            for row in cl["rows"]:
                out.append((2, f"{_w('class_row', lang)} {row['row']} ({row['class']}): "
                            f"{self.tri(row['because']['value'])}; {_w('basis', lang)}: "
                            f"{self.basis(row)}", "text"))  # fmt: skip
                self.tree(row["because"], 3, out)
        out.append((2, f"{_w('reason', lang)}: {cl['reason'][lang]}", "text"))
        out.append((0, _w("statuses", lang), "heading"))
        shown = [s for s in t["statuses"] if s["value"] != "false"]
        if not shown:
            out.append((1, _w("none", lang), "text"))
        for s in shown:
            who = ""
            if s["context"] == "member":
                nos = [str(m["member_no"]) for m in s["members"] if m["value"] == "true"]
                who = f" — {_w('member', lang)} {', '.join(nos)}" if nos else ""
            out.append((1, f"{s['label'][lang]}: {self.tri(s['value'])}{who}", "item"))
            out.append((2, f"{_w('basis', lang)}: {self.basis(s['definition'])}", "text"))
            if "when" in s:
                self.tree(s["when"], 2, out)
            for m in s.get("members", []):
                if m["value"] != "false":
                    out.append((2, f"{_w('member', lang)} {m['member_no']}: "
                                f"{self.tri(m['value'])}", "tree"))  # fmt: skip
                    self.tree(m["because"], 3, out)
        out.append((0, _w("recommendations", lang), "heading"))
        if not t["recommendations"]:
            out.append((1, _w("none", lang), "text"))
        for rec in t["recommendations"]:
            dep = rec["department"]
            out.append((1, f"{rec['label'][lang]} ({rec['id']})", "item"))
            out.append((2, rec["action"][lang], "text"))
            out.append((2, f"{_w('department', lang)}: {dep['name'][lang]} ({_w('plan_name', lang)}"
                        f": {dep['plan_name'][lang]}) [{dep['code']}]", "text"))  # fmt: skip
            if rec["partners"]:
                names = "; ".join(f"{p['name'][lang]} [{p['code']}]" for p in rec["partners"])
                out.append((2, f"{_w('partners', lang)}: {names}", "text"))
            out.append((2, f"{_w('plan_section', lang)} {rec['plan_section']}; "
                        f"{_w('basis', lang)}: {self.basis(rec['definition'])}", "text"))  # fmt: skip
            out.append((2, f"{_w('because', lang)}: {rec['trigger'][lang]}", "text"))
            if rec.get("members"):
                nos = [f"{m['member_no']}" + (f" ({_w('priority', lang)})" if m["priority"] else "")
                       for m in rec["members"]]  # fmt: skip
                out.append((2, f"{_w('member', lang)}: {', '.join(nos)}", "text"))
            if rec.get("amount"):
                a = rec["amount"]
                per = explain_words()["per_period"][a["period"]][lang]
                values = ", ".join("?" if v is None else fmt_number(v, lang) for v in a["values_vnd"])
                unit = _w("money_unit", lang)
                out.append((2, f"{_w('amount', lang)}: {values} {unit}{per} ({a['label'][lang]})",
                            "text"))  # fmt: skip
            if rec["when"] is not None:
                self.tree(rec["when"], 2, out)
            for m in rec.get("members", []):
                out.append((2, f"{_w('member', lang)} {m['member_no']}:", "tree"))
                self.tree(m["because"], 3, out)
        out.append((0, _w("what_would_change", lang), "heading"))
        labels = {i["id"]: i["label"][lang] for i in t["indicators"]}
        for change in t["what_would_change"]:
            to = change["to_label"][lang]
            if change["change"] == "fix_indicators":
                names = ", ".join(labels.get(i, i) for i in change["of"])
                out.append((1, _w("fix_indicators", lang, k=change["count"], names=names, to=to),
                            "item"))  # fmt: skip
            else:
                out.append((1, _w("raise_field", lang, field=self.field_label(change["field"]),
                                  increase=fmt_number(change["increase"], lang),
                                  value=fmt_number(change["value"], lang), to=to), "item"))  # fmt: skip
        if not t["what_would_change"]:
            out.append((1, _w("nothing_changes", lang), "text"))
        if cl["missing"]:
            out.append((1, _w("missing_inputs", lang, fields=", ".join(cl["missing"])), "item"))
        dr = t.get("durable_rules")
        if dr:
            agrees = _w("agrees", lang) if dr["agrees"] else _w("disagrees", lang)
            out.append((1, f"{_w('firing_order', lang)} (durable_rules): {agrees}", "item"))
            for k, f in enumerate(dr["firings"], 1):
                matched = ", ".join(f["matched"])
                out.append((2, f"{k}. {f['kind']} {f['id']} ← {matched}", "tree"))
        out.append((0, _w("parameters", lang), "heading"))
        for p in t["parameters"]:
            value: Any = p["value"]
            text = ("; ".join(f"{code_label(p['keyed_by'], k, lang)}: {self.value(None, v)}"
                               for k, v in value.items())
                     if isinstance(value, dict) else self.value(None, value))  # fmt: skip
            out.append((1, f"{p['label'][lang]} ({p['name']}) = {text}"
                        f"{' ' + p['unit'] if p.get('unit') else ''}; từ/from {p['from']}; "
                        f"{self.basis(p)}", "text"))  # fmt: skip
        out.append((0, _w("definitions", lang), "heading"))
        for fact in facts_used(t):
            out.append((1, f"{fact['label'][lang]} ({fact['name']}): {self.basis(fact['definition'])}",
                        "text"))  # fmt: skip
        out.append((0, _w("sources", lang), "heading"))
        for sid in sources_cited(t):
            title = self.sources.get(sid, {}).get("title", {}).get(lang, sid)
            out.append((1, f"{sid}: {title}", "text"))
        return out


def facts_used(trace: dict[str, Any]) -> list[dict[str, Any]]:
    """Every derived fact the trace's condition trees read, once each, sorted by name."""
    found: dict[str, dict[str, Any]] = {}
    for node in dicts_in(trace):
        if node.get("op") == "fact":
            found.setdefault(node["name"], node)
    return [found[k] for k in sorted(found)]


def render_text(trace: dict[str, Any], sources: dict[str, Any], lang: str = "vi") -> str:
    out = []
    for indent, text, kind in Renderer(trace, sources, lang).lines():
        if kind == "heading":
            out.append("")
            out.append(text.upper() if lang == "en" else text)
        elif kind == "title":
            out.append(text)
            out.append("=" * min(len(text), 100))
        else:
            bullet = "- " if kind == "item" else "· " if kind == "tree" else ""
            out.append("  " * indent + bullet + text)
    return "\n".join(out) + "\n"


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2em auto;
max-width:60em;color:#1d2733;line-height:1.45;padding:0 1em}
h1{font-size:1.4em;border-bottom:2px solid #b71c1c;padding-bottom:.3em}
h2{font-size:1.15em;margin-top:1.6em;color:#b71c1c}
.item{font-weight:600;margin-top:.6em}.result{font-size:1.1em;font-weight:700}
.tree{color:#37474f;font-size:.92em}
details{margin:.2em 0 .2em 1.2em}summary{cursor:pointer;color:#546e7a;font-size:.9em}
.meta{color:#546e7a;font-size:.9em}
"""


def render_trace_html(trace: dict[str, Any], sources: dict[str, Any], lang: str = "vi") -> str:
    """A self-contained page (no scripts, no external files); condition trees fold away."""
    parts: list[str] = []
    open_tree = False
    detail = _w("conditions_in_detail", lang)
    for indent, text, kind in Renderer(trace, sources, lang).lines():
        esc = html.escape(text)
        if kind != "tree" and open_tree:
            parts.append("</details>")
            open_tree = False
        if kind == "title":
            parts.append(f"<h1>{esc}</h1>")
        elif kind == "heading":
            parts.append(f"<h2>{esc}</h2>")
        elif kind == "tree":
            if not open_tree:
                parts.append(f"<details><summary>{html.escape(detail)}</summary>")
                open_tree = True
            parts.append(f'<div class="tree" style="margin-left:{indent * 1.2:.1f}em">{esc}</div>')
        else:
            cls = {"item": "item", "result": "result"}.get(kind, "meta" if indent == 0 else "")
            parts.append(f'<div class="{cls}" style="margin-left:{indent * 1.2:.1f}em">{esc}</div>')
    if open_tree:
        parts.append("</details>")
    return html_page(_w("title", lang, household_id=trace["household_id"]), CSS, "\n".join(parts),
                     lang)
