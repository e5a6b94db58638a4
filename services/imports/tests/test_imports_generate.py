"""The file generator: deterministic, realistic, and exact about what each row should become."""

import io
import json
from collections import Counter, defaultdict
from datetime import date
from pathlib import Path

import pytest

from dc_imports.columns import FileKind
from dc_imports.formats import open_rows
from dc_imports.generate import (
    CsvStyle,
    DateStyle,
    Expected,
    GeneratedRow,
    generate,
    main,
    write_csv,
    write_xlsx,
)
from dc_imports.records import Outcome, ServiceRecord, WorkerRecord
from dc_imports.validation import FileValidator

TODAY = date(2026, 1, 15)
OUTCOME = {
    Expected.VALID: Outcome.ACCEPTED,
    Expected.BAD: Outcome.REJECTED,
    Expected.DUPLICATE: Outcome.DUPLICATE,
}


def csv_bytes(kind: FileKind, rows: list[GeneratedRow], style: CsvStyle = CsvStyle()) -> bytes:
    out = io.BytesIO()
    write_csv(out, kind, (row.values for row in rows), style)
    return out.getvalue()


def test_same_seed_same_file_other_seed_other_file() -> None:
    one = csv_bytes(FileKind.SERVICES, list(generate(FileKind.SERVICES, 500, seed=7)))
    two = csv_bytes(FileKind.SERVICES, list(generate(FileKind.SERVICES, 500, seed=7)))
    other = csv_bytes(FileKind.SERVICES, list(generate(FileKind.SERVICES, 500, seed=8)))
    assert one == two
    assert one != other


@pytest.mark.parametrize("kind", list(FileKind))
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_row_becomes_what_the_generator_says(kind: FileKind, fmt: str) -> None:
    rows = list(generate(kind, 8000, seed=3, bad_fraction=0.05, duplicate_fraction=0.03))
    out = io.BytesIO()
    if fmt == "csv":
        write_csv(out, kind, (row.values for row in rows), CsvStyle(encoding="cp1252"))
    else:
        write_xlsx(out, kind, (row.values for row in rows))
    validator = FileValidator(kind, today=TODAY)
    with open_rows(out.getvalue(), kind) as stream:
        results = list(validator.check_rows(stream))
    assert len(results) == len(rows)
    line_of = {}
    for index, (row, result) in enumerate(zip(rows, results, strict=True)):
        line_of[index] = result.line
        assert result.outcome is OUTCOME[row.expected], (row, result)
        if row.expected is Expected.BAD:
            assert [error.field for error in result.errors] == [row.bad_field], (row, result)
        if row.expected is Expected.DUPLICATE:
            assert row.duplicate_of is not None
            assert result.duplicate_of == line_of[row.duplicate_of]
    counts = Counter(row.expected for row in rows)
    assert validator.counts.accepted == counts[Expected.VALID]
    assert validator.counts.rejected == counts[Expected.BAD] > 100
    assert validator.counts.duplicates == counts[Expected.DUPLICATE] > 50
    bad_fields = {row.bad_field for row in rows if row.bad_field}
    expected_fields = (
        {"worker_login", "user_number", "service_date", "hours", "activity_type", "branch_id"}
        if kind is FileKind.SERVICES
        else {
            "national_number",
            "first_name",
            "last_name",
            "login",
            "branch_id",
            "contract_start",
            "contract_end",
            "language",
        }
    )
    assert bad_fields == expected_fields  # bad rows of every kind


