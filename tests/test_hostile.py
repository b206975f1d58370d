"""Input that would give a quiet wrong answer or a crash gets a designed answer instead; the same
input gives the same bytes in every output format."""

from __future__ import annotations

import hashlib
from pathlib import Path

import openpyxl
import pandas as pd

from engine.golden import frames
from tests.helpers import AS_OF, EXAMPLES, run, run_frames

ROOT_DIGITS = "9" * 400


def one(household: dict[str, object], members: list[dict[str, object]] | None = None
        ) -> tuple[pd.Series, pd.DataFrame]:  # fmt: skip
    hh, mem = frames([{"household": household, "members": members or [{}]}])
    result = run_frames(hh, mem, AS_OF)
    return result.results.iloc[0], result.errors


def test_export_words_for_missing_are_missing_not_codes() -> None:
    for word in ("None", "NULL", "N/A", "NaN", "#N/A"):
        row, errors = one({"latrine": word})
        assert row["water.latrine"] == "unknown", word  # missing, not the code none
        assert errors.empty or "bad_code" not in set(errors["code"]), word
    row, _ = one({"latrine": "none"})
    assert row["water.latrine"] == "deprived"  # the code none: no latrine (Decree 07/2021)
    row, _ = one({"latrine": "không có"})
    assert row["water.latrine"] == "deprived"
    row, _ = one({"floor_area_m2": "NaN"})
    assert row["housing.area"] == "unknown"


def test_numbers_with_too_many_digits_are_refused_not_crashed(tmp_path: Path) -> None:
    row, errors = one({"income_per_capita_vnd": ROOT_DIGITS})
    assert row["class"] == "invalid"
    assert "too_many_digits" in set(errors["code"])
    row, errors = one({"income_per_capita_vnd": "12345678901234567890"})
    assert "too_many_digits" in set(errors["code"]) and row["class"] == "invalid"
    row, errors = one({}, [{"member_no": "1e308"}])
    assert row["class"] == "invalid" and {"out_of_range", "bad_integer"} & set(errors["code"])
    hh, mem = frames([{"household": {"income_per_capita_vnd": "9" * 5000}}])
    hh.to_csv(tmp_path / "h.csv", index=False)
    mem.to_csv(tmp_path / "m.csv", index=False)
    code, out = run("classify", str(tmp_path / "h.csv"), str(tmp_path / "m.csv"), "-o",
                    str(tmp_path / "r.csv"), "--as-of", "2025-06-30")  # fmt: skip
    assert code == 0 and "Traceback" not in out, out


def test_a_duplicated_header_is_refused_in_csv_and_xlsx(tmp_path: Path) -> None:
    hh = pd.read_csv(EXAMPLES / "households.csv", dtype=str, keep_default_na=False,
                     encoding="utf-8-sig")  # fmt: skip
    text = (EXAMPLES / "households.csv").read_text("utf-8-sig")
    header, rest = text.split("\n", 1)
    (tmp_path / "h.csv").write_text(header + ",Khu Vực\n" + rest.replace("\n", ",x\n"), "utf-8")
    code, out = run("classify", str(tmp_path / "h.csv"), str(EXAMPLES / "members.csv"), "-o",
                    str(tmp_path / "r.csv"), "--as-of", "2025-06-30")  # fmt: skip
    assert code == 2 and "'khu vực', 'Khu Vực'" in out, out
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "ho"
    ws.append([*hh.columns, "Mã Hộ"])
    members = wb.create_sheet("thanh_vien")
    members.append(["mã hộ", "stt"])
    wb.save(tmp_path / "w.xlsx")
    code, out = run("classify", str(tmp_path / "w.xlsx"), "-o", str(tmp_path / "r.xlsx"),
                    "--as-of", "2025-06-30")  # fmt: skip
    assert code == 2 and "'mã hộ', 'Mã Hộ'" in out, out


def test_an_input_column_named_like_an_output_is_kept_apart() -> None:
    row, errors = one({"class": "tự ghi", "water.source": "ghi chú", "reason": "x"})
    assert row["input:class"] == "tự ghi" and row["input:water.source"] == "ghi chú"
    assert row["class"] in ("near_poor", "poor", "average", "not_poor")
    assert row["water.source"] == "ok"  # the indicator, not the input
    renamed = errors[errors["code"] == "input_column_renamed"]
    assert set(renamed["column"]) == {"class", "water.source", "reason"}


