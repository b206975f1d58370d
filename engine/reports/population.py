"""What the report forms count: every household of a batch or of a registry round, one row
each, with its members, as plain tables.

From a batch, the households are classified as ``classify`` does. From a registry round,
each household's latest assessment is rebuilt from its stored inputs with the stored rulebook
(as ``explain --registry`` does for one household), the rebuilt class is checked against the
recorded one, and the recognised class (the commune's decision where one was recorded) and
the round's flow code come from the registry.

Choices where the forms are silent: the head of a household is the member whose relationship
is ``head``, else its member number 1; an ethnic-minority household is one whose head is not
Kinh; a child is a member under 16 (the rulebook's ``child`` fact)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import RegistryError
from engine.evaluators.evaluation import Tables, Tri
from engine.evaluators.vectorised import age_fields
from engine.registry.rows import column_array, decision_columns
from engine.results.classify import BatchResult
from household_models.batch import ParsedBatch
from household_models.vocab import match_key

LISTED = ("poor", "near_poor")
MEMBER_FACTS = ("child", "malnourished_child", "out_of_school_child")


@dataclass
class Population:
    """The households (``households``: one row each, in batch order) and members (``members``)
    a set of forms counts. ``given``: the optional input columns the source has (a form
    column that needs another is marked as not available, never counted as zero)."""

    households: pd.DataFrame
    members: pd.DataFrame
    indicators: list[tuple[str, dict[str, str]]]
    as_of: dt.date
    source: str  # "batch" or "registry"
    round_name: str | None = None
    given: set[str] = field(default_factory=set)
    history: bool = False  # flow codes (and the flow forms) come from a registry
    communes: pd.DataFrame | None = None  # resident households and persons per commune
    support: pd.DataFrame | None = None  # the round's delivered support (registry)
    batch: Any = None  # the parsed batch and its classification, for re-evaluation
    result: Any = None
    book: Any = None  # the rulebook it was classified with
    checks: list[dict[str, Any]] = field(default_factory=list)  # checks made while building


def _series(batch: ParsedBatch, table: str, name: str) -> pd.Series | None:
    columns = batch.households if table == "household" else batch.members
    col = columns.get(name)
    if col is None:
        return None
    series: pd.Series = column_array(col, batch.personal, keep=True).to_pandas()
    return series


def _given(values: pd.Series | None) -> bool:
    return values is not None and bool(values.notna().any())


def _tri(tri: Tri | None, n: int) -> np.ndarray:
    return np.zeros(n, dtype=bool) if tri is None else np.asarray(tri.t, dtype=bool)


def from_batch(batch: ParsedBatch, result: BatchResult, as_of: dt.date, *,
               names: bool = True) -> Population:  # fmt: skip
    """The population of a classified batch (``names``: keep the names, for the detailed
    lists)."""
    res = result.results
    n = batch.n_households
    indicators = [(rule.id, dict(rule.label)) for rule, _ in result.resolved.indicators]
    decided = decision_columns(batch, result)

    def text(name: str) -> np.ndarray:
        values: Any = decided[name] if name in decided else _series(batch, "household", name)
        series = pd.Series(values.to_pylist() if hasattr(values, "to_pylist") else values,
                           dtype=object)  # fmt: skip
        return series.where(series.notna(), "").astype(str).to_numpy()

    hh = pd.DataFrame({
        "household_id": text("household_id"), "district": text("district"),
        "commune": text("commune"), "engine_class": res["class"].astype(str).to_numpy(),
        "causes": text("causes") if "causes" in batch.households else "",
        "deprivation_count": pd.to_numeric(res["deprivation_count"], errors="coerce"),
    })  # fmt: skip
    hh["class"] = hh["engine_class"]
    for ind, _ in indicators:
        hh[f"d:{ind}"] = (res[ind].astype(str) == "deprived").to_numpy()
    given: set[str] = set()
    for name in ("village", "farm_household", "head_name"):
        values = _series(batch, "household", name)
        hh[name] = values.to_numpy() if values is not None else None
        if _given(values):
            given.add(name)
    if "causes" in batch.households and bool((~batch.households["causes"].missing).any()):
        given.add("causes")
    owner = np.asarray(batch.member_household, dtype=np.int64)
    members = pd.DataFrame({"position": owner,
                            "household_id": hh["household_id"].to_numpy()[owner]})  # fmt: skip
    for name in ("member_no", "name", "sex", "age", "birth_date", "ethnicity", "relationship",
                 "health_insurance", "meritorious", "education", "id_number"):  # fmt: skip
        values = _series(batch, "member", name)
        members[name] = values.to_numpy() if values is not None else None
        if _given(values):
            given.add(name)
    ages = age_fields(Tables.of(batch), as_of) if "age" in batch.members else {}
    members["age_years"] = ages["age_years"].values if ages else np.nan  # as the rulebook counts
    facts = result.evaluation.member_facts
    for fact in MEMBER_FACTS:
        members[fact] = _tri(facts.get(fact), len(owner))
    if not names:
        hh["head_name"], members["name"], members["id_number"] = None, None, None
        given -= {"head_name", "name", "id_number"}
    _household_facts(hh, members, n)
    _statuses(hh, result, owner)
    return Population(hh, members, indicators, as_of, "batch", given=given, batch=batch,
                      result=result)  # fmt: skip


def _household_facts(hh: pd.DataFrame, members: pd.DataFrame, n: int) -> None:
    """Columns of each household drawn from its members: persons, the head's ethnicity and
    sex."""
    hh["persons"] = np.bincount(members["position"].to_numpy(dtype=np.int64), minlength=n)
    rel = members["relationship"].astype(object)
    is_head = (rel == "head").to_numpy()
    has_rel = np.zeros(n, dtype=bool)
    has_rel[members["position"].to_numpy()[is_head]] = True
    first = (pd.to_numeric(members["member_no"], errors="coerce") == 1).to_numpy() & \
        ~has_rel[members["position"].to_numpy()]  # fmt: skip
    heads = members[is_head | first].drop_duplicates("position")
    at = heads["position"].to_numpy(dtype=np.int64)
    for column, source in (("head_ethnicity", "ethnicity"), ("head_sex", "sex")):
        values = np.full(n, None, dtype=object)
        values[at] = heads[source].to_numpy(dtype=object)
        hh[column] = values
    ethnicity = hh["head_ethnicity"].map(lambda v: None if v is None or v != v else
                                         match_key(str(v)) == "kinh")  # fmt: skip
    hh["kinh"] = ethnicity
    hh["minority"] = ethnicity.map(lambda v: None if v is None else not v)
    hh["female_head"] = hh["head_sex"].map(lambda v: None if v is None or v != v else
                                           v == "female")  # fmt: skip


def _statuses(hh: pd.DataFrame, result: BatchResult, owner: np.ndarray) -> None:
    """``status.<id>``: the household holds the status (a member status: some member does),
    from the evaluation, as the results' statuses column says."""
    for status, _ in result.resolved.statuses:
        held = np.asarray(result.evaluation.statuses[status.id].t, dtype=bool)
        if status.context != "household":
            held = np.bincount(owner[held], minlength=len(hh)) > 0
        hh[f"status.{status.id}"] = held


