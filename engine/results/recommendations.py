"""Statuses and recommendations of a classified batch, as tables.

The evaluator has already decided, as columns, which statuses hold and which actions fire for
which households and members. This module turns those arrays into what people read: a compact
``statuses`` and ``recommendations`` column per household, one recommendation row per household ×
action (× member for actions aimed at a person) with the department, trigger, citation and
estimated amount, and a summary by department. Texts are built once per distinct pattern, never
once per row.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from engine.evaluators.evaluation import ActionResult, Evaluation
from engine.evaluators.vectorised import Evaluator
from engine.rulebook import Intervention, Resolved
from engine.rulebook import conditions as c
from engine.text import words_file
from household_models.batch import ParsedBatch
from household_models.schema import DOMAIN_CODES, FIELD_SPECS
from household_models.vocab import code_label

RECOMMENDATION_COLUMNS = [
    "household_id", "district", "commune", "class", "action_id", "action", "action_text",
    "member_no", "member_name", "priority", "department_code", "department",
    "department_plan_name", "partners", "trigger", "plan_section", "legal_basis", "provisional",
    "amount_vnd", "amount_period", "amount_kind", "first_year_vnd", "rulebook_version", "as_of",
]  # fmt: skip
PERIOD_FACTOR = {"once": 1, "month": 12, "year": 1}


# -- statuses ------------------------------------------------------------------------------------


# -- triggers ------------------------------------------------------------------------------------


def _trigger_atoms(node: c.Node | None) -> list[c.Node]:
    """The parts of a household condition that are worth naming: indicators, statuses, the
    class, and causes."""
    if node is None:
        return []
    out: list[c.Node] = []
    for n in c.walk(node):
        if isinstance(n, c.IndicatorRef | c.StatusRef) or isinstance(n, c.In) and isinstance(n.item, c.FieldRef) and n.item.name == "class" or (isinstance(n, c.Intersects) and isinstance(n.left, c.FieldRef)
              and isinstance(n.right, c.Literal)):
            out.append(n)
    return out


def trigger_texts(
    r: Resolved, ev: Evaluator, action: Intervention, node: c.Node | None,
    positions: npt.NDArray[np.int64], lang: str,
) -> npt.NDArray[np.object_]:  # fmt: skip
    """Why the action fired, for each household position: the named parts that held."""
    atoms = _trigger_atoms(node)
    if not atoms or len(positions) == 0:
        return np.full(len(positions), "", dtype=object)
    words = {key: value[lang] for key, value in words_file("results.yaml").items()}
    indicator_labels = {rule.id: rule.label[lang] for rule, _ in r.indicators}
    status_labels = {s.id: s.label[lang] for s, _ in r.statuses}
    keys = np.zeros(len(positions), dtype=np.int64)
    decoders: list[tuple[int, Any]] = []
    shift = 0
    class_col = ev.columns["household"]["class"]
    for atom in atoms:
        tri = ev.cond(atom, "household")
        held = tri.t[positions]
        if isinstance(atom, c.In):  # the class
            value = np.where(held, class_col.values[positions].astype(np.int64) + 1, 0)
            width = 4
            decoders.append((shift, ("class", width)))
        elif isinstance(atom, c.Intersects):
            assert isinstance(atom.left, c.FieldRef) and isinstance(atom.right, c.Literal)
            domain = DOMAIN_CODES[atom.left.name]
            lit = sum(1 << domain.index(v) for v in atom.right.value)
            mask = ev.columns["household"][atom.left.name].values[positions].astype(np.int64)
            value = np.where(held, mask & lit, 0)
            width = len(domain)
            decoders.append((shift, ("codes", width, atom.left.name, domain)))
        else:
            value = held.astype(np.int64)
            width = 1
            assert isinstance(atom, c.IndicatorRef | c.StatusRef)
            label = (f"{words['deprived']}: {indicator_labels.get(atom.id, atom.id)}"
                     if isinstance(atom, c.IndicatorRef) else status_labels[atom.id])  # fmt: skip
            decoders.append((shift, ("flag", width, label)))
        keys |= value << shift
        shift += width
    uniq, inverse = np.unique(keys, return_inverse=True)
    texts: list[str] = []
    class_labels = r.classification.classes
    for key in uniq.tolist():
        parts: list[str] = []
        for start, spec in decoders:
            width = spec[1]
            value = (key >> start) & ((1 << width) - 1)
            if not value:
                continue
            if spec[0] == "class":
                parts.append(class_labels[DOMAIN_CODES["class"][value - 1]][lang])
            elif spec[0] == "codes":
                names = [code_label(spec[2], code, lang) for i, code in enumerate(spec[3])
                         if value >> i & 1]  # fmt: skip
                parts.append(f"{words['cause']}: {' / '.join(names)}")
            else:
                parts.append(spec[2])
        texts.append("; ".join(parts))
    return np.array(texts, dtype=object)[inverse]


def member_trigger_texts(
    r: Resolved, ev: Evaluator, node: c.Node | None, rows: npt.NDArray[np.int64], lang: str
) -> npt.NDArray[np.object_]:  # fmt: skip
    """Why a member was named: the member statuses, facts and yes/no fields that held."""
    out = np.full(len(rows), "", dtype=object)
    if node is None or len(rows) == 0:
        return out
    labels: list[str] = []
    held: list[npt.NDArray[np.bool_]] = []
    status_labels = {s.id: s.label[lang] for s, _ in r.statuses}
    for atom in c.walk(node):
        if isinstance(atom, c.StatusRef):
            label = status_labels[atom.id]
        elif isinstance(atom, c.FactRef):
            label = r.facts[atom.name][0].label[lang]
        elif isinstance(atom, c.BoolField):
            spec = FIELD_SPECS["member"][atom.name]
            label = spec.vi if lang == "vi" else atom.name.replace("_", " ")
        else:
            continue
        labels.append(label)
        held.append(ev.cond(atom, "member").t[rows])
    if not labels:
        return out
    keys = np.zeros(len(rows), dtype=np.int64)
    for i, h in enumerate(held):
        keys |= h.astype(np.int64) << i
    uniq, inverse = np.unique(keys, return_inverse=True)
    texts = ["; ".join(lab for i, lab in enumerate(labels) if k >> i & 1) for k in uniq.tolist()]
    return np.array(texts, dtype=object)[inverse]


# -- recommendations -----------------------------------------------------------------------------


def _amounts(result: ActionResult, rows: npt.NDArray[np.int64]) -> Any:
    if result.amount is None:
        return pd.array([pd.NA] * len(rows), dtype="Int64")
    lo = result.amount.lo[rows]
    hi = result.amount.hi[rows]
    exact = (lo == hi) & np.isfinite(lo)
    values = pd.array(np.round(np.where(exact, lo, 0)).astype(np.int64), dtype="Int64")
    values[~exact] = pd.NA
    return values


def fired_rows(action: Intervention, result: ActionResult, batch: ParsedBatch
               ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64] | None,
                          npt.NDArray[np.int64]]:  # fmt: skip
    """Where an action fired: the household position of each recommendation row, the member
    rows it names (None for a household action), and the rows its amount is read from."""
    if result.member_fires is not None:
        mem_rows = np.flatnonzero(result.member_fires)
        positions = batch.member_household[mem_rows]
        per_member = action.amount is not None and action.amount.per == "member"
        return positions, mem_rows, mem_rows if per_member else positions
    positions = np.flatnonzero(result.fires)
    return positions, None, positions


def amounts(action: Intervention, result: ActionResult, rows: npt.NDArray[np.int64]
            ) -> tuple[Any, Any]:  # fmt: skip
    """(amount, first-year cost) of each recommendation row; loans are not costs."""
    amount = _amounts(result, rows)
    factor = PERIOD_FACTOR[action.amount.period] if action.amount else 1
    if action.amount and action.amount.kind != "loan":
        return amount, amount * factor
    return amount, pd.array([pd.NA] * len(rows), dtype="Int64")


def recommendation_costs(r: Resolved, evaluation: Evaluation, batch: ParsedBatch,
                         lang: str = "vi") -> pd.DataFrame:  # fmt: skip
    """The recommendation rows without their texts, for aggregate figures (simulation):
    position, district, action, department, member flag, amount, kind and first-year cost."""
    district = batch.households["district"]
    district_text = np.where(district.missing, "", district.values).astype(object)
    parts: list[pd.DataFrame] = []
    for action, _ in r.interventions:
        result = evaluation.actions[action.id]
        positions, mem_rows, amount_rows = fired_rows(action, result, batch)
        if len(positions) == 0:
            continue
        amount, first_year = amounts(action, result, amount_rows)
        parts.append(pd.DataFrame({
            "pos": positions,
            "district": district_text[positions],
            "action_id": action.id,
            "action": action.label[lang],
            "department_code": action.lead,
            "department": r.department_name(action.lead, action.function, lang)[0],
            "person": mem_rows is not None,
            "amount_vnd": amount,
            "amount_kind": action.kind,
            "first_year_vnd": first_year,
        }))  # fmt: skip
    if not parts:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in
                             ("pos", "district", "action_id", "action", "department_code",
                              "department", "person", "amount_vnd", "amount_kind",
                              "first_year_vnd")})  # fmt: skip
    return pd.concat(parts, ignore_index=True)


def recommendations(
    r: Resolved, ev: Evaluator, evaluation: Evaluation, batch: ParsedBatch,
    class_ids: npt.NDArray[np.object_], lang: str,
) -> pd.DataFrame:  # fmt: skip
    """One row per household × action, × member where the action names people."""
    hh_ids = batch.households["household_id"].values
    district = batch.households["district"]
    commune = batch.households["commune"]
    member_no = batch.members["member_no"].values
    names = batch.members.get("name", None)
    parts: list[pd.DataFrame] = []
    for order, (action, ad) in enumerate(r.interventions):
        result = evaluation.actions[action.id]
        positions, mem_rows, amount_rows = fired_rows(action, result, batch)
        if mem_rows is not None:
            nos = pd.array(member_no[mem_rows].astype(np.int64), dtype="Int64")
            person = (np.where(names.missing[mem_rows], "", names.values[mem_rows]).astype(object)
                      if names is not None else np.full(len(mem_rows), "", dtype=object))  # fmt: skip
            priority = (result.priority.t[mem_rows] if result.priority is not None
                        else np.zeros(len(mem_rows), dtype=bool))  # fmt: skip
            why_member = member_trigger_texts(r, ev, ad.members, mem_rows, lang)
        else:
            nos = pd.array([pd.NA] * len(positions), dtype="Int64")
            person = np.full(len(positions), "", dtype=object)
            priority = np.zeros(len(positions), dtype=bool)
            why_member = np.full(len(positions), "", dtype=object)
        if len(positions) == 0:
            continue
        dep_name, dep_plan = r.department_name(action.lead, action.function, lang)
        partner_names = "; ".join(r.department_name(p, "", lang)[0] for p in action.partners)
        amount, first_year = amounts(action, result, amount_rows)
        parts.append(pd.DataFrame({
            "pos": positions,
            "order": order,
            "household_id": hh_ids[positions],
            "district": np.where(district.missing[positions], "", district.values[positions]),
            "commune": np.where(commune.missing[positions], "", commune.values[positions]),
            "class": class_ids[positions],
            "action_id": action.id,
            "action": action.label[lang],
            "action_text": r.action_text(action, lang),
            "member_no": nos,
            "member_name": person,
            "priority": priority,
            "department_code": action.lead,
            "department": dep_name,
            "department_plan_name": dep_plan,
            "partners": partner_names,
            "trigger": _join_parts(trigger_texts(r, ev, action, ad.when, positions, lang),
                                   why_member),
            "plan_section": action.plan_section,
            "legal_basis": r.legal_basis(ad.citation.source, ad.citation.clause, lang),
            "provisional": ad.citation.provisional,
            "amount_vnd": amount,
            "amount_period": action.amount.period if action.amount else "",
            "amount_kind": action.kind,
            "first_year_vnd": first_year,
        }))  # fmt: skip
    if not parts:
        frame = pd.DataFrame({col: pd.Series(dtype=object) for col in RECOMMENDATION_COLUMNS})
        frame["pos"] = pd.Series(dtype=np.int64)
    else:
        frame = pd.concat(parts, ignore_index=True)
        frame = frame.sort_values(["pos", "order", "member_no"], kind="stable")
        frame = frame.drop(columns=["order"]).reset_index(drop=True)
    frame["rulebook_version"] = r.rulebook_version
    frame["as_of"] = r.as_of.isoformat()
    return frame


def _join_parts(a: npt.NDArray[np.object_], b: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    both = (a != "") & (b != "")
    return np.where(both, a + "; " + b, np.where(a != "", a, b))


