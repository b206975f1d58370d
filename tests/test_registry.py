"""The registry of review rounds on three hand-made rounds: flows, derived statuses, decisions,
history, support, explain years later, tampering, and the errors of the procedure.

The batches are built from two templates of the example survey: P (HY-001's house and members:
5 deprivations) and N (HY-002's: 1 deprivation); with a monthly income of 1,200,000 VND (under
the 1,500,000 rural line of Decree 07/2021 Art. 3.1.a) P is poor and N near-poor; at 2,000,000
(over the line, under the 2,250,000 ceiling of Art. 3.1.c... the average-living band) both are
average; at 3,000,000 both are above every list (not_poor).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from tests.helpers import EXAMPLES, ROOT, run
from tests.rounds import AS_OF, batch, one, record, table, three_rounds


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return three_rounds(tmp_path_factory.mktemp("registry"))


def _flows(reg: Path, round_name: str) -> dict[str, Any]:
    code, out = run("review", "flows", "--registry", str(reg), "--round", round_name,
                    "--format", "json")  # fmt: skip
    assert code == 0, out
    return json.loads(out[out.index("{"):])  # type: ignore[no-any-return]


def _total(data: dict[str, Any], list_name: str, unit: str = "households") -> dict[str, int]:
    row = next(r for r in data["rows"] if r["level"] == "total" and r["list"] == list_name
               and r["unit"] == unit)  # fmt: skip
    return {k: v for k, v in row.items() if k not in ("level", "district", "commune", "list",
                                                      "unit")}  # fmt: skip


# The keys of the flow tables, in the order (written here, not imported).
KEYS = {"poor": ["start", "to_near_poor", "escaped", "other_decrease", "from_near_poor",
                 "re_entered", "new", "other_increase", "end"],
        "near_poor": ["start", "to_poor", "escaped", "other_decrease", "from_poor",
                      "re_entered", "new", "other_increase", "end"]}  # fmt: skip


def _expect(data: dict[str, Any], **lists: list[int]) -> None:
    for name, values in lists.items():
        assert _total(data, name) == dict(zip(KEYS[name], values, strict=True)), name


def test_flows_of_2024_are_those_of_the_procedure(registry: dict[str, Any]) -> None:
    data = _flows(registry["reg"], "2024")
    assert data["previous_round"] == "2023"
    # start: T-01, T-02, T-03, T-09; T-02 and T-03 escape; T-09 is gone; T-04 comes from the
    # near-poor list; T-06 is new.
    _expect(data, poor=[4, 0, 2, 1, 1, 0, 1, 0, 3], near_poor=[2, 1, 1, 0, 0, 0, 0, 0, 0])
    # three members a household in both templates
    assert _total(data, "poor", "persons")["start"] == 12


def test_flows_of_2025_with_events_and_a_decision(registry: dict[str, Any]) -> None:
    data = _flows(registry["reg"], "2025")
    # T-01 (decided near-poor) and T-04 go to the near-poor list, T-06 left without an event,
    # T-03 is poor again (tái nghèo), T-08 moved in poor.
    _expect(data, poor=[3, 2, 0, 1, 0, 1, 0, 1, 2], near_poor=[0, 0, 0, 0, 2, 0, 1, 0, 3])


def test_every_flow_row_balances(registry: dict[str, Any]) -> None:
    for round_name in AS_OF:
        for row in _flows(registry["reg"], round_name)["rows"]:
            other = "near_poor" if row["list"] == "poor" else "poor"
            assert row["end"] == (row["start"] - row[f"to_{other}"] - row["escaped"]
                                  - row["other_decrease"] + row[f"from_{other}"]
                                  + row["re_entered"] + row["new"] + row["other_increase"]), row


def _history(reg: Path, household: str) -> list[dict[str, Any]]:
    code, out = run("review", "history", "--registry", str(reg), "--household", household,
                    "--format", "json")  # fmt: skip
    assert code == 0, out
    return json.loads(out[out.index("{"):])["rounds"]  # type: ignore[no-any-return]


def test_newly_escaped_and_re_poor_come_from_the_history(registry: dict[str, Any]) -> None:
    t02 = {r["round"]: r for r in _history(registry["reg"], "T-02")}
    assert t02["2024"]["previous_status"] == "poor" and t02["2024"]["flow"] == "poor_escaped"
    assert "newly_escaped" in t02["2024"]["statuses"]
    # a year after leaving the list: still newly escaped, by the date it left
    assert t02["2025"]["previous_status"] == "average"
    assert t02["2025"]["left_list_on"] == "2024-10-15"
    assert "newly_escaped" in t02["2025"]["statuses"] and t02["2025"]["flow"] == "not_listed"
    t03 = {r["round"]: r for r in _history(registry["reg"], "T-03")}
    assert t03["2025"]["flow"] == "re_poor" and t03["2025"]["left_list_on"] == "2024-10-15"
    t05 = {r["round"]: r for r in _history(registry["reg"], "T-05")}
    assert "escaped_near_poverty" in t05["2024"]["statuses"]
    assert t05["2024"]["flow"] == "near_poor_escaped"


def test_a_decision_is_kept_beside_the_engines_class(registry: dict[str, Any]) -> None:
    t01 = {r["round"]: r for r in _history(registry["reg"], "T-01")}["2025"]
    assert (t01["class"], t01["recognised_class"]) == ("poor", "near_poor")
    assert (t01["decision_no"], t01["decision_date"]) == ("12/QĐ-UBND", "2025-12-20")
    assert t01["flow"] == "poor_to_near_poor"
    code, out = run("review", "history", "--registry", str(registry["reg"]), "--household",
                    "T-01")  # fmt: skip
    assert "hộ cận nghèo (near_poor) (bộ máy / engine: hộ nghèo (poor))" in out


def test_a_typed_previous_status_that_disagrees_is_an_error_row(registry: dict[str, Any]) -> None:
    errors = pd.read_excel(registry["folder"] / "res-2024.xlsx", sheet_name="errors")
    row = errors[errors["code"] == "history_disagrees"].iloc[0]
    assert row["household_id"] == "T-01" and row["value"] == "near_poor"
    assert "'poor'" in row["message_en"] and "near_poor" in row["message_en"]


def test_support_is_in_the_history(registry: dict[str, Any]) -> None:
    t03 = {r["round"]: r for r in _history(registry["reg"], "T-03")}["2025"]
    assert [(d["action_id"], d["member_no"], d["amount_vnd"]) for d in t03["delivered"]] == [
        ("credit.vbsp_poor", None, 50_000_000), ("education.tuition_support", 3, None)]


def test_bad_support_rows_are_refused_whole(registry: dict[str, Any], tmp_path: Path) -> None:
    reg = tmp_path / "r.duckdb"
    shutil.copy(registry["reg"], reg)
    bad = table(tmp_path / "bad.csv", [
        {"household_id": "T-03", "action_id": "no.such_action", "delivered_on": "2026-01-10"},
        {"household_id": "XX-1", "action_id": "credit.vbsp_poor", "delivered_on": "2026-01-10"},
        {"household_id": "T-03", "member_no": "9", "action_id": "credit.vbsp_poor",
         "delivered_on": "2026-01-10"},
        {"household_id": "T-03", "action_id": "credit.vbsp_poor", "delivered_on": "32/13/2026"}])  # fmt: skip
    code, out = run("review", "support", "--registry", str(reg), "--round", "2025", str(bad))
    assert code == 2
    for text in ("no.such_action", "XX-1", "member no. 9", "32/13/2026", "row 2", "row 5"):
        assert text in out.replace("dòng/row", "row"), text
    assert one(reg, "SELECT count(*) FROM support") == 2


def _json(out: str) -> str:
    return out[out.index("{"):out.rindex("}") + 1]


def test_explain_from_the_registry_survives_new_rules_and_lost_files(tmp_path: Path) -> None:
    """A round recorded with a copy of the rules; then the copy is edited (the rural line
    doubled) and the survey files deleted: the registry still explains the 2024 decision, to
    the same bytes, and the same bytes as explaining the survey file was."""
    rules = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules, ignore=shutil.ignore_patterns("__pycache__"))
    reg = tmp_path / "r.duckdb"
    paths = batch(tmp_path / "survey", "2024")
    code, out = run("review", "record", *map(str, paths), "--registry", str(reg), "--round",
                    "2024", "--as-of", AS_OF["2024"], "--verify", "0", "--rules", str(rules))  # fmt: skip
    assert code == 0, out
    code, direct = run("explain", *map(str, paths), "--household", "T-01", "--as-of",
                       AS_OF["2024"], "--format", "json", "--rules", str(rules))  # fmt: skip
    assert code == 0, direct
    args = ["explain", "--registry", str(reg), "--round", "2024", "--household", "T-01",
            "--format", "json"]  # fmt: skip
    code, first = run(*args)
    assert code == 0, first
    assert _json(first) == _json(direct) and "first recorded" in first
    assert json.loads(direct)["class"]["id"] == "poor"
    income = rules / "parameters" / "income.yaml"
    income.write_text(income.read_text("utf-8").replace("rural: 1500000", "rural: 3000000"),
                      "utf-8")  # fmt: skip
    for p in paths:
        p.unlink()
    code, again = run(*args)
    assert code == 0, again
    assert _json(again) == _json(direct) and "identical to the one recorded" in again
    code, text = run("explain", "--registry", str(reg), "--round", "2024", "--household",
                     "T-01")  # fmt: skip
    assert code == 0 and "1.500.000" in text
    # a stored input altered behind the registry's back: verify names it
    con = duckdb.connect(str(reg))
    con.execute("UPDATE households SET income_per_capita_vnd = 2900000 WHERE household_id = "
                "'T-01'")  # fmt: skip
    con.close()
    code, out = run("review", "verify", "--registry", str(reg))
    assert code == 1 and "T-01" in out


def test_verify_catches_an_edit_a_deletion_and_a_reordering(registry: dict[str, Any],
                                                             tmp_path: Path) -> None:  # fmt: skip
    assert run("review", "verify", "--registry", str(registry["reg"]))[0] == 0
    tampers = {
        "edit": "UPDATE assessments SET class = 'average' WHERE round = '2024' AND "
                "household_id = 'T-06'",
        "delete": "DELETE FROM members WHERE round = '2024' AND household_id = 'T-04' AND "
                  "member_no = 2",
        "reorder": "UPDATE recommendations SET seq = CASE seq WHEN 1 THEN 2 WHEN 2 THEN 1 END "
                   "WHERE round = '2023' AND seq IN (1, 2)",
        "input": "UPDATE households SET income_per_capita_vnd = 900000 WHERE round = '2025' "
                 "AND household_id = 'T-03'",
    }  # fmt: skip
    for name, sql in tampers.items():
        reg = tmp_path / f"{name}.duckdb"
        shutil.copy(registry["reg"], reg)
        con = duckdb.connect(str(reg))
        con.execute(sql)
        con.close()
        code, out = run("review", "verify", "--registry", str(reg))
        assert code == 1, (name, out)
        assert "altered" in out, out


def test_procedure_errors(registry: dict[str, Any], tmp_path: Path) -> None:
    reg = tmp_path / "r.duckdb"
    shutil.copy(registry["reg"], reg)
    folder = tmp_path / "b"
    code, out = record(reg, folder, "2024")  # closed
    assert code == 2 and "round 2024 is closed" in out
    paths = batch(folder, "2025")
    code, out = run("review", "record", *map(str, paths), "--registry", str(reg), "--round",
                    "2026", "--as-of", "2025-01-01", "--verify", "0")  # fmt: skip
    assert code == 2 and "must be dated after round" in out
    code, out = run("review", "record", *map(str, paths), "--registry", str(reg), "--round",
                    "2026", "--as-of", "2026-10-15", "--verify", "0")  # fmt: skip
    assert code == 2 and "still open: 2025" in out
    not_registry = tmp_path / "x.duckdb"
    not_registry.write_bytes(b"not a database at all" * 100)
    code, out = run("review", "verify", "--registry", str(not_registry))
    assert code == 2 and "not a giamngheo registry" in out
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).execute("CREATE TABLE t (x INT)").close()
    code, out = run("review", "history", "--registry", str(other), "--household", "T-01")
    assert code == 2 and "not a giamngheo registry" in out
    newer = tmp_path / "newer.duckdb"
    shutil.copy(registry["reg"], newer)
    duckdb.connect(str(newer)).execute("UPDATE meta SET value = '99' WHERE key = "
                                       "'schema_version'").close()  # fmt: skip
    code, out = run("review", "flows", "--registry", str(newer), "--round", "2024")
    assert code == 2 and "schema version 99" in out
    code, out = run("review", "flows", "--registry", str(tmp_path / "none.duckdb"), "--round",
                    "2024")  # fmt: skip
    assert code == 2 and "There is no registry" in out


def test_a_second_writer_is_refused_and_nothing_is_half_written(registry: dict[str, Any],
                                                                tmp_path: Path) -> None:  # fmt: skip
    import subprocess
    import sys

    reg = tmp_path / "r.duckdb"
    shutil.copy(registry["reg"], reg)
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               f"c = duckdb.connect({str(reg)!r}); print('ready', flush=True); "
                               "time.sleep(60)"], stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        code, out = run("review", "close", "--registry", str(reg), "--round", "2025")
        assert code == 2 and "Another process is writing" in out
    finally:
        holder.kill()
        holder.wait()
    assert run("review", "verify", "--registry", str(reg))[0] == 0


def test_a_crash_inside_record_leaves_the_registry_as_it_was(
        registry: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from engine.registry.store import Registry

    reg = tmp_path / "r.duckdb"
    shutil.copy(registry["reg"], reg)
    counts = {t: one(reg, f"SELECT count(*) FROM {t}") for t in ("assessments", "households",
                                                                "members", "blobs")}

    append = Registry.append

    def crash(self: Registry, table: str, *a: Any, **k: Any) -> int:
        if table == "recommendations":  # assessments, inputs and names are in by now
            raise RuntimeError("the machine lost power")
        return append(self, table, *a, **k)

    monkeypatch.setattr(Registry, "append", crash)
    folder = tmp_path / "b"
    paths = batch(folder, "2025")
    with pytest.raises(RuntimeError):
        from click.testing import CliRunner

        from cli.main import main

        result = CliRunner().invoke(main, ["review", "record", *map(str, paths), "--registry",
                                           str(reg), "--round", "2025", "--as-of", "2025-10-15",
                                           "--verify", "0"], catch_exceptions=False)  # fmt: skip
        del result
    assert {t: one(reg, f"SELECT count(*) FROM {t}") for t in counts} == counts
    assert run("review", "verify", "--registry", str(reg))[0] == 0


def test_export_is_readable_without_giamngheo(registry: dict[str, Any], tmp_path: Path) -> None:
    import hashlib

    import pyarrow.parquet as pq

    for names in (True, False):
        out = tmp_path / f"archive-{names}"
        args = ["review", "export", "--registry", str(registry["reg"]), "--round", "2024", "-o",
                str(out)] + ([] if names else ["--without-names"])  # fmt: skip
        code, text = run(*args)
        assert code == 0, text
        manifest = json.loads((out / "manifest.json").read_text("utf-8"))
        assert manifest["sealed"] and len(manifest["root_hash"]) == 64
        for name, sha in manifest["files"].items():
            path = next(out.rglob(Path(name).name))
            assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
        assert (out / "personal.parquet").exists() == names
        assessments = pq.read_table(out / "assessments.parquet").to_pandas()
        assert set(assessments["household_id"]) == {"T-01", "T-02", "T-03", "T-04", "T-05",
                                                    "T-06", "T-07"}  # fmt: skip
        if not names:
            blob = b"".join(p.read_bytes() for p in out.rglob("*.parquet"))
            assert "Chủ hộ T-0".encode() not in blob


def test_flows_for_people_as_text_and_workbook(registry: dict[str, Any], tmp_path: Path) -> None:
    code, out = run("review", "flows", "--registry", str(registry["reg"]), "--round", "2025")
    assert code == 0 and "Tổng / total" in out and "re_entered" in out and "to_poor" in out
    target = tmp_path / "flows.xlsx"
    code, out = run("review", "flows", "--registry", str(registry["reg"]), "--round", "2025",
                    "--format", "xlsx", "-o", str(target))  # fmt: skip
    assert code == 0, out
    sheet = pd.read_excel(target, sheet_name="flows")
    total = sheet[(sheet["level"] == "total") & (sheet["list"] == "poor")
                  & (sheet["unit"] == "households")].iloc[0]  # fmt: skip
    assert (total["start"], total["end"]) == (3, 2)
    code, out = run("review", "flows", "--registry", str(registry["reg"]), "--round", "2019")
    assert code == 2 and "no review round 2019" in out


def test_a_bad_decisions_table_records_nothing(registry: dict[str, Any], tmp_path: Path) -> None:
    reg = tmp_path / "r.duckdb"
    shutil.copy(registry["reg"], reg)
    before = one(reg, "SELECT count(*) FROM assessments")
    decisions = table(tmp_path / "d.csv", [
        {"mã hộ": "T-01", "phân loại được công nhận": "giàu"},
        {"mã hộ": "T-99", "phân loại được công nhận": "poor"}])  # fmt: skip
    code, out = record(reg, tmp_path / "b", "2025", "--decisions", str(decisions))
    assert code == 2 and "bad rows (1)" in out and "giàu" in out, out
    decisions = table(tmp_path / "d.csv", [{"mã hộ": "T-99", "phân loại được công nhận": "poor"}])
    code, out = record(reg, tmp_path / "b", "2025", "--decisions", str(decisions))
    assert code == 2 and "T-99" in out and "not in review round 2025" in out, out
    assert one(reg, "SELECT count(*) FROM assessments") == before


def test_every_example_household_explains_from_the_registry_as_from_the_file(
        tmp_path: Path) -> None:  # fmt: skip
    """The example workbook (invalid, incomplete, poor, near-poor… households) recorded, then
    each household's trace rebuilt from the registry: the same bytes as from the workbook."""
    from engine import build_trace, default_rulebook
    from engine.registry.replay import rebuild
    from engine.registry.store import open_registry
    from engine.trace.build import to_json
    from household_models import parse_batch, read_survey

    reg = tmp_path / "r.duckdb"
    workbook = EXAMPLES / "survey.xlsx"
    code, out = run("review", "record", str(workbook), "--registry", str(reg), "--round", "2024",
                    "--as-of", "2024-10-15", "--verify", "0")  # fmt: skip
    assert code == 0, out
    batch = parse_batch(read_survey([workbook]))
    book = default_rulebook()
    registry = open_registry(reg)
    try:
        for hid in batch.households["household_id"].values.tolist():
            direct = to_json(build_trace(batch, book, dt.date(2024, 10, 15), hid).trace)
            assert to_json(rebuild(registry, "2024", hid).trace) == direct, hid
    finally:
        registry.close()


