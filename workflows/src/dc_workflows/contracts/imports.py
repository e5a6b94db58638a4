"""Contracts of ImportWorkflow: the imports service's activities and services-mgmt's bulk ones."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from dc_workflows.contracts.common import ActivityCode, Actor, FieldProblem, Frozen, Hours


class ImportActivity(StrEnum):
    """Activities an import calls, by name: the first six on TaskQueue.IMPORTS, the last two
    (bulk work on services) on TaskQueue.SERVICES_MGMT. Each is idempotent."""

    PROCESS_CHUNK = "imports.process_chunk"
    UPSERT_WORKERS = "imports.upsert_workers"
    RECORD_OUTCOMES = "imports.record_outcomes"
    FINISH = "imports.finish"
    STOP = "imports.stop"
    RESUME = "imports.resume"
    FIND_KNOWN_SERVICES = "services.find_known_services"
    REGISTER_BATCH = "services.register_batch"


class ImportKind(StrEnum):
    SERVICES = "services"
    WORKERS = "workers"


class ImportStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class RowFate(StrEnum):
    """What became of a row after the file's own checks: stored in its owning service, a
    duplicate (in the file or of a service already known), or rejected."""

    REGISTERED = "registered"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


class ImportTuning(Frozen):
    """How an import runs, decided by the imports service's configuration at upload."""

    chunk_size: int = Field(default=1000, ge=1, le=50_000)
    chunks_per_run: int = Field(
        default=10, ge=1, description="chunks before the workflow continues as new"
    )
    register_concurrency: int = Field(
        default=32, ge=1, le=256, description="lifecycle workflows started at a time"
    )
    heartbeat_seconds: int = Field(default=30, ge=1)
    activity_attempts: int = Field(
        default=10,
        ge=1,
        description="attempts of one step (1 s, 2 s, 4 s ... at most a minute apart) before the "
        "import stops, failed, until an operator retries it",
    )
    retry_wait_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=1,
        description="how long a stopped import's workflow waits for an operator's retry; a "
        "retry after that starts a new run from where it stopped",
    )


class ImportCounts(Frozen):
    """How far an import is. Every count only grows: a row is counted once its fate is known
    (``accepted`` once its owning service took it, so it equals ``registered``)."""

    rows_total: int = Field(default=0, description="non-blank rows in the file, once it is read")
    rows_read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
    registered: int = 0
    flagged: int = 0

    def at_least(self, other: ImportCounts) -> ImportCounts:
        """Each count the larger of the two: what a read that may be older cannot lower."""
        return ImportCounts.model_validate(
            {name: max(value, getattr(other, name)) for name, value in self}
        )


class ImportCursor(Frozen):
    """Where an import stands: carried across continue-as-new."""

    next_line: int = 2
    next_offset: int | None = None
    chunks_done: int = 0
    counts: ImportCounts = ImportCounts()
    done: bool = Field(
        default=False, description="every chunk is finished: only the import's end is left"
    )


class StartImport(Frozen):
    """Input of ImportWorkflow (also of each run after continue-as-new, with its cursor)."""

    import_id: str
    company_id: str
    branch_id: str | None = None
    kind: ImportKind
    actor: Actor
    tuning: ImportTuning = ImportTuning()
    cursor: ImportCursor = ImportCursor()
    resumed: bool = Field(
        default=False,
        description="a run started by an operator's retry of a stopped import whose workflow "
        "had stopped waiting: the chunk at the cursor may be half registered",
    )


class ImportProgress(Frozen):
    """The ``progress`` query of ImportWorkflow, and its memo in the Temporal UI."""

    import_id: str
    kind: ImportKind
    status: ImportStatus
    chunks_done: int
    next_line: int
    counts: ImportCounts
    failure: str | None = None
    retryable: bool = Field(
        default=False, description="stopped by a step that kept failing: an operator may retry"
    )


class ImportStop(Frozen):
    """A step of the import kept failing: the import stops, failed, at the cursor's line."""

    import_id: str
    step: str = Field(description="the activity that kept failing")
    line: int = Field(ge=2, description="the first line not finished: where a retry resumes")
    reason: str


class RetryImport(Frozen):
    """The ``retry`` update of a stopped ImportWorkflow: who asks."""

    actor: Actor


class ChunkRequest(Frozen):
    import_id: str
    start_line: int = Field(ge=2)
    start_offset: int | None = None
    size: int = Field(ge=1)


class ImportedService(Frozen):
    """An accepted row of a services file, to register."""

    line: int
    natural_key: str
    worker_login: str
    user_number: str
    service_date: date
    hours: Hours
    activity_type: ActivityCode
    branch_id: str | None = None


class ImportedWorker(Frozen):
    """An accepted row of a workers file, to upsert in identity."""

    line: int
    national_number: str
    first_name: str
    last_name: str
    login: str
    branch_id: str | None = None
    contract_start: date
    contract_end: date | None = None
    language: str = "nl"


class ChunkResult(Frozen):
    """One chunk read, validated and stored: the rows to register, where the next one starts."""

    start_line: int
    next_line: int
    next_offset: int | None = None
    done: bool
    failure: str | None = Field(default=None, description="the file was refused as a whole")
    services: tuple[ImportedService, ...] = ()
    workers: tuple[ImportedWorker, ...] = ()
    counts: ImportCounts = ImportCounts()


class KnownServicesQuery(Frozen):
    company_id: str
    natural_keys: tuple[str, ...]


class KnownServices(Frozen):
    """Natural key -> id of a service the read model already holds with that key."""

    known: dict[str, str] = Field(default_factory=dict)


class RowOutcome(Frozen):
    line: int
    fate: RowFate
    service_id: str | None = Field(
        default=None, description="the service started, or the one already known"
    )
    errors: tuple[FieldProblem, ...] = ()


class ServiceBatch(Frozen):
    """Accepted, not yet known services of one chunk: check their parties and start them."""

    import_id: str
    company_id: str
    branch_id: str | None = None
    registered_by: Actor
    services: tuple[ImportedService, ...]
    concurrency: int = Field(default=32, ge=1, le=256)


class WorkerBatch(Frozen):
    import_id: str
    company_id: str
    branch_id: str | None = None
    actor: Actor
    workers: tuple[ImportedWorker, ...]


class BatchOutcome(Frozen):
    rows: tuple[RowOutcome, ...] = ()


class ChunkOutcomes(Frozen):
    import_id: str
    start_line: int
    next_line: int
    rows: tuple[RowOutcome, ...]
