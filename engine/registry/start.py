"""Where each household of a batch stands when a round starts (its history before the round),
and its flow code in the round; the codes are those of ``engine.registry.history``. Used when
a round is recorded, never by the read-only queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.registry.history import LISTED, RoundInfo, current
from engine.registry.store import Registry

ABOVE = ("average", "not_poor")
# Every flow code of a household present in the round, two a row for poor and near-poor.
FLOWS = ("poor_continuing", "near_poor_continuing", "poor_to_near_poor", "near_poor_to_poor",
         "poor_escaped", "near_poor_escaped", "poor_unresolved", "near_poor_unresolved",
         "entered_poor", "entered_near_poor", "re_poor", "re_near_poor", "new_poor",
         "new_near_poor", "entered", "not_listed")  # fmt: skip


@dataclass
class Start:
    """What the history says of each household of a batch at the start of a round."""

    known: np.ndarray  # bool: the household is in some earlier round
    in_previous: np.ndarray  # bool: it is in the previous round
    previous: np.ndarray  # object: its recognised class in the previous round (or None)
    ever_listed: np.ndarray  # bool: poor or near-poor in some earlier round
    left_list_on: np.ndarray  # object: the date it last left the list (or None)


def start_of_round(reg: Registry, ids: list[str], as_of: dt.date,
                   previous: RoundInfo | None) -> Start:  # fmt: skip
    """The history of the households ``ids`` before a round of date ``as_of``."""
    n = len(ids)
    out = Start(np.zeros(n, bool), np.zeros(n, bool), np.full(n, None, object),
                np.zeros(n, bool), np.full(n, None, object))  # fmt: skip
    if previous is None or n == 0:
        return out
    reg.con.register("_ids", pa.table({"household_id": pa.array(ids, pa.string())}))
    try:
        past = current(reg, "c.as_of < ? AND c.household_id IN (SELECT household_id FROM _ids)",
                       as_of, columns="round, household_id, recognised, as_of").to_pandas()  # fmt: skip
    finally:
        reg.con.unregister("_ids")
    if past.empty:
        return out
    past["listed"] = past["recognised"].isin(LISTED)
    codes, uniques = pd.factorize(pd.Series(ids, dtype=object))  # a batch may repeat an id
    where = pd.Index(uniques)
    one = Start(np.zeros(len(uniques), bool), np.zeros(len(uniques), bool),
                np.full(len(uniques), None, object), np.zeros(len(uniques), bool),
                np.full(len(uniques), None, object))  # fmt: skip
    one.known[where.get_indexer(past["household_id"].astype(str).unique())] = True
    listed = past[past["listed"]]
    one.ever_listed[where.get_indexer(listed["household_id"].astype(str).unique())] = True
    in_prev = past[past["round"] == previous.name]
    at = where.get_indexer(in_prev["household_id"].astype(str))
    one.in_previous[at] = True
    one.previous[at] = in_prev["recognised"].astype(str).to_numpy(dtype=object)
    # left the list: the first round off the list after the last round on it
    last_on = listed.groupby("household_id")["as_of"].max()
    since = past["household_id"].map(last_on)
    off = past[~past["listed"] & since.notna() & (past["as_of"] > since)]
    left = off.groupby("household_id")["as_of"].min()
    one.left_list_on[where.get_indexer(left.index.astype(str))] = [
        d.date() if isinstance(d, pd.Timestamp) else d for d in left.tolist()]
    return Start(one.known[codes], one.in_previous[codes], one.previous[codes],
                 one.ever_listed[codes], one.left_list_on[codes])  # fmt: skip


def flow_codes(recognised: np.ndarray, start: Start, first_round: bool,
               typed_previous: np.ndarray, entered: np.ndarray) -> np.ndarray:  # fmt: skip
    """The flow code of each household of a round (see the module's docstring), chosen by
    position in ``FLOWS`` (one small table, no text built per household)."""
    n = len(recognised)
    if first_round:
        previous = typed_previous
        present = pd.notna(pd.Series(previous, dtype=object)).to_numpy() & (previous != "")
        moved_in = np.zeros(n, dtype=bool)
    else:
        previous = start.previous
        present = start.in_previous.astype(bool)
        moved_in = ~present & entered.astype(bool)
    lists = pd.Index(LISTED)
    p = np.where(present, lists.get_indexer(pd.Index(previous, dtype=object)), -1)
    c = lists.get_indexer(pd.Index(recognised, dtype=object))  # 0 poor, 1 near-poor, -1 off
    above = pd.Index(ABOVE).get_indexer(pd.Index(recognised, dtype=object)) >= 0
    p_listed, c_listed = p >= 0, c >= 0
    position = np.select(
        [p_listed & (c == p), p_listed & c_listed, p_listed & above, p_listed,
         c_listed & moved_in, c_listed & start.ever_listed.astype(bool), c_listed, moved_in],
        [0 + p, 2 + p, 4 + p, 6 + p, 8 + c, 10 + c, 12 + c, np.full(n, 14)], 15)  # fmt: skip
    codes: np.ndarray = np.asarray(FLOWS, dtype=object)[position]
    return codes
