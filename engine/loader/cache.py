"""A cache of loaded rulebooks, keyed by the content of the rules folder and of the code that
reads it, so that a command does not re-read and re-prove an unchanged rulebook.

The key is the SHA-256 of every file under the rules folder (its relative path and bytes) and of
every source and data file of the packages that define, load and check a rulebook
(``engine``, ``household_models``). Any change to either gives another key, so an entry is
never stale; an entry that cannot be read is rebuilt. Entries live in ``$GIAMNGHEO_CACHE``, else
``$XDG_CACHE_HOME/giamngheo``, else ``~/.cache/giamngheo``, in a folder only the user may open;
``GIAMNGHEO_CACHE=off`` turns the cache off. Only a rulebook that loaded without a problem is
stored; a folder with problems is loaded (and its problems reported) every time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path

from engine.rulebook import Rulebook

log = logging.getLogger(__name__)
_PACKAGES = (Path(__file__).resolve().parents[1],
             Path(__file__).resolve().parents[2] / "household_models")  # fmt: skip
FORMAT = b"giamngheo-rulebook-cache-1"


def cache_dir() -> Path | None:
    setting = os.environ.get("GIAMNGHEO_CACHE", "")
    if setting.lower() in ("off", "0", "no"):
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "giamngheo"


def _digest_files(digest: hashlib._Hash, root: Path, patterns: tuple[str, ...]) -> None:
    files = sorted({p for pattern in patterns for p in root.rglob(pattern) if p.is_file()
                    and "__pycache__" not in p.parts})  # fmt: skip
    for path in files:
        digest.update(str(path.relative_to(root)).encode("utf-8"))
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")


@cache
def _code_digest() -> bytes:
    digest = hashlib.sha256(FORMAT)
    for package in _PACKAGES:
        _digest_files(digest, package, ("*.py", "*.yaml", "*.json"))
    return digest.digest()


def cache_key(root: Path) -> str:
    digest = hashlib.sha256(_code_digest())
    _digest_files(digest, root, ("*",))
    return digest.hexdigest()


def _private_folder(folder: Path) -> bool:
    """The folder exists (created if not), belongs to this user and only they may write it."""
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        info = folder.stat()
    except OSError:
        return False
    owner_only = not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
    return info.st_uid == os.getuid() and owner_only


def cached(root: Path, load: Callable[[Path], Rulebook]) -> Rulebook:
    """The rulebook of ``root`` from the cache, else ``load(root)`` (then stored)."""
    folder = cache_dir()
    if folder is None or not _private_folder(folder):
        return load(root)
    entry = folder / f"rulebook-{cache_key(root)}.pickle"
    try:
        data = entry.read_bytes()
        if data.startswith(FORMAT + b"\n"):
            book = pickle.loads(data[len(FORMAT) + 1 :])
            if isinstance(book, Rulebook):
                return book
    except FileNotFoundError:
        pass
    except Exception as exc:  # a damaged entry is rebuilt
        log.debug("rulebook cache entry %s unreadable (%s); rebuilding", entry.name, exc)
    book = load(root)
    data = FORMAT + b"\n" + pickle.dumps(book, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".rulebook-")
    except OSError as exc:
        log.debug("rulebook cache not written (%s)", exc)
        return book
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, entry)
    except OSError as exc:
        log.debug("rulebook cache not written (%s)", exc)
        Path(tmp).unlink(missing_ok=True)
    return book
