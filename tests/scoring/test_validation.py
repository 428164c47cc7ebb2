"""Bad input: exit 2 with one line ``error: <field path>: <message>`` (SCORING.md).

Every kind of breach is checked in-process against ``validate`` and through the
click command (CliRunner); the real console script is exercised for the
contract's own message, invalid JSON, stdin and ``--jsonl``.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from backoffice.scoring import ScoreInputError, score, validate
from backoffice.scoring.cli import score as score_command

from ._support import blank_input, run_score


def base():
    return blank_input(
        insurance={
            "pension": {"paid": [["2010-01", "2020-12"]], "back_paid": ["2013-04"]},
            "medical": {"paid": [["2010-01", "2020-12"]], "back_paid": []},
            "unemployment": {"paid": [], "back_paid": []},
            "injury": {"paid": [], "back_paid": []},
            "maternity": {"paid": [], "back_paid": []},
        },
        work_districts=[{"from": "2018-01", "to": "2019-12", "district": "通州区"},
                        {"from": "2020-01", "to": "2020-12", "district": "朝阳区"}],
        residences=[
            {"type": "own", "from": "2014-08", "to": "2017-12", "district": "朝阳区"},
            {"type": "dorm", "from": "2018-01", "to": "2020-07", "district": "海淀区"},
            {"type": "rental", "from": "2020-08", "to": "2020-12", "district": "西城区"},
        ],
        education={"level": "bachelor", "degree": "bachelor", "graduated": "2005-07"},
        innovation=[{"code": "national_sci_tech_progress", "grade": "second", "rank": 5}],
        tax={"annual": {"2018": 120000, "2019": 80000, "2020": 150000}, "violations": 0},
    )


def _set(data, path, value):
    *parents, last = path
    for p in parents:
        data = data[p]
    if value is DELETE:
        del data[last]
    else:
        data[last] = value


DELETE = object()

# (id, [(path, value), ...], expected start of the message after "error: ")
CASES = [
    ("bad-month", [(("residences", 2, "to"), "2020-13")],
     'residences[2].to: "2020-13" is not a month (YYYY-MM)'),
    ("bad-month-in-range", [(("insurance", "pension", "paid", 0, 1), "2020-1")],
     'insurance.pension.paid[0][1]: "2020-1" is not a month'),
    ("month-not-string", [(("residences", 0, "from"), 201408)], "residences[0].from: expected a month"),
    ("bad-back-paid-month", [(("insurance", "pension", "back_paid", 0), "2013-4")],
     'insurance.pension.back_paid[0]: "2013-4" is not a month'),
    ("reversed-paid-range", [(("insurance", "medical", "paid", 0), ["2020-12", "2010-01"])],
     "insurance.medical.paid[0]: range ends"),
    ("range-of-three", [(("insurance", "medical", "paid", 0), ["2010-01", "2011-01", "2012-01"])],
     "insurance.medical.paid[0]: expected a range"),
    ("reversed-residence", [(("residences", 1, "to"), "2017-01")], "residences[1].to:"),
    ("reversed-work-district", [(("work_districts", 0, "from"), "2020-01")], "work_districts[0].to:"),
    ("missing-top-key", [(("birth_date",), DELETE)], "birth_date: required field is missing"),
    ("unknown-top-key", [(("nickname",), "x")], "nickname: unknown field"),
    ("unknown-nested-key", [(("residences", 0, "note"), "x")], "residences[0].note: unknown field"),
    ("missing-insurance-type", [(("insurance", "injury"), DELETE)],
     "insurance.injury: required field is missing"),
    ("unknown-insurance-type", [(("insurance", "housing_fund"), {"paid": [], "back_paid": []})],
     "insurance.housing_fund: unknown field"),
    ("missing-back-paid", [(("insurance", "maternity", "back_paid"), DELETE)],
     "insurance.maternity.back_paid: required field is missing"),
    ("paid-not-list", [(("insurance", "medical", "paid"), "2010-01")],
     "insurance.medical.paid: expected an array"),
    ("unknown-residence-type", [(("residences", 1, "type"), "hotel")],
     'residences[1].type: unknown residence type "hotel"'),
    ("unknown-district", [(("residences", 0, "district"), "朝阳")],
     'residences[0].district: unknown district "朝阳"'),
    ("missing-district", [(("residences", 0, "district"), DELETE)],
     "residences[0].district: required field is missing"),
    ("unknown-work-district", [(("work_districts", 1, "district"), "河北省")],
     "work_districts[1].district: unknown district"),
    ("overlapping-work-districts", [(("work_districts", 1, "from"), "2019-06")],
     "work_districts[1]: overlaps work_districts[0]"),
    ("unknown-education-level", [(("education", "level"), "high_school")],
     'education.level: unknown education level "high_school"'),
    ("unknown-degree", [(("education", "degree"), "mba")], 'education.degree: unknown degree "mba"'),
    ("education-both-null", [(("education", "level"), None), (("education", "degree"), None)],
     "education.level: level and degree cannot both be null"),
    ("education-bad-month", [(("education", "graduated"), "2005")],
     'education.graduated: "2005" is not a month'),
    ("unknown-innovation-code", [(("innovation", 0, "code"), "nobel_prize")],
     'innovation[0].code: unknown innovation code "nobel_prize"'),
    ("unknown-innovation-grade", [(("innovation", 0, "grade"), "third")],
     'innovation[0].grade: unknown grade "third" for national_sci_tech_progress'),
    ("missing-innovation-grade", [(("innovation", 0, "grade"), DELETE)],
     "innovation[0].grade: required for national_sci_tech_progress"),
    ("missing-innovation-rank", [(("innovation", 0, "rank"), DELETE)],
     "innovation[0].rank: required for national_sci_tech_progress second"),
    ("bad-innovation-rank", [(("innovation", 0, "rank"), 0)], "innovation[0].rank: expected a rank"),
    ("equity-without-amount", [(("innovation", 0), {"code": "equity_financing"})],
     "innovation[0].amount: required for equity_financing"),
    ("unknown-honour", [(("honors",), ["national_model_worker", "nobel"])],
     'honors[1]: unknown honour code "nobel"'),
    ("year-as-string", [(("year",), "2021")], 'year: expected an integer, got "2021"'),
    ("year-as-bool", [(("year",), True)], "year: expected an integer, got a boolean"),
    ("bad-birth-date", [(("birth_date",), "1979-02-30")], 'birth_date: "1979-02-30" is not a date'),
    ("work-residence-not-bool", [(("work_residence",), "yes")], "work_residence: expected true or false"),
    ("negative-detentions", [(("detentions",), -1)], "detentions: -1 is out of range"),
    ("negative-violations", [(("tax", "violations"), -2)], "tax.violations: -2 is out of range"),
    ("bad-tax-year", [(("tax", "annual", "20x9"), 5)], 'tax.annual.20x9: "20x9" is not a year'),
    ("negative-tax", [(("tax", "annual", "2019"), -1)], "tax.annual.2019: expected an amount"),
    ("education-not-object", [(("education",), "bachelor")], "education: expected an object or null"),
]


def _bad_input(changes):
    data = base()
    for path, value in changes:
        _set(data, path, value)
    return data


def test_base_is_valid():
    assert score(base())["total"] > 0


@pytest.mark.parametrize("changes,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_validate_names_the_field(changes, message):
    with pytest.raises(ScoreInputError) as err:
        validate(_bad_input(changes))
    text = str(err.value)
    assert text.startswith(message), text
    assert "\n" not in text
    assert text == f"{err.value.path}: {err.value.message}"


@pytest.mark.parametrize("changes,message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_command_exits_2_with_one_line(changes, message, write_json):
    result = CliRunner().invoke(score_command, [write_json(_bad_input(changes))])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: " + message), lines[0]


def test_top_level_not_an_object(write_json):
    result = CliRunner().invoke(score_command, [write_json([base()])])
    assert result.exit_code == 2
    assert result.stderr == "error: input: expected an object, got an array\n"


def test_console_script_contract_message(write_json):
    """The contract's own example message, through the installed command."""
    proc = run_score(write_json(_bad_input([(("residences", 2, "to"), "2020-13")])))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == 'error: residences[2].to: "2020-13" is not a month (YYYY-MM)\n'


