"""The one error tree: every command exits with the documented code and a message in Vietnamese
and English, never a traceback; the words-and-numbers module is the one formatter and filler."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from engine import default_rulebook
from engine.errors import EXIT_CODES, RulebookError, suggest
from engine.loader import load_rulebook
from engine.text import TOTAL_LABEL, fill_params, format_number
from tests.helpers import AS_OF, EXAMPLES, ROOT, RULES, run, run_cases

SCENARIO = str(ROOT / "rules" / "scenarios" / "rural_line_1800k.yaml")


def no_traceback(out: str) -> None:
    assert "Traceback (most recent call last)" not in out


def test_exit_codes_are_the_documented_ones() -> None:
    assert sorted(EXIT_CODES) == [0, 1, 2, 3, 4]


def test_rules_coverage_on_a_missing_folder(tmp_path: Path) -> None:
    code, out = run("rules", "coverage", "--rules", "/nonexistent")
    assert code == 3, out
    assert "Không tìm thấy thư mục bộ quy tắc /nonexistent" in out
    assert "The rulebook folder /nonexistent is not there" in out
    no_traceback(out)


def test_a_bad_rulebook_exits_3_in_every_command(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    (rules / "indicators" / "water" / "latrine.yaml").write_text(
        (rules / "indicators" / "water" / "latrine.yaml").read_text("utf-8").replace(
            "description:", "descripton:"), "utf-8")  # fmt: skip
    for args in (("rules", "check"), ("classify", str(EXAMPLES / "survey.xlsx"), "-o",
                                      str(tmp_path / "r.xlsx"), "--as-of", "2025-06-30"),
                 ("explain", str(EXAMPLES / "survey.xlsx"), "--household", "HY-001", "--as-of",
                  "2025-06-30"), ("test", str(ROOT_GOLDEN))):  # fmt: skip
        code, out = run(*args, "--rules", str(rules))
        assert code == 3, (args, out)
        assert "Bộ quy tắc có 3 lỗi" in out and "The rulebook has 3 problem(s)" in out
        assert "unknown key 'descripton'" in out
        no_traceback(out)


ROOT_GOLDEN = Path(__file__).parent / "golden" / "indicators" / "water"


def test_simulate_with_a_missing_scenario(tmp_path: Path) -> None:
    code, out = run("simulate", str(EXAMPLES / "survey.xlsx"), "--scenario",
                    str(tmp_path / "nope.yaml"), "--as-of", "2025-06-30", "-o",
                    str(tmp_path / "r.xlsx"))  # fmt: skip
    assert code == 2, out
    assert "Kịch bản không hợp lệ" in out and "The scenario has 1 problem(s)" in out
    assert "nope.yaml" in out
    no_traceback(out)


def test_simulate_with_an_unwritable_output(tmp_path: Path) -> None:
    folder = tmp_path / "report.xlsx"
    folder.mkdir()
    code, out = run("simulate", str(EXAMPLES / "survey.xlsx"), "--scenario", SCENARIO,
                    "--as-of", "2025-06-30", "-o", str(folder))  # fmt: skip
    assert code == 4, out
    assert "Không ghi được" in out and "Cannot write" in out and "directory" in out
    no_traceback(out)
    blocked = tmp_path / "file"
    blocked.write_text("x")
    code, out = run("simulate", str(EXAMPLES / "survey.xlsx"), "--scenario", SCENARIO,
                    "--as-of", "2025-06-30", "-o", str(blocked / "r.html"))  # fmt: skip
    assert code == 4 and "Cannot write" in out, out
    assert set(tmp_path.iterdir()) == {folder, blocked}  # nothing left behind


def test_sample_province_into_a_workbook(tmp_path: Path) -> None:
    code, out = run("sample", "-o", str(tmp_path / "x.xlsx"), "--province")
    assert code == 4, out
    assert "quá nhiều dòng cho một trang Excel" in out and "too many rows for an Excel sheet" in out
    assert not (tmp_path / "x.xlsx").exists()
    no_traceback(out)


def test_output_over_an_input_is_refused(tmp_path: Path) -> None:
    survey = tmp_path / "survey.xlsx"
    shutil.copy(EXAMPLES / "survey.xlsx", survey)
    before = survey.read_bytes()
    code, out = run("classify", str(survey), "-o", str(survey), "--as-of", "2025-06-30")
    assert code == 2 and "one of the inputs" in out, out
    csv_out = tmp_path / "households.csv"
    shutil.copy(EXAMPLES / "households.csv", csv_out)
    shutil.copy(EXAMPLES / "members.csv", tmp_path / "members.csv")
    code, out = run("classify", str(csv_out), str(tmp_path / "members.csv"), "-o",
                    str(tmp_path / "members.csv"), "--as-of", "2025-06-30")  # fmt: skip
    assert code == 2 and "one of the inputs" in out, out
    link = tmp_path / "link.xlsx"
    link.symlink_to(survey)
    code, out = run("classify", str(survey), "-o", str(link), "--as-of", "2025-06-30")
    assert code == 2 and survey.read_bytes() == before, out
    assert survey.read_bytes() == before


def test_markup_in_an_output_path_is_printed_as_it_is(tmp_path: Path) -> None:
    out_path = tmp_path / "r[/b].xlsx"
    code, out = run("classify", str(EXAMPLES / "survey.xlsx"), "-o", str(out_path), "--as-of",
                    "2025-06-30", "--verify", "0")  # fmt: skip
    assert code == 0, out
    assert str(out_path) in out and out_path.exists()


def test_unknown_rule_and_unknown_household(tmp_path: Path) -> None:
    code, out = run("rules", "show", "health.insurence")
    assert code == 2 and "health.insurance" in out, out
    code, out = run("explain", str(EXAMPLES / "survey.xlsx"), "--household", "HY-0O1",
                    "--as-of", "2025-06-30")  # fmt: skip
    assert code == 2 and "Không có hộ mã 'HY-0O1'" in out and "Did you mean: HY-001" in out


def test_an_unreadable_trace_is_a_designed_error(tmp_path: Path) -> None:
    bad = tmp_path / "t.json"
    bad.write_text("{not json")
    code, out = run("explain", "--replay", str(bad))
    assert code == 2 and "Cannot read the trace" in out, out
    bad.write_text("[1, 2]")
    code, out = run("explain", "--replay", str(bad))
    assert code == 2 and "not a giamngheo.trace/1 trace" in out, out


# -- words and numbers ---------------------------------------------------------------------------


def test_one_number_format_per_language() -> None:
    assert format_number(1_500_000, "vi") == "1.500.000"
    assert format_number(1_500_000, "en") == "1,500,000"
    assert format_number(6.6, "vi") == "6,6" and format_number(6.6, "en") == "6.6"
    assert format_number(0.045, "vi") == "0,045"
    assert format_number(1234.5, "vi") == "1.234,5" and format_number(1234.5, "en") == "1,234.5"
    assert format_number(5, "en", signed=True) == "+5"


def test_the_english_reason_writes_english_numbers() -> None:
    case = {"household": {"income_per_capita_vnd": 1_000_000}}
    hh_vi = run_cases([case], AS_OF).iloc[0]["reason"]
    assert "1.500.000" in hh_vi  # the rural line of Decree 07/2021, Vietnamese grouping
    from engine.golden import classify_frames
    from engine.results.classify import classify
    from household_models.parse import parse_batch
    from household_models.readers import RawBatch, SourceTable
    from tests.helpers import frames

    hh, mem = frames([case])
    raw = RawBatch(SourceTable(hh, "households", "", 2), SourceTable(mem, "members", "", 2))
    english = classify(parse_batch(raw), default_rulebook(), AS_OF, lang="en")
    reason = english.results.iloc[0]["reason"]
    assert "1,500,000" in reason and "1.500.000" not in reason
    assert classify_frames  # the golden runner's path is the same reader → parser path


def test_the_filler_takes_a_key() -> None:
    values = {"line": {"rural": 1_500_000, "urban": 2_000_000}, "rate": 6.6}
    keyed = {"line": "area", "rate": ""}
    fill = lambda text, keys=None: fill_params(text, values.__getitem__, "vi", keys,  # noqa: E731
                                               keyed.__getitem__)  # fmt: skip
    assert fill("{param:line.urban} / {param:rate}") == "2.000.000 / 6,6"
    assert fill("{param:line}", {"area": "rural"}) == "1.500.000"
    assert fill("{param:line}") == "?"


def test_a_keyed_parameter_in_an_action_text(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    path = rules / "interventions" / "credit" / "vbsp_poor.yaml"
    text = path.read_text("utf-8")
    path.write_text(text.replace("{param:vbsp_rate_poor_pct}%/năm.",
                                 "{param:vbsp_rate_poor_pct}%/năm, chuẩn {param:income_line_vnd}."),
                    "utf-8")  # fmt: skip
    with pytest.raises(RulebookError) as info:
        load_rulebook(rules)
    assert "names parameter 'income_line_vnd', which has one value per area" in str(info.value)
    assert "write {param:income_line_vnd.rural}" in str(info.value)
    path.write_text(text.replace("{param:vbsp_rate_poor_pct}%/năm.",
                                 "{param:vbsp_rate_poor_pct}%/năm, chuẩn {param:income_line_vnd.rural}."),
                    "utf-8")  # fmt: skip
    book = load_rulebook(rules)
    r = book.resolve(dt.date(2025, 6, 30))
    action = next(a for a, _ in r.interventions if a.id == "credit.vbsp_poor")
    assert r.action_text(action, "vi").endswith("chuẩn 1.500.000.")  # Decree 07/2021 rural line


def test_one_suggest() -> None:
    assert suggest("descripton", ["description", "label"]) == "did you mean 'description'?"
    assert suggest("zzz", ["description"], fallback="allowed: description") == "allowed: description"


def test_the_total_label_is_one_constant() -> None:
    engine_dir = Path(__file__).parent.parent / "engine"
    cli_dir = Path(__file__).parent.parent / "cli"
    hits = [str(p) for d in (engine_dir, cli_dir) for p in d.rglob("*.py")
            if '"Tất cả"' in p.read_text("utf-8") and p.name != "text.py"]  # fmt: skip
    assert hits == []
    assert TOTAL_LABEL["vi"] == "Tất cả"


# -- the problem catalogue -----------------------------------------------------------------------


def test_every_problem_key_said_is_in_the_catalogue_and_every_entry_is_used() -> None:
    from engine.errors import problem_catalogue

    root = Path(__file__).parent.parent
    said: set[str] = set()
    prefixes: set[str] = set()
    for path in [*(root / "engine").rglob("*.py"), *(root / "cli").rglob("*.py")]:
        text = path.read_text("utf-8")
        said |= set(re.findall(r'say\(\s*"([a-z_.]+)"', text))
        for a, b in re.findall(r'say\(\s*"([a-z_.]+)" if [^()]*? else "([a-z_.]+)"\)', text):
            said |= {a, b}
        prefixes |= set(re.findall(r'say\(f"([a-z_.]+)\{', text))
    catalogue = set(problem_catalogue())
    assert said - catalogue == set()
    # what.household and what.member are said as say(f"what.{context}"), what.kind_* likewise
    assert prefixes == {"what.", "what.kind_"}
    assert catalogue - said == {"what.household", "what.member", "what.kind_text",
                                "what.kind_list", "what.kind_mapping"}


def test_rulebook_problems_are_in_vietnamese_and_english(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    edits = {
        "indicators/water/latrine.yaml": ("description:", "descripton:"),
        "interventions/water/clean_water.yaml": ("lead: agriculture", "lead: agricultur"),
        "indicators/housing/area.yaml": ("param: min_area_per_person_m2", "param: min_area"),
        "indicators/information/telecom.yaml": ("field: uses_telecom", "field: health_insurance"),
        "parameters/deprivation.yaml": ("      - from: 2027-01-01\n        value: 3",
                                        "      - from: 2021-03-15\n        value: 3"),
    }  # fmt: skip
    for name, (old, new) in edits.items():
        path = rules / name
        path.write_text(path.read_text("utf-8").replace(old, new, 1), "utf-8")
    with pytest.raises(RulebookError) as info:
        load_rulebook(rules)
    problems = info.value.problems
    assert len(problems) >= 5
    for p in problems:
        assert p.vietnamese() != str(p), str(p)  # a Vietnamese line of its own
    text = info.value.text()
    assert text.index("khóa lạ 'descripton'") < text.index("unknown key 'descripton'")
    assert "có phải 'description'?" in text and "did you mean 'description'?" in text
