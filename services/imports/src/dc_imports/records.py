"""The results of reading and validating rows: records, errors, outcomes and counts.

Pydantic models, so that they cross a Temporal activity boundary as they are (the workflow
converter is ``pydantic_data_converter``).
"""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

DEFAULT_LANGUAGE = "nl"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RowError(Frozen):
    """What is wrong with one field of one row (``field`` is ``"row"`` for the whole row)."""

    line: int
    field: str
    reason: str


class ServiceRecord(Frozen):
    """A valid row of a services file."""

    line: int
    worker_login: str
    user_number: str
    service_date: date
    hours: int
    activity_type: int
    branch_id: str | None = None


class WorkerRecord(Frozen):
    """A valid row of a workers file."""

    line: int
    national_number: str
    first_name: str
    last_name: str
    login: str
    branch_id: str | None = None
    contract_start: date
    contract_end: date | None = None
    language: str = DEFAULT_LANGUAGE


Record = ServiceRecord | WorkerRecord


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"


class RowResult(Frozen):
    """What became of one row: accepted with its record, rejected with its errors, or a
    duplicate of an earlier line (with one error saying so). ``original`` holds the values as
    read, in file order, for the error report."""

    line: int
    outcome: Outcome
    record: ServiceRecord | WorkerRecord | None = None
    errors: tuple[RowError, ...] = ()
    duplicate_of: int | None = None
    original: tuple[str, ...] = ()


class ImportCounts(Frozen):
    read: int = 0
    accepted: int = 0
    rejected: int = 0
    duplicates: int = 0
