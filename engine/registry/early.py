"""The rows of a batch's inputs alone (its ``households``, ``members`` and ``personal`` rows)
staged and hashed in a forked process while the batch is being classified, and appended as
soon as they are ready.

Those rows depend on the parsed batch alone, not on its results, and hashing and inserting
them is most of what recording adds to a classification; on a machine with a second core it
is done beside the classification instead of after it. The forked process writes the staged
rows as Arrow files into a private temporary folder (in memory where the system has one) and
exits; the registry's inserting thread appends them inside the recording's transaction, begun
when the process starts (``Registry.append_when``), while the classification goes on. Where
fork is not available, or the process fails, nothing is appended early and ``record`` stages
the same rows itself: the rows and their hashes are the same either way (a test checks it).
A recording that fails or is stopped rolls the transaction back, early rows included.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pyarrow as pa

from engine.registry.hashing import staged_slices
from engine.registry.rows import INPUT_TABLES, input_tables
from engine.registry.store import Registry
from household_models.batch import ParsedBatch


class EarlyInputs:
    """A forked process staging the inputs of a batch for the round ``round_name``, whose
    first household will be assessment ``first``, and their appending once it is done."""

    def __init__(self, reg: Registry, round_name: str, batch: ParsedBatch) -> None:
        reg.prepare(round_name)
        self.reg = reg
        self.first = reg.tail("assessments", round_name)[0] + 1
        tails = {t: reg.tail(t, round_name) for t in INPUT_TABLES}
        self.folder = Path(tempfile.mkdtemp(prefix="giamngheo-stage-", dir=_in_memory(batch)))
        schemas = {t: reg.schema(t) for t in INPUT_TABLES}
        context = multiprocessing.get_context("fork")
        self.process: Any = context.Process(
            target=_work, args=(batch, round_name, self.first, tails, schemas, reg.hash_scheme,
                                self.folder), daemon=True)  # fmt: skip
        self.process.start()
        self.appended: Future[bool] = reg.append_when(self._load, round_name)

    def _load(self) -> dict[str, pa.Table] | None:
        """The staged tables, once the process is done (None if it failed)."""
        self.process.join()
        if self.process.exitcode != 0:
            return None
        try:
            return {t: pa.ipc.open_file(pa.memory_map(str(self.folder / f"{t}.arrow"))).read_all()
                    for t in INPUT_TABLES}  # fmt: skip
        except (OSError, pa.ArrowInvalid):
            return None

    def collect(self, first: int) -> bool:
        """Whether the rows were appended (else the caller stages them itself), once that is
        known; ``first``: the batch's first assessment as the caller found it."""
        done = self.appended.result()
        if done and first != self.first:  # pragma: no cover - a bug, never the user's input
            raise AssertionError(f"inputs staged for assessment {self.first}, not {first}")
        return done

    def close(self) -> None:
        """Stop the process if it still runs, roll back the recording's transaction if it has
        not been committed, and remove the process's files."""
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        try:
            self.reg.rollback()
        finally:
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
          schemas: dict[str, pa.Schema], scheme: int, folder: Path) -> None:  # fmt: skip
    """In the forked process: stage each table and write it as an Arrow file, a slice at a
    time (DuckDB is not used here: it is not safe after fork)."""
    for name, columns in input_tables(batch, first).items():
        if not columns or len(next(iter(columns.values()))) == 0:
            slices = iter([pa.Table.from_pylist([], schema=schemas[name])])
        else:
            slices = staged_slices(schemas[name], columns, round_name, *tails[name], scheme)
        path = folder / f"{name}.arrow"
        part = next(slices)
        with pa.OSFile(str(path) + ".tmp", "wb") as sink, \
                pa.ipc.new_file(sink, part.schema) as writer:  # fmt: skip
            writer.write_table(part)
            for part in slices:
                writer.write_table(part)
        os.replace(str(path) + ".tmp", path)
