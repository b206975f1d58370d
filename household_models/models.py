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


class ReviewKind(StrEnum):
    annual = "annual"
    regular = "regular"
    complaint = "complaint"


class Relationship(StrEnum):
    head = "head"
    spouse = "spouse"
    child = "child"
    parent = "parent"
    grandchild = "grandchild"
    sibling = "sibling"
    other = "other"


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
    village: Annotated[str | None, Col("thôn", traced_when_given=True)] = _alias("village", "thôn")
    farm_household: Annotated[
        bool | None, Col("hộ làm nông, lâm, ngư, diêm nghiệp", traced_when_given=True)
    ] = _alias("farm_household", "hộ làm nông, lâm, ngư, diêm nghiệp")
    review_kind: Annotated[
        ReviewKind | None, Col("hình thức rà soát", traced_when_given=True)
    ] = _alias("review_kind", "hình thức rà soát")
    review_date: Annotated[dt.date | None, Col("ngày rà soát", traced_when_given=True)] = _alias(
        "review_date", "ngày rà soát"
    )
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
    relationship: Annotated[
        Relationship | None, Col("quan hệ với chủ hộ", traced_when_given=True)
    ] = _alias("relationship", "quan hệ với chủ hộ")
    ethnicity: Annotated[str | None, Col("dân tộc", traced_when_given=True)] = _alias(
        "ethnicity", "dân tộc"
    )
    id_number: Annotated[str | None, Col("số định danh", personal=True)] = _alias(
        "id_number", "số định danh"
    )


class EventKind(StrEnum):
    moved_in = "moved_in"
    moved_out = "moved_out"
    split_from = "split_from"
    merged_into = "merged_into"
    dissolved = "dissolved"
    head_changed = "head_changed"


class Event(_Row):
    """One household change between reviews (the optional ``events`` table)."""

    household_id: Annotated[str | None, Col("mã hộ", required="yes")] = _alias(
        "household_id", "mã hộ")
    kind: Annotated[EventKind | None, Col("loại biến động", required="yes",
                                          domain="event_kind")] = _alias("kind", "loại biến động")
    on_date: Annotated[dt.date | None, Col("ngày", required="yes")] = _alias("on_date", "ngày")
    related_household_id: Annotated[str | None, Col("mã hộ liên quan")] = _alias(
        "related_household_id", "mã hộ liên quan")
    note: Annotated[str | None, Col("ghi chú")] = _alias("note", "ghi chú")


class Support(_Row):
    """One support actually delivered (the optional ``support`` table)."""

    household_id: Annotated[str | None, Col("mã hộ", required="yes")] = _alias(
        "household_id", "mã hộ")
    member_no: Annotated[int | None, Col("stt"), Field(ge=1, le=999)] = _alias("member_no", "stt")
    action_id: Annotated[str | None, Col("mã hỗ trợ", required="yes")] = _alias(
        "action_id", "mã hỗ trợ")
    delivered_on: Annotated[dt.date | None, Col("ngày hỗ trợ", required="yes")] = _alias(
        "delivered_on", "ngày hỗ trợ")
    amount_vnd: Annotated[int | None, Col("số tiền"), Field(ge=0)] = _alias("amount_vnd", "số tiền")
    programme: Annotated[str | None, Col("chương trình")] = _alias("programme", "chương trình")
    decision_no: Annotated[str | None, Col("số quyết định")] = _alias("decision_no",
                                                                       "số quyết định")


class Decision(_Row):
    """The commune's decision on one household's class in a round (``--decisions``)."""

    household_id: Annotated[str | None, Col("mã hộ", required="yes")] = _alias(
        "household_id", "mã hộ")
    recognised_class: Annotated[PreviousStatus | None, Col(
        "phân loại được công nhận", required="yes", domain="previous_status")] = _alias(
        "recognised_class", "phân loại được công nhận")
    decision_no: Annotated[str | None, Col("số quyết định")] = _alias("decision_no",
                                                                       "số quyết định")
    decision_date: Annotated[dt.date | None, Col("ngày quyết định")] = _alias(
        "decision_date", "ngày quyết định")


class Commune(_Row):
    """One commune's resident population (the optional ``communes`` table): the denominators
    of the report forms when the batch is not the whole commune."""

    commune: Annotated[str | None, Col("xã", required="yes")] = _alias("commune", "xã")
    district: Annotated[str | None, Col("huyện")] = _alias("district", "huyện")
    households_total: Annotated[int | None, Col("tổng số hộ dân cư", required="yes"),
                                Field(ge=0)] = _alias("households_total", "tổng số hộ dân cư")
    persons_total: Annotated[int | None, Col("tổng số nhân khẩu", required="yes"),
                             Field(ge=0)] = _alias("persons_total", "tổng số nhân khẩu")


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
