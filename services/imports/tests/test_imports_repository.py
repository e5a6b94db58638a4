"""The imports activities on their database (SQLite here): a file processed chunk by chunk makes
the same rows as one pass over the whole file, whatever the chunk size; a chunk or an outcome
stored again changes nothing; a file refused as a whole fails its import; flags are set once.
"""

import csv
import io
import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from dc_common.db import Database, create_schema
from dc_imports import repository
from dc_imports.activities import ImportsActivities
from dc_imports.columns import FileKind
from dc_imports.formats import open_rows
from dc_imports.generate import CsvStyle, generate, write_csv
from dc_imports.identity_client import IdentityClient
from dc_imports.models import Base, ImportChunk, ImportRow
from dc_imports.records import Outcome
from dc_imports.service import ImportDesk
from dc_imports.settings import ImportsSettings
from dc_imports.validation import FileValidator
from dc_workflows.contracts.common import FieldProblem
from dc_workflows.contracts.imports import (
    ChunkOutcomes,
    ChunkRequest,
    ChunkResult,
    RowFate,
    RowOutcome,
)

TODAY = date(2026, 1, 15)
COMPANY = "0712345630"
CONTRACTS = [
    {"login": "980500000000", "contract_start": "2016-01-01", "contract_end": "2016-06-30"},
]


@dataclass
class Store:
    db: Database
    activities: ImportsActivities
    identity_calls: list[str]

    async def new_import(self, content: bytes, kind: FileKind = FileKind.SERVICES) -> str:
        import_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        content_hash = uuid.uuid4().hex
        async with self.db.transaction() as session:
            await repository.store_file(session, content_hash, content, now)
            await repository.create_import(
                session,
                {
                    "id": import_id,
                    "company_id": COMPANY,
                    "branch_id": None,
                    "kind": kind.value,
                    "content_hash": content_hash,
                    "filename": "file.csv",
                    "size": len(content),
                    "uploaded_by": "91041205668",
                    "actor_kind": "company",
                    "actor_id": COMPANY,
                    "status": "queued",
                    "workflow_id": f"import-{import_id}",
                    "service_day": TODAY,
                    "created_at": now,
                },
            )
        return import_id

    async def run(self, import_id: str, size: int) -> list[ChunkResult]:
        """Every chunk in order, as the workflow asks for them."""
        results = []
        line, offset = 2, None
        while True:
            result = await self.activities.process_chunk(
                ChunkRequest(import_id=import_id, start_line=line, start_offset=offset, size=size)
            )
            results.append(result)
            if result.done:
                return results
            line, offset = result.next_line, result.next_offset

    async def rows(self, import_id: str) -> list[ImportRow]:
        async with self.db.sessions() as session:
            result = await session.scalars(
                select(ImportRow).where(ImportRow.import_id == import_id).order_by(ImportRow.line)
            )
            return list(result)


@pytest.fixture
async def imports(tmp_path: Path) -> AsyncIterator[Store]:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'imports.db'}")
    await create_schema(db.engine, Base.metadata)
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(f"{request.method} {request.url.path}")
        return httpx.Response(200, json=CONTRACTS)

    identity = IdentityClient(
        "http://identity", token=SecretStr("test"), transport=httpx.MockTransport(answer)
    )
    yield Store(db, ImportsActivities(db, identity), calls)
    await identity.aclose()
    await db.dispose()


def services_file(rows: int, *, seed: int = 3, encoding: str = "utf-8-sig") -> bytes:
    out = io.BytesIO()
    values = (
        row.values
        for row in generate(
            FileKind.SERVICES, rows, seed=seed, bad_fraction=0.1, duplicate_fraction=0.1
        )
    )
    write_csv(out, FileKind.SERVICES, values, CsvStyle(encoding=encoding))
    return out.getvalue()


def workers_file(rows: int) -> bytes:
    out = io.BytesIO()
    values = (
        row.values
        for row in generate(
            FileKind.WORKERS, rows, seed=5, bad_fraction=0.1, duplicate_fraction=0.2
        )
    )
    write_csv(out, FileKind.WORKERS, values, CsvStyle(delimiter=","))
    return out.getvalue()


