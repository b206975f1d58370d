"""The outputs' bytes do not change when the engine gets faster: the SHA-256 of every file
``classify`` writes (CSV and XLSX as bytes, Parquet as its Arrow table without metadata) on the
examples and on a 20,000-household sample, against the digests recorded with the version before
the Arrow parser and the coded result columns (commit c9fcadc). Re-record them only for a change
of output that is meant, and say so in its commit."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.helpers import EXAMPLES, ROOT

RECORDED = {
    "survey.xlsx->xlsx:r.xlsx":
        "668d94ef9344be1aa0faf27c2cfdb4a17e9e16ab4b71c620237b5f48d8039cd0",
    "survey.xlsx->csv:r.csv":
        "4cafdd7660e31dbb7c222729d59b87df4489d1b2ba806a1089c0915050186d00",
    "survey.xlsx->csv:r.departments.csv":
        "ab0e7a4d4f9fea4a4d05e6346d4b7079a5355a4e635de31137c20d6420621286",
    "survey.xlsx->csv:r.errors.csv":
        "7ff5ccf0f5009b1a26f77021578326a9c0b073d9b3b8cef31df500e8665fdd3e",
    "survey.xlsx->csv:r.recommendations.csv":
        "853c80e3af2d05d7203d0507d89f056fce1e2eb55b9193cbfdef8054e53df517",
    "survey.xlsx->csv:r.summary.csv":
        "7f52b7d4df96ac7893c5de59b679d6081e2505536497df51e1bc53742f554dbd",
    "csv->csv:r.csv":
        "4cafdd7660e31dbb7c222729d59b87df4489d1b2ba806a1089c0915050186d00",
    "csv->csv:r.departments.csv":
        "ab0e7a4d4f9fea4a4d05e6346d4b7079a5355a4e635de31137c20d6420621286",
    "csv->csv:r.errors.csv":
        "0f7ebbdd5729c5f4bf601fb552f7d9de57d75ceae936378fc688cbc7a19b5e3e",
    "csv->csv:r.recommendations.csv":
        "853c80e3af2d05d7203d0507d89f056fce1e2eb55b9193cbfdef8054e53df517",
    "csv->csv:r.summary.csv":
        "7f52b7d4df96ac7893c5de59b679d6081e2505536497df51e1bc53742f554dbd",
    "parquet->csv:r.csv":
        "2d9e0ecc98bd1fba3facfb3b625a4c4e0824cf321f00a2df97f116902fd11d28",
    "parquet->csv:r.departments.csv":
        "c18ea10419d2d52b25799023a51ec40638e29b80c53f3dfd46ad01bd021f9a45",
    "parquet->csv:r.errors.csv":
        "484ee983a826d9f3ee684e6ae90922b705fa892ffa1bbe0bc8058b8d218a457b",
    "parquet->csv:r.recommendations.csv":
        "46ec74ac1174e7f7f28f4589b5570f26731a72347b8860093ac93157876df090",
    "parquet->csv:r.summary.csv":
        "24080e65cf2d065a9f5a1552d37d3b34d887581a111dcff5d9b9152ef61515c8",
    "parquet->parquet:r.departments.parquet":
        "9a56d0791e05926484c3ffc29ae4e4c04efb60a2086dbad0b5b1d54d6fa893bc",
    "parquet->parquet:r.errors.parquet":
        "186f132bc52b5417ac3cc50417f49110e1e2aac00a67a8d3e473d63b3b9a430f",
    "parquet->parquet:r.parquet":
        "28d33b6c624f96805ab775e0bf1856981aa46d3c6eb15c5fd7982f89db0f2dc2",
    "parquet->parquet:r.recommendations.parquet":
        "ce2d993e1505981b2829c564e9e18b85699fdb4463d98a8fb0ecc5466fca8d19",
    "parquet->parquet:r.summary.parquet":
        "90de10917c2f29958be3d9a1bab67f6221fe3a42511b964134f0a7fcd0d91298",
    "parquet->xlsx:r.xlsx":
        "d0a6edbf5520679e72ada8b9031ccd523cf0bc7391b479b3880eb4c151f7aeb5",
}  # fmt: skip


def _table_digest(path: Path) -> str:
    table = pq.read_table(path).replace_schema_metadata()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return hashlib.sha256(sink.getvalue().to_pybytes()).hexdigest()


def _cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "cli.main", *args], check=True, capture_output=True,
                   cwd=ROOT)  # fmt: skip


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("sample")
    _cli("sample", "-o", str(folder / "s.parquet"), "--households", "20000", "--seed", "7")
    return [folder / "s.parquet", folder / "s.members.parquet"]


CASES = {
    "survey.xlsx->xlsx": ("workbook", "r.xlsx"),
    "survey.xlsx->csv": ("workbook", "r.csv"),
    "csv->csv": ("csv", "r.csv"),
    "parquet->csv": ("sample", "r.csv"),
    "parquet->parquet": ("sample", "r.parquet"),
    "parquet->xlsx": ("sample", "r.xlsx"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_the_outputs_are_the_bytes_of_before(case: str, sample: list[Path],
                                             tmp_path: Path) -> None:  # fmt: skip
    source, target = CASES[case]
    inputs = {"workbook": [EXAMPLES / "survey.xlsx"],
              "csv": [EXAMPLES / "households.csv", EXAMPLES / "members.csv"],
              "sample": sample}[source]  # fmt: skip
    _cli("classify", *map(str, inputs), "-o", str(tmp_path / target), "--as-of", "2025-06-30",
         "--verify", "0")  # fmt: skip
    got = {f"{case}:{f.name}": _table_digest(f) if f.suffix == ".parquet"
           else hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(tmp_path.iterdir())}
    assert got == {k: v for k, v in RECORDED.items() if k.startswith(case + ":")}
