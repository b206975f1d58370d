"""Typed models of survey rows and results, the survey readers and the vectorised input parser.

The names below are loaded on first use (PEP 562), so that a command which needs only the
column specifications or the vocabulary (``review history``) does not pay for pandas."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.errors import SurveyReadError
    from household_models.batch import ParsedBatch
    from household_models.columns import ColumnSpec
    from household_models.models import (
        Household,
        HouseholdResult,
        IndicatorState,
        InputErrorRow,
        Member,
    )
    from household_models.parse import parse_batch
    from household_models.readers import RawBatch, read_survey
    from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS
    from household_models.template import build_template

_WHERE = {
    "HOUSEHOLD_SPECS": "household_models.schema",
    "MEMBER_SPECS": "household_models.schema",
    "ColumnSpec": "household_models.columns",
    "Household": "household_models.models",
    "HouseholdResult": "household_models.models",
    "IndicatorState": "household_models.models",
    "InputErrorRow": "household_models.models",
    "Member": "household_models.models",
    "ParsedBatch": "household_models.batch",
    "RawBatch": "household_models.readers",
    "SurveyReadError": "engine.errors",
    "parse_batch": "household_models.parse",
    "read_survey": "household_models.readers",
    "build_template": "household_models.template",
}
__all__ = [
    "HOUSEHOLD_SPECS",
    "MEMBER_SPECS",
    "ColumnSpec",
    "Household",
    "HouseholdResult",
    "IndicatorState",
    "InputErrorRow",
    "Member",
    "ParsedBatch",
    "RawBatch",
    "SurveyReadError",
    "parse_batch",
    "read_survey",
    "build_template",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'household_models' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value
