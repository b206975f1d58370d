"""giamngheo engine: rulebook loading and checks, the condition language, the evaluators."""

from engine.classify import BatchResult, classify
from engine.outputs import OutputError, write_result
from engine.rulebook import Resolved, Rulebook, RulebookError, default_rulebook, load_rulebook

__all__ = [
    "BatchResult",
    "OutputError",
    "Resolved",
    "Rulebook",
    "RulebookError",
    "classify",
    "default_rulebook",
    "load_rulebook",
    "write_result",
]