def test_a_repeated_household_id_is_recorded_not_lost(registry: dict[str, Any],
                                                      tmp_path: Path) -> None:  # fmt: skip
    reg = tmp_path / "r.duckdb"
    shutil.copy(registry["reg"], reg)
    hh, mem = batch(tmp_path / "b", "2025")
    frame = pd.read_csv(hh, dtype=str, keep_default_na=False)
    pd.concat([frame, frame[frame["mã hộ"] == "T-03"]]).to_csv(hh, index=False)
    code, out = run("review", "record", str(hh), str(mem), "--registry", str(reg), "--round",
                    "2025", "--as-of", AS_OF["2025"], "--verify", "0")  # fmt: skip
    assert code == 0, out
    rows = one(reg, "SELECT count(*) FROM assessments WHERE round = '2025' AND household_id = "
                "'T-03'")  # fmt: skip
    assert rows == 3  # the first recording's, then both rows of this one (each invalid)
    assert run("review", "verify", "--registry", str(reg))[0] == 0
    from engine.registry import history
    from engine.registry.store import open_registry

    opened = open_registry(reg)
    try:  # the household counts once in the round: its last row supersedes the others
        latest = history.current(opened, "c.round = '2025' AND c.household_id = 'T-03'")
        assert latest.num_rows == 1
        assert latest["supersedes"][0].as_py() is not None
    finally:
        opened.close()


