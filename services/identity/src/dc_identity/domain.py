"""Pure rules of the directory: the numbers that identify companies, branches and people, who
may appoint main access managers and grant or revoke the right (the ``may_*`` functions), and
what makes a worker of a workers file acceptable (:func:`worker_errors`).

The number checks live in :mod:`dc_common.belgian_numbers`, shared with the other services (the
imports validate the same numbers); this module re-exports them under the directory's names.
Every ``*_error`` function returns ``None`` for a valid value, or the reason it is not valid,
worded to follow the field name in an error message ("login: must start with 980").
The ``is_valid_*`` functions are the boolean shorthands.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from dc_common.belgian_numbers import (
    enterprise_number_error,
    establishment_unit_number_error,
    is_valid_enterprise_number,
    is_valid_establishment_unit_number,
    is_valid_national_number,
    is_valid_user_number,
    is_valid_worker_login,
    mod97_check,
    national_number_birth_date,
    national_number_century,
    national_number_error,
    user_number_error,
    with_enterprise_check,
    with_national_check,
    worker_login_error,
)

__all__ = [
    "LANGUAGES",
    "NAME_MAX_LENGTH",
    "RIGHT_DIENSTENCHEQUES_EO",
    "AuditAction",
    "GrantScope",
    "Roles",
    "WorkerValues",
    "display_name",
    "enterprise_number_error",
    "establishment_unit_number_error",
    "grant_branch_error",
    "is_duplicate_grant",
    "is_valid_enterprise_number",
    "is_valid_establishment_unit_number",
    "is_valid_national_number",
    "is_valid_user_number",
    "is_valid_worker_login",
    "may_administer_companies",
    "may_appoint_main_access_manager",
    "may_manage_rights",
    "mod97_check",
    "national_number_birth_date",
    "national_number_century",
    "national_number_error",
    "revoke_error",
    "user_number_error",
    "with_enterprise_check",
    "with_national_check",
    "worker_errors",
    "worker_login_error",
]


# --- roles and rights -----------------------------------------------------------------------

RIGHT_DIENSTENCHEQUES_EO = "dienstencheques-eo"
"""The right "Dienstencheques voor erkende ondernemingen", on a whole company or one branch."""


class AuditAction(StrEnum):
    COMPANY_CREATED = "company-created"
    BRANCH_CREATED = "branch-created"
    MAIN_ACCESS_MANAGER_APPOINTED = "main-access-manager-appointed"
    RIGHT_GRANTED = "right-granted"
    RIGHT_REVOKED = "right-revoked"
    # An audit event's name.
    WORKER_PASSWORD_SET = "worker-password-set"  # nosec B105
    WORKER_BLOCKED = "worker-blocked"
    WORKER_UNBLOCKED = "worker-unblocked"


@dataclass(frozen=True, slots=True)
class Roles:
    """What the directory knows of one person's standing: enough to decide what they may change."""

    operator: bool = False
    legal_representative_of: frozenset[str] = frozenset()
    main_access_manager_of: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class GrantScope:
    """Who holds which right where: ``branch_id`` None means the whole company."""

    company_id: str
    branch_id: str | None
    national_number: str
    right: str = RIGHT_DIENSTENCHEQUES_EO


def may_administer_companies(actor: Roles) -> bool:
    """Creating companies and branches is the operator's job."""
    return actor.operator


def may_appoint_main_access_manager(actor: Roles, company_id: str) -> bool:
    """A legal representative of the company appoints main access managers; a main access
    manager of the company may appoint further ones (as backup)."""
    return company_id in actor.legal_representative_of or company_id in actor.main_access_manager_of


def may_manage_rights(actor: Roles, company_id: str) -> bool:
    """Only a main access manager of the company grants and revokes rights for it."""
    return company_id in actor.main_access_manager_of


def grant_branch_error(branch_id: str | None, company_branches: Collection[str]) -> str | None:
    """A grant is for the whole company (None) or for one of the company's own branches."""
    if branch_id is None:
        return None
    if reason := establishment_unit_number_error(branch_id):
        return reason
    if branch_id not in company_branches:
        return "is not a branch of this company"
    return None


def is_duplicate_grant(wanted: GrantScope, active: Iterable[GrantScope]) -> bool:
    """True when the same person already holds the same right on the same scope."""
    return any(scope == wanted for scope in active)


def revoke_error(revoked_at: datetime | None) -> str | None:
    """A grant is revoked once; the row stays, so a second revoke is a conflict."""
    return None if revoked_at is None else "the grant is already revoked"


def display_name(first_name: str, last_name: str, national_number: str) -> str:
    """How a person is named to the platform: first and last name (the national number for a
    person registered without a name yet)."""
    return f"{first_name} {last_name}".strip() or national_number


# --- workers in bulk ------------------------------------------------------------------------

LANGUAGES = ("nl", "fr", "de", "en")
NAME_MAX_LENGTH = 100


@dataclass(frozen=True, slots=True)
class WorkerValues:
    """One worker as a workers file (or a caller of the bulk upsert) gives it."""

    login: str
    national_number: str
    first_name: str
    last_name: str
    branch_id: str | None
    contract_start: date
    contract_end: date | None
    language: str


def worker_errors(
    values: WorkerValues, branches: Collection[str], rights: Collection[str] | None
) -> list[tuple[str, str]]:
    """Every problem of one worker on its own, as (field, reason): ``branches`` are the
    company's, ``rights`` the branches the actor may change workers of (None: all of them)."""
    errors: list[tuple[str, str]] = []
    if reason := worker_login_error(values.login):
        errors.append(("login", reason))
    if reason := national_number_error(values.national_number):
        errors.append(("national_number", reason))
    for name_field, name in (("first_name", values.first_name), ("last_name", values.last_name)):
        if not name.strip():
            errors.append((name_field, "is required"))
        elif len(name) > NAME_MAX_LENGTH:
            errors.append((name_field, f"must be at most {NAME_MAX_LENGTH} characters"))
    if values.contract_end is not None and values.contract_end < values.contract_start:
        errors.append(
            ("contract_end", f"must not be before contract_start ({values.contract_start})")
        )
    if values.language not in LANGUAGES:
        errors.append(("language", "must be nl, fr, de or en"))
    if values.branch_id is not None:
        if reason := establishment_unit_number_error(values.branch_id):
            errors.append(("branch_id", reason))
        elif values.branch_id not in branches:
            errors.append(("branch_id", "is not a branch of this company"))
    if rights is not None and values.branch_id not in rights:
        errors.append(("branch_id", f"outside your rights (branches {', '.join(sorted(rights))})"))
    return errors
