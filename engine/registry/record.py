"""Recording a classified batch into a round, closing a round, and the support ledger.

``review record`` is three steps around the same ``classify`` as the command of that name:
``begin_round`` checks the round can take the batch (open, dated after every earlier round,
every earlier round closed), ``apply_history`` sets each household's ``previous_status`` and
``left_list_on`` from the registry (a value typed in that disagrees is an error row naming both),
then, once classified, ``record`` writes everything in one transaction: begun while the batch
is classified, when its inputs' rows are appended beside it (``engine.registry.early``), and
committed by the caller (``Registry.commit``) once the outputs are written, so that the last
rows are inserted while they are."""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import importlib.metadata
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import RegistryError
from engine.registry import early
from engine.registry.append import append_rows, batch_rows, earlier_assessments
from engine.registry.early import EarlyInputs
from engine.registry.history import LISTED, RoundInfo, rounds
from engine.registry.rows import input_tables
from engine.registry.start import Start, start_of_round
from engine.registry.store import ROUND_TABLES, Registry, file_sha256, now
from engine.results.classify import BatchResult
from engine.rulebook import Resolved, Rulebook
from household_models.batch import Column, ParsedBatch
from household_models.schema import FIELD_SPECS
from household_models.side import SideTable
from household_models.vocab import format_message

SEALED_TABLES = [t for t in ROUND_TABLES if t not in ("support", "traces")]


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


def package_version() -> str:
    try:
        return importlib.metadata.version("giamngheo")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a checkout
        return "0+unknown"


@dataclass
class Plan:
    """The round a batch goes into, and the round before it."""

    name: str
    as_of: dt.date
    exists: bool
    previous: RoundInfo | None
    start: Start | None = None
    typed_previous: np.ndarray = field(default_factory=lambda: np.zeros(0, object))
    early: EarlyInputs | None = None  # the inputs being staged beside the classification

    def close(self) -> None:
        """Stop staging early (if under way), roll back what was appended early if the
        recording was not committed, and remove the staged files."""
        if self.early is not None:
            self.early.close()


def begin_round(reg: Registry, name: str, as_of: dt.date) -> Plan:
    """Check that ``name`` can take a recording on ``as_of``; refused with a ``RegistryError``
    (a closed round, another date, a date not after every other round, an open earlier round)."""
    infos = rounds(reg)
    mine = next((r for r in infos if r.name == name), None)
    if mine is not None:
        if mine.closed:
            raise RegistryError("round_closed", round=name)
        if mine.as_of != as_of:
            raise RegistryError("round_other_date", round=name, recorded=mine.as_of, given=as_of)
    else:
        later = [r for r in infos if r.as_of >= as_of]
        if later:
            raise RegistryError("round_not_after", round=name, as_of=as_of,
                                other=later[-1].name, other_as_of=later[-1].as_of)  # fmt: skip
    earlier = [r for r in infos if r.as_of < as_of]
    still_open = [r.name for r in earlier if not r.closed]
    if still_open:
        raise RegistryError("round_earlier_open", round=name, open=", ".join(still_open))
    return Plan(name, as_of, mine is not None, earlier[-1] if earlier else None)


def apply_history(reg: Registry, plan: Plan, batch: ParsedBatch) -> ParsedBatch:
    """Set ``previous_status`` and ``left_list_on`` of every household the registry knows from
    its history (``with_history``)."""
    ids = [str(v) for v in batch.households["household_id"].values.tolist()]
    plan.start = start_of_round(reg, ids, plan.as_of, plan.previous)
    batch, plan.typed_previous = with_history(batch, plan.start, plan.previous is not None)
    return batch


