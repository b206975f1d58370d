"""The parsed batch: typed columns of the households and members tables, the link between
them, the invalid rows and the input errors. ``encode`` and ``decode`` convert canonical Python
values to and from the columns."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from household_models.columns import ColumnSpec

BoolArray = npt.NDArray[np.bool_]


@dataclass
class Column:
    """A typed column: ``values`` by kind (see ``encode``) and a mask of missing cells."""

    kind: str
    values: npt.NDArray[Any]
    missing: BoolArray
    codes: tuple[str, ...] = ()


def decode(col: Column, i: int) -> Any:
    """One cell as a Python value: None when missing, bool, float, a code, a tuple of codes
    (in code order), a ``datetime.date``, or text."""
    if col.missing[i]:
        return None
    v = col.values[i]
    if col.kind == "bool":
        return bool(v)
    if col.kind in ("int", "number"):
        return float(v)
    if col.kind == "code":
        return col.codes[int(v)]
    if col.kind == "codes":
        return tuple(code for j, code in enumerate(col.codes) if int(v) >> j & 1)
    if col.kind == "date":
        return dt.date.fromisoformat(str(np.datetime64(v, "D")))
    return v


@dataclass
class ParsedBatch:
    households: dict[str, Column]
    members: dict[str, Column]
    member_household: npt.NDArray[np.int64]  # household position of each (linked) member
    household_invalid: BoolArray
    household_error: npt.NDArray[np.object_]
    errors: pd.DataFrame
    raw_households: pd.DataFrame
    household_rows: npt.NDArray[np.int64]
    column_headers: dict[str, str] = field(default_factory=dict)
    personal: frozenset[str] = frozenset()  # the names in the batch (masked wherever they stray)
    source: tuple[str, str] = ("", "")  # the households table's file and sheet

    @property
    def n_households(self) -> int:
        return len(self.household_invalid)

    def member_rows(self, positions: list[int] | None = None) -> dict[int, list[int]]:
        """The member rows of each household position (of ``positions``, else of every
        household with members), in input order; found through a sorted index, so asking for a
        few households does not walk every member."""
        order = np.argsort(self.member_household, kind="stable")
        owners = self.member_household[order]
        wanted = np.unique(owners) if positions is None else np.asarray(positions, np.int64)
        lo = np.searchsorted(owners, wanted, "left").tolist()
        hi = np.searchsorted(owners, wanted, "right").tolist()
        return {int(p): order[a:b].tolist()
                for p, a, b in zip(wanted.tolist(), lo, hi, strict=True) if b > a}  # fmt: skip

    def subset(self, pos: int) -> ParsedBatch:
        """The batch reduced to one household and its members, in member-number order whatever
        the order of the input rows (its input errors kept)."""
        members = np.flatnonzero(self.member_household == pos)
        members = members[np.argsort(self.members["member_no"].values[members], kind="stable")]

        def take(cols: dict[str, Column], idx: Any) -> dict[str, Column]:
            return {k: Column(v.kind, v.values[idx], v.missing[idx], v.codes)
                    for k, v in cols.items()}  # fmt: skip

        hid = self.households["household_id"].values[pos]
        errors = self.errors[self.errors["household_id"].astype(str) == str(hid)]
        return ParsedBatch(
            households=take(self.households, [pos]),
            members=take(self.members, members),
            member_household=np.zeros(len(members), dtype=np.int64),
            household_invalid=self.household_invalid[[pos]].copy(),
            household_error=self.household_error[[pos]].copy(),
            errors=errors.reset_index(drop=True),
            raw_households=self.raw_households.iloc[[pos]].reset_index(drop=True),
            household_rows=self.household_rows[[pos]].copy(),
            column_headers=self.column_headers,
            personal=self.personal,
            source=self.source,
        )


def encode(spec: ColumnSpec, values: list[Any]) -> tuple[npt.NDArray[Any], BoolArray]:
    """Canonical Python values (None = missing) -> a typed array and a missing mask."""
    missing = np.array([v is None for v in values], dtype=bool)
    kind = spec.kind
    if kind == "bool":
        arr: npt.NDArray[Any] = np.array([bool(v) if v is not None else False for v in values])
    elif kind in ("int", "number"):
        arr = np.array([float(v) if v is not None else np.nan for v in values], dtype=np.float64)
    elif kind == "code":
        index = {c: i for i, c in enumerate(spec.codes)}
        arr = np.array([index[v] if v is not None else -1 for v in values], dtype=np.int16)
    elif kind == "codes":
        index = {c: i for i, c in enumerate(spec.codes)}
        arr = np.array(
            [sum(1 << index[c] for c in v) if v is not None else 0 for v in values], dtype=np.int64
        )
    elif kind == "date":
        arr = np.array(
            [np.datetime64(v, "D") if v is not None else np.datetime64("NaT") for v in values],
            dtype="datetime64[D]",
        )
    else:
        arr = np.array(values, dtype=object)
    return arr, missing.reshape(-1) if len(values) else np.zeros(0, dtype=bool)


MASK = "***"
# The pieces of a text a value can stand in: between quotes, brackets and cell separators.
_PIECES = re.compile(r"""[^'",;|\t\r\n()\[\]]+""")


def personal_values(columns: list[Column]) -> frozenset[str]:
    """The values of personal columns (names), as written, NFC and trimmed."""
    out: set[str] = set()
    for col in columns:
        out.update(str(v).strip() for v in col.values[~col.missing] if str(v).strip())
    return frozenset(out)


def mask(text: str, personal: frozenset[str]) -> str:
    """``text`` with every name of ``personal`` in it replaced by ``***``: the personal-data
    rule holds by value too, for a name typed into another column."""
    if not personal or not text:
        return text
    if text.strip() in personal:
        return MASK
    return _PIECES.sub(lambda m: MASK if m[0].strip() in personal else m[0], text)
