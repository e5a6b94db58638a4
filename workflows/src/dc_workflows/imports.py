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

Retries end. Each step is attempted ``tuning.activity_attempts`` times (1 s, 2 s, 4 s ... at most a
minute apart: a database or a service that is away for a few minutes is waited for). A step that
still fails (a poison chunk, a bug) stops the import: ``imports.stop`` records it failed, with the
reason and the first line not finished, and the workflow waits ``tuning.retry_wait_seconds`` for
an operator's ``retry`` update; then ``imports.resume`` and it goes on from that line. A chunk is
finished once its outcomes are recorded, and registering is idempotent, so the chunk it stopped
in is done again without registering anything twice. Nobody retried in time: the workflow ends
(the import stays failed) and a retry later starts a new run from that line (``resumed``).

Progress: the ``progress`` query, and the memo ``progress`` (upserted after each chunk) that the
Temporal UI shows on the workflow; neither ever shows a count lower than it showed before. The
workflow carries the search attributes ``DcCompany`` (and ``DcBranch``), set when it is started,
so an operator finds a company's imports. Every
``chunks_per_run`` chunks (or when Temporal suggests it) the workflow continues as new with its
cursor, so a file of 100,000 rows never makes one long history.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import Priority, RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

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
        ImportedService,
        ImportKind,
        ImportProgress,
        ImportStatus,
        ImportStop,
        KnownServices,
        KnownServicesQuery,
        RetryImport,
        RowFate,
        RowOutcome,
        ServiceBatch,
        StartImport,
        WorkerBatch,
    )

#: What an import records about itself when it stops or resumes: its id and a reason, never a
#: poison input; these wait (for ever) for the imports database to be back.
BOOKKEEPING = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)
SHORT = timedelta(minutes=2)
LONG = timedelta(minutes=15)
PROGRESS_MEMO = "progress"
RETRY_UPDATE = "retry"
#: The import's own steps go before the work of the lifecycles it started (which the services-mgmt
#: worker also runs), where the server orders tasks by priority (1 first, 3 by default).
PRIORITY = Priority(priority_key=2)

T = TypeVar("T")
#: A step that failed for good (before: only a non-retryable failure, which failed the workflow)
#: now stops the import for an operator's retry. Histories of the code before replay unchanged.
STOPS = "stop-for-a-retry"


def retry_policy(attempts: int) -> RetryPolicy:
    """A step is retried for a while (a few minutes with the default 10 attempts), not for ever."""
    return RetryPolicy(
        initial_interval=timedelta(seconds=1),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=1),
        maximum_attempts=attempts,
    )


class _Stopped(Exception):
    """A step failed for good; ``cursor``: the chunks finished before it."""

    def __init__(self, cursor: ImportCursor, error: ActivityError) -> None:
        super().__init__(str(error))
        self.cursor = cursor
        self.error = error


