"""The registry's hash schemes: rows hashed as the documentation says (computed here with
hashlib from the stored cells), a registry of schema 1 (hash scheme 1) recorded into by this
version and still verified as scheme 1, and a recording stopped while its inputs' rows were
already appended beside the classification leaving nothing behind."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.helpers import run
from tests.rounds import batch, hashes_as_documented, one, three_rounds

# the chains of ints, texts and dates (no floats, no times) the three rounds fill
PLAIN_CHAINS = [("input_errors", "2023"), ("events", "2025"), ("input_errors", "2024")]


def _schema_1(path: Path) -> None:
    """An empty registry as version 1 of the schema created it: no ``hash_scheme`` in meta."""
    from engine.registry.store import open_registry

    open_registry(path, write=True, create=True).close()
    con = duckdb.connect(str(path))
    con.execute("DELETE FROM meta WHERE key = 'hash_scheme'")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()


@pytest.fixture(scope="module")
def old(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("schema1")
    _schema_1(folder / "hungyen.duckdb")
    return three_rounds(folder)


@pytest.fixture(scope="module")
def new(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return three_rounds(tmp_path_factory.mktemp("schema2"))


def _meta(reg: Path) -> dict[str, str]:
    con = duckdb.connect(str(reg), read_only=True)
    try:
        return dict(con.execute("SELECT key, value FROM meta").fetchall())
    finally:
        con.close()


@pytest.mark.parametrize(("which", "scheme"), [("new", 2), ("old", 1)])
def test_rows_are_hashed_as_documented(which: str, scheme: int, request: pytest.FixtureRequest
                                       ) -> None:  # fmt: skip
    reg = request.getfixturevalue(which)["reg"]
    checked = 0
    for table_name, round_name in PLAIN_CHAINS:
        stored, computed = hashes_as_documented(reg, table_name, round_name, scheme)
        assert stored == computed, (table_name, round_name)
        checked += len(stored)
    assert checked >= 3  # each chain has rows (else the comparison proves nothing)


def test_a_schema_1_registry_stays_scheme_1(old: dict[str, Any], tmp_path: Path) -> None:
    reg = old["reg"]
    assert _meta(reg) == {"format": "giamngheo.registry", "schema_version": "1"}
    code, out = run("review", "verify", "--registry", str(reg))
    assert code == 0, out
    tampered = tmp_path / "t.duckdb"
    shutil.copy(reg, tampered)
    con = duckdb.connect(str(tampered))
    con.execute("UPDATE assessments SET class = 'average' WHERE round = '2024' AND "
                "household_id = 'T-06'")  # fmt: skip
    con.close()
    code, out = run("review", "verify", "--registry", str(tampered))
    assert code == 1 and "altered" in out, out
    code, out = run("review", "export", "--registry", str(reg), "--round", "2024", "-o",
                    str(tmp_path / "x"))  # fmt: skip
    assert code == 0, out
    manifest = json.loads((tmp_path / "x" / "manifest.json").read_text(encoding="utf-8"))
    assert (manifest["schema_version"], manifest["hash_scheme"]) == (1, 1)


def test_a_new_registry_names_its_scheme(new: dict[str, Any], tmp_path: Path) -> None:
    reg = new["reg"]
    assert _meta(reg) == {"format": "giamngheo.registry", "schema_version": "2",
                          "hash_scheme": "2"}  # fmt: skip
    assert run("review", "verify", "--registry", str(reg))[0] == 0
    for key, value in (("hash_scheme", "1"), ("hash_scheme", "7")):
        changed = tmp_path / f"{key}{value}.duckdb"
        shutil.copy(reg, changed)
        con = duckdb.connect(str(changed))
        con.execute("UPDATE meta SET value = ? WHERE key = ?", [value, key])
        con.close()
        code, out = run("review", "verify", "--registry", str(changed))
        assert code in (1, 2) and code != 0, out


def test_a_recording_stopped_after_its_inputs_went_in_leaves_nothing(
        new: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    """The inputs' rows are appended beside the classification, inside the recording's
    transaction: a classification that fails after they went in rolls them back."""
    from engine.registry import early

    reg = tmp_path / "r.duckdb"
    shutil.copy(new["reg"], reg)
    con = duckdb.connect(str(reg))  # an open round to record into again
    con.execute("DELETE FROM seals WHERE round = '2025'")
    con.close()
    tables = ("assessments", "households", "members", "personal", "blobs")
    counts = {t: one(reg, f"SELECT count(*) FROM {t}") for t in tables}
    started: list[early.EarlyInputs] = []
    real_start = early.start

    def start(*args: Any) -> Any:
        found = real_start(*args)
        started.append(found)
        return found

    import cli.classify

    def classify(*args: Any, **kwargs: Any) -> Any:
        assert started and started[0] is not None and started[0].appended.result()
        raise RuntimeError("the machine lost power")

    monkeypatch.setattr(early.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(early, "start", start)
    monkeypatch.setattr(cli.classify, "classify", classify)
    from click.testing import CliRunner

    from cli.main import main

    paths = batch(tmp_path / "b", "2025")
    with pytest.raises(RuntimeError, match="lost power"):
        CliRunner().invoke(main, ["review", "record", *map(str, paths), "--registry", str(reg),
                                  "--round", "2025", "--as-of", "2025-10-15", "--verify", "0"],
                           catch_exceptions=False)  # fmt: skip
    assert {t: one(reg, f"SELECT count(*) FROM {t}") for t in tables} == counts
