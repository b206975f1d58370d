"""A column stored in Arrow (Parquet, pandas' str type) is parsed through its dictionary: each
distinct value once, then spread back to the rows. The parsed batch and the errors table are the
same as those of the value-by-value path (the one CSV and XLSX take), on the examples, on
hostile values in every column and on the whole synthetic province."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from engine.golden import frames
from household_models import parse_batch, read_survey
from household_models.batch import ParsedBatch
from household_models.parse import _loose_id, loose_ids
from household_models.readers import RawBatch, SourceTable
from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS
from tests.helpers import EXAMPLES, run

HOSTILE = ["", " ", "  x ", "\tH1", "H1\n", "H1\x1f", "\x1cH", "None", "NaN", "nan", "<NA>", "-5",
           "1e3", "1e308", "9" * 40, "1.500.000", "1 500 000", "1,5", "+7", "0x10", "30/06/2025",
           "45838", "2025-13-40", "có", "không", "true", "nông thôn", "Nông Thôn ", "NÔNG THÔN",
           "e\u0301", "é", "\u00a0x\u00a0", "\u2003y", "x\u3000", "📱", "ＡＢＣ", "a;b", "=1+1"]  # fmt: skip
texts = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8), st.none())


def _object_copy(table: SourceTable) -> SourceTable:
    """The same table with every column as Python objects (the value-by-value path)."""
    return SourceTable(table.frame.astype(object), table.file, table.sheet, table.first_row,
                       list(table.notes), list(table.bad_rows))  # fmt: skip


def _arrow_copy(table: SourceTable) -> SourceTable:
    """The same table with every text column in Arrow (as Parquet gives it)."""
    frame = table.frame.copy()
    for c in frame.columns:
        if frame[c].map(lambda v: v is None or isinstance(v, str)).all():
            frame[c] = frame[c].astype(pd.StringDtype("pyarrow", na_value=np.nan))  # "str"
    return SourceTable(frame, table.file, table.sheet, table.first_row, list(table.notes),
                       list(table.bad_rows))  # fmt: skip


def assert_same(a: ParsedBatch, b: ParsedBatch) -> None:
    for side in ("households", "members"):
        x, y = getattr(a, side), getattr(b, side)
        assert list(x) == list(y)
        for name in x:
            cx, cy = x[name], y[name]
            assert (cx.kind, cx.codes) == (cy.kind, cy.codes), name
            np.testing.assert_array_equal(cx.missing, cy.missing, err_msg=name)
            known = ~cx.missing
            np.testing.assert_array_equal(cx.values[known], cy.values[known], err_msg=name)
    np.testing.assert_array_equal(a.member_household, b.member_household)
    np.testing.assert_array_equal(a.household_invalid, b.household_invalid)
    np.testing.assert_array_equal(a.household_error, b.household_error)
    pd.testing.assert_frame_equal(a.errors, b.errors)
    assert a.personal == b.personal


def _both(raw: RawBatch) -> tuple[ParsedBatch, ParsedBatch]:
    arrow = RawBatch(_arrow_copy(raw.households), _arrow_copy(raw.members))
    return parse_batch(arrow), parse_batch(RawBatch(_object_copy(raw.households),
                                                    _object_copy(raw.members)))  # fmt: skip


def test_the_examples_parse_the_same() -> None:
    for paths in ([EXAMPLES / "survey.xlsx"],
                  [EXAMPLES / "households.csv", EXAMPLES / "members.csv"]):  # fmt: skip
        a, b = _both(read_survey(paths))
        assert_same(a, b)
        assert any(str(a.households[n].values.dtype) == "object" for n in a.households)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=[Phase.generate])  # (shrinking these frames is slow; the failure is printed)
@given(st.data())
def test_hostile_values_in_every_column_parse_the_same(data: Any) -> None:
    cases = []
    for i in range(data.draw(st.integers(1, 4))):
        household = {s.name: data.draw(texts) for s in HOUSEHOLD_SPECS[1:] if data.draw(st.booleans())}
        household["household_id"] = data.draw(st.sampled_from([f"H{i}", " H0", "H0", "", None,
                                                                 f"H{i}\u00a0", "e\u0301"]))
        members = []
        for j in range(data.draw(st.integers(1, 3))):
            member = {s.name: data.draw(texts) for s in MEMBER_SPECS[2:] if data.draw(st.booleans())}
            member["member_no"] = data.draw(st.sampled_from([str(j + 1), "1", "x", None, " 2"]))
            members.append(member)
        cases.append({"household": household, "members": members})
    hh, mem = frames(cases)
    text = [f.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
            for f in (hh, mem)]  # fmt: skip
    a, b = _both(RawBatch(SourceTable(text[0], "h.parquet", "", 1),
                          SourceTable(text[1], "m.parquet", "", 1)))  # fmt: skip
    assert_same(a, b)


def test_the_province_parses_the_same(tmp_path: Path) -> None:
    code, _ = run("sample", "-o", str(tmp_path / "h.parquet"), "--province", "--seed", "1",
                  "--year", "2025")  # fmt: skip
    assert code == 0
    raw = read_survey([tmp_path / "h.parquet", tmp_path / "h.members.parquet"])
    assert len(raw.households.frame) == 418_246
    frames = raw.households.frame, raw.members.frame
    in_arrow = [c for c in frames[0].columns if isinstance(frames[0][c].dtype, pd.StringDtype)]
    coded = [c for c in frames[1].columns if isinstance(frames[1][c].dtype, pd.CategoricalDtype)]
    assert len(in_arrow) >= 10 and len(coded) >= 10  # the dictionary paths are the ones taken
    a = parse_batch(raw)
    b = parse_batch(RawBatch(_object_copy(raw.households), _object_copy(raw.members)))
    assert_same(a, b)
    assert len(a.errors) > 100  # the sample's noise: bad values reported the same way


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(["007", "7.0", "007.0", "0.0", "00", "000.0", " 12 ",
                                           "\x1c12", "12\x0b", "１２", "١٢", "²", "12.00", "+1",
                                           "-0", "HY-001", "0x", "0", ".0", "00.0 "]),
                          st.text(alphabet="0123456789. \t\x1c\x85\u00a0a١²", max_size=6),
                          st.text(max_size=6)), max_size=30))  # fmt: skip
def test_loose_ids_in_arrow_are_the_python_ones(values: list[str]) -> None:
    assert loose_ids(values) == [_loose_id(v) for v in values]
