"""The survey schema as the engine reads it: the column specs of the two tables (from the
pydantic models), the code lists by domain and the fields the engine derives."""

from __future__ import annotations

from household_models.columns import ColumnSpec, specs_for
from household_models.models import Household, Member
from household_models.vocab import vocabulary

HOUSEHOLD_SPECS: tuple[ColumnSpec, ...] = specs_for(Household)
MEMBER_SPECS: tuple[ColumnSpec, ...] = specs_for(Member)

FIELD_SPECS: dict[str, dict[str, ColumnSpec]] = {
    "household": {s.name: s for s in HOUSEHOLD_SPECS},
    "member": {s.name: s for s in MEMBER_SPECS},
}
# The code fields by domain (a code field's name), and their code lists, e.g. DOMAIN_CODES["latrine"].
DOMAIN_FIELDS: dict[str, ColumnSpec] = {s.domain: s for s in HOUSEHOLD_SPECS + MEMBER_SPECS if s.domain}
DOMAIN_CODES: dict[str, tuple[str, ...]] = {domain: s.codes for domain, s in DOMAIN_FIELDS.items()}
# The decided classes, readable by statuses and interventions as the household field 'class'
# (the same codes as the survey's previous_status; the loader checks classification.yaml).
DOMAIN_CODES["class"] = DOMAIN_CODES["previous_status"]

# Fields the engine derives from the input; rules may read them like input fields.
DERIVED_HOUSEHOLD_FIELDS: dict[str, str] = {"member_count": "number"}
DERIVED_MEMBER_FIELDS: dict[str, str] = {"age_years": "number", "age_months": "number"}
DERIVED_FIELDS = {"household": DERIVED_HOUSEHOLD_FIELDS, "member": DERIVED_MEMBER_FIELDS}
# Which inputs a derived field is computed from (for the 'missing' column).
DERIVED_INPUTS = {"age_years": ("age",), "age_months": ("age",), "member_count": ()}
# Household fields that exist once the class is decided (read by statuses and interventions).
POST_CLASS_FIELDS = {"class": "code:class"}


def _check_vocabulary() -> None:
    """The vocabulary file must list exactly the codes of the model enums."""
    vocab = vocabulary()["codes"]
    for spec in HOUSEHOLD_SPECS + MEMBER_SPECS:
        if spec.kind in ("code", "codes") and tuple(vocab.get(spec.domain, {})) != spec.codes:
            raise RuntimeError(f"vocabulary.yaml codes for {spec.domain} differ from the model")


_check_vocabulary()
