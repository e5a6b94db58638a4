"""Activities of the imports service, called by ImportWorkflow by name on TaskQueue.IMPORTS.

Each is idempotent: a chunk stored once is never stored again (its rows are keyed by import and
line, and a chunk checked again gives the same rows), a row's outcome is set once, and counts are
recounted from the rows and never written lower than they are.
"""

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import Counter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dc_common.db import Database
from dc_imports import repository
from dc_imports.columns import FileKind
from dc_imports.domain import (
    check_chunk,
    imported_service,
    imported_worker,
    is_refused,
    keys_of_chunk,
    prepare,
    service_record,
)
from dc_imports.formats import FileError, FileInfo, open_rows
from dc_imports.identity_client import IdentityClient, IdentityRefused, IdentityUnavailable
from dc_imports.models import Import, ImportChunk, ImportRow
from dc_imports.plausibility import Plausibility
from dc_imports.records import Outcome
from dc_workflows.contracts.common import FieldProblem
from dc_workflows.contracts.imports import (
    BatchOutcome,
    ChunkOutcomes,
    ChunkRequest,
    ChunkResult,
    ImportActivity,
    ImportCounts,
    ImportedService,
    ImportedWorker,
    ImportStatus,
    ImportStop,
    RowFate,
    RowOutcome,
    WorkerBatch,
)
from dc_workflows.heartbeat import heartbeating

log = structlog.get_logger(__name__)

IMPORTS_DONE = Counter("dc_imports_done", "Imports finished, by kind of file", ["kind"])
IMPORT_ROWS = Counter("dc_import_rows", "Rows of finished imports, by outcome", ["kind", "outcome"])