def test_the_same_input_gives_the_same_bytes_in_every_format(tmp_path: Path) -> None:
    digests = {}
    for run_no in (1, 2):
        folder = tmp_path / str(run_no)
        for suffix in (".xlsx", ".csv", ".parquet"):
            code, out = run("classify", str(EXAMPLES / "survey.xlsx"), "-o",
                            str(folder / f"r{suffix}"), "--as-of", "2025-06-30")  # fmt: skip
            assert code == 0, out
        digests[run_no] = {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                           for p in sorted(folder.iterdir())}  # fmt: skip
    assert digests[1] == digests[2]
    assert len(digests[1]) == 11  # one workbook, five CSV and five Parquet files


# -- scenarios -----------------------------------------------------------------------------------

SCENARIO_HEAD = "id: a\nlabel: {vi: a, en: a}\n"
INDICATORS = ["employment.dependants", "employment.jobs", "health.insurance", "health.nutrition",
              "education.adult", "education.children", "housing.area", "housing.quality",
              "water.source", "water.latrine", "information.telecom", "information.devices"]  # fmt: skip
BOMB = SCENARIO_HEAD + "description: {vi: &a [x, x, x, x, x, x, x, x, x], en: b}\n" + "".join(
    f"x{k}: &{chr(98 + k)} [" + ", ".join([f"*{chr(97 + k)}"] * 9) + "]\n" for k in range(8))


def simulate_with(tmp_path: Path, text: str) -> tuple[int, str]:
    path = tmp_path / "s.yaml"
    path.write_text(text, "utf-8")
    return run("simulate", str(EXAMPLES / "survey.xlsx"), "--scenario", str(path), "--as-of",
               "2025-06-30", "-o", str(tmp_path / "r.xlsx"))  # fmt: skip


def test_hostile_scenarios_get_designed_errors(tmp_path: Path) -> None:
    cases = {
        "standard: [vn-2027]\n": "'standard' must be a text",
        "standard: {a: 1}\n": "'standard' must be a text",
        "indicators_off: 5\n": "'indicators_off' must be a list",
        f"indicators_off: [{', '.join(INDICATORS)}]\n": "switches every indicator off",
        "parameters: {min_area_per_person_m2: {2021-03-15: " + "9" * 400 + "}}\n":
            "has more than 15 digits",
    }  # fmt: skip
    for extra, message in cases.items():
        code, out = simulate_with(tmp_path, SCENARIO_HEAD + extra)
        assert code == 2 and message in out and "Traceback" not in out, (extra[:40], out)


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    assert len(BOMB.encode()) < 650
    code, out = simulate_with(tmp_path, BOMB)
    assert code == 2 and "too large once its aliases are expanded" in out, out


def test_many_unknown_parameters_are_listed_up_to_a_limit(tmp_path: Path) -> None:
    lines = [f"  p{i}: {{2021-03-15: 1}}" for i in range(20_000)]
    code, out = simulate_with(tmp_path, SCENARIO_HEAD + "parameters:\n" + "\n".join(lines) + "\n")
    assert code == 2 and "only the first 200 are listed" in out
    assert out.count("unknown parameter 'p") == 200


# -- traces --------------------------------------------------------------------------------------


def test_hostile_traces_get_designed_errors(tmp_path: Path) -> None:
    import json

    good = tmp_path / "t.json"
    code, out = run("explain", str(EXAMPLES / "survey.xlsx"), "--household", "HY-001", "--as-of",
                    "2025-06-30", "--format", "json", "-o", str(good))  # fmt: skip
    assert code == 0, out
    trace = json.loads(good.read_text("utf-8"))

    def variant(change: object) -> str:
        t = json.loads(json.dumps(trace))
        if callable(change):
            change(t)
            return json.dumps(t)
        return json.dumps(change)

    cases = {
        "as_of number": (variant(lambda t: t.update(as_of=20250630)), "is not of type 'string'"),
        "id number": (variant(lambda t: t.update(household_id=1)), "is not of type 'string'"),
        "members object": (variant(lambda t: t["input"].update(members={"a": 1})),
                           "is not of type 'array'"),
        "huge income": (variant(lambda t: t["input"]["household"].update(
            income_per_capita_vnd=int("9" * 400))), "edited"),
        "null": ("null", "not a giamngheo.trace/1 trace"),
        "list": ("[1, 2]", "not a giamngheo.trace/1 trace"),
        "deep": ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    }  # fmt: skip
    for name, (text, message) in cases.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text, "utf-8")
        code, out = run("explain", "--replay", str(path))
        assert code == 2 and message in out and "Traceback" not in out, (name, out)


