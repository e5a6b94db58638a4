"""ImportWorkflow: one workflow per uploaded file takes it from "queued" to "done" (or "failed").

The file is worked through in chunks (``tuning.chunk_size`` rows). Per chunk:

1. ``imports.process_chunk`` reads and validates the chunk, stores every row of it once (keyed by
   import and line) and returns the accepted rows and where the next chunk starts;
2. services: ``services.find_known_services`` says which of them the read model already holds
   (duplicates), ``services.register_batch`` checks the parties of the others and starts their
   lifecycle workflows; workers: ``imports.upsert_workers`` upserts them in identity;
3. ``imports.record_outcomes`` stores what became of each row and returns the import's counts.

After the last chunk ``imports.finish`` sets the plausibility flags and closes the import. Every
activity is idempotent, so a worker killed anywhere resumes without storing a row twice.

Progress: the ``progress`` query, and the memo ``progress`` (upserted after each chunk) that the
Temporal UI shows on the workflow. The workflow carries the search attributes ``DcCompany`` (and
``DcBranch``), set when it is started, so an operator finds a company's imports. Every
``chunks_per_run`` chunks (or when Temporal suggests it) the workflow continues as new with its
cursor, so a file of 100,000 rows never makes one long history.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy

with workflow.unsafe.imports_passed_through():
    from dc_workflows.contracts.common import FieldProblem, TaskQueue
    from dc_workflows.contracts.imports import (
        BatchOutcome,
        ChunkOutcomes,
        ChunkRequest,
        ChunkResult,
        ImportActivity,
        ImportCounts,
        ImportCursor,
        ImportKind,
        ImportProgress,
        ImportStatus,
        KnownServices,
        KnownServicesQuery,
        RowFate,
        RowOutcome,
        ServiceBatch,
        StartImport,
        WorkerBatch,
    )

RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
SHORT = timedelta(minutes=2)
LONG = timedelta(minutes=15)
PROGRESS_MEMO = "progress"
#: The import's own steps go before the work of the lifecycles it started (which the services-mgmt
#: worker also runs), where the server orders tasks by priority (1 first, 3 by default).
PRIORITY = Priority(priority_key=2)

T = TypeVar("T")


@workflow.defn(name="Import")
class ImportWorkflow:
    def __init__(self) -> None:
        self._progress: ImportProgress | None = None

    @workflow.run
    async def run(self, request: StartImport) -> ImportProgress:
        cursor = request.cursor
        self._set_progress(request, cursor, ImportStatus.RUNNING)
        chunks_this_run = 0
        reading = self._read(request, cursor.next_line, cursor.next_offset)
        while True:
            chunk = await reading
            if chunk.failure is not None:
                failed = cursor.model_copy(update={"counts": chunk.counts})
                self._set_progress(request, failed, ImportStatus.FAILED, chunk.failure)
                return self.progress()
            chunks_this_run += 1
            last_of_run = chunks_this_run >= request.tuning.chunks_per_run
            if not chunk.done and not last_of_run:
                # The next chunk is read and checked while this one is registered.
                reading = self._read(request, chunk.next_line, chunk.next_offset)
            outcomes = await self._store(request, chunk)
            # Also without outcomes: the counts the chunk was read with may predate the
            # previous chunk's registration.
            counts: ImportCounts = await self._activity(
                request,
                ImportActivity.RECORD_OUTCOMES,
                ChunkOutcomes(
                    import_id=request.import_id,
                    start_line=chunk.start_line,
                    next_line=chunk.next_line,
                    rows=outcomes,
                ),
                ImportCounts,
                task_queue=TaskQueue.IMPORTS,
            )
            cursor = ImportCursor(
                next_line=chunk.next_line,
                next_offset=chunk.next_offset,
                chunks_done=cursor.chunks_done + 1,
                counts=counts,
            )
            self._set_progress(request, cursor, ImportStatus.RUNNING)
            if chunk.done:
                break
            if last_of_run or workflow.info().is_continue_as_new_suggested():
                if not last_of_run:
                    await reading  # stored already: the next run gets it again from the database
                workflow.continue_as_new(request.model_copy(update={"cursor": cursor}))
        final: ImportCounts = await self._activity(
            request, ImportActivity.FINISH, request.import_id, ImportCounts, TaskQueue.IMPORTS
        )
        done = cursor.model_copy(update={"counts": final})
        self._set_progress(request, done, ImportStatus.DONE)
        return self.progress()

    @workflow.query
    def progress(self) -> ImportProgress:
        assert self._progress is not None
        return self._progress

    def _read(
        self, request: StartImport, start_line: int, start_offset: int | None
    ) -> asyncio.Task[ChunkResult]:
        return asyncio.create_task(
            self._activity(
                request,
                ImportActivity.PROCESS_CHUNK,
                ChunkRequest(
                    import_id=request.import_id,
                    start_line=start_line,
                    start_offset=start_offset,
                    size=request.tuning.chunk_size,
                ),
                ChunkResult,
                task_queue=TaskQueue.IMPORTS,
            )
        )

    async def _store(self, request: StartImport, chunk: ChunkResult) -> tuple[RowOutcome, ...]:
        """Register the chunk's accepted rows in their owning service; what became of each."""
        if request.kind is ImportKind.WORKERS:
            if not chunk.workers:
                return ()
            upserted: BatchOutcome = await self._activity(
                request,
                ImportActivity.UPSERT_WORKERS,
                WorkerBatch(
                    import_id=request.import_id,
                    company_id=request.company_id,
                    branch_id=request.branch_id,
                    actor=request.actor,
                    workers=chunk.workers,
                ),
                BatchOutcome,
                task_queue=TaskQueue.IMPORTS,
            )
            return upserted.rows
        if not chunk.services:
            return ()
        known: KnownServices = await self._activity(
            request,
            ImportActivity.FIND_KNOWN_SERVICES,
            KnownServicesQuery(
                company_id=request.company_id,
                natural_keys=tuple(service.natural_key for service in chunk.services),
            ),
            KnownServices,
            task_queue=TaskQueue.SERVICES_MGMT,
        )
        duplicates = tuple(
            RowOutcome(
                line=service.line,
                fate=RowFate.DUPLICATE,
                service_id=known.known[service.natural_key],
                errors=(
                    FieldProblem(
                        field="row",
                        reason=f"already registered as service {known.known[service.natural_key]}",
                    ),
                ),
            )
            for service in chunk.services
            if service.natural_key in known.known
        )
        fresh = tuple(s for s in chunk.services if s.natural_key not in known.known)
        if not fresh:
            return duplicates
        registered: BatchOutcome = await self._activity(
            request,
            ImportActivity.REGISTER_BATCH,
            ServiceBatch(
                import_id=request.import_id,
                company_id=request.company_id,
                branch_id=request.branch_id,
                registered_by=request.actor,
                services=fresh,
                concurrency=request.tuning.register_concurrency,
            ),
            BatchOutcome,
            task_queue=TaskQueue.SERVICES_MGMT,
            long=True,
        )
        return duplicates + registered.rows

    async def _activity(
        self,
        request: StartImport,
        name: ImportActivity,
        argument: object,
        result_type: type[T],
        task_queue: TaskQueue,
        *,
        long: bool = False,
    ) -> T:
        result: T = await workflow.execute_activity(
            name,
            argument,
            task_queue=task_queue,
            result_type=result_type,
            start_to_close_timeout=LONG if long else SHORT,
            heartbeat_timeout=timedelta(seconds=request.tuning.heartbeat_seconds),
            retry_policy=RETRY,
            priority=PRIORITY,
        )
        return result

    def _set_progress(
        self,
        request: StartImport,
        cursor: ImportCursor,
        status: ImportStatus,
        failure: str | None = None,
    ) -> None:
        self._progress = ImportProgress(
            import_id=request.import_id,
            kind=request.kind,
            status=status,
            chunks_done=cursor.chunks_done,
            next_line=cursor.next_line,
            counts=cursor.counts,
            failure=failure,
        )
        workflow.upsert_memo({PROGRESS_MEMO: self._progress.model_dump(mode="json")})