def from_registry(reg: Any, round_name: str, *, names: bool = True) -> Population:
    """The population of a registry round: each household's latest assessment rebuilt from
    its stored inputs and rulebook, with its recognised class and flow code."""
    from engine.loader import load_rulebook
    from engine.registry.audit import rules_snapshot, stored_inputs
    from engine.registry.history import current, require_round
    from engine.results.classify import classify
    from household_models.parse import parse_batch

    require_round(reg, round_name)
    latest = current(reg, "c.round = ?", round_name, columns="seq, household_id, recording, "
                     "class, recognised, flow, as_of").to_pandas().sort_values("seq")  # fmt: skip
    as_of = pd.Timestamp(latest["as_of"].iloc[0]).date() if len(latest) else None
    if as_of is None:
        raise RegistryError("round_unknown", round=round_name, known=round_name)
    recordings = sorted(int(r) for r in latest["recording"].unique())
    manifests = {rec: reg.rows("SELECT rules FROM recordings WHERE round = ? AND seq = ?",
                               round_name, rec)[0][0] for rec in recordings}  # fmt: skip
    if len(set(manifests.values())) > 1:
        raise RegistryError("report_rules_differ", round=round_name,
                            recordings=", ".join(map(str, recordings)))  # fmt: skip
    with rules_snapshot(reg, round_name, recordings[-1]) as root:
        book = load_rulebook(root)
    batch = parse_batch(stored_inputs(reg, round_name, latest["seq"].astype(int).tolist(),
                                      names))  # fmt: skip
    result = classify(batch, book, as_of)
    pop = from_batch(batch, result, as_of, names=names)
    pop.book = book
    recorded = latest["class"].astype(str).to_numpy()
    valid = recorded != "invalid"  # recorded with input errors: their bad cells were not kept
    differ = int((pop.households["engine_class"].to_numpy() != recorded)[valid].sum())
    pop.checks.append({"form": "registry", "identity": "rebuilt_classes",
                       "rows": int(valid.sum()), "holds": differ == 0,
                       "detail": differ})  # fmt: skip
    pop.households["engine_class"] = recorded
    pop.households["class"] = latest["recognised"].astype(str).to_numpy()
    pop.households["flow"] = latest["flow"].astype(object).to_numpy()
    pop.source, pop.round_name, pop.history = "registry", round_name, True
    support = reg.query("SELECT household_id, member_no, action_id FROM support WHERE "
                        "round = ? ORDER BY seq", round_name).to_pandas()  # fmt: skip
    pop.support = support if not support.empty else None
    return pop
