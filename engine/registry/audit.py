"""Auditing a registry: ``verify`` (every chain, checkpoint, seal and stored file recomputed),
the rulebook of a recording rebuilt from its snapshot, one household's batch rebuilt from its
stored inputs (for ``explain --registry``), and ``export`` (Parquet and a manifest)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.errors import CheckFailed, RegistryError
from engine.registry.hashing import NEWEST, hashes
from engine.registry.history import current, require_round, rounds
from engine.registry.record import SEALED_TABLES, root_hash
from engine.registry.store import (
    FORMAT,
    ROUND_TABLES,
    SCHEMA_VERSION,
    TABLES,
    WHOLE,
    Registry,
    file_sha256,
)
from household_models.batch import ParsedBatch
from household_models.readers import RawBatch, SourceTable


@dataclass
class Tamper:
    table: str
    round: str
    seq: int
    household_id: str
    what: str

    def error(self) -> CheckFailed:
        who = f" (hộ/household {self.household_id})" if self.household_id else ""
        return CheckFailed("registry_tampered", table=self.table, round=self.round or "—",
                           seq=self.seq, household=who, what=self.what)  # fmt: skip


def _check_chain(reg: Registry, table: str, round_name: str | None) -> Tamper | None:
    where = "" if round_name is None else "WHERE round = ?"
    params = () if round_name is None else (round_name,)
    data = reg.query(f"SELECT * FROM {table} {where} ORDER BY seq", *params)
    seqs = data.column("seq").to_pylist()
    stored = data.column("row_hash").to_pylist()
    ids = data.column("household_id").to_pylist() if "household_id" in data.column_names \
        else [""] * len(seqs)  # fmt: skip
    again = hashes(data, "", reg.hash_scheme).to_pylist()
    for k, (seq, h, a) in enumerate(zip(seqs, stored, again, strict=True)):
        if seq != k + 1:
            return Tamper(table, round_name or "", k + 1, "",
                           f"row seq {k + 1} is missing (next found: {seq}): a row was deleted")
        if h != a:
            return Tamper(table, round_name or "", int(seq), str(ids[k] or ""),
                           "its content or its place in the chain was changed")
    return None


def verify(reg: Registry) -> dict[str, Any]:
    """Recompute every chain, every recording's checkpoint, every seal and every stored file;
    raise ``CheckFailed`` naming the first row that differs. Returns the counts checked and
    the registry's head (a hash of every chain's last row: write it down to catch a removal
    of the last rows since)."""
    meta = dict(reg.rows("SELECT key, value FROM meta"))
    # as created: schema 1 had no hash_scheme (scheme 1); schema 2 names its scheme
    made = (meta.get("schema_version"), meta.get("hash_scheme"))
    if meta.get("format") != FORMAT or made not in (("1", None), (str(SCHEMA_VERSION), str(NEWEST))):
        raise Tamper("meta", "", 0, "", f"meta changed: {meta}").error()
    checked = 0
    for table in WHOLE:
        found = _check_chain(reg, table, None)
        if found:
            raise found.error()
    names = [r.name for r in rounds(reg)]
    chained = {r[0] for t in ROUND_TABLES for r in reg.rows(f"SELECT DISTINCT round FROM {t}")}
    for stray in sorted(chained - set(names)):
        raise Tamper("rounds", stray, 0, "", "rows of a round the rounds table lacks").error()
    for name in names:
        for table in ROUND_TABLES:
            found = _check_chain(reg, table, name)
            if found:
                raise found.error()
        for seq, tails in reg.rows("SELECT seq, tails FROM recordings WHERE round = ? ORDER BY "
                                   "seq", name):  # fmt: skip
            for table, (last, h) in json.loads(tails).items():
                if last and reg.rows(f"SELECT 1 FROM {table} WHERE round = ? AND seq = ? AND "
                                     "row_hash = ?", name, last, h) == []:  # fmt: skip
                    raise Tamper(table, name, int(last), "", f"the checkpoint of recording "
                                  f"{seq} no longer matches: rows were removed").error()
        seal = reg.rows("SELECT root_hash FROM seals WHERE round = ?", name)
        if seal and seal[0][0] != root_hash(reg, name):
            raise Tamper("seals", name, 0, "", "the round's rows no longer match its seal "
                          "(rows added, removed or changed after closing)").error()
        checked += sum(reg.rows(f"SELECT count(*) FROM {t} WHERE round = ?", name)[0][0]
                       for t in ROUND_TABLES)  # fmt: skip
    for sha, content in reg.rows("SELECT sha256, content FROM blobs"):
        if hashlib.sha256(content).hexdigest() != sha:
            raise Tamper("blobs", "", 0, "", f"stored file {sha[:12]} was changed").error()
    return {"rounds": len(names), "rows": checked, "head": head(reg)}


def head(reg: Registry) -> str:
    """One hash of every chain's last row."""
    parts = {t: reg.tail(t, None)[1] for t in WHOLE}
    for name in [r.name for r in rounds(reg)]:
        parts |= {f"{name}/{t}": reg.tail(t, name)[1] for t in ROUND_TABLES}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