def with_history(batch: ParsedBatch, start: Start, has_previous: bool
                 ) -> tuple[ParsedBatch, np.ndarray]:  # fmt: skip
    """The batch with ``previous_status`` and ``left_list_on`` of every household the history
    ``start`` knows; a typed value that disagrees becomes an error row naming both (the
    history's value is used). Households new to the registry keep what was typed. Also each
    household's typed ``previous_status`` (None where not typed)."""
    ids = [str(v) for v in batch.households["household_id"].values.tolist()]
    prev_col, left_col = batch.households["previous_status"], batch.households["left_list_on"]
    codes = prev_col.codes
    typed = np.where(prev_col.missing, -1, np.asarray(prev_col.values, dtype=np.int64))
    typed_previous = np.array([*codes, None], dtype=object)[typed]  # -1: None
    if not has_previous or not start.known.any():
        return batch, typed_previous
    known = start.known
    history = pd.Index(codes).get_indexer(pd.Index(start.previous))  # -1: none or unlisted code
    derived = np.where(known, history, typed)
    typed_left = np.where(left_col.missing, np.datetime64("NaT"),
                          np.asarray(left_col.values, dtype="datetime64[D]"))  # fmt: skip
    history_left = np.array(start.left_list_on, dtype="datetime64[D]")
    derived_left = np.where(known, history_left, typed_left)
    as_text = np.array([*codes, None], dtype=object)
    found_left = history_left.astype(str).astype(object)
    found_left[np.isnat(history_left)] = None
    checks = [
        ("previous_status", known & (typed >= 0) & (typed != history), typed_previous,
         as_text[history]),
        ("left_list_on", known & ~left_col.missing & (typed_left != history_left),
         typed_left.astype(str), found_left),
    ]  # fmt: skip
    rows = []
    for name, wrong, given, found in checks:
        spec = FIELD_SPECS["household"][name]
        for i in np.flatnonzero(wrong).tolist():
            vi, en = format_message("history_disagrees", spec, given[i], str(found[i] or "—"))
            rows.append({"file": batch.source[0], "sheet": batch.source[1],
                         "row": int(batch.household_rows[i]),
                         "column": batch.column_headers.get(name, name), "value": str(given[i]),
                         "household_id": ids[i], "member_no": "", "code": "history_disagrees",
                         "message_vi": vi, "message_en": en})  # fmt: skip
    households = dict(batch.households)
    households["previous_status"] = Column("code", derived.astype(np.int16), derived < 0, codes)
    households["left_list_on"] = Column("date", derived_left, np.isnat(derived_left))
    errors = batch.errors
    if rows:
        errors = pd.concat([batch.errors, pd.DataFrame(rows)], ignore_index=True)
        errors["row"] = errors["row"].astype("Int64")
        errors = errors.sort_values(["file", "sheet", "row"], kind="stable", na_position="first",
                                    ignore_index=True)  # fmt: skip
    return replace(batch, households=households, errors=errors), typed_previous


def prepare_batch(reg: Registry, plan: Plan, batch: ParsedBatch) -> ParsedBatch:
    """The batch as it is recorded (``apply_history``), its inputs' rows then staged beside
    its classification (``engine.registry.early``)."""
    batch = apply_history(reg, plan, batch)
    plan.close()
    plan.early = early.start(reg, plan.name, batch)
    return batch


def check_decisions(table: SideTable, batch: ParsedBatch, round_name: str) -> None:
    """An error row for each decision about a household the batch lacks, or about one already
    decided above it in the table."""
    ids = set(str(h) for h in batch.households["household_id"].values.tolist())
    seen: set[str] = set()
    for row in table.rows:
        hid = row["household_id"]
        if hid not in ids:
            table.error(row["row"], "household_id", hid, hid, "not_in_round", detail=round_name)
        elif hid in seen:
            table.error(row["row"], "household_id", hid, hid, "duplicate_row")
        seen.add(hid)


def snapshot(reg: Registry, book: Rulebook) -> dict[str, str]:
    """Store the rulebook's files by content hash; returns path -> SHA-256."""
    manifest: dict[str, str] = {}
    known = {r[0] for r in reg.rows("SELECT sha256 FROM blobs")}
    root = Path(book.root)
    for path in sorted(root.rglob("*.yaml")):
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        manifest[path.relative_to(root).as_posix()] = sha
        if sha not in known:
            reg.con.execute("INSERT INTO blobs VALUES (?, ?, ?)", [sha, len(data), data])
            known.add(sha)
    return manifest


def tails(reg: Registry, round_name: str) -> dict[str, list[Any]]:
    """Each chain's last ``seq`` and ``row_hash`` for the round (the checkpoint of a recording)."""
    return {t: list(reg.tail(t, round_name)) for t in ROUND_TABLES}


def open_recording(reg: Registry, plan: Plan, book: Rulebook) -> tuple[int, dict[str, str]]:
    """Inside the transaction: the round's row (if new), the rulebook's snapshot, and the
    number of the recording about to be written; the number and the snapshot's manifest."""
    reg.prepare(plan.name)
    if not plan.exists:
        reg.append("rounds", {"round": [plan.name], "as_of": [plan.as_of],
                              "created_at": [now()], "os_user": [_user()]}, None)  # fmt: skip
    manifest = snapshot(reg, book)
    return reg.tail("recordings", plan.name)[0] + 1, manifest


