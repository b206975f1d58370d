"""One rulebook's decisions on a batch, without the per-household texts of classify: classes,
indicator states, the district summary and the recommendation rows' amounts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.evaluators.evaluation import Evaluation, Tables, Tri
from engine.evaluators.vectorised import Evaluator
from engine.results.columns import class_codes, indicator_states
from engine.results.recommendations import recommendation_costs
from engine.results.summaries import summary_table
from engine.rulebook import Resolved
from household_models.batch import ParsedBatch


@dataclass
class RunOutcome:
    """One rulebook's decisions on the batch, without the per-household texts."""

    name: str
    resolved: Resolved
    evaluation: Evaluation
    codes: npt.NDArray[np.object_]  # the class code of each household, in batch order
    invalid: npt.NDArray[np.bool_]
    summary: pd.DataFrame
    costs: pd.DataFrame  # one row per recommendation: position, district, action, amounts
    household_ids: npt.NDArray[np.object_] = field(default_factory=lambda: np.zeros(0, object))

    @property
    def classes(self) -> pd.Series:
        """Every household's class, indexed by household id."""
        return pd.Series(self.codes, index=pd.Index(self.household_ids, name="household_id"),
                         name="class", dtype=object)  # fmt: skip

    def indicators(self) -> pd.DataFrame:
        """Every household's indicator states (``deprived``/``ok``/``unknown``), indexed by id."""
        return pd.DataFrame({rule.id: self.indicator_states(rule.id)
                             for rule, _ in self.resolved.indicators},
                            index=pd.Index(self.household_ids, name="household_id"))  # fmt: skip

    @property
    def class_counts(self) -> dict[str, int]:
        values, counts = np.unique(self.codes.astype(str), return_counts=True)
        found = dict(zip(values.tolist(), counts.tolist(), strict=True))
        return {c: int(found.get(c, 0)) for c in self.resolved.classification.classes}

    def indicator_states(self, indicator: str) -> npt.NDArray[np.object_]:
        """``deprived``/``ok``/``unknown`` per household, as in classify's results."""
        return indicator_states(self.evaluation.indicators[indicator], self.invalid)


def outcome(batch: ParsedBatch, resolved: Resolved, name: str,
            shared_facts: dict[tuple[Any, ...], Tri] | None = None,
            lang: str = "vi") -> RunOutcome:  # fmt: skip
    """Evaluate the batch under one resolved rulebook (``shared_facts``: member facts computed
    by an earlier run on the same batch, reused where they are defined the same way)."""
    tables = Tables.of(batch)
    ev = Evaluator(resolved, tables, batch.household_invalid, shared_facts=shared_facts)
    evaluation = ev.run()
    classes = class_codes(resolved, evaluation, batch.household_invalid)
    summary = summary_table(districts_of(batch), classes, resolved)
    costs = recommendation_costs(resolved, evaluation, batch, lang)
    return RunOutcome(name, resolved, evaluation, classes, batch.household_invalid, summary, costs,
                      batch.households["household_id"].values)  # fmt: skip


def districts_of(batch: ParsedBatch) -> npt.NDArray[np.object_]:
    """The district of every household ('' when not given)."""
    col = batch.households["district"]
    return np.where(col.missing, "", col.values).astype(str).astype(object)