def test_services_look_like_real_work() -> None:
    rows = [row.values for row in generate(FileKind.SERVICES, 20000, seed=1)]
    validator = FileValidator(FileKind.SERVICES, today=TODAY)
    records: list[ServiceRecord] = []
    for row, result in zip(rows, _validate(FileKind.SERVICES, rows, validator), strict=True):
        assert isinstance(result, ServiceRecord), row
        records.append(result)
    day_hours: dict[tuple[str, date], int] = defaultdict(int)
    user_weeks: dict[str, set[int]] = defaultdict(set)
    for record in records:
        day_hours[(record.worker_login, record.service_date)] += record.hours
        user_weeks[record.user_number].add(record.service_date.toordinal() // 7)
    assert set(day_hours.values()) <= set(range(2, 9))
    assert 3 <= sum(day_hours.values()) / len(day_hours) <= 8
    assert min(day_hours.values()) >= 2  # a day is one user of 3+ hours or two users of 2+
    activities = Counter(record.activity_type for record in records)
    assert activities[1] > 0.8 * len(records)
    assert set(activities) == {1, 2, 3, 4}
    # users come back week after week
    regular = [weeks for weeks in user_weeks.values() if len(weeks) >= 4]
    assert len(regular) > 0.8 * len(user_weeks)
    assert max(record.service_date for record in records) <= date(2025, 12, 31)
    assert min(record.service_date for record in records) >= date(2024, 1, 1)
    assert validator.counts.duplicates == 0


def _validate(
    kind: FileKind, rows: list[dict[str, str]], validator: FileValidator
) -> list[ServiceRecord | WorkerRecord | None]:
    out = io.BytesIO()
    write_csv(out, kind, rows, CsvStyle(dates=DateStyle.ISO))
    with open_rows(out.getvalue(), kind) as stream:
        return [result.record for result in validator.check_rows(stream)]


def test_workers_look_real() -> None:
    rows = [row.values for row in generate(FileKind.WORKERS, 2000, seed=5)]
    records = _validate(FileKind.WORKERS, rows, FileValidator(FileKind.WORKERS, today=TODAY))
    workers = [record for record in records if isinstance(record, WorkerRecord)]
    assert len(workers) == 2000
    assert any(w.national_number.startswith(("00", "01", "02", "03", "04", "05")) for w in workers)
    assert {w.language for w in workers} == {"nl", "fr", "de", "en"}
    assert any(w.contract_end is not None for w in workers)
    assert any(not w.first_name.isascii() or not w.last_name.isascii() for w in workers)


def test_csv_styles() -> None:
    rows = [
        {
            "worker_login": "980100000001",
            "user_number": "100000000001",
            "service_date": "2025-11-03",
            "hours": "4",
            "activity_type": "1",
            "branch_id": "",
        }
    ]
    style = CsvStyle(
        delimiter=",",
        encoding="utf-8",
        newline="\n",
        dates=DateStyle.DASH,
        decimal_comma=True,
        header={"hours": "Uren"},
    )
    out = io.BytesIO()
    write_csv(out, FileKind.SERVICES, rows, style)
    assert out.getvalue() == (
        b"worker_login,user_number,service_date,Uren,activity_type,branch_id\n"
        b'980100000001,100000000001,03-11-2025,"4,0",1,\n'
    )
    out = io.BytesIO()
    write_csv(out, FileKind.SERVICES, rows, CsvStyle(quote_all=True))
    assert out.getvalue().startswith(b'\xef\xbb\xbf"worker_login";')
    assert b'"03/11/2025"' in out.getvalue()


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "services.csv"
    assert main(["--rows", "1000", "--kind", "services", "--out", str(out), "--seed", "2",
                 "--bad-fraction", "0.1", "--duplicate-fraction", "0.05"]) == 0  # fmt: skip
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"] == 1000
    assert summary["valid"] + summary["bad"] + summary["duplicate"] == 1000
    validator = FileValidator(FileKind.SERVICES, today=TODAY)
    with open_rows(out, FileKind.SERVICES) as stream:
        assert stream.info.encoding == "utf-8-sig" and stream.info.delimiter == ";"
        for _ in validator.check_rows(stream):
            pass
    assert validator.counts.model_dump() == {
        "read": 1000,
        "accepted": summary["valid"],
        "rejected": summary["bad"],
        "duplicates": summary["duplicate"],
    }
    xlsx = tmp_path / "workers.xlsx"
    assert main(["--rows", "50", "--kind", "workers", "--out", str(xlsx)]) == 0
    with open_rows(xlsx, FileKind.WORKERS) as stream:
        assert len(list(stream)) == 50


def test_fractions_are_checked() -> None:
    with pytest.raises(ValueError, match="fractions"):
        generate(FileKind.SERVICES, 10, bad_fraction=0.8, duplicate_fraction=0.3)
