"""A partitioned dataset (``sample --national``) classified in this process and on a local Dask
cluster: the same bytes; the same results as one classify of all its households; the checks
across partitions; a partition that cannot be read; a worker killed in the middle."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
from pathlib import Path

import pandas as pd
import pytest

from tests.helpers import run

AS_OF = "2025-10-15"


@pytest.fixture(scope="module")
def nation(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("nation") / "national"
    code, out = run("sample", "-o", str(root), "--national", "--households", "6300",
                    "--partition-size", "60", "--seed", "3")  # fmt: skip
    assert code == 0, out
    return root


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*.parquet"))}  # fmt: skip


def test_the_nation_is_partitioned_by_province(nation: Path) -> None:
    parts = sorted(p.parent.relative_to(nation).as_posix() for p in nation.rglob("households.parquet"))
    assert len(parts) == 63 * 2 and parts[0] == "province=01/part=000"  # 100 a province, 60 a part
    sizes = [len(pd.read_parquet(nation / p / "households.parquet")) for p in parts[:2]]
    assert sizes == [60, 40]
    ids = pd.concat(pd.read_parquet(nation / p / "households.parquet", columns=["household_id"])
                    for p in parts)["household_id"]  # fmt: skip
    assert ids.is_unique and len(ids) == 6300


def test_a_local_cluster_writes_the_bytes_of_one_process(nation: Path, tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    code, out = run("classify", str(nation), "-o", str(one), "--as-of", AS_OF)
    assert code == 0, out
    code, out = run("classify", str(nation), "-o", str(two), "--as-of", AS_OF,
                    "--cluster", "local:2")  # fmt: skip
    assert code == 0, out
    assert "2 worker" in out
    a, b = _files(one), _files(two)
    assert len(a) == 126 * 3 + 2 and a == b  # every partition's tables, then the merged two
    # the results of one classify of every household at once, compared as sorted tables
    parts = sorted(p.parent for p in nation.rglob("households.parquet"))
    for name in ("households", "members"):
        pd.concat([pd.read_parquet(p / f"{name}.parquet") for p in parts]).to_parquet(
            tmp_path / f"all.{name}.parquet", index=False)  # fmt: skip
    code, out = run("classify", str(tmp_path / "all.households.parquet"),
                    str(tmp_path / "all.members.parquet"), "-o", str(tmp_path / "all.parquet"),
                    "--as-of", AS_OF)  # fmt: skip
    assert code == 0, out
    whole = pd.read_parquet(tmp_path / "all.parquet").sort_values("household_id")
    parted = pd.concat(pd.read_parquet(one / p.relative_to(nation) / "results.parquet")
                       for p in parts).sort_values("household_id")  # fmt: skip
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), parted.reset_index(drop=True))
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "all.summary.parquet"),
                                  pd.read_parquet(one / "summary.parquet"))  # fmt: skip
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "all.departments.parquet"),
                                  pd.read_parquet(one / "departments.parquet"))  # fmt: skip


def _copy(nation: Path, to: Path, parts: list[str]) -> Path:
    for p in parts:
        shutil.copytree(nation / p, to / p)
    return to


def test_checks_across_partitions_and_an_unreadable_one(nation: Path, tmp_path: Path) -> None:
    root = _copy(nation, tmp_path / "in", ["province=01/part=000", "province=02/part=000"])
    a, b = (root / "province=01/part=000", root / "province=02/part=000")
    hh_b = pd.read_parquet(b / "households.parquet")
    twin = hh_b.iloc[[0]].copy()  # a household of B repeated in A
    hh_a = pd.concat([pd.read_parquet(a / "households.parquet"), twin], ignore_index=True)
    hh_a.to_parquet(a / "households.parquet", index=False)
    code, out = run("classify", str(root), "-o", str(tmp_path / "out"), "--as-of", AS_OF)
    assert code == 0, out
    repeated = str(twin["household_id"].iloc[0])
    for part in ("province=01/part=000", "province=02/part=000"):
        errors = pd.read_parquet(tmp_path / "out" / part / "errors.parquet")
        mine = errors[errors["household_id"] == repeated]
        assert "duplicate_household" in set(mine["code"]), part
    # a partition whose members file is not Parquet: reported, the other one still written
    (b / "members.parquet").write_bytes(b"not parquet")
    code, out = run("classify", str(root), "-o", str(tmp_path / "partial"), "--as-of", AS_OF)
    assert code == 1, out
    assert "province=02/part=000" in out and "1 phân vùng không đọc được" in out
    assert (tmp_path / "partial" / "province=01/part=000" / "results.parquet").exists()
    assert not (tmp_path / "partial" / "summary.parquet").exists()
    code, out = run("classify", str(root), "-o", str(tmp_path / "x.parquet"), "--as-of", AS_OF)
    assert code == 4 and "thư mục" in out


def test_a_worker_killed_mid_run_changes_nothing(nation: Path, tmp_path: Path) -> None:
    from functools import partial

    from engine.national import (
        Job,
        classify_partition,
        connect,
        merge,
        partitions,
        run_dask,
        run_local,
    )

    root = _copy(nation, tmp_path / "in", partitions(nation)[:24])
    parts = partitions(root)
    clean = Job(root, tmp_path / "clean", dt.date.fromisoformat(AS_OF))
    merge(clean, run_local(partial(classify_partition, clean), parts))
    job = Job(root, tmp_path / "killed", dt.date.fromisoformat(AS_OF))
    client = connect("local:2")
    try:
        pids = client.run(os.getpid)
        killed: list[int] = []

        def step(done: int, total: int) -> None:
            if done == 2 and not killed:  # in the middle: one worker dies with its tasks
                victim = sorted(pids.values())[0]
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

        done = run_dask(client, partial(classify_partition, job), parts, step)
    finally:
        client.close()
        client.cluster.close()
    assert killed and len(done) == len(parts) and all(d["failed"] is None for d in done)
    merge(job, done)
    assert _files(tmp_path / "killed") == _files(tmp_path / "clean")


def _whole(nation: Path, tmp_path: Path) -> list[Path]:
    """Every household of the dataset in one Parquet pair."""
    parts = sorted(p.parent for p in nation.rglob("households.parquet"))
    pair = [tmp_path / "all.households.parquet", tmp_path / "all.members.parquet"]
    for name, target in zip(("households", "members"), pair, strict=True):
        pd.concat([pd.read_parquet(p / f"{name}.parquet") for p in parts]).to_parquet(
            target, index=False)  # fmt: skip
    return pair


def test_a_simulation_on_a_cluster_adds_up_to_one_of_all(nation: Path, tmp_path: Path) -> None:
    scenarios = ["--scenario", "rules/scenarios/rural_line_1800k.yaml",
                 "--scenario", "rules/scenarios/care_burden_indicator.yaml"]  # fmt: skip
    code, out = run("simulate", *map(str, _whole(nation, tmp_path)), *scenarios, "--as-of",
                    AS_OF, "-o", str(tmp_path / "whole.xlsx"))  # fmt: skip
    assert code == 0, out
    code, parted = run("simulate", str(nation), *scenarios, "--as-of", AS_OF,
                       "-o", str(tmp_path / "parted.xlsx"), "--cluster", "local:2")  # fmt: skip
    assert code == 0, parted
    assert "2 worker" in parted
    # the same lines on the terminal (households moved, poor, near-poor, cost), the same tables
    assert [x for x in out.splitlines() if "rural_line" in x or "care_burden" in x] == \
        [x for x in parted.splitlines() if "rural_line" in x or "care_burden" in x]  # fmt: skip
    whole = pd.read_excel(tmp_path / "whole.xlsx", sheet_name=None)
    split = pd.read_excel(tmp_path / "parted.xlsx", sheet_name=None)
    assert list(whole) == list(split) and len(whole["movers"]) > 0
    for sheet in whole:  # the movers too: the whole file is the partitions in order
        pd.testing.assert_frame_equal(whole[sheet], split[sheet], obj=sheet)


def _chains(registry: Path) -> dict[str, tuple[int, str]]:
    """Each round table's rows and the hash of their chain, round by round."""
    import duckdb

    con = duckdb.connect(str(registry), read_only=True)
    try:
        return {f"{t}/{r}": (n, h) for t in ("assessments", "households", "members",
                                            "personal", "recommendations")
                for r, n, h in con.execute(
                    f"SELECT round, count(*), sha256(string_agg(row_hash, '' ORDER BY seq)) "
                    f"FROM {t} GROUP BY round").fetchall()}  # fmt: skip
    finally:
        con.close()


