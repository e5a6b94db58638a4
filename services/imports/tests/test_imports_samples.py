"""The sample files of the README import cleanly, and the README documents every column."""

import re
from datetime import date
from pathlib import Path

import pytest

from dc_imports.columns import COLUMNS, FileKind
from dc_imports.formats import open_rows
from dc_imports.records import Outcome, ServiceRecord, WorkerRecord
from dc_imports.validation import FileValidator

HERE = Path(__file__).parents[1]
README = (HERE / "README.md").read_text(encoding="utf-8")
DEMO_WORKERS = {f"98010000000{n}" for n in (1, 2, 3)}
DEMO_USERS = {f"10000000000{n}" for n in range(1, 6)}


@pytest.mark.parametrize("kind", list(FileKind))
def test_sample_is_a_belgian_excel_csv_and_every_row_is_accepted(kind: FileKind) -> None:
    path = HERE / "samples" / f"{kind.value}.csv"
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    validator = FileValidator(kind, today=date(2026, 1, 1))
    with open_rows(path, kind) as stream:
        assert stream.info.delimiter == ";"
        assert stream.header.fields == tuple(column.name for column in COLUMNS[kind])
        results = list(validator.check_rows(stream))
    assert results and all(result.outcome is Outcome.ACCEPTED for result in results)
    assert validator.flags() == []
    records = [result.record for result in results]
    if kind is FileKind.SERVICES:
        services = [r for r in records if isinstance(r, ServiceRecord)]
        assert {s.worker_login for s in services} == DEMO_WORKERS
        assert {s.user_number for s in services} == DEMO_USERS
        assert {s.branch_id for s in services} == {"2234567818", "2234567917", None}
        assert {s.activity_type for s in services} == {1, 2, 3, 4}
    else:
        workers = [r for r in records if isinstance(r, WorkerRecord)]
        assert {"980200000001", "980200000002"} <= {w.login for w in workers}
        assert any(w.national_number.startswith("0") for w in workers)  # born in the 2000s
        assert any(not w.first_name.isascii() for w in workers)


def test_readme_documents_every_column_and_every_accepted_name() -> None:
    for kind, columns in COLUMNS.items():
        for column in columns:
            row = re.search(rf"^\| `{column.name}` \|(.*)$", README, re.MULTILINE)
            assert row, (kind, column.name)
            cells = row.group(1)
            assert ("yes" if column.required else "no") in cells.split("|")[0]
            for alias in column.aliases:
                assert alias in cells, (column.name, alias)