@contextlib.contextmanager
def rules_snapshot(reg: Registry, round_name: str, recording: int) -> Iterator[Path]:
    """The rulebook files of a recording, written to a private temporary folder."""
    found = reg.rows("SELECT rules FROM recordings WHERE round = ? AND seq = ?", round_name,
                     recording)  # fmt: skip
    manifest = json.loads(found[0][0])
    with tempfile.TemporaryDirectory(prefix="giamngheo-rules-") as tmp:
        root = Path(tmp)
        for rel, sha in manifest.items():
            blob = reg.rows("SELECT content FROM blobs WHERE sha256 = ?", sha)
            if not blob or hashlib.sha256(blob[0][0]).hexdigest() != sha:
                raise Tamper("blobs", round_name, 0, "", f"rule file {rel} is missing or "
                              "changed").error()  # fmt: skip
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(blob[0][0])
        yield root


def assessment(reg: Registry, round_name: str, household_id: str) -> dict[str, Any]:
    """The latest assessment of a household in a round."""
    found = current(reg, "c.round = ? AND c.household_id = ?", round_name, household_id).to_pandas()
    if found.empty:
        raise RegistryError("household_not_in_registry", household_id=household_id,
                            where=f" (kỳ/round {round_name})")  # fmt: skip
    return dict(found.iloc[0])


def _raw_frame(table: Any) -> pd.DataFrame:
    """Stored rows as the cells a survey gives: dates as ISO text, whole numbers stored as
    floating point as integers, missing cells None."""
    frame = table.to_pandas()
    out = {}
    for name in frame.columns:
        col = frame[name]
        if pd.api.types.is_float_dtype(col):
            whole = col.dropna()
            if len(whole) and bool((whole == np.floor(whole)).all()):
                col = col.astype("Int64")
        elif pd.api.types.is_datetime64_any_dtype(col):
            col = col.dt.strftime("%Y-%m-%d")
        elif col.dtype == object:
            col = col.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else v)
        out[name] = col.astype(object).where(col.notna(), None)
    return pd.DataFrame(out, dtype=object)


