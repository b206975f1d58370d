"""Placing households in the plan's former districts when a round was recorded under the
communes of 1 July 2025, through the crosswalk ``rules/places/crosswalk.csv`` (see its
``crosswalk.yaml`` for the source and the assumption behind split communes).

A household whose district column names one of the plan's districts stays there. Otherwise its
commune is looked up in the crosswalk: a commune formed from one former district places the
household there; a commune that straddles former districts places a share of it in each, by the
crosswalk's weights, so counts over such communes are estimates (not whole households) and the
report says so. A household in no such commune keeps its district as written (or none)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from engine.errors import Problem, RulebookError, Text
from engine.loader import DEFAULT_RULES_DIR
from household_models.vocab import match_key

_PREFIX = re.compile(r"^(xã|phường|thị trấn|x\.|p\.|tt\.?)\s+")
BASES = ("whole", "old_units", "households")


def commune_key(name: Any) -> str:
    """A commune's name as the crosswalk matches it: as the survey's words are matched
    (``match_key``), without a leading "xã", "phường" or "thị trấn"."""
    return _PREFIX.sub("", match_key(str(name or "")))


@dataclass(frozen=True)
class Crosswalk:
    """The former districts of each new commune (key: ``commune_key``): (district, share,
    assumed) with shares summing to 1; ``assumed`` when the share rests on the assumption."""

    shares: dict[str, tuple[tuple[str, float, bool], ...]]
    source: dict[str, str]
    file: str

    def place(self, district: str, commune: str,
              plan: Iterable[str]) -> tuple[tuple[str, float, bool], ...]:  # fmt: skip
        """Where a household of ``district`` and ``commune`` counts: its district if the plan
        has it, else the crosswalk's shares of its commune, else its district as written."""
        if district in plan:
            return ((district, 1.0, False),)
        return self.shares.get(commune_key(commune)) or ((district, 1.0, False),)

    def majority(self, district: str, commune: str, plan: Iterable[str]) -> str:
        """The one district a household is listed under (the largest share)."""
        return max(self.place(district, commune, plan), key=lambda s: s[1])[0]


def load_crosswalk(root: Path | None = None, districts: Iterable[str] = ()) -> Crosswalk:
    """The crosswalk under ``rules/places``; every row checked (its former district one of
    ``districts`` when given, a positive weight, a known basis)."""
    folder = (root or DEFAULT_RULES_DIR) / "places"
    meta = yaml.safe_load((folder / "crosswalk.yaml").read_text("utf-8"))
    path = folder / meta["file"]
    known = set(districts)
    problems: list[Problem] = []
    weights: dict[str, list[tuple[str, float, str]]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            where = str(path)
            try:
                weight = float(row["weight"])
            except (TypeError, ValueError):
                weight = -1.0
            if weight <= 0:
                problems.append(Problem(where, line, Text(
                    f"weight {row['weight']!r} is not a positive number",
                    f"trọng số {row['weight']!r} không phải số dương"), Text(
                    "write the share of the commune's households from that district",
                    "ghi phần số hộ của xã đến từ huyện đó")))  # fmt: skip
            if row["basis"] not in BASES:
                problems.append(Problem(where, line, Text(
                    f"basis {row['basis']!r} is not one of {', '.join(BASES)}",
                    f"căn cứ {row['basis']!r} không thuộc {', '.join(BASES)}")))  # fmt: skip
            if known and row["district"] not in known:
                problems.append(Problem(where, line, Text(
                    f"{row['district']!r} is not a district of the plan",
                    f"{row['district']!r} không phải huyện trong kế hoạch"), Text(
                    ", ".join(sorted(known)))))  # fmt: skip
            weights.setdefault(commune_key(row["commune"]), []).append(
                (row["district"], weight, row["basis"]))
    if problems:
        raise RulebookError(problems)
    shares = {}
    for key, parts in weights.items():
        total = sum(w for _, w, _ in parts)
        shares[key] = tuple((d, w / total, basis == "old_units") for d, w, basis in parts)
    return Crosswalk(shares, dict(meta["source"]), str(path.relative_to(path.parents[2])))


def apportion(rows: Iterable[dict[str, Any]], keys: Iterable[str], crosswalk: Crosswalk,
              plan: Iterable[str]) -> tuple[dict[str, dict[str, float]], dict[str, float]]:  # fmt: skip
    """Sums of ``keys`` over rows of one (district, commune) each, per plan district; and per
    district, the households (``households`` key, else the first key) placed by an assumed
    share."""
    names = set(plan)
    keys = list(keys)
    first = "households" if "households" in keys else keys[0]
    out: dict[str, dict[str, float]] = {}
    assumed: dict[str, float] = {}
    for row in rows:
        for district, share, guess in crosswalk.place(row["district"], row["commune"], names):
            into = out.setdefault(district, dict.fromkeys(keys, 0.0))
            for k in keys:
                into[k] += share * float(row[k] or 0)
            if guess:
                assumed[district] = assumed.get(district, 0.0) + share * float(row[first] or 0)
    return out, assumed


def number(value: float) -> int | float:
    """A count as shown: whole when it is whole, else an estimate to two decimals."""
    rounded = round(value, 2)
    return int(rounded) if float(rounded).is_integer() else rounded