def _errors(registry: Path) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect(str(registry), read_only=True)
    try:
        return con.execute("SELECT * FROM input_errors ORDER BY round, seq").fetchdf()
    finally:
        con.close()


def test_recording_a_dataset_on_a_cluster_writes_the_rows_of_one_batch(
        nation: Path, tmp_path: Path) -> None:  # fmt: skip
    from engine.national import partitions

    root = _copy(nation, tmp_path / "in", partitions(nation)[:30])
    original = {p: pd.read_parquet(root / p / "households.parquet") for p in partitions(root)}
    one, parted = tmp_path / "one.duckdb", tmp_path / "parted.duckdb"
    for year, step in (("2024", 25), ("2025", 50)):  # the second round takes its history
        for p, frame in original.items():  # every step-th household below the poverty line
            low = frame.copy()
            low.loc[low.index % step == 0, "income_per_capita_vnd"] = 900_000
            low.to_parquet(root / p / "households.parquet", index=False)
        pair = _whole(root, tmp_path)
        common = ["--round", year, "--as-of", f"{year}-10-15"]
        code, out = run("review", "record", *map(str, pair), "--registry", str(one), *common)
        assert code == 0, out
        code, out = run("review", "record", str(root), "--registry", str(parted), *common,
                        "--cluster", "local:2", "-o", str(tmp_path / f"res-{year}"))  # fmt: skip
        assert code == 0, out
        assert "2 worker" in out and "1.500 hộ / households" in out
        code, out = run("review", "close", "--registry", str(parted), "--round", year)
        assert code == 0, out
        code, out = run("review", "close", "--registry", str(one), "--round", year)
        assert code == 0, out
    # the same rows in the same order: the same chains (no time is in these tables' rows)
    chains = _chains(parted)
    assert chains == _chains(one) and chains["assessments/2025"][0] == 1500
    # the same input errors (the history's among them), each naming its partition's file and
    # row there, where one batch names the whole file and its row
    errors = [_errors(r) for r in (one, parted)]
    assert len(errors[0]) > 10 and "history_disagrees" in set(errors[0]["code"])
    what = ["round", "seq", "household_id", "column", "value", "code", "message_en"]
    pd.testing.assert_frame_equal(errors[0][what], errors[1][what])
    assert set(errors[1]["file"].str.rsplit("/", n=1).str[0]) <= set(partitions(root))
    a, b = (run("review", "flows", "--registry", str(r), "--round", "2025", "--format", "json")
            for r in (one, parted))  # fmt: skip
    assert a[0] == 0 and a == b
    total = {r["list"]: r for r in json.loads(a[1])["rows"]
             if r["level"] == "total" and r["unit"] == "households"}  # fmt: skip
    listed = total["poor"]["start"] + total["near_poor"]["start"]
    escaped = total["poor"]["escaped"] + total["near_poor"]["escaped"]
    # a province's partitions of 60 and 40: 3 + 2 households every 25th, then 2 + 1 every 50th
    assert listed == 15 * 5 and escaped == 15 * 2
    assert run("review", "verify", "--registry", str(parted))[0] == 0
    assert (tmp_path / "res-2025" / "province=01/part=000" / "results.parquet").exists()
    # a partition whose id column has its Vietnamese header: its history is still found
    renamed = root / "province=01/part=000" / "households.parquet"
    pd.read_parquet(renamed).rename(columns={"household_id": "Mã hộ"}).to_parquet(renamed)
    reg2026 = tmp_path / "2026.duckdb"
    shutil.copy(parted, reg2026)
    code, out = run("review", "record", str(root), "--registry", str(reg2026), "--round", "2026",
                    "--as-of", "2026-10-15", "--verify", "0")  # fmt: skip
    assert code == 0, out
    import duckdb

    con = duckdb.connect(str(reg2026), read_only=True)
    flows = dict(con.execute("SELECT flow, count(*) FROM assessments WHERE round = '2026' "
                             "GROUP BY flow").fetchall())  # fmt: skip
    con.close()
    assert flows.get("near_poor_continuing", 0) + flows.get("poor_continuing", 0) == 45, flows
    assert not {"new_poor", "new_near_poor"} & set(flows), flows
    # an unreadable partition: nothing is recorded, every other partition still classified
    (root / "province=01/part=001" / "members.parquet").write_bytes(b"not parquet")
    before = _chains(parted)
    code, out = run("review", "record", str(root), "--registry", str(parted), "--round", "2026",
                    "--as-of", "2026-10-15")  # fmt: skip
    assert code == 1 and "province=01/part=001" in out and "Chưa ghi gì vào sổ" in out, out
    assert _chains(parted) == before
