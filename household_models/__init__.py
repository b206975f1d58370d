"""Typed models of survey rows and results, the survey readers and the vectorised input parser."""

from household_models.models import (
    Household,
    HouseholdResult,
    IndicatorState,
    InputError,
    Member,
)
from household_models.parse import ParsedBatch, parse_batch
from household_models.readers import RawBatch, SurveyReadError, read_survey
from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS, ColumnSpec

__all__ = [
    "HOUSEHOLD_SPECS",
    "MEMBER_SPECS",
    "ColumnSpec",
    "Household",
    "HouseholdResult",
    "IndicatorState",
    "InputError",
    "Member",
    "ParsedBatch",
    "RawBatch",
    "SurveyReadError",
    "parse_batch",
    "read_survey",
]
