"""Typed models of survey rows and results, the survey readers and the vectorised input parser."""

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
]