def whole_file(content: bytes, kind: FileKind) -> dict[int, tuple[str, list[tuple[str, str]]]]:
    """line -> (outcome, errors) by one pass of the first layer's FileValidator."""
    validator = FileValidator(kind, today=TODAY, plausibility=False)
    with open_rows(content, kind) as rows:
        return {
            result.line: (
                result.outcome.value,
                [(error.field, error.reason) for error in result.errors],
            )
            for result in validator.check_rows(rows)
        }


@pytest.mark.parametrize(
    ("kind", "size"),
    [
        (FileKind.SERVICES, 1),
        (FileKind.SERVICES, 7),
        (FileKind.SERVICES, 1000),
        (FileKind.WORKERS, 3),
        (FileKind.WORKERS, 1000),
    ],
)
async def test_chunks_make_the_rows_of_one_pass_whatever_their_size(
    imports: Store, kind: FileKind, size: int
) -> None:
    content = services_file(150) if kind is FileKind.SERVICES else workers_file(80)
    import_id = await imports.new_import(content, kind)

    results = await imports.run(import_id, size)

    expected = whole_file(content, kind)
    rows = await imports.rows(import_id)
    got = {
        row.line: (row.outcome, [(e["field"], e["reason"]) for e in row.errors or ()])
        for row in rows
    }
    assert got == expected
    assert Outcome.DUPLICATE.value in {outcome for outcome, _ in got.values()}
    accepted = [s.line for result in results for s in (*result.services, *result.workers)]
    assert accepted == sorted(line for line, (o, _) in expected.items() if o == "accepted")
    last = results[-1].counts
    assert (last.rows_total, last.rows_read) == (len(expected), len(expected))
    assert last.rejected + last.duplicates + len(accepted) == len(expected)
    assert last.accepted == 0, "a row counts as accepted once its owning service took it"


async def test_a_chunk_processed_again_stores_nothing_twice(imports: Store) -> None:
    import_id = await imports.new_import(services_file(40))
    first = await imports.activities.process_chunk(
        ChunkRequest(import_id=import_id, start_line=2, size=10)
    )
    second = await imports.activities.process_chunk(
        ChunkRequest(import_id=import_id, start_line=2, size=10)
    )
    assert second == first
    again = await imports.activities.process_chunk(
        ChunkRequest(
            import_id=import_id,
            start_line=first.next_line,
            start_offset=first.next_offset,
            size=10,
        )
    )
    assert again.counts.rows_read == 20
    assert [row.line for row in await imports.rows(import_id)] == list(range(2, 22))


async def test_outcomes_recorded_again_count_once(imports: Store) -> None:
    import_id = await imports.new_import(services_file(12, seed=9))
    chunk = (await imports.run(import_id, 100))[0]
    lines = [service.line for service in chunk.services]
    outcomes = ChunkOutcomes(
        import_id=import_id,
        start_line=chunk.start_line,
        next_line=chunk.next_line,
        rows=(
            RowOutcome(
                line=lines[0],
                fate=RowFate.REJECTED,
                errors=(FieldProblem(field="user_number", reason="unknown user"),),
            ),
            RowOutcome(
                line=lines[1],
                fate=RowFate.DUPLICATE,
                service_id="known",
                errors=(FieldProblem(field="row", reason="already registered as service known"),),
            ),
            *(
                RowOutcome(line=line, fate=RowFate.REGISTERED, service_id=f"s-{line}")
                for line in lines[2:]
            ),
        ),
    )
    once = await imports.activities.record_outcomes(outcomes)
    twice = await imports.activities.record_outcomes(outcomes)

    assert once == twice
    assert once.registered == len(lines) - 2
    assert once.accepted == once.registered
    assert once.rejected == chunk.counts.rejected + 1
    assert once.duplicates == chunk.counts.duplicates + 1
    rows = {row.line: row for row in await imports.rows(import_id)}
    assert rows[lines[1]].service_id == "known"
    assert rows[lines[2]].outcome == "registered"


