"""giamngheo engine: the public face of the library.

The layers, from the ground up (each imports only from those below it; ``docs/architecture.md``):
``errors`` and ``text`` (leaves) · ``rulebook`` (the law as typed objects) and ``files`` ·
``evaluators`` (vectorised, reference, durable_rules, cross-check) · ``loader`` and ``results``
· ``trace``, ``simulation``, ``synthetic`` and ``golden``.

Names are imported on first use, so that importing a leaf such as ``engine.errors`` does not load
the whole engine::

    from engine import classify, default_rulebook, simulate, build_trace
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_PUBLIC = {
    "BatchResult": "engine.results.classify",
    "classify": "engine.results.classify",
    "write_result": "engine.results.outputs",
    "OutputError": "engine.errors",
    "RulebookError": "engine.errors",
    "ScenarioError": "engine.errors",
    "GiamngheoError": "engine.errors",
    "Resolved": "engine.rulebook.model",
    "Rulebook": "engine.rulebook.model",
    "default_rulebook": "engine.loader.load",
    "load_rulebook": "engine.loader.load",
    "simulate": "engine.simulation.simulate",
    "Simulation": "engine.simulation.simulate",
    "load_scenario": "engine.simulation.scenario",
    "scenario_from_dict": "engine.simulation.scenario",
    "build_trace": "engine.trace.build",
    "replay": "engine.trace.replay",
}

if TYPE_CHECKING:
    from engine.errors import GiamngheoError, OutputError, RulebookError, ScenarioError
    from engine.loader.load import default_rulebook, load_rulebook
    from engine.results.classify import BatchResult, classify
    from engine.results.outputs import write_result
    from engine.rulebook.model import Resolved, Rulebook
    from engine.simulation.scenario import load_scenario, scenario_from_dict
    from engine.simulation.simulate import Simulation, simulate
    from engine.trace.build import build_trace
    from engine.trace.replay import replay

__all__ = [
    "BatchResult", "GiamngheoError", "OutputError", "Resolved", "Rulebook", "RulebookError",
    "ScenarioError", "Simulation", "build_trace", "classify", "default_rulebook", "load_rulebook",
    "load_scenario", "replay", "scenario_from_dict", "simulate", "write_result",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute '{name}'")
    return getattr(importlib.import_module(module), name)
