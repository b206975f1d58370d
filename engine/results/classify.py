"""Classification of a parsed batch: evaluation plus the results, errors and summary tables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import catalogue
from engine.evaluators import CROSSCHECK_MAX
from engine.evaluators.evaluation import Evaluation, Tables
from engine.evaluators.vectorised import Evaluator
from engine.results.columns import (
    INDICATOR_STATES,
    class_positions,
    missing_column,
    reason_column,
    recommendation_column,
    state_codes,
    status_columns,
    text_array,
    text_column,
)
from engine.results.recommendations import recommendations
from engine.results.summaries import department_summary, summarise
from engine.rulebook import Resolved, Rulebook
from household_models.batch import ParsedBatch
from household_models.vocab import messages

RESULT_COLUMNS = ("deprivation_count", "class", "class_vi", "reason", "statuses", "statuses_text",
                  "recommendations", "missing", "error", "rulebook_version", "as_of")  # fmt: skip


@dataclass
class BatchResult:
    results: pd.DataFrame
    errors: pd.DataFrame
    summary: pd.DataFrame
    resolved: Resolved
    evaluation: Evaluation
    n_members: int
    recommendations: pd.DataFrame
    departments: pd.DataFrame
    evaluator: Evaluator
    engine: str = "vectorised"
    verified: int = 0  # households evaluated on durable_rules
    disagreements: int = 0
    sample: Any = None  # how the cross-check's households were drawn (crosscheck.Sample)

    @property
    def class_counts(self) -> dict[str, int]:
        counts = self.results["class"].value_counts()
        return {c: int(counts.get(c, 0)) for c in self.resolved.classification.classes}


def classify(batch: ParsedBatch, book: Rulebook, as_of: dt.date, lang: str = "vi",
             engine: str = "vectorised", verify: float = 0.0, processes: int = 1,
             seed: int = 0, resolved: Resolved | None = None,
             verify_max: int | None = None) -> BatchResult:  # fmt: skip
    """Classify every household of a parsed batch on the evaluation date ``as_of``.

    ``engine="durable"`` takes every decision (indicators, class, statuses, actions and the
    members they name) from the durable_rules evaluator, household by household; ``verify``
    re-evaluates a sample on durable_rules (a few households of every decision pattern and of
    every threshold value some household sits at, plus that fraction drawn uniformly, at most
    ``verify_max``, default ``CROSSCHECK_MAX``) and reports each disagreement with the vectorised
    evaluator as an error (``engine_disagreement``).
    """
    resolved = resolved if resolved is not None else book.resolve(as_of)
    tables = Tables.of(batch)
    ev = Evaluator(resolved, tables, batch.household_invalid)
    evaluation = ev.run()
    checked: list[int] = []
    sample = None
    disagreements: list[Any] = []
    if engine == "durable" or verify > 0:
        from engine.evaluators.crosscheck import (
            compare,
            crosscheck_sample,
            durable_evaluation,
            run_durable,
        )

        if engine == "durable":
            checked = list(range(batch.n_households))
        else:
            most = CROSSCHECK_MAX if verify_max is None else verify_max
            sample = crosscheck_sample(resolved, evaluation, batch, verify, seed, most, ev.columns)
            checked = sample.positions
        outcomes = run_durable(resolved, batch, checked, processes)
        checked = sorted(outcomes)
        disagreements = compare(resolved, evaluation, batch, outcomes)
        if engine == "durable":
            evaluation = durable_evaluation(resolved, evaluation, batch, outcomes)
    cls = resolved.classification
    invalid = batch.household_invalid
    which, names = class_positions(resolved, evaluation, invalid)
    class_ids = np.array(names, dtype=object)[which]

    results = batch.raw_households.copy()
    taken = {*RESULT_COLUMNS, *(rule.id for rule, _ in resolved.indicators)}
    renamed = [c for c in results.columns if c in taken]
    results.columns = [f"input:{c}" if c in taken else c for c in results.columns]
    # Columns of few distinct texts are built from codes (one Arrow take each), the others
    # converted by Arrow in one call: the same values and type as columns of Python strings.
    states = list(INDICATOR_STATES)
    for rule, _ in resolved.indicators:
        results[rule.id] = text_column(state_codes(evaluation.indicators[rule.id], invalid), states)
    count = pd.array(evaluation.deprivation_lo, dtype="Int64")
    count[invalid] = pd.NA
    results["deprivation_count"] = count
    results["class"] = text_column(which, names)
    results["class_vi"] = text_column(which, [cls.classes[c]["vi"] for c in names])
    results["reason"] = reason_column(resolved, evaluation, batch, class_ids, lang)
    statuses, statuses_text = status_columns(resolved, evaluation, batch, lang)
    results["statuses"], results["statuses_text"] = text_array(statuses), text_array(statuses_text)
    recs = recommendations(resolved, ev, evaluation, batch, class_ids, lang)
    results["recommendations"] = text_array(recommendation_column(recs, batch.n_households))
    results["missing"] = text_array(missing_column(resolved, ev, evaluation, batch))
    results["error"] = text_array(batch.household_error)
    one = np.zeros(batch.n_households, dtype=np.int64)
    results["rulebook_version"] = text_column(one, [resolved.rulebook_version])
    results["as_of"] = text_column(one, [as_of.isoformat()])
    summary = summarise(results, batch, resolved)
    departments = department_summary(recs, resolved, lang)
    errors = batch.errors
    errors = errors.sort_values(["file", "sheet", "row", "column"], kind="stable",
                                na_position="first").reset_index(drop=True)  # fmt: skip
    if renamed:
        errors = pd.concat([errors, _renamed_notes(renamed, batch)], ignore_index=True)
    if disagreements:
        errors = pd.concat([errors, _disagreement_errors(disagreements, batch)],
                           ignore_index=True)  # fmt: skip
    return BatchResult(results, errors, summary, resolved, evaluation,
                       len(batch.member_household), recs.drop(columns=["pos"]),
                       departments, ev, engine, len(checked), len(disagreements),
                       sample)  # fmt: skip


def _renamed_notes(columns: list[str], batch: ParsedBatch) -> pd.DataFrame:
    """A note for each input column kept under ``input:<name>`` (it has an output's name)."""
    words = messages()["input_column_renamed"]
    source = batch.errors
    return pd.DataFrame([{
        "file": source["file"].iloc[0] if len(source) else "", "sheet": "", "row": pd.NA,
        "column": c, "value": c, "household_id": "", "member_no": "",
        "code": "input_column_renamed",
        "message_vi": words["vi"].format(value=c, detail=f"input:{c}"),
        "message_en": words["en"].format(value=c, detail=f"input:{c}"),
    } for c in columns])  # fmt: skip


def _disagreement_errors(items: list[Any], batch: ParsedBatch) -> pd.DataFrame:
    ids = batch.households["household_id"].values
    words = catalogue()["engine_disagreement_row"]
    return pd.DataFrame([{
        "file": "", "sheet": "", "row": batch.household_rows[d.position], "column": d.what,
        "value": f"vectorised={d.vectorised}; durable={d.durable}",
        "household_id": ids[d.position], "member_no": "", "code": "engine_disagreement",
        "message_vi": words["vi"].format(what=d.what),
        "message_en": words["en"].format(what=d.what),
    } for d in items])  # fmt: skip


