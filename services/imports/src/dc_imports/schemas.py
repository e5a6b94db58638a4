"""The public HTTP contract of the imports service, also served by the gateway under /api/v1."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from dc_workflows.contracts.imports import ImportKind, ImportStatus


class FailureOut(BaseModel):
    """Why the whole file was refused (the reason, then one entry per column concerned), or why
    the import stopped: a step kept failing at ``line`` (``retryable``)."""

    reason: str
    line: int = Field(description="the header's line, or the line where the import stopped")
    errors: list[dict[str, str]] = Field(description="field and reason per header problem")
    retryable: bool = Field(
        default=False,
        description="stopped, not refused: an operator may retry it "
        "(POST /imports/{id}/retry), and it goes on from ``line``",
    )


class ImportOut(BaseModel):
    id: str
    company_id: str
    branch_id: str | None
    kind: ImportKind
    filename: str
    size: int = Field(description="bytes")
    status: ImportStatus = Field(description="queued, running, done or failed")
    uploaded_by: str | None = Field(description="who uploaded the file, by name")
    rows_total: int = Field(description="non-blank rows in the file (known once it is read)")
    rows_read: int = Field(description="rows read and checked so far")
    accepted: int = Field(
        description="rows that passed every check, their registration included (new services or "
        "workers; the same number as registered: a row still to register is only read)"
    )
    rejected: int = Field(description="rows with errors: see errors.csv")
    duplicates: int = Field(description="rows that repeat an earlier line or a known service")
    registered: int = Field(
        description="services whose lifecycle started, or workers stored in the directory"
    )
    flagged: int = Field(description="accepted rows with a plausibility flag to look at")
    next_line: int = Field(
        description="the first line not finished: the lines before it are read, checked and "
        "registered"
    )
    progress_percent: int = Field(ge=0, le=100)
    file_format: str | None
    encoding: str | None
    delimiter: str | None
    failure: FailureOut | None = None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    workflow_id: str = Field(description="the ImportWorkflow in the Temporal UI")


class ImportPage(BaseModel):
    items: list[ImportOut]
    page: int
    page_size: int
    total: int


class RowErrorOut(BaseModel):
    field: str
    reason: str


class RowFlagOut(BaseModel):
    code: str = Field(description="worker-over-max-hours, user-served-twice, outside-contract")
    message: str
    lines: list[int] = Field(description="every line concerned")


class ImportRowOut(BaseModel):
    line: int
    outcome: str = Field(description="accepted, registered, duplicate or rejected")
    natural_key: str | None
    duplicate_of: int | None = Field(description="the earlier line this row repeats")
    service_id: str | None = Field(
        description="the service registered from this row, or the known one it repeats"
    )
    errors: list[RowErrorOut]
    flags: list[RowFlagOut]
    values: dict[str, str] = Field(description="the row's cells under the file's column names")
    record: dict[str, Any] | None = Field(description="the values as understood")


class ImportRowPage(BaseModel):
    items: list[ImportRowOut]
    page: int
    page_size: int
    total: int
