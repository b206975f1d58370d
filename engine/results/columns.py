"""The per-household columns of the results table, built as arrays: indicator states, class
codes, the reason text, statuses, recommendations and the missing inputs. Texts are built once
per distinct pattern, never once per row."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.evaluators.evaluation import Evaluation, Tri
from engine.evaluators.vectorised import Evaluator
from engine.rulebook import Resolved
from engine.rulebook import conditions as c
from engine.text import words_file
from household_models.batch import ParsedBatch
from household_models.vocab import code_label

INDICATOR_STATES = np.array(["ok", "deprived", "unknown", ""], dtype=object)
# pandas' text type ("str"), stored in Arrow: what a column of Python strings becomes.
TEXT = pd.StringDtype("pyarrow", na_value=np.nan)


def text_column(codes: npt.NDArray[np.integer[Any]], texts: list[str]) -> pd.api.extensions.ExtensionArray:
    """A text column from codes into a list of texts, built in Arrow (one ``take`` of the
    dictionary): the same values and type as the column of Python strings it replaces."""
    import pyarrow as pa

    dictionary = pa.array(texts, type=pa.large_string())
    column = dictionary.take(pa.array(np.asarray(codes, dtype=np.int64)))
    out: pd.api.extensions.ExtensionArray = pd.array(column, dtype=TEXT)
    return out


def text_array(values: npt.NDArray[np.object_]) -> pd.api.extensions.ExtensionArray:
    """A text column from an array of Python strings, converted by Arrow in one call."""
    import pyarrow as pa

    out: pd.api.extensions.ExtensionArray = pd.array(pa.array(values, type=pa.large_string()),
                                                     dtype=TEXT)  # fmt: skip
    return out


def state_codes(tri: Tri, invalid: npt.NDArray[np.bool_]) -> npt.NDArray[np.int64]:
    """An indicator's state per household as an index into ``INDICATOR_STATES``."""
    idx = np.where(tri.t, 1, np.where(tri.f, 0, 2))
    idx[invalid] = 3
    return idx


def join_by_position(positions: npt.NDArray[np.int64], tokens: npt.NDArray[Any], n: int,
                     sep: str = "; ") -> npt.NDArray[np.object_]:  # fmt: skip
    """Join the text tokens of each position, in the given order, without a Python loop over
    groups: ``np.add.reduceat`` concatenates object arrays in C."""
    out = np.full(n, "", dtype=object)
    if len(positions) == 0:
        return out
    order = np.argsort(positions, kind="stable")
    pos = positions[order]
    tok = np.asarray(tokens, dtype=object)[order]
    first = np.r_[True, pos[1:] != pos[:-1]]
    pieces = np.where(first, tok, sep + tok)
    starts = np.flatnonzero(first)
    out[pos[starts]] = np.add.reduceat(pieces, starts)
    return out


def indicator_states(tri: Tri, invalid: npt.NDArray[np.bool_]) -> npt.NDArray[np.object_]:
    """An indicator's value per household as written in results: ``deprived``, ``ok``,
    ``unknown``, or empty for an invalid household."""
    return INDICATOR_STATES[state_codes(tri, invalid)]


def class_positions(resolved: Resolved, evaluation: Evaluation,
                    invalid: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], list[str]]:  # fmt: skip
    """Each household's class as an index into the returned class codes: the table row that
    applied, the undecided class where none did, the invalid class for bad input."""
    cls = resolved.classification
    names = [row.cls for row in cls.rows] + [cls.undecided, cls.invalid]
    which = np.where(evaluation.class_index < 0, len(cls.rows), evaluation.class_index)
    which[invalid] = len(cls.rows) + 1
    return which.astype(np.int64), names


def class_codes(resolved: Resolved, evaluation: Evaluation,
                invalid: npt.NDArray[np.bool_]) -> npt.NDArray[np.object_]:  # fmt: skip
    """The class code of every household (see ``class_positions``)."""
    which, names = class_positions(resolved, evaluation, invalid)
    return np.array(names, dtype=object)[which]