class _Files:
    """The last few files read, by content hash: chunk after chunk reads the same file."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._files: OrderedDict[str, bytes] = OrderedDict()

    def get(self, content_hash: str) -> bytes | None:
        content = self._files.get(content_hash)
        if content is not None:
            self._files.move_to_end(content_hash)
        return content

    def put(self, content_hash: str, content: bytes) -> None:
        self._files[content_hash] = content
        self._files.move_to_end(content_hash)
        while len(self._files) > self._capacity:
            self._files.popitem(last=False)


def _now() -> datetime:
    return datetime.now(UTC)


def _unknown_import(import_id: str) -> ApplicationError:
    return ApplicationError(f"no import {import_id}", type="UnknownImport", non_retryable=True)


class ImportsActivities:
    def __init__(self, db: Database, identity: IdentityClient, *, cached_files: int = 4) -> None:
        self._db = db
        self._identity = identity
        self._files = _Files(cached_files)

    # -- chunks -------------------------------------------------------------------------------

    @activity.defn(name=ImportActivity.PROCESS_CHUNK)
    async def process_chunk(self, request: ChunkRequest) -> ChunkResult:
        """Read, check and store one chunk; the accepted rows and where the next chunk starts."""
        async with heartbeating():
            return await self._process_chunk(request)

    async def _process_chunk(self, request: ChunkRequest) -> ChunkResult:
        imported = await self._import(request.import_id)
        if is_refused(imported.status, imported.retryable):
            return _failed(request, imported)
        async with self._db.sessions() as session:
            stored = await repository.stored_chunk(session, imported.id, request.start_line)
            if stored is not None:
                return await _stored_result(session, imported, stored)
        content = await self._content(imported.content_hash)
        kind = FileKind(imported.kind)
        first = imported.status == ImportStatus.QUEUED.value
        try:
            scan = await asyncio.to_thread(_scan, content, kind) if first else None
            checked = await asyncio.to_thread(
                check_chunk,
                content,
                kind,
                start_line=request.start_line,
                size=request.size,
                start_offset=request.start_offset,
                today=imported.service_day,
            )
        except FileError as error:
            async with self._db.transaction() as session:
                await repository.mark_failed(session, imported.id, error, _now())
            log.info("import refused", import_id=imported.id, reason=str(error))
            return _failed(request, await self._import(imported.id))
        natural_keys, other_keys = keys_of_chunk(checked)
        chunk = checked.chunk
        async with self._db.transaction() as session:
            earlier = await repository.first_occurrences(
                session,
                imported.id,
                before_line=request.start_line,
                natural_keys=natural_keys,
                other_keys=other_keys,
            )
            rows = prepare(checked, *earlier)
            if scan is not None:
                rows_total, names, info = scan
                await repository.mark_running(
                    session, imported.id, header=names, info=info, rows_total=rows_total, now=_now()
                )
            inserted = await repository.insert_chunk(
                session,
                imported.id,
                start_line=request.start_line,
                next_line=chunk.next_line,
                next_offset=chunk.next_offset,
                done=chunk.done,
                rows=rows,
            )
            counts = await repository.refresh_totals(session, imported.id)
        if not inserted:  # another attempt stored this chunk meanwhile: answer as it did
            async with self._db.sessions() as session:
                again = await repository.stored_chunk(session, imported.id, request.start_line)
                assert again is not None
                return await _stored_result(session, imported, again)
        log.info(
            "import chunk stored",
            import_id=imported.id,
            start_line=request.start_line,
            next_line=chunk.next_line,
            rows=len(rows),
            done=chunk.done,
        )
        accepted = [row for row in rows if row.outcome is Outcome.ACCEPTED]
        services: tuple[ImportedService, ...] = ()
        workers: tuple[ImportedWorker, ...] = ()
        if kind is FileKind.SERVICES:
            services = tuple(
                imported_service(row.line, row.natural_key or "", row.record or {})
                for row in accepted
            )
        else:
            workers = tuple(imported_worker(row.line, row.record or {}) for row in accepted)
        return ChunkResult(
            start_line=request.start_line,
            next_line=chunk.next_line,
            next_offset=chunk.next_offset,
            done=chunk.done,
            services=services,
            workers=workers,
            counts=counts,
        )

    @activity.defn(name=ImportActivity.RECORD_OUTCOMES)
    async def record_outcomes(self, outcomes: ChunkOutcomes) -> ImportCounts:
        """What became of the chunk's accepted rows; the chunk is finished; the import's counts
        after it."""
        async with heartbeating(), self._db.transaction() as session:
            await repository.record_outcomes(session, outcomes.import_id, outcomes.rows)
            await repository.recount_chunk(
                session, outcomes.import_id, outcomes.start_line, outcomes.next_line
            )
            return await repository.refresh_totals(
                session, outcomes.import_id, next_line=outcomes.next_line
            )

    # -- a step that keeps failing ------------------------------------------------------------

    @activity.defn(name=ImportActivity.STOP)
    async def stop(self, stop: ImportStop) -> None:
        """The import stops, failed, with the reason and the line it stopped at."""
        await self._import(stop.import_id)
        async with self._db.transaction() as session:
            await repository.mark_stopped(session, stop, _now())
        log.warning("import stopped", import_id=stop.import_id, step=stop.step, line=stop.line)

    @activity.defn(name=ImportActivity.RESUME)
    async def resume(self, import_id: str) -> None:
        """An operator retries the stopped import: it goes on from where it stopped."""
        await self._import(import_id)
        async with self._db.transaction() as session:
            await repository.resume(session, import_id)
        log.info("import resumed", import_id=import_id)

    # -- workers ------------------------------------------------------------------------------

    @activity.defn(name=ImportActivity.UPSERT_WORKERS)
    async def upsert_workers(self, batch: WorkerBatch) -> BatchOutcome:
        """Create or update the workers in identity (by login), as the person who uploaded."""
        outcomes: dict[int, RowOutcome] = {}
        to_send: list[ImportedWorker] = []
        for worker in batch.workers:
            branch = worker.branch_id or batch.branch_id
            if batch.branch_id is not None and branch != batch.branch_id:
                outcomes[worker.line] = _rejected(
                    worker.line, "branch_id", f"not the branch of this import ({batch.branch_id})"
                )
                continue
            to_send.append(worker.model_copy(update={"branch_id": branch}))
        if to_send:
            async with heartbeating():
                try:
                    results = await self._identity.upsert_workers(
                        batch.company_id, batch.actor, to_send
                    )
                except IdentityRefused as refused:
                    reason = f"identity refused the workers ({refused.status}): {refused.detail}"
                    results = None
                    for worker in to_send:
                        outcomes[worker.line] = _rejected(worker.line, "row", reason)
                except IdentityUnavailable as error:
                    raise ApplicationError(str(error), type="IdentityUnavailable") from error
            for worker, result in zip(to_send, results or (), strict=False):
                if result.outcome == "rejected":
                    outcomes[worker.line] = RowOutcome(
                        line=worker.line,
                        fate=RowFate.REJECTED,
                        errors=tuple(
                            FieldProblem(field=error.field, reason=error.reason)
                            for error in result.errors
                        )
                        or (FieldProblem(field="row", reason="refused by identity"),),
                    )
                else:
                    outcomes[worker.line] = RowOutcome(line=worker.line, fate=RowFate.REGISTERED)
        log.info(
            "workers upserted",
            import_id=batch.import_id,
            workers=len(batch.workers),
            rejected=sum(o.fate is RowFate.REJECTED for o in outcomes.values()),
        )
        return BatchOutcome(rows=tuple(outcomes[line] for line in sorted(outcomes)))

    # -- the end ------------------------------------------------------------------------------

    @activity.defn(name=ImportActivity.FINISH)
    async def finish(self, import_id: str) -> ImportCounts:
        """Flag what the company should look at before validating; the import is done."""
        imported = await self._import(import_id)
        async with heartbeating():
            flags: dict[int, list[dict[str, Any]]] = {}
            if imported.kind == FileKind.SERVICES.value:
                flags = await self._plausibility_flags(imported)
            async with self._db.transaction() as session:
                await repository.set_flags(session, import_id, flags)
                await repository.mark_done(session, import_id, flagged=len(flags), now=_now())
                counts = await repository.refresh_totals(session, import_id)
        log.info("import done", import_id=import_id, **counts.model_dump())
        IMPORTS_DONE.labels(imported.kind).inc()
        for outcome in ("accepted", "rejected", "duplicates"):
            IMPORT_ROWS.labels(imported.kind, outcome).inc(getattr(counts, outcome))
        return counts

    async def _plausibility_flags(self, imported: Import) -> dict[int, list[dict[str, Any]]]:
        try:
            workers = await self._identity.company_workers(imported.company_id)
        except IdentityUnavailable as error:
            raise ApplicationError(str(error), type="IdentityUnavailable") from error
        contracts = {w.login: (w.contract_start, w.contract_end) for w in workers}
        check = Plausibility(contracts)
        async with self._db.sessions() as session:
            async for row in repository.new_rows(session, imported.id):
                check.add(service_record(row.line, row.record or {}))
        flags: dict[int, list[dict[str, Any]]] = {}
        for flag in check.flags():
            flags.setdefault(flag.line, []).append(
                {"code": flag.code.value, "message": flag.message, "lines": list(flag.lines)}
            )
        return flags

    # -- helpers ------------------------------------------------------------------------------

    async def _import(self, import_id: str) -> Import:
        async with self._db.sessions() as session:
            imported = await repository.get_import(session, import_id)
        if imported is None:
            raise _unknown_import(import_id)
        return imported

    async def _content(self, content_hash: str) -> bytes:
        content = self._files.get(content_hash)
        if content is None:
            async with self._db.sessions() as session:
                content = await repository.file_content(session, content_hash)
            if content is None:
                raise ApplicationError(
                    f"no file {content_hash}", type="UnknownFile", non_retryable=True
                )
            self._files.put(content_hash, content)
        return content

    @property
    def all(self) -> list[Callable[..., Awaitable[object]]]:
        return [
            self.process_chunk,
            self.record_outcomes,
            self.upsert_workers,
            self.finish,
            self.stop,
            self.resume,
        ]


def _scan(content: bytes, kind: FileKind) -> tuple[int, tuple[str, ...], FileInfo]:
    """Read the whole file once, without checking rows, so that a file that cannot be read is
    refused before any of its rows is registered: (non-blank rows, header names, how read)."""
    with open_rows(content, kind) as rows:
        total = sum(1 for _ in rows)
        return total, rows.header.names, rows.info


def _failed(request: ChunkRequest, imported: Import) -> ChunkResult:
    return ChunkResult(
        start_line=request.start_line,
        next_line=request.start_line,
        done=True,
        failure=imported.failure or "the file was refused",
        counts=repository.counts_of(imported),
    )


def _rejected(line: int, field: str, reason: str) -> RowOutcome:
    return RowOutcome(
        line=line, fate=RowFate.REJECTED, errors=(FieldProblem(field=field, reason=reason),)
    )


async def _stored_result(session: Any, imported: Import, chunk: ImportChunk) -> ChunkResult:
    rows: list[ImportRow] = await repository.rows_between(
        session, imported.id, chunk.start_line, chunk.next_line, Outcome.ACCEPTED.value
    )
    fresh = await repository.get_import(session, imported.id)
    assert fresh is not None
    services: tuple[ImportedService, ...] = ()
    workers: tuple[ImportedWorker, ...] = ()
    if imported.kind == FileKind.SERVICES.value:
        services = tuple(
            imported_service(row.line, row.natural_key or "", row.record or {}) for row in rows
        )
    else:
        workers = tuple(imported_worker(row.line, row.record or {}) for row in rows)
    return ChunkResult(
        start_line=chunk.start_line,
        next_line=chunk.next_line,
        next_offset=chunk.next_offset,
        done=chunk.done,
        services=services,
        workers=workers,
        counts=repository.counts_of(fresh),
    )
