"""A run killed at a random moment (SIGKILL or SIGTERM) leaves the outputs as the whole old set
or, once the next run in the folder has recovered it, the whole new set, and no temporary file."""

from __future__ import annotations

import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from engine.files import recover
from engine.results.outputs import output_paths
from tests.helpers import EXAMPLES, ROOT, run

TRIALS = 12
SEED = 7


def command(output: Path, as_of: str, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from cli.main import run; run()", "classify",
            str(EXAMPLES / "survey.xlsx"), "-o", str(output), "--as-of", as_of, "--verify", "0",
            *extra]  # fmt: skip


def contents(output: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in output_paths(output).values() if p.exists()}


def test_a_killed_run_leaves_the_old_set_or_the_new_set(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    output = folder / "r.csv"
    reference = tmp_path / "ref" / "r.csv"
    for target, as_of in ((output, "2025-06-30"), (reference, "2024-06-30")):
        code, out = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(target), "--as-of",
                        as_of, "--verify", "0")  # fmt: skip
        assert code == 0, out
    old, new = contents(output), contents(reference)
    assert len(old) == 5 and old != new
    names = [p.name for p in output_paths(output).values()]
    rng = random.Random(SEED)
    seen = {"old": 0, "new": 0}
    for trial in range(TRIALS):
        how = signal.SIGKILL if trial % 2 == 0 else signal.SIGTERM
        proc = subprocess.Popen(command(output, "2024-06-30"), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        time.sleep(rng.uniform(0.3, 3.0))
        proc.send_signal(how)
        proc.wait(timeout=60)
        if how == signal.SIGTERM:  # handled: nothing left behind, whatever the moment
            assert not [p for p in folder.iterdir() if p.name.startswith(".")], trial
        recover(folder, names)
        assert not [p for p in folder.iterdir() if p.name.startswith(".")], trial
        now = contents(output)
        assert now in (old, new), (trial, how, sorted(now))
        seen["old" if now == old else "new"] += 1
        if now == new:  # put the old set back for the next trial
            for name, data in old.items():
                (folder / name).write_bytes(data)
    assert sum(seen.values()) == TRIALS
    print("outcomes", seen)


def test_a_killed_chunked_run_is_cleaned_by_the_next(tmp_path: Path) -> None:
    code, out = run("sample", "-o", str(tmp_path / "s.parquet"), "--households", "6000")
    assert code == 0, out
    output = tmp_path / "out" / "r.parquet"
    args = [sys.executable, "-c", "from cli.main import run; run()", "classify",
            str(tmp_path / "s.parquet"), str(tmp_path / "s.members.parquet"), "-o", str(output),
            "--as-of", "2025-06-30", "--verify", "0", "--chunk-size", "1000"]  # fmt: skip
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not any(p.name.startswith(".") for p in
                                             output.parent.glob("*")):  # fmt: skip
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=60)
    code, out = run("classify", str(tmp_path / "s.parquet"), str(tmp_path / "s.members.parquet"),
                    "-o", str(output), "--as-of", "2025-06-30", "--verify", "0",
                    "--chunk-size", "1000")  # fmt: skip
    assert code == 0, out
    assert not [p for p in output.parent.iterdir() if p.name.startswith(".")]
    shutil.rmtree(output.parent)