def missing_column(
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
                    nos = np.nan_to_num(member_no[hit], nan=0.0).astype(np.int64).astype(str)
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


def reason_column(
    r: Resolved, evaluation: Evaluation, batch: ParsedBatch, class_ids: npt.NDArray[np.object_],
    lang: str,
) -> pd.api.extensions.ExtensionArray:  # fmt: skip
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
    none_word = words_file("results.yaml")["none"][lang]
    for k in uniq:
        cls = class_list[int(k >> 40)]
        a = int((k >> 32) & 0xFF)
        unk = int((k >> 16) & 0xFFFF)
        dep = int(k & 0xFFFF)
        template = r.classification.reasons.get(cls, {}).get(lang, "")
        area_key = area.codes[a] if a < len(area.codes) else None
        deprived = [labels[ind] for i, ind in enumerate(ids) if dep >> i & 1]
        unknown = [labels[ind] for i, ind in enumerate(ids) if unk >> i & 1]

        text = r.fill(template, lang, {"area": area_key}).format(
            count=len(deprived),
            deprived=", ".join(deprived) or none_word,
            unknown=", ".join(unknown) or none_word,
            area=code_label("area", area_key, lang) if area_key else "?",
        )
        texts.append(text)
    # An invalid household's reason is its own error text.
    invalid = np.flatnonzero(batch.household_invalid)
    codes = inverse.reshape(-1).astype(np.int64)
    codes[invalid] = len(texts) + np.arange(len(invalid))
    return text_column(codes, texts + [str(e) for e in batch.household_error[invalid]])


def status_columns(
    r: Resolved, evaluation: Evaluation, batch: ParsedBatch, lang: str
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.object_]]:
    """Per household: status codes (``low_income_worker[2,3]`` for members) and their labels."""
    n = batch.n_households
    # A missing member number (its household is invalid) is written as 0, never cast from NaN.
    numbers = np.nan_to_num(batch.members["member_no"].values, nan=0.0).astype(np.int64)
    positions: list[npt.NDArray[np.int64]] = []
    codes: list[npt.NDArray[np.object_]] = []
    labels: list[npt.NDArray[np.object_]] = []
    for status, _ in r.statuses:
        tri = evaluation.statuses[status.id]
        if status.context == "household":
            pos = np.flatnonzero(tri.t)
            suffix = np.full(len(pos), "", dtype=object)
        else:
            hit = np.flatnonzero(tri.t)
            hit = hit[np.argsort(numbers[hit], kind="stable")]  # members in number order
            texts = numbers[hit].astype(str).astype(object)  # only the members who hold it
            nos = join_by_position(batch.member_household[hit], texts, n, ",")
            pos = np.flatnonzero(nos != "")
            suffix = "[" + nos[pos] + "]"
        positions.append(pos)
        codes.append(np.asarray(status.id + suffix, dtype=object))
        labels.append(np.asarray(status.label[lang] + suffix, dtype=object))
    if not positions:
        empty = np.full(n, "", dtype=object)
        return empty, empty.copy()
    pos_all = np.concatenate(positions)
    return (join_by_position(pos_all, np.concatenate(codes), n),
            join_by_position(pos_all, np.concatenate(labels), n))  # fmt: skip


def recommendation_column(frame: pd.DataFrame, n: int) -> npt.NDArray[np.object_]:
    """Per household: ``action_id`` or ``action_id[member_no,...]``, joined with '; '."""
    if frame.empty:
        return np.full(n, "", dtype=object)
    pos = frame["pos"].to_numpy(dtype=np.int64)
    ids = frame["action_id"].to_numpy(dtype=object)
    nos = frame["member_no"].astype("string").fillna("").to_numpy(dtype=object)
    # One group per (household, action), in the frame's order (actions in rulebook order).
    key = np.r_[True, (pos[1:] != pos[:-1]) | (ids[1:] != ids[:-1])].cumsum() - 1
    n_groups = int(key[-1]) + 1
    named = nos != ""
    joined_nos = join_by_position(key[named], nos[named], n_groups, ",")
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    token = np.where(joined_nos != "", ids[starts] + "[" + joined_nos + "]", ids[starts])
    return join_by_position(pos[starts], token, n)
