"""Frozen, closed pydantic models of survey rows (docs/input-format.md) and of results.

The models are the schema: the vectorised parser (``parse.py``) reads its column specs from them,
and the rulebook loader checks every field a rule reads against them. Vietnamese headers are
accepted as aliases; Vietnamese values (``nông thôn``, ``có``/``không``, ``nam``/``nữ``, code
labels) are normalised by the same function the batch parser uses.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from household_models.columns import Col, specs_for
from household_models.vocab import InvalidValue, format_message, match_key, normalise_scalar


class Area(StrEnum):
    rural = "rural"
    urban = "urban"


class Sex(StrEnum):
    male = "male"
    female = "female"


class WaterSource(StrEnum):
    piped = "piped"
    drilled_well = "drilled_well"
    protected_dug_well = "protected_dug_well"
    protected_spring = "protected_spring"
    rainwater = "rainwater"
    bottled = "bottled"
    unprotected_dug_well = "unprotected_dug_well"
    unprotected_spring = "unprotected_spring"
    surface_water = "surface_water"
    other = "other"


class Latrine(StrEnum):
    septic = "septic"
    semi_septic = "semi_septic"
    pour_flush = "pour_flush"
    double_vault = "double_vault"
    ventilated_pit = "ventilated_pit"
    biogas = "biogas"
    simple_pit = "simple_pit"
    hanging = "hanging"
    none = "none"
    other = "other"


class Device(StrEnum):
    tv = "tv"
    radio = "radio"
    desktop = "desktop"
    laptop = "laptop"
    tablet = "tablet"
    smartphone = "smartphone"


class Cause(StrEnum):
    no_land = "no_land"
    no_capital = "no_capital"
    no_labour = "no_labour"
    no_tools = "no_tools"
    no_knowledge = "no_knowledge"
    no_skills = "no_skills"
    illness = "illness"
    other = "other"


class PreviousStatus(StrEnum):
    poor = "poor"
    near_poor = "near_poor"
    average = "average"
    not_poor = "not_poor"


class Disability(StrEnum):
    none = "none"
    mild = "mild"
    severe = "severe"
    especially_severe = "especially_severe"


class Employment(StrEnum):
    wage_contract = "wage_contract"
    wage_no_contract = "wage_no_contract"
    self_employed = "self_employed"
    unemployed = "unemployed"
    not_in_labour_force = "not_in_labour_force"


class Education(StrEnum):
    none = "none"
    primary = "primary"
    lower_secondary = "lower_secondary"
    upper_secondary = "upper_secondary"
    vocational_elementary = "vocational_elementary"
    vocational_intermediate = "vocational_intermediate"
    college = "college"
    university = "university"


def _alias(name: str, vi: str) -> Any:
    return Field(default=None, validation_alias=AliasChoices(name, vi))


def normalise_row(model: type, data: dict[str, Any]) -> dict[str, Any]:
    """Map Vietnamese headers to field names and normalise every value (pydantic row path)."""
    specs = specs_for(model)
    by_header = {match_key(s.name): s for s in specs} | {match_key(s.vi): s for s in specs}
    out: dict[str, Any] = {}
    for key, raw in data.items():
        spec = by_header.get(match_key(str(key)))
        if spec is None:
            out[key] = raw
            continue
        try:
            value = normalise_scalar(spec, raw)
        except InvalidValue as exc:
            vi, en = format_message(exc.code, spec, raw, exc.detail)
            raise ValueError(f"{vi} / {en}") from None
        if value is not None:
            out[spec.name] = value
    return out


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return normalise_row(cls, data)
        return data


class Household(_Row):
    """One row of the households table."""

    household_id: Annotated[str, Col("mã hộ", required="yes"), Field(min_length=1)] = Field(
        validation_alias=AliasChoices("household_id", "mã hộ")
    )
    head_name: Annotated[str | None, Col("họ tên chủ hộ", personal=True)] = _alias(
        "head_name", "họ tên chủ hộ"
    )
    district: Annotated[str | None, Col("huyện")] = _alias("district", "huyện")
    commune: Annotated[str | None, Col("xã")] = _alias("commune", "xã")
    area: Annotated[Area | None, Col("khu vực", required="yes")] = _alias("area", "khu vực")
    income_per_capita_vnd: Annotated[
        int | None, Col("thu nhập bình quân", required="one of income"), Field(ge=0)
    ] = _alias("income_per_capita_vnd", "thu nhập bình quân")
    income_score: Annotated[float | None, Col("điểm A", required="one of income"), Field(ge=0)] = (
        _alias("income_score", "điểm A")
    )
    durable_frame: Annotated[bool | None, Col("khung cột bền chắc", required="yes")] = _alias(
        "durable_frame", "khung cột bền chắc"
    )
    durable_walls: Annotated[bool | None, Col("tường bền chắc", required="yes")] = _alias(
        "durable_walls", "tường bền chắc"
    )
    durable_roof: Annotated[bool | None, Col("mái bền chắc", required="yes")] = _alias(
        "durable_roof", "mái bền chắc"
    )
    floor_area_m2: Annotated[float | None, Col("diện tích nhà ở", required="yes"), Field(gt=0)] = (
        _alias("floor_area_m2", "diện tích nhà ở")
    )
    water_source: Annotated[WaterSource | None, Col("nguồn nước", required="yes")] = _alias(
        "water_source", "nguồn nước"
    )
    latrine: Annotated[Latrine | None, Col("nhà tiêu", required="yes")] = _alias(
        "latrine", "nhà tiêu"
    )
    uses_telecom: Annotated[bool | None, Col("sử dụng điện thoại/internet", required="yes")] = (
        _alias("uses_telecom", "sử dụng điện thoại/internet")
    )
    info_devices: Annotated[tuple[Device, ...], Col("phương tiện thông tin")] = Field(
        default=(), validation_alias=AliasChoices("info_devices", "phương tiện thông tin")
    )
    waste_treated: Annotated[bool | None, Col("xử lý rác thải")] = _alias(
        "waste_treated", "xử lý rác thải"
    )
    causes: Annotated[tuple[Cause, ...], Col("nguyên nhân nghèo")] = Field(
        default=(), validation_alias=AliasChoices("causes", "nguyên nhân nghèo")
    )
    previous_status: Annotated[PreviousStatus | None, Col("phân loại năm trước")] = _alias(
        "previous_status", "phân loại năm trước"
    )
    left_list_on: Annotated[dt.date | None, Col("ngày thoát nghèo")] = _alias(
        "left_list_on", "ngày thoát nghèo"
    )


class Member(_Row):
    """One row of the members table."""

    household_id: Annotated[str, Col("mã hộ", required="yes"), Field(min_length=1)] = Field(
        validation_alias=AliasChoices("household_id", "mã hộ")
    )
    member_no: Annotated[int, Col("stt", required="yes"), Field(ge=1, le=999)] = Field(
        validation_alias=AliasChoices("member_no", "stt")
    )
    name: Annotated[str | None, Col("họ tên", personal=True)] = _alias("name", "họ tên")
    sex: Annotated[Sex | None, Col("giới tính", required="yes")] = _alias("sex", "giới tính")
    age: Annotated[
        int | None, Col("tuổi", required="yes, unless birth_date"), Field(ge=0, le=120)
    ] = _alias("age", "tuổi")
    birth_date: Annotated[dt.date | None, Col("ngày sinh")] = _alias("birth_date", "ngày sinh")
    health_insurance: Annotated[bool | None, Col("có thẻ BHYT", required="yes")] = _alias(
        "health_insurance", "có thẻ BHYT"
    )
    disability: Annotated[Disability, Col("khuyết tật")] = Field(
        default=Disability.none, validation_alias=AliasChoices("disability", "khuyết tật")
    )
    serious_illness: Annotated[bool, Col("ốm đau, bệnh nặng")] = Field(
        default=False, validation_alias=AliasChoices("serious_illness", "ốm đau, bệnh nặng")
    )
    employment: Annotated[Employment | None, Col("việc làm", required="ages 15+")] = _alias(
        "employment", "việc làm"
    )
    education: Annotated[Education | None, Col("trình độ", required="ages 16+")] = _alias(
        "education", "trình độ"
    )
    in_school: Annotated[bool | None, Col("đang đi học", required="ages 3–30")] = _alias(
        "in_school", "đang đi học"
    )
    school_on_track: Annotated[
        bool | None, Col("học đúng cấp", required="children 3–15 in school")
    ] = _alias("school_on_track", "học đúng cấp")
    stunted: Annotated[
        bool | None, Col("suy dinh dưỡng chiều cao", required="children under 16")
    ] = _alias("stunted", "suy dinh dưỡng chiều cao")
    underweight: Annotated[
        bool | None, Col("suy dinh dưỡng cân nặng", required="children under 16")
    ] = _alias("underweight", "suy dinh dưỡng cân nặng")
    social_allowance: Annotated[bool, Col("hưởng trợ cấp hằng tháng")] = Field(
        default=False,
        validation_alias=AliasChoices("social_allowance", "hưởng trợ cấp hằng tháng"),
    )
    meritorious: Annotated[bool, Col("người có công")] = Field(
        default=False, validation_alias=AliasChoices("meritorious", "người có công")
    )
    pregnant_or_nursing: Annotated[bool, Col("mang thai/nuôi con nhỏ")] = Field(
        default=False,
        validation_alias=AliasChoices("pregnant_or_nursing", "mang thai/nuôi con nhỏ"),
    )


IndicatorState = Literal["deprived", "ok", "unknown", ""]
ClassId = Literal["poor", "near_poor", "average", "not_poor", "incomplete", "invalid"]


class HouseholdResult(BaseModel):
    """The classification of one household, as written to the results table."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    household_id: str
    indicators: dict[str, IndicatorState]
    deprivation_count: int | None
    class_: ClassId = Field(alias="class")
    class_vi: str
    reason: str
    missing: tuple[str, ...]
    error: str
    rulebook_version: str
    as_of: dt.date


class InputErrorRow(BaseModel):
    """One problem found in the input, as written to the errors table."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    sheet: str
    row: int | None
    column: str
    value: str
    household_id: str
    member_no: str
    code: str
    message_vi: str
    message_en: str
