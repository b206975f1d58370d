"""Value vocabulary (codes, labels, aliases) and the scalar normaliser shared by both input paths.

The per-row pydantic path and the vectorised batch parser call the same ``normalise_scalar`` (the
batch parser on each distinct value of a column only), so both accept exactly the same inputs.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from functools import cache
from typing import Any

from engine.errors import Finding
from engine.text import words_file
from household_models.columns import ColumnSpec


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def match_key(text: str) -> str:
    """The one rule by which headers, sheet names, codes and yes/no words are compared: NFC,
    case folded, surrounding white space dropped and inner white space (line breaks included)
    collapsed to one space. Accents are kept: 'xa' and 'xã' are different words."""
    return " ".join(nfc(str(text)).casefold().split())



def vocabulary() -> dict[str, Any]:
    """Codes, labels and aliases of the survey's values (``vocabulary.yaml``)."""
    data: dict[str, Any] = words_file("vocabulary.yaml", "household_models")
    return data


def messages() -> dict[str, dict[str, str]]:
    """The input-error messages, Vietnamese first (``messages.yaml``)."""
    data: dict[str, dict[str, str]] = words_file("messages.yaml", "household_models")
    return data


@cache
def bool_aliases() -> dict[str, bool]:
    table: dict[str, bool] = {}
    for canonical, words in vocabulary()["booleans"].items():
        for word in words:
            table[match_key(str(word))] = canonical == "true"
    return table


@cache
def code_aliases(domain: str) -> dict[str, str]:
    """Every accepted spelling of each code of a domain, mapped to the code."""
    table: dict[str, str] = {}
    for code, entry in vocabulary()["codes"][domain].items():
        table[match_key(code)] = code
        table[match_key(entry["vi"])] = code
        table[match_key(entry["en"])] = code
        for alias in entry.get("aliases", []):
            table[match_key(alias)] = code
    return table


def code_label(domain: str, code: str, lang: str = "vi") -> str:
    entry = vocabulary()["codes"].get(domain, {}).get(code)
    return str(entry[lang]) if entry else code


# What export tools write for a missing value. In every column but text they mean missing, not a
# code: "None" is not the code none (written none or không có), "NaN" is not a number.
MISSING_WORDS = frozenset({"None", "NONE", "null", "NULL", "Null", "N/A", "n/a", "#N/A", "NA",
                           "NaN", "nan", "NAN", "<NA>"})  # fmt: skip


