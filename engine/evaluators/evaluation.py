"""The contract every evaluator returns: three-valued arrays (``Tri``), intervals (``Num``),
code columns, the batch as tables, and the ``Evaluation`` of a batch (indicators, deprivation
counts, the class row, member facts, statuses and actions)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from household_models.batch import Column, ParsedBatch

Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


@dataclass
class Tri:
    t: Bools
    f: Bools

    @property
    def unknown(self) -> Bools:
        return ~(self.t | self.f)


@dataclass
class Num:
    lo: Floats
    hi: Floats


@dataclass
class Code:
    values: npt.NDArray[Any]
    missing: Bools
    codes: tuple[str, ...]


@dataclass
class CodeSet:
    mask: npt.NDArray[np.int64]
    codes: tuple[str, ...]


@dataclass
class Tables:
    """A batch ready for evaluation: typed columns of households and of their members."""

    households: dict[str, Column]
    members: dict[str, Column]
    member_household: npt.NDArray[np.int64]
    n_households: int

    @classmethod
    def of(cls, batch: ParsedBatch) -> Tables:
        """The tables of a parsed batch."""
        return cls(batch.households, batch.members, batch.member_household, batch.n_households)


@dataclass
class UnknownMembers:
    """Members whose condition inside a quantifier was unknown, with the inputs it reads."""

    mask: Bools
    fields: frozenset[str]


@dataclass
class ActionResult:
    """One intervention over the batch: where its household condition holds, which members it
    picks (for actions aimed at people), who has priority, and the estimated amount."""

    when: Tri  # households
    fires: Bools  # households that get the action
    members: Tri | None = None  # members (the household condition not included)
    member_fires: Bools | None = None  # members named by the action
    priority: Tri | None = None
    amount: Num | None = None  # per household or per member, by the amount's 'per'


@dataclass
class Evaluation:
    indicators: dict[str, Tri]
    deprivation_lo: npt.NDArray[np.int64]
    deprivation_hi: npt.NDArray[np.int64]
    class_index: npt.NDArray[np.int64]  # row of the classification table, -1 = undecided
    unknown_members: dict[str, list[UnknownMembers]] = field(default_factory=dict)
    member_facts: dict[str, Tri] = field(default_factory=dict)
    statuses: dict[str, Tri] = field(default_factory=dict)  # household or member arrays
    actions: dict[str, ActionResult] = field(default_factory=dict)