def stored_inputs(reg: Registry, round_name: str, seqs: list[int],
                  names: bool = False) -> RawBatch:  # fmt: skip
    """The stored inputs of the assessments ``seqs`` of a round, as the raw tables a survey
    gives (in ``seqs`` order, members by member number); with ``names``, the names and id
    numbers of the personal table put back."""
    import pyarrow as pa

    reg.con.register("_wanted", pa.table({"seq": pa.array(seqs, pa.int64()),
                                          "k": pa.array(range(len(seqs)), pa.int64())}))
    try:
        hh = _raw_frame(reg.query(
            "SELECT h.* EXCLUDE (round, row_hash, seq), w.seq FROM households h JOIN _wanted w "
            "ON w.seq = h.seq WHERE h.round = ? ORDER BY w.k", round_name))  # fmt: skip
        members = _raw_frame(reg.query(
            "SELECT m.* EXCLUDE (round, seq, row_hash) FROM members m JOIN _wanted w ON "
            "w.seq = m.assessment WHERE m.round = ? ORDER BY w.k, m.member_no, m.seq",
            round_name))  # fmt: skip
        personal = reg.query("SELECT p.assessment, p.member_no, p.name, p.id_number FROM "
                             "personal p JOIN _wanted w ON w.seq = p.assessment WHERE "
                             "p.round = ? ORDER BY p.seq", round_name).to_pandas() \
            if names else pd.DataFrame()  # fmt: skip
    finally:
        reg.con.unregister("_wanted")
    if not personal.empty:
        heads = personal[personal["member_no"].isna()].drop_duplicates("assessment")
        hh["head_name"] = hh["seq"].map(dict(zip(heads["assessment"], heads["name"],
                                                  strict=True)))  # fmt: skip
        rest = personal[personal["member_no"].notna()]
        key = dict(zip(zip(rest["assessment"], rest["member_no"].astype(int), strict=True),
                       zip(rest["name"], rest["id_number"], strict=True), strict=True))  # fmt: skip
        pairs = [key.get((int(a), int(m)), (None, None)) if m is not None else (None, None)
                 for a, m in zip(members["assessment"], members["member_no"], strict=True)]
        members["name"] = [p[0] for p in pairs]
        members["id_number"] = [p[1] for p in pairs]
    return RawBatch(SourceTable(hh.drop(columns=["seq"]), "registry", "household", 1),
                    SourceTable(members.drop(columns=["assessment"]), "registry", "members", 1))


def household_batch(reg: Registry, found: dict[str, Any]) -> ParsedBatch:
    """One household's batch, parsed again from its stored inputs; a household recorded as
    invalid keeps its recorded input errors."""
    from household_models.parse import parse_batch

    batch = parse_batch(stored_inputs(reg, found["round"], [int(found["seq"])]))
    if found["class"] != "invalid":
        return batch
    errors = reg.query("SELECT file, sheet, \"row\", \"column\", value, household_id, member_no, "
                       "code, message_vi, message_en FROM input_errors WHERE round = ? AND "
                       "household_id = ? AND recording = ? ORDER BY seq", found["round"],
                       found["household_id"], int(found["recording"])).to_pandas()  # fmt: skip
    errors["row"] = pd.array(errors["row"], dtype="Int64")
    batch.household_invalid[:] = True
    batch.household_error[:] = found["error"]
    batch.errors = errors
    return batch


def export(reg: Registry, round_name: str, folder: Path, with_names: bool) -> list[Path]:
    """Each table's rows of the round as Parquet, the rulebook files it used, and
    ``manifest.json`` (SHA-256 of every file, the round's seal): readable without giamngheo."""
    from engine.files import write_tables, write_text

    require_round(reg, round_name)
    tables: dict[str, pd.DataFrame] = {}
    for table in TABLES:
        if table == "personal" and not with_names:
            continue
        tables[table] = reg.query(f"SELECT * FROM {table} WHERE round = ? ORDER BY seq",
                                  round_name).to_pandas()  # fmt: skip
    paths = {t: folder / f"{t}.parquet" for t in tables}
    written = write_tables(tables, folder / "manifest.json", paths=paths)
    for seq, rules in reg.rows("SELECT seq, rules FROM recordings WHERE round = ? ORDER BY seq",
                               round_name):  # fmt: skip
        for rel, sha in json.loads(rules).items():
            content = reg.rows("SELECT content FROM blobs WHERE sha256 = ?", sha)[0][0]
            written.append(write_text(folder / "rules" / f"recording-{seq}" / rel,
                                      bytes(content).decode("utf-8")))  # fmt: skip
    seal = reg.rows("SELECT root_hash, closed_at FROM seals WHERE round = ?", round_name)
    manifest = {
        "format": FORMAT, "schema_version": reg.schema_version,
        "hash_scheme": reg.hash_scheme, "round": round_name,
        "sealed": bool(seal), "root_hash": seal[0][0] if seal else None,
        "closed_at": seal[0][1].isoformat() if seal else None,
        "with_names": with_names, "sealed_tables": SEALED_TABLES,
        "files": {p.relative_to(folder).as_posix(): file_sha256(p) for p in written},
        "rows": {t: len(f) for t, f in tables.items()},
    }  # fmt: skip
    written.append(write_text(folder / "manifest.json",
                              json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"))  # fmt: skip
    return written

