"""What the rounds say of each household: its recognised class round by round, the status it
starts a round with (``previous_status``, ``left_list_on``), its flow code, and the flow
tables of a round.

The recognised class of a household in a round is the commune's decision where one was
recorded, else the engine's class, of its latest assessment in that round (a later assessment
supersedes an earlier one). Flow codes, for a household present in round R whose previous
round is P (the latest earlier round):

===================  =============================================================
``poor_continuing``  poor in P, poor in R (``near_poor_continuing`` likewise)
``poor_to_near_poor`` / ``near_poor_to_poor``  from one list to the other
``poor_escaped`` / ``near_poor_escaped``  listed in P, above the near-poor line in R
``poor_unresolved`` / ``near_poor_unresolved``  listed in P, not classified in R (input
                     errors, missing inputs): an other decrease until it is classified
``re_poor`` / ``re_near_poor``  listed in R, not listed at the start of R (off the list in P
                     or absent from it), listed in some earlier round
``new_poor`` / ``new_near_poor``  listed in R, never listed before
``entered_poor`` / ``entered_near_poor`` / ``entered``  absent from P and moved in or split
                     from another household (``events``) in R
``not_listed``       neither listed in P nor in R
===================  =============================================================

A household of P absent from R has left: ``left_moved_out``, ``left_merged``, ``left_dissolved``
(from the events recorded in R) or ``left_other``. In the first round of a registry, P is
the household's ``previous_status`` as typed in the survey, where given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from engine.errors import RegistryError
from engine.registry.store import Registry

LISTED = ("poor", "near_poor")
ABOVE = ("average", "not_poor")
FLOW_KEYS = {
    "poor": ["start", "to_near_poor", "escaped", "other_decrease", "from_near_poor",
             "re_entered", "new", "other_increase", "end"],
    "near_poor": ["start", "to_poor", "escaped", "other_decrease", "from_poor", "re_entered",
                  "new", "other_increase", "end"],
}  # fmt: skip
LEFT = {"moved_out": "left_moved_out", "merged_into": "left_merged", "dissolved": "left_dissolved"}


@dataclass
class RoundInfo:
    name: str
    as_of: dt.date
    closed: bool


def rounds(reg: Registry) -> list[RoundInfo]:
    """Every round, in date order."""
    sealed = {r[0] for r in reg.rows("SELECT round FROM seals")}
    return [RoundInfo(str(n), d, str(n) in sealed)
            for n, d in reg.rows("SELECT round, as_of FROM rounds ORDER BY as_of, seq")]  # fmt: skip


def current(reg: Registry, where: str = "", *params: Any, columns: str = "*") -> pd.DataFrame:
    """The latest assessment of each household in each round (``where`` on ``c``: the
    assessment's columns, ``recognised`` and the round's ``as_of``; it must keep or drop a
    household's rows of a round together, as conditions on round and household do)."""
    sql = (f"SELECT {columns} FROM (SELECT a.*, coalesce(a.recognised_class, a.class) AS "
           "recognised, r.as_of FROM assessments a JOIN rounds r ON r.round = a.round) c"
           + (f" WHERE {where}" if where else "")
           + " QUALIFY row_number() OVER (PARTITION BY c.round, c.household_id "
           "ORDER BY c.seq DESC) = 1")  # fmt: skip
    frame: pd.DataFrame = reg.query(sql, *params).to_pandas()
    return frame


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
                       as_of, columns="round, household_id, recognised, as_of")  # fmt: skip
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


def _conditions(name: str) -> dict[str, str]:
    """Each flow key of the list ``name`` as a SQL condition on a household's row."""
    other = "near_poor" if name == "poor" else "poor"
    was = f"(gone AND recognised = '{name}')"
    return {
        "start": f"({was} OR starts_with(flow, '{name}_'))",
        f"to_{other}": f"flow = '{name}_to_{other}'",
        "escaped": f"flow = '{name}_escaped'",
        "other_decrease": f"({was} OR flow = '{name}_unresolved')",
        f"from_{other}": f"flow = '{other}_to_{name}'",
        "re_entered": f"flow = 're_{name}'",
        "new": f"flow = 'new_{name}'",
        "other_increase": f"flow = 'entered_{name}'",
        "end": f"(NOT gone AND recognised = '{name}')",
    }


