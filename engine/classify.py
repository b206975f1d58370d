"""Classification of a parsed batch: evaluation plus the results, errors and summary tables."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine import conditions as c
from engine.recommend import (
    department_summary,
    recommendation_column,
    recommendations,
    status_columns,
)
from engine.rulebook import Resolved, Rulebook
from engine.vectorised import Evaluation, Evaluator, Tables, Tri
from household_models.parse import ParsedBatch
from household_models.vocab import code_label

RESULT_COLUMNS = ("deprivation_count", "class", "class_vi", "reason", "statuses", "statuses_text",
                  "recommendations", "missing", "error", "rulebook_version", "as_of")  # fmt: skip
ALL_DISTRICTS = {"vi": "Tất cả", "en": "All"}
UNNAMED_DISTRICT = "(không ghi)"  # a household without a district
INDICATOR_STATES = np.array(["ok", "deprived", "unknown", ""], dtype=object)


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

    @property
    def class_counts(self) -> dict[str, int]:
        counts = self.results["class"].value_counts()
        return {c: int(counts.get(c, 0)) for c in self.resolved.classification.classes}


def format_vnd(value: float) -> str:
    """Vietnamese grouping: 1500000 -> 1.500.000."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:g}"


def _missing_column(
    r: Resolved, ev: Evaluator, evaluation: Evaluation, batch: ParsedBatch
) -> npt.NDArray[np.object_]:
    n = batch.n_households
    valid = ~batch.household_invalid
    hh_cols = batch.households
    mem_cols = batch.members
    member_no = mem_cols["member_no"].values
    positions: list[npt.NDArray[np.int64]] = []
    tokens: list[npt.NDArray[np.object_]] = []

    def add_household(mask: npt.NDArray[np.bool_], names: frozenset[str]) -> None:
        for name in sorted(names):
            col = hh_cols.get(name)
            if col is None:
                continue
            hit = np.flatnonzero(mask & col.missing)
            if len(hit):
                positions.append(hit)
                tokens.append(np.full(len(hit), name, dtype=object))

    for rule, definition in r.indicators:
        tri = evaluation.indicators[rule.id]
        unknown = tri.unknown & valid
        if not unknown.any():
            continue
        add_household(unknown, ev.inputs_read(definition.condition, "household"))
        for log in evaluation.unknown_members.get(rule.id, []):
            in_unknown = unknown[batch.member_household]
            for name in sorted(log.fields):
                col = mem_cols.get(name)
                if col is None:
                    continue
                hit = np.flatnonzero(log.mask & in_unknown & col.missing)
                if len(hit):
                    positions.append(batch.member_household[hit])
                    nos = member_no[hit].astype(np.int64).astype(str)
                    tokens.append(np.char.add(np.char.add(f"{name}[", nos), "]").astype(object))
    # An undecided class lists the inputs of the household facts it could not decide.
    undecided = (evaluation.class_index < 0) & valid
    for row in r.classification.rows:
        for node in c.walk(row.when):
            if isinstance(node, c.FactRef):
                fact = ev.cond(node, "household")
                add_household(
                    undecided & fact.unknown,
                    ev.inputs_read(r.facts[node.name][1].condition, "household"),
                )
    out = np.full(n, "", dtype=object)
    if positions:
        frame = pd.DataFrame({"pos": np.concatenate(positions), "tok": np.concatenate(tokens)})
        frame = frame.drop_duplicates()
        joined = frame.groupby("pos", sort=False)["tok"].agg(lambda s: "; ".join(sorted(s)))
        out[joined.index.to_numpy(dtype=np.int64)] = joined.to_numpy()
    return out


