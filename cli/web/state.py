"""What the page server remembers: its settings, each visit (a browser's session: its private
folder of uploads, its anti-forgery token, its classified batch) and the work running for it
in the background (a job: its phase, then its result or the error to show).

Uploads live in a folder only this user can read, one folder per visit, removed when the user
presses "done" or when the server stops."""

from __future__ import annotations

import datetime as dt
import re
import secrets
import shutil
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.errors import GiamngheoError


@dataclass
class Settings:
    """How the server was started (``giamngheo serve``)."""

    registry: Path | None = None
    token: str | None = None  # required on every request when set (a non-local host)
    max_upload_mb: int = 200
    rules_dir: Path | None = None
    verify: float = 0.01  # the cross-check, as classify's default
    verify_max: int = 0  # 0: the engine's default cap


@dataclass
class Job:
    """Work running in the background for one visit."""

    id: str
    phase: str
    started: float = field(default_factory=time.perf_counter)
    finished: float | None = None
    error: dict[str, Any] | None = None  # the CLI's message: vi, en and each problem's lines
    value: Any = None
    then: str = "/"  # where the page goes when it is done

    @property
    def done(self) -> bool:
        return self.finished is not None

    def seconds(self) -> float:
        return round((self.finished or time.perf_counter()) - self.started, 1)


@dataclass
class Batch:
    """A visit's classified batch: the files as uploaded, the parsed batch and its result."""

    files: list[Path]
    as_of: dt.date
    parsed: Any
    result: Any
    book: Any
    places: Any  # each household's id, district and commune, as parsed (a DataFrame)
    downloads: dict[str, Path] = field(default_factory=dict)  # name -> file written once


@dataclass
class Visit:
    id: str
    csrf: str
    folder: Path
    lang: str = "vi"
    batch: Batch | None = None
    jobs: dict[str, Job] = field(default_factory=dict)
    scenario: Any = None  # the last scenario run: (report html, workbook path)
    messages: list[dict[str, str]] = field(default_factory=list)  # shown once, then cleared

    def subfolder(self, name: str) -> Path:
        path = self.folder / name
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        return path


class State:
    """Every visit of one running server, under one private temporary folder."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = Path(tempfile.mkdtemp(prefix="giamngheo-web-"))  # mode 0700
        self.visits: dict[str, Visit] = {}
        self.lock = threading.Lock()

    def visit(self, visit_id: str | None) -> Visit:
        """The visit of this cookie, or a new one."""
        with self.lock:
            if visit_id and visit_id in self.visits:
                return self.visits[visit_id]
            new = secrets.token_urlsafe(24)
            folder = self.root / secrets.token_hex(8)
            folder.mkdir(mode=0o700)
            self.visits[new] = Visit(new, secrets.token_urlsafe(32), folder)
            return self.visits[new]

    def forget(self, visit: Visit) -> None:
        """The user is done: remove the visit's files and results."""
        with self.lock:
            self.visits.pop(visit.id, None)
        shutil.rmtree(visit.folder, ignore_errors=True)

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def start(self, visit: Visit, phase: str, work: Callable[[Job], Any], then: str) -> Job:
        """Run ``work`` in a thread; its ``GiamngheoError`` becomes the job's message (never a
        stack trace on the page; anything else is logged without data and shown plainly)."""
        job = Job(secrets.token_urlsafe(12), phase, then=then)
        visit.jobs[job.id] = job

        def run() -> None:
            try:
                job.value = work(job)
            except GiamngheoError as exc:  # the command line's message, with the file's name
                # for the private folder's path, which means nothing to the user
                hide = re.compile(re.escape(str(visit.folder)) + r"/[^/\s]+/")
                job.error = {"vi": hide.sub("", exc.vi), "en": hide.sub("", exc.en),
                             "lines": [hide.sub("", line) for p in exc.problems
                                       for line in p.lines()]}  # fmt: skip
            except Exception:  # a bug: its traceback to the terminal, never to the page
                traceback.print_exc()
                job.error = {"vi": "", "en": "", "lines": []}
            finally:
                job.finished = time.perf_counter()

        threading.Thread(target=run, daemon=True, name=f"giamngheo-job-{job.id}").start()
        return job
