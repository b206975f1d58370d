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
    """The flow code of each household of a round (see the module's docstring)."""
    c = recognised.astype(str)
    if first_round:
        p = np.array(["" if v is None else str(v) for v in typed_previous.tolist()], dtype=object)
        present = p != ""
        moved_in = np.zeros(len(c), dtype=bool)
    else:
        p = np.where(start.in_previous, start.previous, "").astype(str).astype(object)
        present = start.in_previous.astype(bool)
        moved_in = ~present & entered.astype(bool)
    p_listed, c_listed = np.isin(p, LISTED) & present, np.isin(c, LISTED)
    p_o, c_o = p.astype(object), c.astype(object)
    codes: np.ndarray = np.select(
        [p_listed & (c == p.astype(str)), p_listed & c_listed, p_listed & np.isin(c, ABOVE),
         p_listed, c_listed & moved_in, c_listed & start.ever_listed.astype(bool), c_listed,
         moved_in],
        [p_o + "_continuing", p_o + "_to_" + c_o, p_o + "_escaped", p_o + "_unresolved",
         "entered_" + c_o, "re_" + c_o, "new_" + c_o, "entered"],
        "not_listed")  # fmt: skip
    return codes.astype(object)
