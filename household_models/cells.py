"""One column of a table parsed into a typed column and its errors: each distinct value once
through the normaliser (``vocab.normalise_scalar``), numbers vectorised first, and a column
stored in Arrow through its dictionary (distinct values found by Arrow, plain ASCII text kept
without a Python call). Every path gives the same column and the same errors, row for row."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from household_models.batch import BoolArray, Column, encode
from household_models.columns import ColumnSpec
from household_models.vocab import MAX_DIGITS, InvalidValue, format_message, normalise_scalar


def _parse_numeric_fast(
    spec: ColumnSpec, series: pd.Series
) -> tuple[npt.NDArray[np.float64], BoolArray, BoolArray] | None:
    """Vectorised path for numeric columns: values, missing, and rows needing the slow path."""
    if series.dtype == bool:
        return None
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan).copy()
        missing = np.isnan(values)
        slow = np.zeros(len(values), dtype=bool)
    else:
        obj = series.astype(object)
        blank = obj.isna().to_numpy() | (obj.astype(str).str.strip() == "").to_numpy()
        values = (
            pd.to_numeric(obj.where(~blank, None), errors="coerce")
            .to_numpy(dtype=np.float64, na_value=np.nan)
            .copy()
        )
        missing = blank.copy()
        slow = np.isnan(values) & ~blank
    if spec.kind == "int":
        slow |= ~missing & ~np.isnan(values) & (np.floor(values) != values)
    with np.errstate(invalid="ignore"):
        slow |= ~missing & (np.isinf(values) | (np.abs(values) >= 10.0**MAX_DIGITS))
    return values, missing, slow


Parsed = tuple[Column, npt.NDArray[np.int64], list[str], list[str], list[tuple[str, str]]]

# What Python's str.strip() removes from ASCII text, as an RE2 class (for pyarrow).
ASCII_SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f "
# An ASCII text the normaliser returns unchanged (NFC is the identity on ASCII; nothing for
# str.strip to remove): no Python call needed.
_PLAIN_TEXT = rf"^[^{ASCII_SPACE}]((?s:.*)[^{ASCII_SPACE}])?$"


def _dictionary(series: pd.Series) -> tuple[npt.NDArray[np.int64], Any] | None:
    """The column as codes into an Arrow string dictionary, the NA slot after its last entry:
    a column stored in Arrow is encoded by Arrow, a categorical of texts (a Parquet dictionary
    column) is one already. None for any other column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        arrow = series.array.__arrow_array__()
        if hasattr(arrow, "combine_chunks"):
            arrow = arrow.combine_chunks()
        encoded = arrow.dictionary_encode()
        dictionary = encoded.dictionary
        codes = pc.fill_null(encoded.indices, len(dictionary)).to_numpy()
        return codes.astype(np.int64), dictionary
    if isinstance(dtype, pd.CategoricalDtype) and pd.api.types.is_string_dtype(dtype.categories):
        texts = dtype.categories.to_numpy(dtype=object)
        if not all(isinstance(t, str) for t in texts):
            return None
        dictionary = pa.array(texts, type=pa.large_string())
        codes = series.cat.codes.to_numpy().astype(np.int64)
        codes[codes < 0] = len(dictionary)
        return codes, dictionary
    return None


def parse_column(spec: ColumnSpec, series: pd.Series) -> Parsed:
    """Parse one column. Returns the typed column and (positions, values, codes, messages) of
    errors. A column stored in Arrow, or read as a dictionary, is parsed through its dictionary:
    each distinct value once, by the same code as any other column (``_parse_values``), then
    spread back to the rows."""
    found = _dictionary(series)
    if found is None:
        return _parse_values(spec, series)
    import pyarrow.compute as pc

    codes, dictionary = found
    n_u = len(dictionary)  # codes == n_u: the NA slot
    if spec.kind == "text":  # ids and names: mostly distinct, mostly plain ASCII
        plain = pc.and_(pc.string_is_ascii(dictionary),
                        pc.match_substring_regex(dictionary, _PLAIN_TEXT))  # fmt: skip
        plain_u = np.asarray(plain.to_numpy(zero_copy_only=False), dtype=bool)
        hard = np.flatnonzero(~plain_u)
    else:
        hard = np.arange(n_u)
    distinct = dictionary.take(hard).to_pylist() if len(hard) < n_u else dictionary.to_pylist()
    col, pos, vals, err_codes, msgs = _parse_values(spec, pd.Series([*distinct, None],
                                                                    dtype=object))  # fmt: skip
    where = np.append(hard, n_u)  # slot of each parsed distinct value
    if len(hard) < n_u:
        values: npt.NDArray[Any] = np.empty(n_u + 1, dtype=object)
        values[:n_u] = dictionary.to_numpy(zero_copy_only=False)
        values[where] = col.values
        missing = np.zeros(n_u + 1, dtype=bool)
        missing[where] = col.missing
    else:
        values, missing = col.values, col.missing
    out = Column(spec.kind, values[codes], missing[codes], spec.codes)
    if len(pos) == 0:
        return out, np.zeros(0, np.int64), [], [], []
    slot_error = dict(zip(where[pos].tolist(), range(len(pos)), strict=True))
    rows = np.flatnonzero(np.isin(codes, where[pos])).astype(np.int64)
    which = [slot_error[s] for s in codes[rows].tolist()]
    return (out, rows, [vals[i] for i in which], [err_codes[i] for i in which],
            [msgs[i] for i in which])  # fmt: skip


