"""Column metadata of the survey models: ``Col`` (attached to each model field), ``ColumnSpec``
(one column as both input paths read it) and ``specs_for`` (the specs of a model). The leaf of
``household_models``: it imports nothing of the project."""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

import annotated_types


@dataclass(frozen=True)
class Col:
    """Column metadata attached to a model field: its Vietnamese header and required-ness."""

    vi: str
    required: str = "no"
    personal: bool = False
    # A descriptive column added after traces were first recorded: a trace lists it only when
    # given, so that a trace recorded before it existed replays to the same bytes.
    traced_when_given: bool = False
    domain: str = ""  # the code list's name in vocabulary.yaml, when not the field's name


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    vi: str
    kind: str  # text | bool | int | number | code | codes | date
    required: str
    personal: bool
    default: Any
    traced_when_given: bool = False
    domain: str = ""
    codes: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None


def _base_type(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _base_type(args[0])
    if origin is typing.Annotated:
        return _base_type(typing.get_args(annotation)[0])
    return annotation


@cache
def specs_for(model: type) -> tuple[ColumnSpec, ...]:
    specs: list[ColumnSpec] = []
    fields = model.model_fields  # type: ignore[attr-defined]
    for name, info in fields.items():
        col = next((m for m in info.metadata if isinstance(m, Col)), None)
        if col is None:  # pragma: no cover
            raise TypeError(f"{model.__name__}.{name} lacks Col metadata")
        base = _base_type(info.annotation)
        codes: tuple[str, ...] = ()
        domain = ""
        if typing.get_origin(base) is tuple:
            enum_type = typing.get_args(base)[0]
            kind, codes, domain = "codes", tuple(e.value for e in enum_type), name
        elif isinstance(base, type) and issubclass(base, StrEnum):
            kind, codes, domain = "code", tuple(e.value for e in base), col.domain or name
        elif base is bool:
            kind = "bool"
        elif base is int:
            kind = "int"
        elif base is float:
            kind = "number"
        elif base is dt.date:
            kind = "date"
        else:
            kind = "text"
        bounds: dict[str, float | None] = {"ge": None, "gt": None, "le": None}
        for meta in info.metadata:
            if isinstance(meta, annotated_types.Ge):
                bounds["ge"] = float(meta.ge)  # type: ignore[arg-type]
            elif isinstance(meta, annotated_types.Gt):
                bounds["gt"] = float(meta.gt)  # type: ignore[arg-type]
            elif isinstance(meta, annotated_types.Le):
                bounds["le"] = float(meta.le)  # type: ignore[arg-type]
        default = None if info.is_required() else info.default
        if isinstance(default, StrEnum):
            default = default.value
        specs.append(
            ColumnSpec(
                name=name,
                vi=col.vi,
                kind=kind,
                required=col.required,
                personal=col.personal,
                default=default,
                traced_when_given=col.traced_when_given,
                domain=domain,
                codes=codes,
                **bounds,
            )
        )
    return tuple(specs)