async def test_flags_are_set_once_with_contracts_from_identity(imports: Store) -> None:
    header = "worker_login;user_number;service_date;hours;activity_type\r\n"
    lines = [
        "980500000000;100000000001;2016-03-01;6;1",  # 2: 11 h that day
        "980500000000;100000000002;2016-03-01;5;1",  # 3
        "980500000000;100000000003;2016-07-01;2;1",  # 4: after the contract
        "980500000001;100000000003;2016-07-01;2;1",  # 5: user served twice (with 4)
        "980500000001;100000000004;2016-07-02;2;1",  # 6
    ]
    import_id = await imports.new_import((header + "\r\n".join(lines) + "\r\n").encode())
    await imports.run(import_id, 2)

    first = await imports.activities.finish(import_id)
    again = await imports.activities.finish(import_id)

    assert first == again and first.flagged == 4
    assert imports.identity_calls == [f"GET /v1/companies/{COMPANY}/workers"] * 2
    flags = {
        row.line: sorted(f["code"] for f in row.flags or ())
        for row in await imports.rows(import_id)
    }
    assert flags == {
        2: ["worker-over-max-hours"],
        3: ["worker-over-max-hours"],
        4: ["outside-contract", "user-served-twice"],
        5: ["user-served-twice"],
        6: [],
    }
    async with imports.db.sessions() as session:
        imported = await repository.get_import(session, import_id)
    assert imported is not None and imported.status == "done"


async def test_a_wrong_header_fails_the_import_with_its_report(imports: Store) -> None:
    import_id = await imports.new_import(b"Werknemer;Datum;Uren\r\n980100000001;01/10/2023;4\r\n")

    result = await imports.activities.process_chunk(
        ChunkRequest(import_id=import_id, start_line=2, size=10)
    )

    assert result.done and result.failure is not None
    assert result.failure.startswith("the header (line 1) is not that of a services file")
    again = await imports.activities.process_chunk(
        ChunkRequest(import_id=import_id, start_line=2, size=10)
    )
    assert again.failure == result.failure
    desk = ImportDesk(temporal=None, db=imports.db, settings=ImportsSettings())  # type: ignore[arg-type]
    report = await _report(desk, import_id)
    assert [(r[0], r[1]) for r in report[1:]] == [
        ("1", "file"),
        ("1", "user_number"),
        ("1", "activity_type"),
    ]
    async with imports.db.sessions() as session:
        chunks = await session.scalar(select(func.count()).select_from(ImportChunk))
    assert chunks == 0


async def test_the_error_report_lists_rows_in_order_and_defuses_formulas(imports: Store) -> None:
    content = (
        "Werknemer;Gebruikersnummer;Datum;Uren;Activiteit\r\n"
        "=cmd|'/c calc'!A1;100000000001;01/10/2023;4;1\r\n"
        "980100000001;100000000001;01/10/2023;4;1\r\n"
        "980100000001;100000000001;01/10/2023;4;1\r\n"
    ).encode("cp1252")
    import_id = await imports.new_import(content)
    await imports.run(import_id, 1)
    desk = ImportDesk(temporal=None, db=imports.db, settings=ImportsSettings())  # type: ignore[arg-type]

    report = await _report(desk, import_id)

    assert report[0][:4] == ["line", "field", "reason", "Werknemer"]
    assert [row[:3] for row in report[1:]] == [
        ["2", "worker_login", "must be exactly 12 digits"],
        ["4", "row", "duplicate of line 3"],
    ]
    assert report[1][3] == "'=cmd|'/c calc'!A1"


async def _report(desk: ImportDesk, import_id: str) -> list[list[str]]:
    pieces = [piece async for piece in await desk.error_report(import_id)]
    data = b"".join(pieces)
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(data[3:].decode(), newline=""), delimiter=";"))


PROGRESS = ("next_line", "rows_read", "accepted", "rejected", "duplicates", "registered")


