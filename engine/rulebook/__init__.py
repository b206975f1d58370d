"""The law as typed objects and the condition language (floor 2: loads and evaluates nothing)."""

from engine.errors import Problem, RulebookError
from engine.rulebook.model import (
    AMOUNT_KINDS,
    AMOUNT_PERIODS,
    ActionDef,
    Amount,
    Citation,
    Classification,
    ClassRow,
    Definition,
    Department,
    DepartmentName,
    Intervention,
    Parameter,
    ParamValue,
    Resolved,
    Rule,
    Rulebook,
    Status,
    Version,
    boundary_dates,
    provisional_items,
)

__all__ = [
    "AMOUNT_KINDS", "AMOUNT_PERIODS", "ActionDef", "Amount", "Citation", "ClassRow",
    "Classification", "Definition", "Department", "DepartmentName", "Intervention", "ParamValue",
    "Parameter", "Problem", "Resolved", "Rule", "Rulebook", "RulebookError", "Status", "Version",
    "boundary_dates", "provisional_items",
]  # fmt: skip