def flows(reg: Registry, round_name: str) -> dict[str, Any]:
    """The flow tables of a round: for poor and near-poor households, in total, by district
    and by commune, households and persons (``FLOW_KEYS``), in one grouped query. A household
    of the previous round absent from this one has left (its flow from this round's events).
    ``end`` equals ``start`` minus the decreases plus the increases on every row (checked)."""
    infos = rounds(reg)
    names = [r.name for r in infos]
    this = infos[names.index(round_name)]
    earlier = [r for r in infos if r.as_of < this.as_of]
    previous = earlier[-1] if earlier else None
    left = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in LEFT.items())
    sums = []
    for name in ("poor", "near_poor"):
        for unit, weight in (("households", "1"), ("persons", "persons")):
            for key, cond in _conditions(name).items():
                sums.append(f'CAST(sum(CASE WHEN {cond} THEN {weight} ELSE 0 END) AS BIGINT) '
                            f'AS "{name}|{unit}|{key}"')  # fmt: skip
    sql = f"""
        WITH cur AS (SELECT round, household_id, district, commune, recognised, persons, flow
                     FROM (SELECT a.*, coalesce(a.recognised_class, a.class) AS recognised
                           FROM assessments a WHERE a.round IN ($1, $2))
                     QUALIFY row_number() OVER (PARTITION BY round, household_id
                                                ORDER BY seq DESC) = 1),
             kinds AS (SELECT household_id, last(kind ORDER BY seq) AS kind FROM events
                       WHERE round = $1 AND kind IN ('moved_out', 'merged_into', 'dissolved')
                       GROUP BY household_id),
             everyone AS (
                SELECT household_id, district, commune, recognised, persons, flow, false AS gone
                FROM cur WHERE round = $1
                UNION ALL
                SELECT c.household_id, c.district, c.commune, c.recognised, c.persons,
                       CASE k.kind {left} ELSE 'left_other' END, true
                FROM cur c LEFT JOIN kinds k ON k.household_id = c.household_id
                WHERE c.round = $2 AND c.household_id NOT IN
                      (SELECT household_id FROM cur WHERE round = $1))
        SELECT GROUPING(district, commune) AS level, coalesce(district, '') AS district,
               coalesce(commune, '') AS commune, {", ".join(sums)}
        FROM (SELECT * REPLACE (coalesce(district, '') AS district,
                                coalesce(commune, '') AS commune,
                                coalesce(persons, 0) AS persons) FROM everyone)
        GROUP BY GROUPING SETS ((), (district), (district, commune))
        ORDER BY level DESC, district, commune"""
    table = reg.query(sql, round_name, previous.name if previous else "").to_pylist()
    rows: list[dict[str, Any]] = []
    levels = {3: "total", 1: "district", 0: "commune"}
    for found in table:
        for name in ("poor", "near_poor"):
            for unit in ("households", "persons"):
                row: dict[str, Any] = {"level": levels[found["level"]],
                                       "district": found["district"] if found["level"] < 3 else "",
                                       "commune": found["commune"] if found["level"] == 0 else "",
                                       "list": name, "unit": unit}  # fmt: skip
                row |= {k: int(found[f"{name}|{unit}|{k}"] or 0) for k in FLOW_KEYS[name]}
                _check_balance(row, name)
                rows.append(row)
    return {"round": round_name, "as_of": this.as_of.isoformat(),
            "previous_round": previous.name if previous else None, "rows": rows}  # fmt: skip


def _check_balance(row: dict[str, Any], name: str) -> None:
    other = "near_poor" if name == "poor" else "poor"
    balance = (row["start"] - row[f"to_{other}"] - row["escaped"] - row["other_decrease"]
               + row[f"from_{other}"] + row["re_entered"] + row["new"] + row["other_increase"])  # fmt: skip
    if balance != row["end"]:  # pragma: no cover - a bug, never the user's input
        raise AssertionError(f"flow balance broken: {row}")


def household_history(reg: Registry, household_id: str) -> list[dict[str, Any]]:
    """Every round of one household, in date order: class and recognised class, decision,
    flow, previous status, statuses, recommended and delivered support."""
    found = current(reg, "c.household_id = ?", household_id).sort_values("as_of")
    if found.empty:
        raise RegistryError("household_not_in_registry", household_id=household_id, where="")
    delivered = reg.query("SELECT round, member_no, action_id, delivered_on, amount_vnd, "
                          "programme, decision_no FROM support WHERE household_id = ? ORDER BY "
                          "round, seq", household_id).to_pandas()  # fmt: skip
    out = []
    found = found.astype(object).where(found.notna(), None)
    for row in found.to_dict("records"):
        given = delivered[delivered["round"] == row["round"]]
        out.append({
            "round": row["round"], "as_of": _iso(row["as_of"]), "class": row["class"],
            "recognised_class": row["recognised"], "decision_no": row["decision_no"],
            "decision_date": _iso(row["decision_date"]), "flow": row["flow"],
            "previous_status": row["previous_status"], "left_list_on": _iso(row["left_list_on"]),
            "deprivation_count": _int(row["deprivation_count"]), "deprived": row["deprived"],
            "statuses": row["statuses"], "recommendations": row["recommendations"],
            "district": row["district"], "commune": row["commune"],
            "delivered": [{"member_no": _int(d["member_no"]), "action_id": d["action_id"],
                           "delivered_on": _iso(d["delivered_on"]),
                           "amount_vnd": _int(d["amount_vnd"]), "programme": d["programme"],
                           "decision_no": d["decision_no"]} for d in given.to_dict("records")],
        })  # fmt: skip
    return out


def _iso(value: Any) -> str | None:
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return value.date().isoformat() if isinstance(value, pd.Timestamp) else value.isoformat()


def _int(value: Any) -> int | None:
    return None if value is None or value != value else int(value)