# -- files ---------------------------------------------------------------------------------------


def classify_files(tmp_path: Path, *inputs: Path | str, extra: tuple[str, ...] = ()
                   ) -> tuple[int, str]:  # fmt: skip
    return run("classify", *map(str, inputs), "-o", str(tmp_path / "out" / "r.csv"), "--as-of",
               "2025-06-30", *extra)  # fmt: skip


def rewrite_zip(source: Path, target: Path, change: object) -> Path:
    import zipfile

    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = change(data)  # type: ignore[operator]
            dst.writestr(info.filename, data)
    return target


def test_hostile_files_get_designed_errors(tmp_path: Path, monkeypatch: object) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    members = EXAMPLES / "members.csv"
    folder = tmp_path / "a folder.csv"
    folder.mkdir()
    zero = tmp_path / "zero.csv"
    zero.symlink_to("/dev/zero")
    commas = tmp_path / "commas.csv"
    commas.write_text("," * 2000 + "\n", "utf-8")
    truncated = rewrite_zip(EXAMPLES / "survey.xlsx", tmp_path / "half.xlsx",
                            lambda d: d[: len(d) // 2])  # fmt: skip
    damaged = tmp_path / "damaged.xlsx"
    data = bytearray((EXAMPLES / "survey.xlsx").read_bytes())
    start = data.find(b"xl/worksheets/sheet1.xml") + 100
    data[start : start + 80] = b"\x00" * 80
    damaged.write_bytes(bytes(data))
    lists = tmp_path / "lists.parquet"
    pq.write_table(pa.table({"mã hộ": ["A"], "x": [["a", "b"]]}), lists)
    people = tmp_path / "people.parquet"
    pq.write_table(pa.table({"mã hộ": ["A"], "stt": [1]}), people)
    empty = tmp_path / "empty.parquet"
    empty.write_bytes(b"")
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(people.read_bytes()[:40])
    cases = [
        ((folder, members), (), "it is a folder"),
        ((zero, members), (), "not a regular file"),
        ((commas, members), (), "more than 1,000 columns"),
        ((truncated,), (), "it is damaged"),
        ((lists, people), (), "hold lists or structures"),
        ((empty, people), ("--chunk-size", "1000"), "cannot read the Parquet file"),
        ((cut, people), ("--chunk-size", "1000"), "cannot read the Parquet file"),
        ((tmp_path / "none.parquet", people), ("--chunk-size", "1000"), "file not found"),
        ((EXAMPLES / "households.csv", people), ("--chunk-size", "1000"), "needs a households"),
    ]
    if damaged.read_bytes() != (EXAMPLES / "survey.xlsx").read_bytes():
        cases.append(((damaged,), (), "cannot open the workbook"))
    for inputs, extra, message in cases:
        code, out = classify_files(tmp_path, *inputs, extra=extra)
        assert code == 2 and message in out and "Traceback" not in out, (inputs, out)


def test_a_sheet_larger_than_the_limit_once_decompressed(tmp_path: Path, monkeypatch: object) -> None:
    from household_models import readers

    monkeypatch.setattr(readers, "MAX_SHEET_BYTES", 1_000)  # type: ignore[attr-defined]
    code, out = classify_files(tmp_path, EXAMPLES / "survey.xlsx")
    assert code == 2 and "larger than 1,000 bytes once decompressed" in out, out


def test_a_large_sample_is_drawn_and_written_in_parts(tmp_path: Path, monkeypatch: object) -> None:
    from engine import synthetic

    monkeypatch.setattr(synthetic, "PART_SIZE", 1_000)  # type: ignore[attr-defined]
    out = tmp_path / "s.parquet"
    code, text = run("sample", "-o", str(out), "--households", "2500", "--seed", "3")
    assert code == 0, text
    hh = pd.read_parquet(out)
    mem = pd.read_parquet(tmp_path / "s.members.parquet")
    assert len(hh) == 2500 and hh["household_id"].is_unique
    assert set(mem["household_id"]) - set(hh["household_id"]) <= {
        x for x in mem["household_id"] if str(x).endswith("-X")}  # the noise's orphans
    code, text = run("classify", str(out), str(tmp_path / "s.members.parquet"), "-o",
                     str(tmp_path / "r.parquet"), "--as-of", "2025-06-30", "--verify", "0")  # fmt: skip
    assert code == 0, text
    assert len(pd.read_parquet(tmp_path / "r.parquet")) == 2500


def test_a_stray_comma_in_one_name_keeps_the_other_households(tmp_path: Path) -> None:
    lines = (EXAMPLES / "households.csv").read_text("utf-8-sig").split("\n")
    assert lines[3].startswith("HY-003,")
    first, name, rest = lines[3].split(",", 2)
    lines[3] = ",".join([first, name + ", con", rest])  # an unquoted comma inside the name
    (tmp_path / "h.csv").write_text("\n".join(lines), "utf-8")
    code, out = run("classify", str(tmp_path / "h.csv"), str(EXAMPLES / "members.csv"), "-o",
                    str(tmp_path / "r.csv"), "--as-of", "2025-06-30", "--verify", "0")  # fmt: skip
    assert code == 0, out
    results = pd.read_csv(tmp_path / "r.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert len(results) == 18
    assert results.loc[results["mã hộ"] == "HY-003", "class"].iloc[0] == "invalid"
    errors = pd.read_csv(tmp_path / "r.errors.csv", dtype=str, keep_default_na=False,
                         encoding="utf-8-sig")  # fmt: skip
    bad = errors[errors["code"] == "bad_row"]
    assert list(bad["row"]) == ["4"] and list(bad["household_id"]) == ["HY-003"]
    assert "comma without quotes" in bad["message_en"].iloc[0]
    clean = pd.read_csv(EXAMPLES / "expected_results.csv", dtype=str, keep_default_na=False)
    others = clean[clean["household_id"] != "HY-003"].set_index("household_id")["class"]
    got = results.set_index("mã hộ")["class"]
    assert all(got[h] == c for h, c in others.items())


# -- personal data -------------------------------------------------------------------------------

MARKER = "Nguyễn Thị Dấuvết"


def test_a_name_in_any_column_never_reaches_a_trace_or_an_error_message(tmp_path: Path) -> None:
    import json

    from engine import default_rulebook
    from engine.trace.build import build_trace, to_json
    from household_models import parse_batch
    from household_models.readers import RawBatch, SourceTable
    from household_models.schema import HOUSEHOLD_SPECS, MEMBER_SPECS

    for spec in [*HOUSEHOLD_SPECS[1:], *MEMBER_SPECS[2:]]:
        where = "household" if spec in HOUSEHOLD_SPECS else "member"
        household: dict[str, object] = {"head_name": MARKER}
        member: dict[str, object] = {"name": MARKER}
        (household if where == "household" else member)[spec.name] = MARKER
        hh, mem = frames([{"household": household, "members": [member]}])
        raw = RawBatch(SourceTable(hh, "households", "", 2), SourceTable(mem, "members", "", 2))
        batch = parse_batch(raw)
        messages = " ".join(batch.errors[["value", "message_vi", "message_en"]].astype(str)
                            .to_numpy().ravel())  # fmt: skip
        assert MARKER not in messages, spec.name
        assert MARKER not in " ".join(map(str, batch.household_error)), spec.name
        trace = to_json(build_trace(batch, default_rulebook(), AS_OF, "HH-00000").trace)
        assert MARKER not in trace, spec.name
        assert "HH-00000" in json.loads(trace)["household_id"]


def test_a_side_table_whose_target_is_a_folder_is_refused_before_the_work(tmp_path: Path) -> None:
    (tmp_path / "r.errors.csv").mkdir()
    code, out = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(tmp_path / "r.csv"),
                    "--as-of", "2025-06-30")  # fmt: skip
    assert code == 4 and "r.errors.csv" in out and "directory" in out, out
    assert "Kết quả phân loại" not in out  # refused before anything was classified
    assert not (tmp_path / "r.csv").exists()


def test_no_household_with_an_id(tmp_path: Path) -> None:
    """Found by the fuzz test: every household id blank made the member linking crash."""
    row, errors = one({"household_id": ""}, [{"member_no": 1}])
    assert row["class"] == "invalid"
    assert "missing_id" in set(errors["code"])
