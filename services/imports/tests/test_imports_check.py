"""The command-line check: counts, rate and the error report of a file."""

import json
from pathlib import Path

import pytest

from dc_imports.check import main
from dc_imports.generate import main as generate

SAMPLES = Path(__file__).parents[1] / "samples"


def test_check_a_generated_file_and_write_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, errors = tmp_path / "services.csv", tmp_path / "errors.csv"
    generate(["--rows", "2000", "--out", str(path), "--bad-fraction", "0.05",
              "--duplicate-fraction", "0.02"])  # fmt: skip
    made = json.loads(capsys.readouterr().out)
    assert main([str(path), "--kind", "services", "--today", "2026-01-15",
                 "--errors", str(errors)]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert (summary["read"], summary["accepted"], summary["rejected"], summary["duplicates"]) == (
        2000,
        made["valid"],
        made["bad"],
        made["duplicate"],
    )
    assert summary["format"] == "csv" and summary["rows_per_second"] > 0
    report = errors.read_bytes().decode("utf-8-sig").splitlines()
    assert (
        report[0]
        == "line;field;reason;worker_login;user_number;service_date;hours;activity_type;branch_id"
    )
    assert len(report) == 1 + made["bad"] + made["duplicate"]  # one error per bad row here


def test_a_refused_file_exits_2_with_its_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    errors = tmp_path / "errors.csv"
    code = main([str(SAMPLES / "workers.csv"), "--kind", "services", "--errors", str(errors)])
    assert code == 2
    assert "looks like a workers file" in json.loads(capsys.readouterr().out)["refused"]
    report = errors.read_bytes().decode("utf-8-sig")
    assert "1;Rijksregisternummer;unknown column" in report
    assert "(it looks like a workers file)" in report.splitlines()[1]
