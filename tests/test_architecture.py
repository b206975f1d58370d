"""The shape of the code: layers import only downward, no import cycles, ``durable`` imported by
exactly one module, no module over 500 lines without a reason, and the package and its docs
self-contained. The layers are those of docs/architecture.md."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("engine", "household_models", "cli")
# Floors, from the ground up: a module may import modules of its own floor or below, never above.
# The longest matching prefix decides a module's floor.
FLOORS: dict[str, int] = {
    "engine.errors": 1, "engine.text": 1, "engine.memory": 1, "household_models": 1,
    "engine.rulebook": 2, "engine.files": 2,
    "engine.evaluators": 3,
    "engine.loader": 4, "engine.results": 4,
    "engine.trace": 5, "engine.simulation": 5, "engine.registry": 5, "engine.reports": 5, "engine.synthetic": 5, "engine.golden": 5,
    "engine": 5,
    "cli": 6, "cli.web": 7,
}  # fmt: skip
# The web page calls the library's public names only: ``engine`` and ``household_models`` as
# packages (their exported names), the leaves, and the command line's shared functions.
WEB_MAY_IMPORT = ("engine", "engine.errors", "engine.text", "household_models")
# Inside household_models, the order of its modules (columns is the leaf).
HOUSEHOLD_ORDER = ["columns", "vocab", "models", "schema", "batch", "cells", "sheets", "readers",
                   "parse", "side", "template"]  # fmt: skip
MAX_LINES = 500


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


def imports(root: Path) -> dict[str, set[str]]:
    """Every module's imports (function-level ones too), as module names."""
    known = modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in known else node.module)
        graph[name] = found
    return graph


def floor(module: str) -> int | None:
    for prefix in sorted(FLOORS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return FLOORS[prefix]
    return None


def violations(root: Path) -> list[str]:
    graph = imports(root)
    out = []
    for module, targets in sorted(graph.items()):
        mine = floor(module)
        for target in sorted(targets):
            theirs = floor(target)
            if mine is None or theirs is None:
                continue
            if theirs > mine:
                out.append(f"{module} (floor {mine}) imports {target} (floor {theirs})")
            if module.startswith("household_models") and target.startswith("engine") and \
                    target not in ("engine.errors", "engine.text"):  # fmt: skip
                out.append(f"{module} imports {target}: household_models uses only the leaves")
            if module.startswith("household_models.") and target.startswith("household_models."):
                a, b = module.split(".")[1], target.split(".")[1]
                if HOUSEHOLD_ORDER.index(b) > HOUSEHOLD_ORDER.index(a):
                    out.append(f"{module} imports {target}, which is above it")
    return out


def cycles(root: Path) -> list[list[str]]:
    graph = imports(root)
    state: dict[str, int] = {}
    found: list[list[str]] = []

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in graph:
            return
        if state.get(name) == 1:
            found.append(path[path.index(name):] + [name])
            return
        state[name] = 1
        for target in sorted(graph[name]):
            visit(target, [*path, name])
        state[name] = 2

    for name in sorted(graph):
        visit(name, [])
    return found


def test_layers_import_only_downward() -> None:
    assert violations(ROOT) == []


def test_no_import_cycle() -> None:
    assert cycles(ROOT) == []


def test_every_module_has_a_floor() -> None:
    assert [m for m in modules(ROOT) if floor(m) is None] == []


def test_durable_is_imported_by_exactly_one_module() -> None:
    users = [m for m, targets in imports(ROOT).items()
             if any(t == "durable" or t.startswith("durable.") for t in targets)]  # fmt: skip
    assert users == ["engine.evaluators.durable.runtime"]


def test_a_back_edge_is_caught(tmp_path: Path) -> None:
    """A deliberate back edge (the law's model importing the results layer, inside a function)
    and a cycle are reported."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    model = tmp_path / "engine" / "rulebook" / "model.py"
    model.write_text(model.read_text("utf-8") + "\n\ndef _bad() -> None:\n"
                     "    from engine.results.classify import classify  # noqa: F401\n", "utf-8")  # fmt: skip
    assert violations(tmp_path) == [
        "engine.rulebook.model (floor 2) imports engine.results.classify (floor 4)"]
    assert any("engine.rulebook.model" in c for c in cycles(tmp_path))
    vocab = tmp_path / "household_models" / "vocab.py"
    vocab.write_text(vocab.read_text("utf-8") + "\nfrom household_models.parse import parse_batch"
                     "  # noqa: E402,F401\n", "utf-8")  # fmt: skip
    assert "household_models.vocab imports household_models.parse, which is above it" in \
        violations(tmp_path)  # fmt: skip


def test_the_web_page_uses_the_public_api_only() -> None:
    found = []
    for module, targets in sorted(imports(ROOT).items()):
        if not module.startswith("cli.web"):
            continue
        for target in sorted(targets):
            top = target.split(".")[0]
            if top in ("engine", "household_models") and target not in WEB_MAY_IMPORT:
                found.append(f"{module} imports {target}")
    assert found == [], found
    # and nothing below it imports the web layer
    assert [m for m, t in imports(ROOT).items() if not m.startswith("cli.web")
            and any(x.startswith("cli.web") for x in t)] == []


def test_no_long_module_without_a_reason() -> None:
    long = []
    for name, path in modules(ROOT).items():
        text = path.read_text("utf-8")
        doc = ast.get_docstring(ast.parse(text)) or ""
        if text.count("\n") > MAX_LINES and "lines because" not in doc:
            long.append(f"{name}: {text.count(chr(10))} lines")
    assert long == []


def test_nothing_refers_to_the_shared_folder() -> None:
    """The package, its README and docs are self-contained: no path to the developers' folder."""
    pattern = re.compile(r"\.\./shared|(ARCHITECTURE|DESIGN|DOMAIN|SURVEY_FORMAT|REPORT_FORMS)\.md")
    files = [ROOT / "README.md", *(ROOT / "docs").rglob("*.md")]
    for package in (*PACKAGES, "rules", "examples", "benchmarks"):
        files += [p for p in (ROOT / package).rglob("*") if p.suffix in (".py", ".yaml", ".md",
                                                                          ".json", ".csv")]  # fmt: skip
    hits = [str(p.relative_to(ROOT)) for p in files if pattern.search(p.read_text("utf-8"))]
    assert hits == []


def test_no_test_module_imports_another() -> None:
    tests = ROOT / "tests"
    bad = []
    for path in sorted(tests.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.test_"):
                bad.append(f"{path.name} imports {node.module}")
    assert bad == []


def test_every_exception_class_descends_from_the_error_module() -> None:
    """One error tree: every exception class of the package derives from a class of
    engine/errors.py (GiamngheoError, EngineError or Finding)."""
    import importlib
    import inspect

    import engine.errors as errors

    roots = (errors.GiamngheoError, errors.EngineError, errors.Finding)
    stray = []
    for name in modules(ROOT):
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, BaseException) and cls.__module__ == name and \
                    not issubclass(cls, roots):  # fmt: skip
                stray.append(f"{name}.{cls.__name__}")
    assert stray == []
