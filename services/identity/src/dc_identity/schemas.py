"""The HTTP contract of the identity service's internal API (pydantic models).

A national number never travels in a path or a query string (they end up in access logs): it
is in the body, as in ``POST /v1/people/access``.
"""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

_Name = Annotated[str, Field(min_length=1, max_length=200)]


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- answers --------------------------------------------------------------------------------


class EmployerOut(_Out):
    company_id: str
    branch_id: str | None
    name: str


class WorkerOut(_Out):
    login: str
    national_number: str
    first_name: str
    last_name: str
    company_id: str
    branch_id: str | None
    contract_start: date
    contract_end: date | None
    language: str


class WorkerDetailOut(WorkerOut):
    employers: list[EmployerOut] = Field(
        description="every employer: the first (above), then the further ones"
    )


class UserOut(_Out):
    user_number: str
    name: str
    email: str
    language: str


class BranchOut(_Out):
    establishment_unit_number: str
    name: str


class CompanyOut(_Out):
    enterprise_number: str
    recognition_number: str
    name: str
    branches: list[BranchOut]


class NewCompanyOut(CompanyOut):
    legal_representatives: list[str]


class PersonOut(_Out):
    national_number: str
    first_name: str
    last_name: str
    email: str | None


class RightOut(BaseModel):
    grant_id: int
    company_id: str
    branch_id: str | None


class WorkerRoleOut(_Out):
    login: str
    company_id: str
    branch_id: str | None


class AccessOut(BaseModel):
    """Everything the gateway needs to authorise one person."""

    national_number: str
    name: str
    operator: bool
    legal_representative_of: list[str]
    main_access_manager_of: list[str]
    rights: list[RightOut]
    workers: list[WorkerRoleOut]
    user_numbers: list[str]


class MainAccessManagerOut(_Out):
    company_id: str
    national_number: str
    name: str | None = Field(default=None, description="the manager's name")
    appointed_by: str
    appointed_by_name: str | None = None
    appointed_at: datetime


class GrantOut(_Out):
    id: int
    company_id: str
    branch_id: str | None
    national_number: str
    name: str | None = Field(default=None, description="the grantee's name")
    right: str
    granted_by: str
    granted_by_name: str | None = None
    granted_at: datetime
    revoked_by: str | None
    revoked_at: datetime | None


class AuditEntryOut(_Out):
    id: int
    company_id: str
    at: datetime
    actor: str
    actor_name: str | None = Field(default=None, description="who made the change, by name")
    action: str
    subject: str | None
    subject_name: str | None = Field(default=None, description="whom it concerns, by name")
    branch_id: str | None
    details: dict[str, Any]


class FieldErrorOut(BaseModel):
    field: str
    reason: str


class WorkerUpsertOut(BaseModel):
    login: str
    outcome: str = Field(description="created, updated, unchanged or rejected")
    errors: list[FieldErrorOut]


class WorkerUpsertsOut(BaseModel):
    results: list[WorkerUpsertOut] = Field(description="one per worker sent, in order")


# --- requests -------------------------------------------------------------------------------


class PersonRef(BaseModel):
    """A person, by national number (in the body: never in a URL)."""

    national_number: str = Field(max_length=20)


class PersonIn(PersonRef):
    """A person to register or update; the names and e-mail are stripped, the number is not."""

    first_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
    last_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None


class CompanyIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    enterprise_number: str
    recognition_number: str = Field(min_length=1, max_length=20)
    name: _Name
    legal_representatives: list[str] = Field(min_length=1, max_length=50)


class BranchIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    establishment_unit_number: str
    name: _Name


class MainAccessManagerIn(BaseModel):
    national_number: str


class GrantIn(BaseModel):
    national_number: str
    branch_id: str | None = None


class WorkerIn(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True)

    login: str = Field(max_length=20)
    national_number: str = Field(max_length=20)
    first_name: str = Field(max_length=200)
    last_name: str = Field(max_length=200)
    branch_id: str | None = Field(default=None, max_length=20)
    contract_start: date
    contract_end: date | None = None
    language: str = Field(default="nl", max_length=10)


class WorkersIn(BaseModel):
    workers: list[WorkerIn] = Field(min_length=1, max_length=5000)


# --- the Jobtracker's accounts --------------------------------------------------------------

WorkerLoginField = Annotated[str, Field(pattern=r"^980\d{9}$", examples=["980100000001"])]
PasswordField = Annotated[str, Field(min_length=1, max_length=256)]


EmployerField = Annotated[
    str | None,
    Field(
        default=None,
        pattern=r"^\d{10}$",
        description="the employer to work for (one of the session's employers); default: the "
        "session's employer, or the first",
    ),
]


class WorkerLoginIn(BaseModel):
    login: WorkerLoginField
    password: PasswordField
    company_id: EmployerField = None


class RefreshIn(BaseModel):
    refresh_token: str = Field(min_length=1, max_length=200)
    company_id: EmployerField = None


class PasswordChangeIn(BaseModel):
    login: WorkerLoginField
    password: PasswordField = Field(description="the current password")
    new_password: PasswordField = Field(
        description="at least 10 characters, letters and digits, not the login"
    )


class FirstPasswordIn(BaseModel):
    password: PasswordField = Field(
        description="the worker must change it at the first login (rules as for any password)"
    )


class SessionWorkerOut(BaseModel):
    login: str
    name: str
    company_id: str
    language: str


class SessionOut(BaseModel):
    """A Jobtracker session; its tokens act for one employer (``worker.company_id``)."""

    access_token: str
    token_type: str = "Bearer"
    expires_in: int = Field(description="seconds the access token lives")
    refresh_token: str = Field(description="serves once: the answer to it holds the next one")
    must_change_password: bool
    worker: SessionWorkerOut
    employers: list[EmployerOut] = Field(
        description="the worker's employers: refresh with another's company_id to work for it"
    )


class WorkerAccountOut(BaseModel):
    login: str
    has_password: bool
    must_change_password: bool
    blocked_at: datetime | None
    wrong_in_a_row: int


class CompanyWorkerAccountOut(WorkerAccountOut):
    branch_id: str | None
