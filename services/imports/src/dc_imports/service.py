"""What a caller can do with imports: upload a file (processed in the background by an
ImportWorkflow), follow it, list them, read its rows and its error report, and retry an import
that stopped because a step kept failing (operators)."""

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from dc_common.belgian_numbers import enterprise_number_error, establishment_unit_number_error
from dc_common.db import Database
from dc_common.problems import Problem, field_error
from dc_imports import repository
from dc_imports.domain import import_key, is_refused, may_retry
from dc_imports.formats import FileError, HeaderIssue
from dc_imports.models import Import, ImportRow
from dc_imports.records import RowError
from dc_imports.report import file_error_report, iter_error_report
from dc_imports.settings import ImportsSettings
from dc_imports.validation import brussels_today
from dc_workflows import search_attributes
from dc_workflows.contracts.common import Actor, TaskQueue
from dc_workflows.contracts.imports import (
    ImportCursor,
    ImportKind,
    ImportProgress,
    ImportStatus,
    RetryImport,
    StartImport,
)
from dc_workflows.ids import import_workflow_id
from dc_workflows.imports import PROGRESS_MEMO, RETRY_UPDATE, ImportWorkflow

log = structlog.get_logger(__name__)
_REPORT_BATCH = 2000
_RESUME_WAIT_SECONDS = 5


@dataclass(frozen=True)
class Upload:
    imported: Import
    created: bool


@dataclass(frozen=True)
class _Reported:
    """A row with errors, as :mod:`dc_imports.report` writes it."""

    errors: tuple[RowError, ...]
    original: tuple[str, ...]


