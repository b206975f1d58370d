"""Words and numbers: the one loader of the words files, the one number formatter, the one
``{param:…}`` filler, the fixed labels and the one HTML page shell.

Everything a user reads comes from words files (Vietnamese first, English second) and from the
rulebook's labels; this module only finds, formats and fills them. It is a leaf: it imports
nothing of the project, so every layer may use it.
"""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Callable, Mapping
from functools import cache
from importlib import resources
from typing import Any

import yaml

# The label of the row that totals all districts (or all departments) in summary tables. Code
# that needs the total computes it or uses this constant; no code looks for the words.
TOTAL_LABEL: dict[str, str] = {"vi": "Tất cả", "en": "All"}
UNNAMED_DISTRICT = "(không ghi)"  # a household without a district

PARAM_PLACEHOLDER = re.compile(r"\{param:([A-Za-z0-9_]+)(?:\.([A-Za-z0-9_]+))?\}")


@cache
def words_file(name: str, package: str = "engine") -> Any:
    """A words file: ``engine/data/<name>`` by default, or ``<package>/<name>``."""
    folder = resources.files(package)
    path = folder.joinpath("data", name) if package == "engine" else folder.joinpath(name)
    return yaml.safe_load(path.read_text("utf-8"))


def format_number(value: Any, lang: str = "vi", *, signed: bool = False,
                  decimals: int = 4) -> str:  # fmt: skip
    """A number as people of ``lang`` write it: whole numbers grouped (vi ``1.500.000``, en
    ``1,500,000``); other numbers rounded to ``decimals`` places, trailing zeros dropped, with a
    decimal comma in Vietnamese (``6,67``) and a point in English (``6.67``). ``signed`` adds
    a ``+`` to positive numbers. Anything else is shown as text."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    v = float(value)
    if not math.isfinite(v):
        return str(value)
    if v.is_integer():
        text = f"{int(v):,}"
    else:
        text = f"{v:,.{decimals}f}".rstrip("0").rstrip(".")
        if text in ("-0", ""):
            text = "0"
    if lang == "vi":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return f"+{text}" if signed and v > 0 else text


def placeholders(template: str) -> list[tuple[str, str | None]]:
    """The ``{param:NAME}`` and ``{param:NAME.KEY}`` placeholders of a text, in order."""
    return [(m[1], m[2]) for m in PARAM_PLACEHOLDER.finditer(template)]


def fill_params(template: str, value_of: Callable[[str], Any], lang: str,
                keys: Mapping[str, str | None] | None = None,
                keyed_by: Callable[[str], str] | None = None) -> str:  # fmt: skip
    """Replace each ``{param:NAME}`` / ``{param:NAME.KEY}`` with the parameter's value, as
    ``format_number`` writes it. A keyed parameter takes its ``.KEY``, else the household's
    code for the parameter's key field (``keys``, e.g. ``{"area": "rural"}``), else ``?``.
    The loader refuses a keyed parameter without a key where no household key exists (action
    texts), so ``?`` is only seen for a household whose key is missing."""

    def fill(match: re.Match[str]) -> str:
        value = value_of(match[1])
        if isinstance(value, Mapping):
            key = match[2]
            if key is None and keys is not None and keyed_by is not None:
                key = keys.get(keyed_by(match[1]))
            if key is None or key not in value:
                return "?"
            value = value[key]
        if isinstance(value, tuple | list):
            return ", ".join(str(v) for v in value)
        return format_number(value, lang)

    return PARAM_PLACEHOLDER.sub(fill, template)


def html_page(title: str, css: str, body: str, lang: str) -> str:
    """The one page shell: a self-contained HTML document (inline style, no script, no link)."""
    return (f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{css}</style></head><body>\n"
            f"{body}\n</body></html>\n")  # fmt: skip
