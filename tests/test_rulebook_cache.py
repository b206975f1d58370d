"""The cache of loaded rulebooks: the same rulebook as a fresh load, re-read whenever a file of
the rules folder (or of the engine) changes, rebuilt when damaged, never used from a folder
others may write, off on request."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from engine.loader import cache as rulebook_cache
from engine.loader import load_rulebook
from engine.rulebook import Rulebook
from tests.helpers import RULES


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("GIAMNGHEO_CACHE", str(tmp_path / "cache"))
    copy = tmp_path / "rules"
    shutil.copytree(RULES, copy, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return copy


def _counting() -> tuple[list[Path], object]:
    calls: list[Path] = []

    def load(root: Path) -> Rulebook:
        calls.append(root)
        return load_rulebook(root)

    return calls, load


def test_a_second_load_comes_from_the_cache_and_equals_a_fresh_load(rules: Path) -> None:
    calls, load = _counting()
    first = rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    second = rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    assert len(calls) == 1 and second == first == load_rulebook(rules)
    folder = Path(os.environ["GIAMNGHEO_CACHE"])
    assert [p.name.startswith("rulebook-") for p in folder.iterdir()] == [True]
    assert folder.stat().st_mode & 0o077 == 0


def test_any_change_to_the_rules_is_seen(rules: Path) -> None:
    calls, load = _counting()
    before = rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    path = rules / "parameters" / "income.yaml"
    text = path.read_text("utf-8")
    assert "1500000" in text
    path.write_text(text.replace("1500000", "1600000", 1), "utf-8")
    after = rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    assert len(calls) == 2 and after != before
    when = dt.date(2025, 6, 30)
    assert after.resolve(when).params != before.resolve(when).params
    (rules / "notes.txt").write_text("a file the loader does not read", "utf-8")
    rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    assert len(calls) == 3  # any file: the key does not guess what the loader reads


def test_a_change_to_the_engine_changes_the_key(rules: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    key = rulebook_cache.cache_key(rules)
    monkeypatch.setattr(rulebook_cache, "_code_digest", lambda: b"another engine")
    assert rulebook_cache.cache_key(rules) != key


def test_a_damaged_entry_is_rebuilt(rules: Path) -> None:
    calls, load = _counting()
    book = rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    folder = Path(os.environ["GIAMNGHEO_CACHE"])
    for entry in folder.iterdir():
        entry.write_bytes(entry.read_bytes()[:200])
    assert rulebook_cache.cached(rules, load) == book  # type: ignore[arg-type]
    assert len(calls) == 2


def test_off_or_a_shared_folder_means_no_cache(rules: Path, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    calls, load = _counting()
    monkeypatch.setenv("GIAMNGHEO_CACHE", "off")
    rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv("GIAMNGHEO_CACHE", str(shared))
    rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    rulebook_cache.cached(rules, load)  # type: ignore[arg-type]
    assert len(calls) == 4 and list(shared.iterdir()) == []


def test_a_rulebook_with_problems_is_never_stored(rules: Path) -> None:
    (rules / "versions.yaml").write_text("versions: [", "utf-8")
    with pytest.raises(Exception, match="versions"):
        rulebook_cache.cached(rules, load_rulebook)
    assert not any(Path(os.environ["GIAMNGHEO_CACHE"]).glob("rulebook-*"))