@workflow.defn(name="Import")
class ImportWorkflow:
    def __init__(self) -> None:
        self._progress: ImportProgress | None = None
        self._waiting_for_retry = False
        self._retry: RetryImport | None = None
        self._resumed = False
        self._reading: asyncio.Task[ChunkResult] | None = None

    @workflow.run
    async def run(self, request: StartImport) -> ImportProgress:
        cursor = request.cursor
        self._set_progress(request, cursor, ImportStatus.RUNNING)
        resumed = request.resumed
        if resumed:
            await self._bookkeeping(ImportActivity.RESUME, request.import_id)
        while True:
            try:
                if not cursor.done:
                    outcome = await self._chunks(request, cursor, recheck_known=not resumed)
                    if isinstance(outcome, ImportProgress):
                        return outcome  # the file was refused
                    cursor = outcome.model_copy(update={"done": True})
                final = await self._finish(request, cursor)
                break
            except _Stopped as stopped:
                cursor = stopped.cursor
                if not await self._stop(request, cursor, stopped.error):
                    return self.progress()
                resumed = True
        done = cursor.model_copy(update={"counts": final})
        self._set_progress(request, done, ImportStatus.DONE)
        return self.progress()

    async def _finish(self, request: StartImport, cursor: ImportCursor) -> ImportCounts:
        try:
            final: ImportCounts = await self._activity(
                request, ImportActivity.FINISH, request.import_id, ImportCounts, TaskQueue.IMPORTS
            )
        except ActivityError as error:
            if not workflow.patched(STOPS):
                raise
            raise _Stopped(cursor, error) from error
        return final

    async def _chunks(
        self, request: StartImport, cursor: ImportCursor, *, recheck_known: bool
    ) -> ImportCursor | ImportProgress:
        """Every chunk from the cursor on, until the last one is recorded (its cursor) or the
        file is refused (the progress); continues as new every ``chunks_per_run`` chunks.
        Raises :class:`_Stopped` when a step failed for good."""
        chunks_this_run = 0
        reading = self._reading = self._read(request, cursor.next_line, cursor.next_offset)
        try:
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
                    reading = self._reading = self._read(
                        request, chunk.next_line, chunk.next_offset
                    )
                outcomes = await self._store(request, chunk, check_known=recheck_known)
                recheck_known = True
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
                    return cursor
                if last_of_run or workflow.info().is_continue_as_new_suggested():
                    if not last_of_run:
                        await reading  # stored already: the next run gets it from the database
                    workflow.continue_as_new(
                        request.model_copy(update={"cursor": cursor, "resumed": False})
                    )
        except ActivityError as error:
            if not workflow.patched(STOPS):
                raise  # the code before: a step that failed for good failed the workflow
            await self._abandon_reading()
            raise _Stopped(cursor, error) from error

    async def _abandon_reading(self) -> None:
        """The chunk being read ahead is read again after a retry: stop reading it now."""
        reading, self._reading = self._reading, None
        if reading is None or reading.done():
            if reading is not None and not reading.cancelled():
                reading.exception()  # retrieved: a failure of it is the one being handled
            return
        reading.cancel()
        with suppress(ActivityError, asyncio.CancelledError):
            await reading

    async def _stop(self, request: StartImport, cursor: ImportCursor, error: ActivityError) -> bool:
        """A step failed for good: the import stops at the cursor's line and waits for an
        operator's retry. True when retried (it is resumed), False when nobody did in time."""
        step = str(error.activity_type or "a step")
        reason = _reason(step, cursor.next_line, error, request.tuning.activity_attempts)
        self._set_progress(request, cursor, ImportStatus.FAILED, reason, retryable=True)
        # Retried from the moment the import shows as stopped, which the next step records.
        self._retry, self._waiting_for_retry, self._resumed = None, True, False
        await self._bookkeeping(
            ImportActivity.STOP,
            ImportStop(
                import_id=request.import_id, step=step, line=cursor.next_line, reason=reason
            ),
        )
        try:
            await workflow.wait_condition(
                lambda: self._retry is not None,
                timeout=timedelta(seconds=request.tuning.retry_wait_seconds),
            )
        except TimeoutError:
            return False
        finally:
            self._waiting_for_retry = False
        await self._bookkeeping(ImportActivity.RESUME, request.import_id)
        self._set_progress(request, cursor, ImportStatus.RUNNING)
        self._resumed = True
        return True

    @workflow.update(name=RETRY_UPDATE)
    async def retry(self, request: RetryImport) -> ImportProgress:
        """An operator retries the stopped import: it goes on from where it stopped. Answers
        once the import is resumed."""
        self._retry = request
        await workflow.wait_condition(lambda: self._resumed)
        return self.progress()

    @retry.validator
    def _stopped_only(self, request: RetryImport) -> None:
        if not self._waiting_for_retry or self._retry is not None:
            raise ValueError("the import is not stopped: only a stopped import is retried")

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

    async def _store(
        self, request: StartImport, chunk: ChunkResult, *, check_known: bool = True
    ) -> tuple[RowOutcome, ...]:
        """Register the chunk's accepted rows in their owning service; what became of each.

        Without ``check_known`` (the chunk an import stopped in, done again after a retry: some
        of its services may have been started, and projected, before it stopped) the rows go
        straight to services.register_batch, which finds its own services started and answers
        a row whose key another service holds as a duplicate of it."""
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
        if not check_known:
            return await self._register(request, chunk.services)
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
        return duplicates + await self._register(request, fresh)

    async def _register(
        self, request: StartImport, services: tuple[ImportedService, ...]
    ) -> tuple[RowOutcome, ...]:
        registered: BatchOutcome = await self._activity(
            request,
            ImportActivity.REGISTER_BATCH,
            ServiceBatch(
                import_id=request.import_id,
                company_id=request.company_id,
                branch_id=request.branch_id,
                registered_by=request.actor,
                services=services,
                concurrency=request.tuning.register_concurrency,
            ),
            BatchOutcome,
            task_queue=TaskQueue.SERVICES_MGMT,
            long=True,
        )
        return registered.rows

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
            retry_policy=retry_policy(request.tuning.activity_attempts),
            priority=PRIORITY,
        )
        return result

    async def _bookkeeping(self, name: ImportActivity, argument: object) -> None:
        await workflow.execute_activity(
            name,
            argument,
            task_queue=TaskQueue.IMPORTS,
            start_to_close_timeout=SHORT,
            retry_policy=BOOKKEEPING,
            priority=PRIORITY,
        )

    def _set_progress(
        self,
        request: StartImport,
        cursor: ImportCursor,
        status: ImportStatus,
        failure: str | None = None,
        *,
        retryable: bool = False,
    ) -> None:
        """The query's answer and the memo. Never lower than before: counts read by a step that
        ran beside a later one (a chunk read ahead) may be older than those already shown."""
        previous = self._progress
        counts, next_line = cursor.counts, cursor.next_line
        if previous is not None:
            counts = counts.at_least(previous.counts)
            next_line = max(next_line, previous.next_line)
        self._progress = ImportProgress(
            import_id=request.import_id,
            kind=request.kind,
            status=status,
            chunks_done=max(cursor.chunks_done, previous.chunks_done if previous else 0),
            next_line=next_line,
            counts=counts,
            failure=failure,
            retryable=retryable,
        )
        workflow.upsert_memo({PROGRESS_MEMO: self._progress.model_dump(mode="json")})


def _reason(step: str, line: int, error: ActivityError, attempts: int) -> str:
    """Why the import stopped, as the company and the operator read it."""
    cause = error.cause
    message = cause.message if isinstance(cause, FailureError) else str(cause or error)
    return f"{step} failed at line {line} after {attempts} attempts: {message}"[:1000]
