"""The durable_rules evaluator: formulas, compiler and facts (pure Python), runtime (the one
module that imports ``durable``)."""

from engine.evaluators.durable.facts import household_facts
from engine.evaluators.durable.formulas import CompileError, normalise, number
from engine.evaluators.durable.runtime import (
    DurableError,
    DurableEvaluator,
    DurableOutcome,
    QuietHost,
    evaluate_households,
)

__all__ = ["CompileError", "DurableError", "DurableEvaluator", "DurableOutcome", "QuietHost",
           "evaluate_households", "household_facts", "normalise", "number"]