def test_inputs_staged_beside_the_classification_are_the_rows_staged_after_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The households, members and personal rows (and their hashes) are the same whether a
    forked process staged them while the batch was classified (and they were appended before
    the classification ended) or ``record`` staged them itself."""
    from engine.registry import early

    paths = batch(tmp_path / "b", "2025")
    collected: list[bool] = []
    real_collect = early.EarlyInputs.collect

    def collect(self: early.EarlyInputs, first: int) -> Any:
        got = real_collect(self, first)
        collected.append(got)
        return got

    monkeypatch.setattr(early.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(early.EarlyInputs, "collect", collect)
    found = {}
    for name in ("forked", "here"):
        if name == "here":
            monkeypatch.setattr(early, "start", lambda *_a: None)
        reg = tmp_path / f"{name}.duckdb"
        code, out = run("review", "record", *map(str, paths), "--registry", str(reg), "--round",
                        "2025", "--as-of", AS_OF["2025"], "--verify", "0")  # fmt: skip
        assert code == 0, out
        con = duckdb.connect(str(reg), read_only=True)
        found[name] = {t: con.execute(f"SELECT * FROM {t} ORDER BY seq").fetchall()
                       for t in ("households", "members", "personal")}  # fmt: skip
        con.close()
        assert run("review", "verify", "--registry", str(reg))[0] == 0
    assert collected == [True]  # the first recording used the forked process's rows
    assert found["forked"] == found["here"]
    assert len(found["here"]["members"]) > 0 and len(found["here"]["personal"]) > 0


def test_the_query_commands_load_no_dataframe_library(registry: dict[str, Any]) -> None:
    """``review history`` and ``review flows`` answer without loading pandas or Arrow (about
    a second of start-up that a query does not need: benchmarks/bench_registry.py times
    them)."""
    import subprocess
    import sys

    reg = str(registry["reg"])
    script = (
        "import sys\nfrom cli.main import main\n"
        "for args in (['review', 'history', '--registry', sys.argv[1], '--household', 'T-03'],"
        " ['review', 'flows', '--registry', sys.argv[1], '--round', '2025']):\n"
        "    main(args, standalone_mode=False)\n"
        "loaded = sorted(m for m in ('pandas', 'pyarrow', 'pydantic', 'rich') if m in sys.modules)\n"
        "print('LOADED', loaded)\n")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script, reg], capture_output=True, text=True,
                          cwd=ROOT, check=True)  # fmt: skip
    assert "re_poor" in done.stdout  # both answered
    assert "LOADED []" in done.stdout, done.stdout[-500:]