class ImportDesk:
    def __init__(self, *, temporal: Client, db: Database, settings: ImportsSettings) -> None:
        self._temporal = temporal
        self._db = db
        self._settings = settings

    # -- commands -----------------------------------------------------------------------------

    async def upload(
        self,
        caller: Actor,
        *,
        content: bytes,
        filename: str,
        kind: ImportKind,
        company_id: str,
        branch_id: str | None,
    ) -> Upload:
        """Store the file (once) and start its import; the same file of the same kind again for
        the same company and branch (or the whole company) is the first import, whoever sends
        it. Another branch's upload of the same bytes is that branch's own import."""
        if reason := enterprise_number_error(company_id):
            raise field_error("company_id", reason)
        if branch_id is not None and (reason := establishment_unit_number_error(branch_id)):
            raise field_error("branch_id", reason)
        if len(content) > self._settings.max_file_bytes:
            raise Problem(
                413,
                "File too large",
                f"file: at most {self._settings.max_file_bytes} bytes",
                errors=[{"field": "file", "reason": "too large"}],
            )
        content_hash = hashlib.sha256(content).hexdigest()
        now = datetime.now(UTC)
        import_id = str(uuid.uuid4())
        workflow_id = import_workflow_id(
            import_key(company_id, branch_id, kind.value, content_hash)
        )
        async with self._db.transaction() as session:
            await repository.store_file(session, content_hash, content, now)
            created = await repository.create_import(
                session,
                {
                    "id": import_id,
                    "company_id": company_id,
                    "branch_id": branch_id,
                    "kind": kind.value,
                    "content_hash": content_hash,
                    "filename": (filename or "upload")[:255],
                    "size": len(content),
                    "uploaded_by": caller.person or caller.id,
                    "uploaded_by_name": caller.name,
                    "actor_kind": caller.kind.value,
                    "actor_id": caller.id,
                    "status": ImportStatus.QUEUED.value,
                    "workflow_id": workflow_id,
                    "service_day": brussels_today(),
                    "created_at": now,
                },
            )
        async with self._db.sessions() as session:
            imported = await repository.find_import(
                session, company_id, branch_id, kind.value, content_hash
            )
        assert imported is not None
        if imported.status == ImportStatus.QUEUED.value:
            # Also for a file sent again while its import is still queued: should the first
            # upload have stopped between storing and starting, this starts it (at most once).
            try:
                await self._start(imported)
            except RPCError as error:
                raise Problem(
                    503, "Temporal unavailable", f"the import is stored; send it again ({error})"
                ) from error
        log.info(
            "import uploaded" if created else "import uploaded again",
            import_id=imported.id,
            company_id=company_id,
            kind=kind.value,
            bytes=len(content),
        )
        return Upload(imported, created)

    async def retry(self, caller: Actor, import_id: str) -> Import:
        """Retry an import stopped by a step that kept failing: it goes on from the first chunk
        not finished, registering nothing twice. While its workflow waits, the workflow is
        asked (update ``retry``); once it stopped waiting, a new run starts at that chunk. The
        import is answered as it is then: resumed, or (the imports worker being slow to take
        it up, or a new run just started) still failed, shortly resumed."""
        imported = await self.get(import_id)
        if not may_retry(imported.status, imported.retryable):
            raise _not_stopped(imported)
        handle = self._temporal.get_workflow_handle(imported.workflow_id)
        try:
            waiting = (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
            if waiting:
                update = await handle.start_update(
                    RETRY_UPDATE,
                    RetryImport(actor=caller),
                    result_type=ImportProgress,
                    wait_for_stage=WorkflowUpdateStage.ACCEPTED,
                )
                # Accepted, it will happen; the answer shows the import resumed if that is quick.
                with suppress(TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
                    resumed: ImportProgress = await asyncio.wait_for(
                        update.result(), timeout=_RESUME_WAIT_SECONDS
                    )
                    log.info("import resumed", import_id=imported.id, next_line=resumed.next_line)
        except WorkflowUpdateFailedError as error:
            raise Problem(409, "Import not stopped", _cause(error)) from error
        except RPCError as error:
            if error.status is not RPCStatusCode.NOT_FOUND:
                raise _temporal_unavailable(error) from error
            waiting = False  # it ended meanwhile
        if not waiting:
            async with self._db.sessions() as session:
                cursor = await repository.stopped_cursor(session, imported)
            try:
                await self._start(imported, cursor=cursor, again=True)
            except WorkflowAlreadyStartedError as error:
                raise Problem(
                    409, "Import not stopped", "it is being retried already; look again"
                ) from error
            except RPCError as error:
                raise _temporal_unavailable(error) from error
        log.info("import retried", import_id=imported.id, by=caller.kind.value, waiting=waiting)
        return await self.get(import_id)

    async def _start(
        self, imported: Import, *, cursor: ImportCursor | None = None, again: bool = False
    ) -> None:
        """Start the import's workflow; ``again``: a new run of a stopped import whose workflow
        ended, from ``cursor``."""
        request = StartImport(
            import_id=imported.id,
            company_id=imported.company_id,
            branch_id=imported.branch_id,
            kind=ImportKind(imported.kind),
            actor=Actor.model_validate(
                {
                    "kind": imported.actor_kind,
                    "id": imported.actor_id,
                    "person": imported.uploaded_by,
                    "name": imported.uploaded_by_name,
                }
            ),
            tuning=self._settings.tuning,
            cursor=cursor or ImportCursor(),
            resumed=again,
        )
        attributes: list[SearchAttributePair[str]] = [
            SearchAttributePair(search_attributes.COMPANY, imported.company_id)
        ]
        if imported.branch_id:
            attributes.append(SearchAttributePair(search_attributes.BRANCH, imported.branch_id))
        progress = ImportProgress(
            import_id=imported.id,
            kind=request.kind,
            status=ImportStatus(imported.status),
            chunks_done=request.cursor.chunks_done,
            next_line=request.cursor.next_line,
            counts=request.cursor.counts,
            failure=imported.failure if again else None,
            retryable=again,
        )
        start = self._temporal.start_workflow(
            ImportWorkflow.run,
            request,
            id=imported.workflow_id,
            task_queue=TaskQueue.LIFECYCLE,
            # A new run of a stopped import follows its ended one; an upload starts once.
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE
            if again
            else WorkflowIDReusePolicy.REJECT_DUPLICATE,
            search_attributes=TypedSearchAttributes(attributes),
            memo={PROGRESS_MEMO: progress.model_dump(mode="json")},
        )
        if again:
            await start
            return
        with suppress(WorkflowAlreadyStartedError):
            await start

    # -- queries ------------------------------------------------------------------------------

    async def get(self, import_id: str) -> Import:
        async with self._db.sessions() as session:
            imported = await repository.get_import(session, import_id)
        if imported is None:
            raise Problem(404, "Import not found", f"no import {import_id}")
        return imported

    async def search(
        self, company_id: str | None, branch_ids: tuple[str, ...], *, page: int, page_size: int
    ) -> repository.Page[Import]:
        async with self._db.sessions() as session:
            return await repository.list_imports(
                session,
                company_id,
                branch_ids=branch_ids,
                offset=(page - 1) * page_size,
                limit=page_size,
            )

    async def rows(
        self,
        import_id: str,
        *,
        outcome: str | None,
        flagged: bool | None,
        page: int,
        page_size: int,
    ) -> tuple[Import, repository.Page[ImportRow]]:
        imported = await self.get(import_id)
        async with self._db.sessions() as session:
            rows = await repository.list_rows(
                session,
                import_id,
                outcome=outcome,
                flagged=flagged,
                offset=(page - 1) * page_size,
                limit=page_size,
            )
        return imported, rows

    async def error_report(self, import_id: str) -> AsyncIterator[bytes]:
        """The errors.csv of the import: the whole file's problem, or every row's (so far, for
        an import that is not finished or stopped)."""
        imported = await self.get(import_id)
        if is_refused(imported.status, imported.retryable) and imported.failure_details:
            return _single(file_error_report(_file_error(imported.failure_details)))
        return self._row_report(imported)

    async def _row_report(self, imported: Import) -> AsyncIterator[bytes]:
        names = tuple(imported.header or ())
        for piece in iter_error_report(names, ()):
            yield piece  # the header line, also when there is no error
        after = 0
        while True:
            async with self._db.sessions() as session:
                rows = await repository.rows_with_errors(
                    session, imported.id, after_line=after, limit=_REPORT_BATCH
                )
            reported = [_reported(row) for row in rows]
            pieces = iter_error_report(names, reported)
            next(pieces)  # the header line, written above
            for piece in pieces:
                yield piece
            if len(rows) < _REPORT_BATCH:
                return
            after = rows[-1].line


def _not_stopped(imported: Import) -> Problem:
    if is_refused(imported.status, imported.retryable):
        detail = "the file was refused as a whole: correct it and upload it again"
    else:
        detail = f"only a stopped import is retried; this one is {imported.status}"
    return Problem(409, "Import not stopped", detail)


def _cause(error: WorkflowUpdateFailedError) -> str:
    cause = error.cause
    return str(getattr(cause, "message", None) or cause or error)


def _temporal_unavailable(error: RPCError) -> Problem:
    return Problem(503, "Temporal unavailable", f"the import was not retried; try again ({error})")


async def _single(content: bytes) -> AsyncIterator[bytes]:
    yield content


def _reported(row: ImportRow) -> _Reported:
    return _Reported(
        errors=tuple(
            RowError(line=row.line, field=error["field"], reason=error["reason"])
            for error in row.errors or ()
        ),
        original=tuple(row.raw or ()),
    )


def _file_error(details: dict[str, Any]) -> FileError:
    return FileError(
        str(details.get("reason", "the file was refused")),
        tuple(HeaderIssue(e["field"], e["reason"]) for e in details.get("errors", ())),
        int(details.get("line", 1)),
    )
