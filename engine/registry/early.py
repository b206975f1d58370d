"""The canonical inputs of a batch (its ``households`` and ``members`` rows) staged and hashed
in a forked process while the batch is being classified.

Those rows depend on the parsed batch alone, not on its results, and hashing them is most of
what recording adds to a classification; on a machine with a second core it is done beside
the classification instead of after it. The forked process writes the staged rows as Arrow
files into a private temporary folder (in memory where the system has one) and exits;
``record`` inserts them as they are. Where fork is not available, or the process fails,
``collect`` gives nothing and ``record`` stages the same rows itself: the rows and their hashes
are the same either way (a test checks it).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa

from engine.registry.hashing import stage
from engine.registry.rows import input_columns
from engine.registry.store import Registry
from household_models.batch import ParsedBatch

TABLES = ("households", "members")


class EarlyInputs:
    """A forked process staging the inputs of a batch for the round ``round_name``, whose
    first household will be assessment ``first``."""

    def __init__(self, reg: Registry, round_name: str, batch: ParsedBatch) -> None:
        reg.prepare(round_name)
        self.first = reg.tail("assessments", round_name)[0] + 1
        self.tails = {t: reg.tail(t, round_name) for t in TABLES}
        self.folder = Path(tempfile.mkdtemp(prefix="giamngheo-stage-", dir=_in_memory(batch)))
        schemas = {t: reg.schema(t) for t in TABLES}
        context = multiprocessing.get_context("fork")
        self.process: Any = context.Process(
            target=_work, args=(batch, round_name, self.first, self.tails, schemas, self.folder),
            daemon=True)  # fmt: skip
        self.process.start()

    def collect(self, first: int) -> dict[str, pa.Table] | None:
        """The staged tables, once the process is done; None if it failed or was staged for
        another first assessment than ``first`` (then the caller stages them itself)."""
        self.process.join()
        if self.process.exitcode != 0 or first != self.first:
            return None
        try:
            return {t: pa.ipc.open_file(pa.memory_map(str(self.folder / f"{t}.arrow"))).read_all()
                    for t in TABLES}  # fmt: skip
        except (OSError, pa.ArrowInvalid):
            return None

    def close(self) -> None:
        """Stop the process if it still runs and remove its files."""
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        shutil.rmtree(self.folder, ignore_errors=True)


def _in_memory(batch: ParsedBatch) -> str | None:
    """A folder in memory for the staged files where the system has one (Linux's /dev/shm)
    with room for them (about 200 bytes a row; twice that is asked): writing them to a disk
    took longer than hashing them (measured on the province). Else the system's temporary
    folder."""
    shm = Path("/dev/shm")
    try:
        if not (shm.is_dir() and os.access(shm, os.W_OK)):
            return None
        room = os.statvfs(shm)
    except OSError:
        return None
    need = 400 * (batch.n_households + len(batch.member_household))
    return str(shm) if room.f_bavail * room.f_frsize >= need else None


def start(reg: Registry, round_name: str, batch: ParsedBatch) -> EarlyInputs | None:
    """Start staging the batch's inputs beside the classification, where fork is available
    and there is a second CPU (else None: ``record`` stages them)."""
    if "fork" not in multiprocessing.get_all_start_methods() or (os.cpu_count() or 1) < 2:
        return None
    if batch.n_households == 0:
        return None
    return EarlyInputs(reg, round_name, batch)


def _work(batch: ParsedBatch, round_name: str, first: int, tails: dict[str, tuple[int, str]],
          schemas: dict[str, pa.Schema], folder: Path) -> None:  # fmt: skip
    """In the forked process: stage each table and write it as an Arrow file (DuckDB is not
    used here: it is not safe after fork)."""
    households, members = input_columns(batch, first)
    for name, columns in zip(TABLES, (households, members), strict=True):
        if not columns or len(next(iter(columns.values()))) == 0:
            staged = pa.Table.from_pylist([], schema=schemas[name])
        else:
            staged = stage(schemas[name], columns, round_name, *tails[name], here=True)
        path = folder / f"{name}.arrow"
        with pa.OSFile(str(path) + ".tmp", "wb") as sink, \
                pa.ipc.new_file(sink, staged.schema) as writer:  # fmt: skip
            writer.write_table(staged)
        os.replace(str(path) + ".tmp", path)
