"""Worked examples: the decree's numbers are written in the YAML cases, never read from rules/."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import run_cases

GOLDEN = Path(__file__).parent / "golden"
RULES = Path(__file__).parent.parent / "rules"

# How the classification cases build N deprivations from an otherwise deprivation-free household.
DEPRIVERS: list[dict[str, Any]] = [
    {"durable_frame": False, "durable_walls": False},  # housing.quality
    {"latrine": "none"},  # water.latrine
    {"water_source": "surface_water"},  # water.source
    {"uses_telecom": False},  # information.telecom
    {"info_devices": ""},  # information.devices
]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text("utf-8"))
    return data


def _indicator_cases() -> list[Any]:
    params = []
    for path in sorted((GOLDEN / "indicators").glob("*/*.yaml")):
        data = _load(path)
        for case in data["cases"]:
            params.append(
                pytest.param(data["indicator"], case, id=f"{data['indicator']}: {case['name']}")
            )
    return params


def test_every_indicator_has_golden_cases() -> None:
    rule_files = {f"{p.parent.name}/{p.name}" for p in (RULES / "indicators").glob("*/*.yaml")}
    golden = {f"{p.parent.name}/{p.name}" for p in (GOLDEN / "indicators").glob("*/*.yaml")}
    assert rule_files == golden


@pytest.mark.parametrize(("indicator", "case"), _indicator_cases())
def test_indicator(indicator: str, case: dict[str, Any]) -> None:
    as_of = (
        case["as_of"]
        if isinstance(case["as_of"], dt.date)
        else dt.date.fromisoformat(case["as_of"])
    )
    results = run_cases([case], as_of)
    row = results.iloc[0]
    assert row["class"] != "invalid", row["error"]
    if case["expect"] == "absent":
        assert indicator not in results.columns
    else:
        assert row[indicator] == case["expect"], row["reason"]


def _classification_cases() -> list[Any]:
    data = _load(GOLDEN / "classification.yaml")
    return [pytest.param(c, id=c["name"]) for c in data["cases"]]


@pytest.mark.parametrize("case", _classification_cases())
def test_classification(case: dict[str, Any]) -> None:
    household = dict(case.get("household", {}))
    for extra in DEPRIVERS[: case.get("deprived", 0)]:
        household.update(extra)
    as_of = (
        case["as_of"]
        if isinstance(case["as_of"], dt.date)
        else dt.date.fromisoformat(case["as_of"])
    )
    row = run_cases([{"household": household}], as_of).iloc[0]
    assert row["class"] == case["expect"], row["reason"]
    if "deprived" in case and case["expect"] != "incomplete":
        assert row["deprivation_count"] == case["deprived"]
