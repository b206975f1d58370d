"""Simulating policy changes: the baseline and each scenario on the same batch, as tidy tables.

``simulate(data, scenarios, as_of)`` evaluates the batch under the baseline rulebook and under
each scenario's overlay, and returns tidy DataFrames (one row per observation):

* ``scenarios``: what each scenario changes, with its rulebook version (for audit);
* ``classes``: scenario × district × class: households and share, baseline and scenario, and the
  differences;
* ``transitions``: scenario × district (and the province total) × from-class × to-class: households;
* ``indicators``: scenario × indicator: households deprived, baseline and scenario;
* ``costs``: scenario × department × action: recommendations, first-year cost, loan volume,
  baseline and scenario;
* ``costs_by_district``: scenario × district: the same figures by where the households live;
* ``alkire_foster``: baseline and each scenario × district: H, A, M0 with k = the rulebook's
  deprivation cut-off over the indicators in force (equal weights) and each indicator's
  contribution; analytics, not legal status;
* ``movers``: the households that change class (id, district, commune, from → to).

The runs share the work that does not depend on the rulebook's choices: the batch is parsed once,
and each member fact (age, working age, schooling, …) is computed once for every rulebook that
defines it the same way with the same parameter values. A scenario's decisions are exactly those
of ``classify`` under the overlaid rulebook (a test proves it); the per-household texts (reasons,
triggers) are not built here, since the report counts and sums.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd

from engine.errors import Problem, ScenarioError, say
from engine.loader import default_rulebook
from engine.rulebook import Rulebook
from engine.simulation.outcome import RunOutcome
from engine.simulation.reduce import BASELINE, Totals, finish, moved, partial, run_all
from engine.simulation.scenario import Scenario, load_scenario, scenario_from_dict
from household_models.batch import ParsedBatch

Run = TypeVar("Run", RunOutcome, Totals)


@dataclass
class Simulation(Generic[Run]):
    """The runs and the tables. ``baseline`` and ``scenarios`` are each run's outcome on a
    batch, or (a partitioned dataset, ``engine.national``) its ``Totals``: rulebook, district
    summary and class counts, the households' decisions staying in their partitions."""

    baseline: Run
    scenarios: dict[str, Run]
    tables: dict[str, pd.DataFrame]
    definitions: dict[str, Scenario] = field(default_factory=dict)
    households: int = 0
    valid: int = 0

    def moved(self, sid: str) -> int:
        """How many households the scenario ``sid`` moves to another class."""
        return moved(self.tables, sid)

    @property
    def classes(self) -> pd.DataFrame:
        """Every household's class, baseline and each scenario, indexed by household id."""
        runs = {BASELINE: self.baseline, **self.scenarios}
        outcomes = {sid: r for sid, r in runs.items() if isinstance(r, RunOutcome)}
        if len(outcomes) != len(runs):
            raise TypeError("a partitioned dataset's simulation keeps no household's class")
        index = pd.Index(outcomes[BASELINE].household_ids, name="household_id")
        return pd.DataFrame({sid: r.codes for sid, r in outcomes.items()}, index=index)


def _as_batch(data: Any) -> ParsedBatch:
    if isinstance(data, ParsedBatch):
        return data
    from household_models import parse_batch, read_survey
    from household_models.readers import RawBatch, SourceTable

    if isinstance(data, tuple) and len(data) == 2 and all(isinstance(x, pd.DataFrame)
                                                          for x in data):  # fmt: skip
        households, members = data
        return parse_batch(RawBatch(SourceTable(households, "households", "", 2),
                                    SourceTable(members, "members", "", 2)))  # fmt: skip
    paths = [data] if isinstance(data, str | Path) else list(data)
    return parse_batch(read_survey([Path(p) for p in paths]))


def _as_scenario(item: Scenario | Path | str | dict[str, Any], book: Rulebook) -> Scenario:
    if isinstance(item, Scenario):
        return item
    if isinstance(item, dict):
        return scenario_from_dict(item, book)
    return load_scenario(item, book)


def simulate(data: ParsedBatch | tuple[pd.DataFrame, pd.DataFrame] | str | Path | Sequence[Any],
             scenarios: Iterable[Scenario | Path | str | dict[str, Any]], as_of: dt.date, *,
             book: Rulebook | None = None, lang: str = "vi",
             share_facts: bool = True) -> Simulation[RunOutcome]:  # fmt: skip
    """Evaluate ``data`` (a parsed batch, a (households, members) pair of DataFrames, or survey
    file paths) under the baseline rulebook and each scenario (objects, YAML paths or inline
    dicts) on the evaluation date ``as_of``; return the outcomes and the tidy tables.
    ``share_facts=False`` computes every member fact anew in every run (for measurement)."""
    book = book if book is not None else default_rulebook()
    defs = [_as_scenario(s, book) for s in scenarios]
    ids = [s.id for s in defs]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        files = ", ".join(dict.fromkeys(s.file for s in defs if s.id == dup))
        raise ScenarioError([Problem(files, 0, say("scenario_twice", id=dup),
                                     say("scenario_twice.fix"))])  # fmt: skip
    resolved = {s.id: s.apply(book, as_of) for s in defs}  # all checked before the batch is read
    batch = _as_batch(data)
    runs = run_all(batch, book.resolve(as_of), resolved, lang, share_facts)
    tables, _ = finish(defs, {name: res.resolved for name, res in runs.items()},
                       [partial(batch, runs)])  # fmt: skip
    baseline = runs.pop(BASELINE)
    return Simulation(baseline, runs, tables, {s.id: s for s in defs}, batch.n_households,
                      int((~batch.household_invalid).sum()))  # fmt: skip

