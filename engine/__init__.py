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
    # the pages, reports and registry the web page shows (cli.web uses only these names)
    "render_trace_html": "engine.trace.render",
    "render_report_html": "engine.simulation.report",
    "write_tables": "engine.files",
    "save_workbook": "engine.files",
    "open_registry": "engine.registry.store",
    "rounds": "engine.registry.history",
    "household_history": "engine.registry.history",
    "close_round": "engine.registry.record",
    "verify_registry": "engine.registry.audit:verify",
    "plan_data": "engine.reports.plan",
    "render_plan_html": "engine.reports.plan_report",
    "write_plan_workbook": "engine.reports.plan_report",
}

if TYPE_CHECKING:
    from engine.errors import GiamngheoError, OutputError, RulebookError, ScenarioError
    from engine.files import save_workbook, write_tables
    from engine.loader.load import default_rulebook, load_rulebook
    from engine.registry.audit import verify as verify_registry
    from engine.registry.history import household_history, rounds
    from engine.registry.record import close_round
    from engine.registry.store import open_registry
    from engine.reports.plan import plan_data
    from engine.reports.plan_report import render_plan_html, write_plan_workbook
    from engine.results.classify import BatchResult, classify
    from engine.results.outputs import write_result
    from engine.rulebook.model import Resolved, Rulebook
    from engine.simulation.report import render_report_html
    from engine.simulation.scenario import load_scenario, scenario_from_dict
    from engine.simulation.simulate import Simulation, simulate
    from engine.trace.build import build_trace
    from engine.trace.render import render_trace_html
    from engine.trace.replay import replay

__all__ = [
    "BatchResult", "GiamngheoError", "OutputError", "Resolved", "Rulebook", "RulebookError",
    "ScenarioError", "Simulation", "build_trace", "classify", "default_rulebook", "load_rulebook",
    "load_scenario", "replay", "scenario_from_dict", "simulate", "write_result",
    "render_trace_html", "render_report_html", "write_tables", "save_workbook", "open_registry",
    "rounds", "household_history", "close_round", "verify_registry", "plan_data",
    "render_plan_html", "write_plan_workbook",
]  # fmt: skip


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute '{name}'")
    module, _, attr = module.partition(":")
    return getattr(importlib.import_module(module), attr or name)