def is_missing(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    if isinstance(raw, str) and raw.strip() == "":
        return True
    try:
        import pandas as pd

        return bool(raw is pd.NA or raw is pd.NaT)
    except ImportError:  # pragma: no cover
        return False


class InvalidValue(Finding, ValueError):
    """A value that cannot be read as its column's type; ``code`` names the message."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(code)
        self.code = code
        self.detail = detail


_GROUPED_INT = re.compile(r"^\d{1,3}([.,\u00a0 ]\d{3})+$")
_PLAIN_INT = re.compile(r"^[+]?\d+$")
_INT_DOT_ZERO = re.compile(r"^[+]?\d+\.0+$")
_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_SERIAL = re.compile(r"^\d{5,7}(\.\d+)?$")
EXCEL_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug included)
# Serial numbers read as dates: 10000 (1927-05-18) to 9999-12-31. A smaller number is more
# likely a year of birth typed alone, and is refused as a date.
EXCEL_FIRST_DAY, EXCEL_LAST_DAY = 10_000, 2_958_465


# The most digits a number may have (a VND amount of a household is far below 10^15); a longer
# one is refused before it is converted, so it can never overflow or exhaust the converter.
MAX_DIGITS = 15


def _digits(raw: Any) -> str:
    text = nfc(str(raw)).strip()
    if sum(ch.isdigit() for ch in text) > MAX_DIGITS or len(text) > 4 * MAX_DIGITS:
        raise InvalidValue("too_many_digits", str(MAX_DIGITS))
    return text


def _to_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise InvalidValue("bad_integer")
    if isinstance(raw, int):
        if abs(raw) >= 10**MAX_DIGITS:
            raise InvalidValue("too_many_digits", str(MAX_DIGITS))
        return raw
    if isinstance(raw, float):
        if not math.isfinite(raw) or abs(raw) >= 10**MAX_DIGITS:
            raise InvalidValue("too_many_digits", str(MAX_DIGITS))
        if raw.is_integer():
            return int(raw)
        raise InvalidValue("bad_integer")
    text = _digits(raw)
    if _PLAIN_INT.match(text) or _INT_DOT_ZERO.match(text):
        return int(float(text)) if "." in text else int(text)
    if _GROUPED_INT.match(text):
        return int(re.sub(r"\D", "", text))
    if text.startswith("-") and _PLAIN_INT.match(text[1:]):
        return int(text)
    raise InvalidValue("bad_integer")


def _to_float(raw: Any) -> float:
    if isinstance(raw, bool):
        raise InvalidValue("bad_number")
    if isinstance(raw, int | float):
        if abs(raw) >= 10**MAX_DIGITS:
            raise InvalidValue("too_many_digits", str(MAX_DIGITS))
        value = float(raw)
    else:
        text = _digits(raw)
        if _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        try:
            value = float(text)
        except ValueError:
            raise InvalidValue("bad_number") from None
    if not math.isfinite(value):
        raise InvalidValue("bad_number")
    return value


def _to_date(raw: Any) -> dt.date:
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    if isinstance(raw, bool):
        raise InvalidValue("bad_date")
    text = str(raw).strip()
    if isinstance(raw, int | float) or _SERIAL.match(text):
        serial = float(text)  # an Excel serial date: days since 1899-12-30
        if not EXCEL_FIRST_DAY <= serial <= EXCEL_LAST_DAY:
            raise InvalidValue("bad_date")
        return EXCEL_EPOCH + dt.timedelta(days=int(serial))
    match = _DMY.match(text)
    try:
        if match:
            return dt.date(int(match[3]), int(match[2]), int(match[1]))
        return dt.date.fromisoformat(text[:10] if len(text) > 10 and text[10] in " T" else text)
    except ValueError:
        raise InvalidValue("bad_date") from None


def _range_detail(spec: ColumnSpec) -> str:
    low = (
        f"≥ {spec.ge:g}"
        if spec.ge is not None
        else (f"> {spec.gt:g}" if spec.gt is not None else "")
    )
    high = f"≤ {spec.le:g}" if spec.le is not None else ""
    return ", ".join(part for part in (low, high) if part)


def check_range(spec: ColumnSpec, value: float) -> None:
    if (
        (spec.ge is not None and value < spec.ge)
        or (spec.gt is not None and value <= spec.gt)
        or (spec.le is not None and value > spec.le)
    ):
        raise InvalidValue("out_of_range", _range_detail(spec))


def parse_date(raw: Any) -> dt.date:
    """A date as people write it: ISO ``2025-06-30``, ``30/06/2025`` (also with ``.`` or ``-``),
    or an Excel serial number (``45838``). Raises ``InvalidValue`` otherwise."""
    return _to_date(raw)


def normalise_scalar(spec: ColumnSpec, raw: Any) -> Any:
    """Turn one raw cell into the column's canonical value (None when missing).

    Raises ``InvalidValue`` for a value of the wrong type or out of range.
    """
    if is_missing(raw):
        return None
    kind = spec.kind
    if kind != "text" and isinstance(raw, str) and raw.strip() in MISSING_WORDS:
        return None
    if kind == "text":
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        text = nfc(str(raw)).strip()
        return text or None
    if kind == "bool":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float) and raw in (0, 1):
            return bool(raw)
        found = bool_aliases().get(match_key(str(raw)))
        if found is None:
            raise InvalidValue("bad_bool")
        return found
    if kind == "int":
        number = _to_int(raw)
        check_range(spec, number)
        return number
    if kind == "number":
        real = _to_float(raw)
        check_range(spec, real)
        return real
    if kind == "code":
        code = code_aliases(spec.domain).get(match_key(str(raw)))
        if code is None:
            raise InvalidValue("bad_code", ", ".join(spec.codes))
        return code
    if kind == "codes":
        if isinstance(raw, list | tuple):
            parts = [str(p) for p in raw]
        else:
            parts = [p for p in str(raw).split(";") if p.strip()]
        codes: list[str] = []
        for part in parts:
            code = code_aliases(spec.domain).get(match_key(part))
            if code is None:
                raise InvalidValue("bad_code", ", ".join(spec.codes))
            if code not in codes:
                codes.append(code)
        return tuple(codes)
    if kind == "date":
        return _to_date(raw)
    raise AssertionError(f"unknown column kind {kind}")  # pragma: no cover


def format_message(
    code: str, spec: ColumnSpec | None, value: Any, detail: str = ""
) -> tuple[str, str]:
    """The Vietnamese and English text of an input error."""
    template = messages()[code]
    fields = {
        "column": spec.name if spec else "",
        "column_vi": spec.vi if spec else "",
        "value": "" if value is None else str(value),
        "detail": detail,
    }
    if code in ("bad_integer", "bad_number") and spec is not None:
        rng = _range_detail(spec)
        fields["detail"] = f" ({rng})" if rng else ""
    return template["vi"].format(**fields), template["en"].format(**fields)