def _reasons(
    r: Resolved, evaluation: Evaluation, batch: ParsedBatch, class_ids: npt.NDArray[np.object_],
    lang: str,
) -> npt.NDArray[np.object_]:  # fmt: skip
    """Reason text per household, built once per distinct (class, area, deprivation pattern)."""
    n = batch.n_households
    ids = [rule.id for rule, _ in r.indicators]
    labels = {rule.id: rule.label[lang] for rule, _ in r.indicators}
    deprived_bits = np.zeros(n, dtype=np.int64)
    unknown_bits = np.zeros(n, dtype=np.int64)
    for i, ind in enumerate(ids):
        tri = evaluation.indicators[ind]
        deprived_bits |= tri.t.astype(np.int64) << i
        unknown_bits |= tri.unknown.astype(np.int64) << i
    class_list = list(r.classification.classes)
    class_code = np.array([class_list.index(c) for c in class_ids], dtype=np.int64)
    area = batch.households["area"]
    area_code = np.where(area.missing, len(area.codes), area.values).astype(np.int64)
    key = (class_code << 40) | (area_code << 32) | (unknown_bits << 16) | deprived_bits
    uniq, inverse = np.unique(key, return_inverse=True)
    texts = []
    none_word = "không có" if lang == "vi" else "none"
    for k in uniq:
        cls = class_list[int(k >> 40)]
        a = int((k >> 32) & 0xFF)
        unk = int((k >> 16) & 0xFFFF)
        dep = int(k & 0xFFFF)
        template = r.classification.reasons.get(cls, {}).get(lang, "")
        area_key = area.codes[a] if a < len(area.codes) else None
        deprived = [labels[ind] for i, ind in enumerate(ids) if dep >> i & 1]
        unknown = [labels[ind] for i, ind in enumerate(ids) if unk >> i & 1]

        def param(match: re.Match[str], area_key: str | None = area_key) -> str:
            value = r.param(match[1])
            if isinstance(value, dict):
                if area_key is None:
                    return "?"
                value = value[area_key]
            return format_vnd(float(value))

        text = re.sub(r"\{param:([a-z0-9_]+)\}", param, template)
        text = text.format(
            count=len(deprived),
            deprived=", ".join(deprived) or none_word,
            unknown=", ".join(unknown) or none_word,
            area=code_label("area", area_key, lang) if area_key else "?",
        )
        texts.append(text)
    out = np.array(texts, dtype=object)[inverse]
    invalid = batch.household_invalid
    out[invalid] = batch.household_error[invalid]
    return out


def classify(batch: ParsedBatch, book: Rulebook, as_of: dt.date, lang: str = "vi",
             engine: str = "vectorised", verify: float = 0.0, processes: int = 1,
             seed: int = 0, resolved: Resolved | None = None) -> BatchResult:  # fmt: skip
    """Classify every household of a parsed batch on the evaluation date ``as_of``.

    ``engine="durable"`` takes every decision (indicators, class, statuses, actions and the
    members they name) from the durable_rules evaluator, household by household; ``verify``
    re-evaluates that fraction of the households on durable_rules and reports each disagreement
    with the vectorised evaluator as an error (``engine_disagreement``).
    """
    resolved = resolved if resolved is not None else book.resolve(as_of)
    tables = Tables(batch.households, batch.members, batch.member_household, batch.n_households)
    ev = Evaluator(resolved, tables, batch.household_invalid)
    evaluation = ev.run()
    checked: list[int] = []
    disagreements: list[Any] = []
    if engine == "durable" or verify > 0:
        from engine.agreement import compare, durable_evaluation, run_durable, sample_positions

        if engine == "durable":
            checked = list(range(batch.n_households))
        else:
            checked = sample_positions(batch, verify, seed)
        outcomes = run_durable(resolved, batch, checked, processes)
        checked = sorted(outcomes)
        disagreements = compare(resolved, evaluation, batch, outcomes)
        if engine == "durable":
            evaluation = durable_evaluation(resolved, evaluation, batch, outcomes)
    cls = resolved.classification
    invalid = batch.household_invalid
    class_ids = class_codes(resolved, evaluation, invalid)

    results = batch.raw_households.copy()
    results.columns = [f"input:{c}" if c in RESULT_COLUMNS else c for c in results.columns]
    for rule, _ in resolved.indicators:
        results[rule.id] = indicator_states(evaluation.indicators[rule.id], invalid)
    count = pd.array(evaluation.deprivation_lo, dtype="Int64")
    count[invalid] = pd.NA
    results["deprivation_count"] = count
    results["class"] = class_ids
    vi_labels = {c: label["vi"] for c, label in cls.classes.items()}
    results["class_vi"] = pd.Series(class_ids, dtype=object).map(vi_labels).to_numpy(dtype=object)
    results["reason"] = _reasons(resolved, evaluation, batch, class_ids, lang)
    results["statuses"], results["statuses_text"] = status_columns(resolved, evaluation, batch,
                                                                   lang)  # fmt: skip
    recs = recommendations(resolved, ev, evaluation, batch, class_ids, lang)
    results["recommendations"] = recommendation_column(recs, batch.n_households)
    results["missing"] = _missing_column(resolved, ev, evaluation, batch)
    results["error"] = batch.household_error
    results["rulebook_version"] = resolved.rulebook_version
    results["as_of"] = as_of.isoformat()
    summary = summarise(results, batch, resolved)
    departments = department_summary(recs, resolved, lang)
    errors = batch.errors
    errors = errors.sort_values(["file", "sheet", "row", "column"], kind="stable",
                                na_position="first").reset_index(drop=True)  # fmt: skip
    if disagreements:
        errors = pd.concat([errors, _disagreement_errors(disagreements, batch)],
                           ignore_index=True)  # fmt: skip
    return BatchResult(results, errors, summary, resolved, evaluation,
                       len(batch.member_household), recs.drop(columns=["pos"]),
                       departments, ev, engine, len(checked), len(disagreements))  # fmt: skip