async def test_progress_never_moves_backwards_when_late_attempts_finish(imports: Store) -> None:
    """A late attempt of an earlier step (an activity Temporal gave up on, still running on a
    slow worker) finishes after the import went on: neither the cursor nor a count goes back."""
    import_id = await imports.new_import(services_file(30, seed=4))
    desk = ImportDesk(temporal=None, db=imports.db, settings=ImportsSettings())  # type: ignore[arg-type]
    seen: list[tuple[int, ...]] = []

    async def look() -> None:
        imported = await desk.get(import_id)
        seen.append(tuple(getattr(imported, name) for name in PROGRESS))

    def outcomes(chunk: ChunkResult, fate: RowFate) -> ChunkOutcomes:
        """What the registration made of the chunk's rows: the first one as ``fate``."""
        lines = [service.line for service in chunk.services]
        first = RowOutcome(
            line=lines[0],
            fate=fate,
            service_id=f"s-{lines[0]}" if fate is RowFate.REGISTERED else None,
            errors=()
            if fate is RowFate.REGISTERED
            else (FieldProblem(field="worker_login", reason="unknown worker"),),
        )
        return ChunkOutcomes(
            import_id=import_id,
            start_line=chunk.start_line,
            next_line=chunk.next_line,
            rows=(
                first,
                *(
                    RowOutcome(line=line, fate=RowFate.REGISTERED, service_id=f"s-{line}")
                    for line in lines[1:]
                ),
            ),
        )

    first_request = ChunkRequest(import_id=import_id, start_line=2, size=10)
    first = await imports.activities.process_chunk(first_request)
    await look()
    await imports.activities.record_outcomes(outcomes(first, RowFate.REJECTED))
    await look()
    second = await imports.activities.process_chunk(
        ChunkRequest(
            import_id=import_id,
            start_line=first.next_line,
            start_offset=first.next_offset,
            size=10,
        )
    )
    await look()
    await imports.activities.record_outcomes(outcomes(second, RowFate.REGISTERED))
    await look()
    # The late attempts of the first chunk: its reading, then its outcomes as an earlier
    # registration attempt (identity unreachable at the time) reported them.
    await imports.activities.process_chunk(first_request)
    await look()
    await imports.activities.record_outcomes(
        outcomes(first, RowFate.REGISTERED).model_copy(
            update={
                "rows": tuple(
                    RowOutcome(
                        line=row.line,
                        fate=RowFate.REJECTED,
                        errors=(FieldProblem(field="row", reason="identity unavailable"),),
                    )
                    for row in outcomes(first, RowFate.REGISTERED).rows
                )
            }
        )
    )
    await look()

    for before, after in itertools.pairwise(seen):
        assert all(a >= b for a, b in zip(after, before, strict=True)), dict(
            zip(PROGRESS, zip(before, after, strict=True), strict=True)
        )
    assert seen[-1] == seen[3], "the late attempts changed nothing"
    assert seen[3][0] == second.next_line


async def test_a_row_services_mgmt_finds_registered_meanwhile_is_a_duplicate_of_that_service(
    imports: Store,
) -> None:
    """services.register_batch answers a row whose service another file or the API registered
    after the known-services check as a duplicate of that service: counted, listed and reported
    as such."""
    import_id = await imports.new_import(services_file(12, seed=9))
    chunk = (await imports.run(import_id, 100))[0]
    lines = [service.line for service in chunk.services]
    taken = "5b1f3f0e-0000-4000-8000-000000000001"
    reason = f"already registered as service {taken}"
    counts = await imports.activities.record_outcomes(
        ChunkOutcomes(
            import_id=import_id,
            start_line=chunk.start_line,
            next_line=chunk.next_line,
            rows=(
                RowOutcome(
                    line=lines[0],
                    fate=RowFate.DUPLICATE,
                    service_id=taken,
                    errors=(FieldProblem(field="row", reason=reason),),
                ),
                *(
                    RowOutcome(line=line, fate=RowFate.REGISTERED, service_id=f"s-{line}")
                    for line in lines[1:]
                ),
            ),
        )
    )

    assert counts.duplicates == chunk.counts.duplicates + 1
    assert counts.registered == counts.accepted == len(lines) - 1
    desk = ImportDesk(temporal=None, db=imports.db, settings=ImportsSettings())  # type: ignore[arg-type]
    _, rows = await desk.rows(import_id, outcome="duplicate", flagged=None, page=1, page_size=50)
    found = [row for row in rows.items if row.line == lines[0]]
    assert [(row.service_id, row.errors) for row in found] == [
        (taken, [{"field": "row", "reason": reason}])
    ]
    report = await _report(desk, import_id)
    assert [str(lines[0]), "row", reason] in [row[:3] for row in report[1:]]
