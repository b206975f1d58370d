"""Shared helpers of the tests: the example paths, the command line, hand-written cases run
through the real reader → parser → evaluator path, and the hypothesis strategies."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from cli.main import main
from engine import default_rulebook, load_rulebook
from engine.golden import base, classify_frames, frames
from engine.results.classify import BatchResult
from engine.rulebook import Rulebook
from household_models.batch import ParsedBatch
from household_models.parse import parse_batch
from household_models.readers import RawBatch, SourceTable

ROOT = Path(__file__).parent.parent
EXAMPLES = ROOT / "examples"
RULES = ROOT / "rules"
GOLDEN = Path(__file__).parent / "golden"
AS_OF = dt.date(2025, 6, 30)
# The base household of the golden cases (engine/data/golden.yaml): rural, 1,000,000 VND a
# person, no deprivation, one working adult with a health-insurance card.
BASE_HOUSEHOLD: dict[str, Any] = base()["household"]
BASE_MEMBER: dict[str, Any] = base()["member"]
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

__all__ = ["AS_OF", "BASE_HOUSEHOLD", "BASE_MEMBER", "EXAMPLES", "FAST", "GOLDEN", "ROOT", "RULES",
           "batch_of", "cases", "frames", "run", "run_cases", "run_frames",
           "wrong_operator_rulebook"]  # fmt: skip


def run(*args: str) -> tuple[int, str]:
    """The command line in-process: exit code and everything printed."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def run_frames(hh: pd.DataFrame, mem: pd.DataFrame, as_of: dt.date) -> BatchResult:
    return classify_frames(hh, mem, default_rulebook(), as_of)


def run_cases(cases: list[dict[str, Any]], as_of: dt.date) -> pd.DataFrame:
    hh, mem = frames(cases)
    return run_frames(hh, mem, as_of).results


def wrong_operator_rulebook(tmp_path: Path) -> Rulebook:
    """The bundled rulebook with one planted mutation: income at or below the poverty line
    (``le``) becomes strictly below it (``lt``)."""
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    path = rules / "facts" / "household" / "income_at_or_below_line.yaml"
    text = path.read_text("utf-8")
    assert "- le: [{field: income_per_capita_vnd}" in text
    path.write_text(text.replace("- le: [{field: income_per_capita_vnd}",
                                 "- lt: [{field: income_per_capita_vnd}", 1), "utf-8")  # fmt: skip
    return load_rulebook(rules)


def batch_of(hh: pd.DataFrame, mem: pd.DataFrame) -> ParsedBatch:
    return parse_batch(RawBatch(SourceTable(hh, "h", "", 2), SourceTable(mem, "m", "", 2)))


# Incomes on and around every line and ceiling of both areas (written from Decree 07/2021).
EDGE_INCOMES = [0, 1_499_999, 1_500_000, 1_500_001, 1_999_999, 2_000_000, 2_000_001,
                2_249_999, 2_250_000, 2_250_001, 2_999_999, 3_000_000, 3_000_001]  # fmt: skip


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy, strategy, strategy)


members = st.fixed_dictionaries(
    {
        "sex": maybe(st.sampled_from(["male", "female"])),
        "age": maybe(
            st.sampled_from(
                [0, 2, 3, 5, 6, 10, 14, 15, 16, 17, 18, 30, 31, 45, 56, 57, 60, 61, 62, 80]
            )
        ),  # fmt: skip
        "health_insurance": maybe(st.booleans()),
        "disability": st.sampled_from(["none", "none", "mild", "severe", "especially_severe"]),
        "employment": maybe(
            st.sampled_from(
                [
                    "wage_contract",
                    "wage_no_contract",
                    "self_employed",
                    "unemployed",
                    "not_in_labour_force",
                ]
            )
        ),  # fmt: skip
        "education": maybe(
            st.sampled_from(
                ["primary", "lower_secondary", "upper_secondary", "vocational_elementary"]
            )
        ),  # fmt: skip
        "in_school": maybe(st.booleans()),
        "school_on_track": maybe(st.booleans()),
        "stunted": maybe(st.booleans()),
        "underweight": maybe(st.booleans()),
        "social_allowance": st.booleans(),
        "pregnant_or_nursing": st.booleans(),
        "serious_illness": st.booleans(),
        "meritorious": st.booleans(),
    }
)
households = st.fixed_dictionaries(
    {
        "area": maybe(st.sampled_from(["rural", "urban"])),
        "income_per_capita_vnd": maybe(
            st.one_of(st.sampled_from(EDGE_INCOMES), st.integers(0, 5_000_000))
        ),  # fmt: skip
        "income_score": maybe(st.sampled_from([100, 139, 140, 141, 174, 175, 176, 300])),
        "durable_frame": maybe(st.booleans()),
        "durable_walls": maybe(st.booleans()),
        "durable_roof": maybe(st.booleans()),
        "floor_area_m2": maybe(st.sampled_from([7.9, 8, 15, 16, 24, 40, 100])),
        "water_source": maybe(st.sampled_from(["piped", "rainwater", "surface_water", "other"])),
        "latrine": maybe(st.sampled_from(["septic", "biogas", "simple_pit", "none"])),
        "uses_telecom": maybe(st.booleans()),
        "info_devices": st.sampled_from(["", "tv", "smartphone;radio"]),
        "causes": st.sampled_from(["", "no_land", "no_capital;no_tools", "illness", "no_labour",
                                   "no_skills;other"]),  # fmt: skip
        "previous_status": maybe(st.sampled_from(["poor", "near_poor", "average", "not_poor"])),
        "left_list_on": maybe(st.sampled_from(["2022-06-29", "2022-06-30", "2024-12-31",
                                               "2025-07-15"])),  # fmt: skip
    }
)
cases = st.builds(lambda h, m: {"household": h, "members": m}, households,
                  st.lists(members, min_size=1, max_size=6))  # fmt: skip