def indicator_states(tri: Tri, invalid: npt.NDArray[np.bool_]) -> npt.NDArray[np.object_]:
    """An indicator's value per household as written in results: ``deprived``, ``ok``,
    ``unknown``, or empty for an invalid household."""
    idx = np.where(tri.t, 1, np.where(tri.f, 0, 2))
    idx[invalid] = 3
    return INDICATOR_STATES[idx]


def class_codes(resolved: Resolved, evaluation: Evaluation,
                invalid: npt.NDArray[np.bool_]) -> npt.NDArray[np.object_]:  # fmt: skip
    """The class code of every household: the table row that applied, the undecided class
    where none did, and the invalid class for households with bad input."""
    cls = resolved.classification
    row_classes = np.array([row.cls for row in cls.rows] + [cls.undecided], dtype=object)
    class_ids = row_classes[evaluation.class_index]  # index -1 picks the undecided class
    class_ids[invalid] = cls.invalid
    return class_ids


def _disagreement_errors(items: list[Any], batch: ParsedBatch) -> pd.DataFrame:
    ids = batch.households["household_id"].values
    return pd.DataFrame([{
        "file": "", "sheet": "", "row": batch.household_rows[d.position], "column": d.what,
        "value": f"vectorised={d.vectorised}; durable={d.durable}",
        "household_id": ids[d.position], "member_no": "", "code": "engine_disagreement",
        "message_vi": f"Hai bộ máy suy luận cho kết quả khác nhau ở {d.what}: lỗi của phần mềm, "
                      "hãy báo cho nhóm phát triển.",
        "message_en": f"The two evaluators disagree on {d.what}: a software error; please "
                      "report it.",
    } for d in items])  # fmt: skip


def summarise(results: pd.DataFrame, batch: ParsedBatch, r: Resolved) -> pd.DataFrame:
    """Households per class, by district and in total, with the share of each class."""
    district_col = batch.households["district"]
    district = pd.Series(district_col.values, dtype=object).fillna("").astype(str)
    return summary_table(district.to_numpy(), results["class"].to_numpy(), r)


def summary_table(district: Any, classes_of: Any, r: Resolved) -> pd.DataFrame:
    classes = list(r.classification.classes)
    frame = pd.DataFrame({"district": district, "class": classes_of})
    counts = frame.groupby(["district", "class"]).size().unstack(fill_value=0)
    counts = counts.reindex(columns=classes, fill_value=0)
    counts.loc[ALL_DISTRICTS["vi"]] = counts.sum(axis=0)
    rows = []
    for name, row in counts.iterrows():
        total = int(row.sum())
        for cls in classes:
            n = int(row[cls])
            rows.append({
                "district": name or UNNAMED_DISTRICT,
                "class": cls,
                "class_vi": r.classification.classes[cls]["vi"],
                "households": n,
                "share_pct": round(100.0 * n / total, 2) if total else 0.0,
            })  # fmt: skip
    summary = pd.DataFrame(rows)
    summary["rulebook_version"] = r.rulebook_version
    summary["as_of"] = r.as_of.isoformat()
    return summary