def test_console_script_invalid_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"year": 2021,', encoding="utf-8")
    proc = run_score(str(path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert len(proc.stderr.splitlines()) == 1
    assert proc.stderr.startswith("error: invalid JSON: ")


def test_console_script_nan_is_not_json():
    proc = run_score("-", stdin=json.dumps(base()).replace("120000", "NaN"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: invalid JSON: NaN"), proc.stderr


def test_console_script_missing_file(tmp_path):
    proc = run_score(str(tmp_path / "nope.json"))
    assert proc.returncode == 2
    assert len(proc.stderr.splitlines()) == 1 and proc.stderr.startswith("error: ")


def test_jsonl_bad_lines_in_the_middle(tmp_path):
    good = base()
    bad_range = _bad_input([(("insurance", "pension", "paid", 0), ["2020-12", "2010-01"])])
    good2 = base()
    good2["detentions"] = 1
    lines = [json.dumps(good), json.dumps(good), json.dumps(bad_range), "{not json",
             json.dumps(good2), ""]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    proc = run_score("--jsonl", str(path))
    assert proc.returncode == 2
    results = [json.loads(x) for x in proc.stdout.splitlines()]
    assert [r["total"] for r in results] == [score(good)["total"], score(good)["total"],
                                            score(good2)["total"]]
    assert results[2]["indicators"]["law_abiding"]["points"] == -30.0
    errors = proc.stderr.splitlines()
    assert len(errors) == 2, proc.stderr
    assert errors[0].startswith("error: line 3: insurance.pension.paid[0]: range ends")
    assert errors[1].startswith("error: line 4: invalid JSON: ")


def test_jsonl_all_good_exits_0_from_stdin():
    text = "\n".join(json.dumps(base()) for _ in range(3)) + "\n"
    proc = run_score("--jsonl", "-", stdin=text)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 3
    assert proc.stderr == ""
