"""Three review rounds of hand-made households (the plan below), recorded into a registry:
shared by the registry's tests and the report forms' tests, whose expected numbers are worked
by hand from this plan."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from tests.helpers import EXAMPLES, run

LOW, MID, HIGH = 1_200_000, 2_000_000, 3_000_000
# household -> round -> (template, income) ; absent from a round when missing
PLAN: dict[str, dict[str, tuple[str, int]]] = {
    "T-01": {"2023": ("P", LOW), "2024": ("P", LOW), "2025": ("P", LOW)},
    "T-02": {"2023": ("P", LOW), "2024": ("P", MID), "2025": ("P", MID)},
    "T-03": {"2023": ("P", LOW), "2024": ("P", MID), "2025": ("P", LOW)},
    "T-04": {"2023": ("N", LOW), "2024": ("P", LOW), "2025": ("N", LOW)},
    "T-05": {"2023": ("N", LOW), "2024": ("N", HIGH)},
    "T-06": {"2024": ("P", LOW)},
    "T-07": {"2023": ("P", HIGH), "2024": ("P", HIGH), "2025": ("N", LOW)},
    "T-08": {"2025": ("P", LOW)},
    "T-09": {"2023": ("P", LOW)},
}
AS_OF = {"2023": "2023-10-15", "2024": "2024-10-15", "2025": "2025-10-15"}
TEMPLATE = {"P": "HY-001", "N": "HY-002"}


def batch(folder: Path, round_name: str, typed: dict[str, str] | None = None) -> list[Path]:
    hh = pd.read_csv(EXAMPLES / "households.csv", dtype=str, keep_default_na=False)
    mem = pd.read_csv(EXAMPLES / "members.csv", dtype=str, keep_default_na=False)
    hh_rows, mem_rows = [], []
    for hid, rounds in PLAN.items():
        if round_name not in rounds:
            continue
        template, income = rounds[round_name]
        row = hh[hh["mã hộ"] == TEMPLATE[template]].iloc[0].copy()
        row["mã hộ"], row["thu nhập bình quân"] = hid, str(income)
        row["họ tên chủ hộ"] = f"Chủ hộ {hid}"
        row["phân loại năm trước"] = (typed or {}).get(hid, "")
        hh_rows.append(row)
        for _, m in mem[mem["mã hộ"] == TEMPLATE[template]].iterrows():
            m = m.copy()
            m["mã hộ"] = hid
            mem_rows.append(m)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"hh-{round_name}.csv", folder / f"mem-{round_name}.csv"]
    pd.DataFrame(hh_rows).to_csv(paths[0], index=False)
    pd.DataFrame(mem_rows).to_csv(paths[1], index=False)
    return paths


def one(reg: Path, sql: str) -> Any:
    con = duckdb.connect(str(reg), read_only=True)
    try:
        return con.execute(sql).fetchall()[0][0]
    finally:
        con.close()


def table(path: Path, rows: list[dict[str, Any]]) -> Path:
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def record(reg: Path, folder: Path, round_name: str, *extra: str,
            typed: dict[str, str] | None = None) -> tuple[int, str]:  # fmt: skip
    paths = batch(folder, round_name, typed)
    return run("review", "record", *map(str, paths), "--registry", str(reg), "--round",
               round_name, "--as-of", AS_OF[round_name], "--verify", "0", *extra)  # fmt: skip


def three_rounds(folder: Path) -> dict[str, Any]:
    """Three rounds recorded and closed, with events, a decision and delivered support."""
    reg = folder / "hungyen.duckdb"
    code, out = record(reg, folder, "2023", typed={"T-09": "poor"})
    assert code == 0, out
    assert run("review", "close", "--registry", str(reg), "--round", "2023")[0] == 0
    code, out2024 = record(reg, folder, "2024", "-o", str(folder / "res-2024.xlsx"),
                            typed={"T-01": "near_poor"})  # fmt: skip
    assert code == 0, out2024
    assert run("review", "close", "--registry", str(reg), "--round", "2024")[0] == 0
    events = table(folder / "events.csv", [
        {"household_id": "T-05", "kind": "chuyển đi", "on_date": "2025-03-01"},
        {"household_id": "T-08", "kind": "moved_in", "on_date": "2025-02-01"}])  # fmt: skip
    decisions = table(folder / "decisions.csv", [
        {"mã hộ": "T-01", "phân loại được công nhận": "hộ cận nghèo",
         "số quyết định": "12/QĐ-UBND", "ngày quyết định": "20/12/2025"}])  # fmt: skip
    code, out = record(reg, folder, "2025", "--events", str(events), "--decisions",
                        str(decisions))  # fmt: skip
    assert code == 0, out
    support = table(folder / "support.csv", [
        {"household_id": "T-03", "member_no": "", "action_id": "credit.vbsp_poor",
         "delivered_on": "2026-01-10", "amount_vnd": "50.000.000", "programme": "NHCSXH",
         "decision_no": "5/QĐ"},
        {"household_id": "T-03", "member_no": "3", "action_id": "education.tuition_support",
         "delivered_on": "2026-02-01", "amount_vnd": "", "programme": "", "decision_no": ""}])  # fmt: skip
    code, out = run("review", "support", "--registry", str(reg), "--round", "2025", str(support))
    assert code == 0, out
    return {"reg": reg, "folder": folder, "out2024": out2024}


def hashes_as_documented(reg: Path, table_name: str, round_name: str, scheme: int
                         ) -> tuple[list[str], list[str]]:  # fmt: skip
    """The stored ``row_hash`` of a chain of ints, texts and dates, and the same computed here
    from its cells as the registry's documentation defines them (hashlib, not the package):
    a row's text is its cells as text, a missing one as U+0000, joined by U+001F; scheme 1
    hashes the previous hash and the SHA-256 of that text, scheme 2 the previous hash and
    the text itself."""
    con = duckdb.connect(str(reg), read_only=True)
    try:
        cursor = con.execute(f"SELECT * FROM {table_name} WHERE round = ? ORDER BY seq",
                             [round_name])  # fmt: skip
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()
    finally:
        con.close()
    stored, computed, previous = [], [], b""
    for row in rows:
        cells = ["\x00" if v is None else v.isoformat() if isinstance(v, dt.date) else str(v)
                 for n, v in zip(names, row, strict=True) if n != "row_hash"]  # fmt: skip
        text = "\x1f".join(cells).encode("utf-8")
        content = hashlib.sha256(text).digest() if scheme == 1 else text
        previous = hashlib.sha256(previous + content).digest()
        computed.append(previous.hex())
        stored.append(row[names.index("row_hash")])
    return stored, computed
