"""The support ledger: support actually delivered, recorded against a round."""

from __future__ import annotations

from pathlib import Path

from engine.registry.history import current
from engine.registry.store import Registry, now
from engine.rulebook import Rulebook
from household_models.side import SideTable


def record_support(reg: Registry, round_name: str, table: SideTable, path: Path,
                   book: Rulebook) -> int:  # fmt: skip
    """Check every row (an action the rulebook knows, a household of the round, a member of
    it) and, when all are good, append them in one transaction; returns the rows recorded (0
    when some row is bad: those are in ``table.errors``)."""
    actions = sorted(a.id for a in book.interventions)
    known = set(actions)
    households = {str(h) for h in current(reg, "c.round = ?", round_name,
                                          columns="household_id")["household_id"].to_pylist()}
    members = {(str(h), int(m)) for h, m in reg.rows(
        "SELECT household_id, member_no FROM members WHERE round = ? AND member_no IS NOT NULL",
        round_name)}  # fmt: skip
    for row in table.rows:
        hid = row["household_id"]
        if row["action_id"] not in known:
            table.error(row["row"], "action_id", row["action_id"], hid, "unknown_action",
                        detail=", ".join(actions))  # fmt: skip
        if hid not in households:
            table.error(row["row"], "household_id", hid, hid, "not_in_round", detail=round_name)
        elif row["member_no"] is not None and (hid, int(row["member_no"])) not in members:
            table.error(row["row"], "member_no", row["member_no"], hid,
                        "member_not_in_household", detail=str(row["member_no"]),
                        member_no=row["member_no"])  # fmt: skip
    if table.errors or not table.rows:
        return 0
    rows = table.rows
    with reg.write():
        reg.append("support", {
            "household_id": [r["household_id"] for r in rows],
            "member_no": [None if r["member_no"] is None else float(r["member_no"]) for r in rows],
            "action_id": [r["action_id"] for r in rows],
            "delivered_on": [r["delivered_on"] for r in rows],
            "amount_vnd": [None if r["amount_vnd"] is None else float(r["amount_vnd"])
                           for r in rows],
            "programme": [r["programme"] for r in rows],
            "decision_no": [r["decision_no"] for r in rows],
            "recorded_at": [now()] * len(rows), "source": [path.name] * len(rows)}, round_name)  # fmt: skip
    return len(rows)
