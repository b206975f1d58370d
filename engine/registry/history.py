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
from typing import TYPE_CHECKING, Any

from engine.errors import RegistryError
from engine.registry.store import Registry

if TYPE_CHECKING:
    import pyarrow as pa

LISTED = ("poor", "near_poor")
FLOW_KEYS = {
    "poor": ["start", "to_near_poor", "escaped", "other_decrease", "from_near_poor",
             "re_entered", "new", "other_increase", "end"],
    "near_poor": ["start", "to_poor", "escaped", "other_decrease", "from_poor", "re_entered",
                  "new", "other_increase", "end"],
}  # fmt: skip
# An assessment ``a`` is the latest of its household in its round when no later one
# supersedes it (each new assessment of a household names the one it supersedes).
LATEST = ("a.seq NOT IN (SELECT s.supersedes FROM assessments s WHERE s.round = a.round "
          "AND s.supersedes IS NOT NULL)")  # fmt: skip
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


def require_round(reg: Registry, name: str) -> None:
    """A ``RegistryError`` naming the known rounds unless ``name`` is one of them."""
    names = [r.name for r in rounds(reg)]
    if name not in names:
        raise RegistryError("round_unknown", round=name, known=", ".join(names) or "—")


def current_sql(where: str = "", columns: str = "*") -> str:
    """The query of the latest assessment of each household in each round (``where`` on
    ``c``: the assessment's columns, ``recognised`` and the round's ``as_of``)."""
    return (f"SELECT {columns} FROM (SELECT a.*, coalesce(a.recognised_class, a.class) AS "
            f"recognised, r.as_of FROM assessments a JOIN rounds r ON r.round = a.round "
            f"WHERE {LATEST}) c" + (f" WHERE {where}" if where else ""))  # fmt: skip


def current(reg: Registry, where: str = "", *params: Any, columns: str = "*") -> pa.Table:
    """``current_sql`` as an Arrow table."""
    return reg.query(current_sql(where, columns), *params)


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
                           FROM assessments a WHERE a.round IN ($1, $2) AND {LATEST})),
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
    table = reg.records(sql, round_name, previous.name if previous else "")
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
    found = sorted(reg.records(current_sql("c.household_id = ?"), household_id),
                   key=lambda r: (r["as_of"], r["seq"]))  # fmt: skip
    if not found:
        raise RegistryError("household_not_in_registry", household_id=household_id, where="")
    delivered: dict[str, list[dict[str, Any]]] = {}
    for d in reg.records("SELECT round, member_no, action_id, delivered_on, amount_vnd, "
                         "programme, decision_no FROM support WHERE household_id = ? ORDER BY "
                         "round, seq", household_id):  # fmt: skip
        delivered.setdefault(d["round"], []).append(d)
    return [{
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
                       "decision_no": d["decision_no"]} for d in delivered.get(row["round"], [])],
    } for row in found]  # fmt: skip


def _iso(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _int(value: float | int | None) -> int | None:
    return None if value is None or value != value else int(value)