def _parse_values(spec: ColumnSpec, series: pd.Series) -> Parsed:
    """Parse one column value by value (each distinct value once, numbers vectorised)."""
    n = len(series)
    if spec.kind in ("int", "number"):
        fast = _parse_numeric_fast(spec, series)
        if fast is not None:
            values, missing, slow = fast
            bad_pos: list[int] = []
            bad_val: list[str] = []
            bad_code: list[str] = []
            bad_msg: list[tuple[str, str]] = []
            raw = series.to_numpy(dtype=object)
            for pos in np.flatnonzero(slow):
                try:
                    value = normalise_scalar(spec, raw[pos])
                    if value is None:  # a word for missing ("NaN", "N/A")
                        values[pos], missing[pos] = np.nan, True
                        continue
                    values[pos] = float(value)
                except InvalidValue as exc:
                    values[pos] = np.nan
                    missing[pos] = True
                    bad_pos.append(int(pos))
                    bad_val.append(str(raw[pos]))
                    bad_code.append(exc.code)
                    bad_msg.append(format_message(exc.code, spec, raw[pos], exc.detail))
            known = ~missing
            lo_bad = np.zeros(n, dtype=bool)
            if spec.ge is not None:
                lo_bad |= known & (values < spec.ge)
            if spec.gt is not None:
                lo_bad |= known & (values <= spec.gt)
            if spec.le is not None:
                lo_bad |= known & (values > spec.le)
            for pos in np.flatnonzero(lo_bad):
                try:
                    normalise_scalar(spec, values[pos])
                except InvalidValue as exc:
                    bad_pos.append(int(pos))
                    bad_val.append(str(raw[pos]))
                    bad_code.append(exc.code)
                    bad_msg.append(format_message(exc.code, spec, raw[pos], exc.detail))
            values[lo_bad] = np.nan
            missing |= lo_bad
            order = np.argsort(bad_pos, kind="stable")
            return (
                Column(spec.kind, values, missing, spec.codes),
                np.asarray(bad_pos, dtype=np.int64)[order],
                [bad_val[i] for i in order],
                [bad_code[i] for i in order],
                [bad_msg[i] for i in order],
            )
    if series.dtype == bool or pd.api.types.is_integer_dtype(series.dtype) and \
            not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):  # fmt: skip
        # NumPy booleans and integers: factorized natively, the distinct values as Python's.
        codes, native = pd.factorize(series.to_numpy(), use_na_sentinel=True)
        uniques: Any = native.tolist()
    else:
        codes, uniques = pd.factorize(series.astype(object), use_na_sentinel=True)
    canon: list[Any] = []
    errors: dict[int, InvalidValue] = {}
    for i, raw_value in enumerate(uniques):
        try:
            canon.append(normalise_scalar(spec, raw_value))
        except InvalidValue as exc:
            canon.append(None)
            errors[i] = exc
    if spec.default is not None:
        canon = [spec.default if v is None else v for v in canon]
        fill = spec.default
    else:
        fill = None
    arr_u, miss_u = encode(spec, canon + [fill])  # the last slot is for NA cells (code -1)
    values = arr_u[codes]
    missing = miss_u[codes]
    if not errors:
        return Column(spec.kind, values, missing, spec.codes), np.zeros(0, np.int64), [], [], []
    err_codes = np.fromiter(errors.keys(), dtype=np.int64)
    bad = np.flatnonzero(np.isin(codes, err_codes))
    # Invalid cells are missing for the evaluator (the row is invalid anyway).
    missing = missing.copy()
    missing[bad] = True
    vals = [str(uniques[codes[p]]) for p in bad]
    excs = [errors[int(codes[p])] for p in bad]
    msgs = [format_message(e.code, spec, v, e.detail) for e, v in zip(excs, vals, strict=True)]
    return (
        Column(spec.kind, values, missing, spec.codes),
        bad.astype(np.int64),
        vals,
        [e.code for e in excs],
        msgs,
    )