def close_recording(reg: Registry, plan: Plan, r: Resolved, manifest: dict[str, str],
                    inputs: dict[str, str], options: dict[str, Any], households: int) -> None:  # fmt: skip
    """The recording's own row, last (``inputs``: each input file's SHA-256 by name), with
    every chain's tail as it ends."""
    reg.append("recordings", {
        "recorded_at": [now()], "os_user": [_user()], "package_version": [package_version()],
        "rulebook_version": [r.rulebook_version], "standard": [r.version.id],
        "rules": [json.dumps(manifest, sort_keys=True)],
        "inputs": [json.dumps(inputs, sort_keys=True, ensure_ascii=False)],
        "options": [json.dumps(options, sort_keys=True)], "households": [households],
        "tails": [json.dumps(tails(reg, plan.name))]}, plan.name)  # fmt: skip


def record(reg: Registry, plan: Plan, batch: ParsedBatch, result: BatchResult, book: Rulebook,
           inputs: list[Path], options: dict[str, Any], decisions: SideTable | None = None,
           events: SideTable | None = None) -> dict[str, Any]:  # fmt: skip
    """Write the round (if new), the recording, and every household's inputs, decisions and
    flow code, in one transaction, left open: the caller commits it (``Registry.commit``), or
    rolls it back (``Plan.close``). Returns what was written (counts)."""
    r = result.resolved
    reg.begin()
    try:
        recording, manifest = open_recording(reg, plan, book)
        n = batch.n_households
        ids = [str(v) for v in batch.households["household_id"].values.tolist()]
        earlier = earlier_assessments(reg, plan.name)
        decided = {d["household_id"]: d for d in (decisions.rows if decisions else [])}
        if events:
            reg.append("events", {
                "recording": [recording] * len(events.rows),
                "household_id": [e["household_id"] for e in events.rows],
                "kind": [e["kind"] for e in events.rows],
                "on_date": [e["on_date"] for e in events.rows],
                "related_household_id": [e["related_household_id"] for e in events.rows],
                "note": [e["note"] for e in events.rows]}, plan.name)  # fmt: skip
        entered_ids = {h for h, k in reg.rows("SELECT household_id, kind FROM events WHERE "
                                              "round = ?", plan.name)
                       if k in ("moved_in", "split_from")}  # fmt: skip
        start = plan.start or start_of_round(reg, ids, plan.as_of, plan.previous)
        rows = batch_rows(batch, result, start, plan.previous is None, plan.typed_previous,
                          decided, entered_ids, inputs=False)  # fmt: skip

        def input_rows(first: int) -> dict[str, Any]:
            """The inputs' rows: none if appended beside the classification, else staged now."""
            if plan.early is not None and plan.early.collect(first):
                return {}
            return input_tables(batch, first)

        superseded = sum(h in earlier for h in ids)
        append_rows(reg, plan.name, recording, rows, earlier, input_rows)
        close_recording(reg, plan, r, manifest, {p.name: file_sha256(p) for p in inputs},
                        options, n)  # fmt: skip
    except BaseException:
        reg.rollback()
        raise
    listed = int(np.isin(rows.recognised, LISTED).sum())
    return {"recording": recording, "households": n, "superseded": superseded, "listed": listed,
            "flows": pd.Series(rows.flows).value_counts().to_dict()}  # fmt: skip


def root_hash(reg: Registry, round_name: str) -> str:
    """The seal of a round: SHA-256 over its round row and the tails of its sealed chains."""
    row = reg.rows("SELECT row_hash FROM rounds WHERE round = ?", round_name)
    parts = {"round": row[0][0] if row else ""}
    parts |= {t: reg.tail(t, round_name)[1] for t in SEALED_TABLES}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def close_round(reg: Registry, name: str) -> str:
    """Seal a round: no recording goes into it after this. Returns its root hash."""
    infos = {r.name: r for r in rounds(reg)}
    if name not in infos:
        raise RegistryError("round_unknown", round=name, known=", ".join(infos) or "—")
    if infos[name].closed:
        raise RegistryError("round_closed", round=name)
    with reg.write():
        root = root_hash(reg, name)
        reg.append("seals", {"round": [name], "closed_at": [now()], "os_user": [_user()],
                             "root_hash": [root]}, None)  # fmt: skip
    return root

