"""The directory's tables: companies, their branches, their workers, users (households), people,
and who holds which role or right for which company or branch, with the audit log of changes.

Identifiers are the official numbers, kept as strings (leading zeros matter).
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dc_common.db import UTCDateTime
from dc_common.migrations import Migrations

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Company(Base):
    """A recognised company (erkende onderneming)."""

    __tablename__ = "companies"

    enterprise_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    recognition_number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Branch(Base):
    """A branch (vestiging) of a company, by its establishment unit number."""

    __tablename__ = "branches"

    establishment_unit_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    company_id: Mapped[str] = mapped_column(
        String(10), ForeignKey("companies.enterprise_number"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))

    # Target of the workers' (company, branch) key: a worker's branch belongs to its company.
    __table_args__ = (UniqueConstraint("company_id", "establishment_unit_number"),)


class Worker(Base):
    """A household helper employed by a company, known by the 12-digit login (980...)."""

    __tablename__ = "workers"

    login: Mapped[str] = mapped_column(String(12), primary_key=True)
    national_number: Mapped[str] = mapped_column(String(11), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company_id: Mapped[str] = mapped_column(String(10), ForeignKey("companies.enterprise_number"))
    branch_id: Mapped[str | None] = mapped_column(String(10))
    contract_start: Mapped[date] = mapped_column(Date)
    contract_end: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2))

    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "branch_id"],
            ["branches.company_id", "branches.establishment_unit_number"],
            name="fk_workers_company_branch",
        ),
        Index("ix_workers_company_name", "company_id", "last_name", "first_name", "login"),
        Index("ix_workers_branch", "branch_id"),
    )


class Employment(Base):
    """A further employer of a worker (a worker may work for several companies): the company,
    the branch there and the contract. The worker's own row holds the first employer."""

    __tablename__ = "employments"

    login: Mapped[str] = mapped_column(String(12), ForeignKey("workers.login"), primary_key=True)
    company_id: Mapped[str] = mapped_column(
        String(10), ForeignKey("companies.enterprise_number"), primary_key=True
    )
    branch_id: Mapped[str | None] = mapped_column(String(10))
    contract_start: Mapped[date] = mapped_column(Date)
    contract_end: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "branch_id"],
            ["branches.company_id", "branches.establishment_unit_number"],
            name="fk_employments_company_branch",
        ),
        Index("ix_employments_company", "company_id"),
    )


class User(Base):
    """A user (household) of service vouchers, by the 12-digit user number."""

    __tablename__ = "users"

    user_number: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
    # The person who logs in for the household.
    holder_national_number: Mapped[str | None] = mapped_column(
        String(11), ForeignKey("people.national_number"), index=True
    )


class Person(Base):
    """Someone who may log in, by national number (the ``sub`` of their tokens)."""

    __tablename__ = "people"

    national_number: Mapped[str] = mapped_column(String(11), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class LegalRepresentative(Base):
    """A legal representative of a company, as listed in the enterprise register."""

    __tablename__ = "legal_representatives"

    company_id: Mapped[str] = mapped_column(
        String(10), ForeignKey("companies.enterprise_number"), primary_key=True
    )
    national_number: Mapped[str] = mapped_column(
        String(11), ForeignKey("people.national_number"), primary_key=True, index=True
    )


class MainAccessManager(Base):
    """A main access manager (hoofdtoegangsbeheerder) of a company, and who appointed them."""

    __tablename__ = "main_access_managers"

    company_id: Mapped[str] = mapped_column(
        String(10), ForeignKey("companies.enterprise_number"), primary_key=True
    )
    national_number: Mapped[str] = mapped_column(
        String(11), ForeignKey("people.national_number"), primary_key=True, index=True
    )
    appointed_by: Mapped[str] = mapped_column(String(11))
    appointed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Grant(Base):
    """The right for a person on a whole company (``branch_id`` null) or on one of its branches.

    A revoke keeps the row (``revoked_by``, ``revoked_at``); at most one active grant exists per
    person, company, branch and right.
    """

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company_id: Mapped[str] = mapped_column(String(10), ForeignKey("companies.enterprise_number"))
    branch_id: Mapped[str | None] = mapped_column(String(10))
    national_number: Mapped[str] = mapped_column(
        String(11), ForeignKey("people.national_number"), index=True
    )
    right: Mapped[str] = mapped_column(String(40), default="dienstencheques-eo")
    granted_by: Mapped[str] = mapped_column(String(11))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(11))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # A grant's branch belongs to the grant's company.
        ForeignKeyConstraint(
            ["company_id", "branch_id"],
            ["branches.company_id", "branches.establishment_unit_number"],
            name="fk_grants_company_branch",
        ),
        Index("ix_grants_company", "company_id", "id"),
    )


# No two active grants for the same scope, even when two requests race (branch null = company).
Index(
    "uq_grants_active_scope",
    Grant.company_id,
    Grant.national_number,
    func.coalesce(Grant.branch_id, text("''")),
    Grant.right,
    unique=True,
    sqlite_where=Grant.revoked_at.is_(None),
    postgresql_where=Grant.revoked_at.is_(None),
)


class AuditEntry(Base):
    """One change of who may do what for a company: who did it, when, to whom, for which scope."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    company_id: Mapped[str] = mapped_column(String(10), ForeignKey("companies.enterprise_number"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(11))
    action: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str | None] = mapped_column(String(11))
    branch_id: Mapped[str | None] = mapped_column(String(10))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (Index("ix_audit_log_company", "company_id", "id"),)


class WorkerAccount(Base):
    """A worker's Jobtracker account: the password's hash (never the password), whether the
    worker must still change the one the company set, and the wrong passwords in a row."""

    __tablename__ = "worker_accounts"

    login: Mapped[str] = mapped_column(String(12), ForeignKey("workers.login"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change: Mapped[bool] = mapped_column(Boolean)
    wrong_in_a_row: Mapped[int] = mapped_column(Integer, default=0)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RefreshToken(Base):
    """A refresh token given to a worker's phone, by its digest; one family per login."""

    __tablename__ = "refresh_tokens"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    login: Mapped[str] = mapped_column(String(12), ForeignKey("workers.login"))
    family: Mapped[str] = mapped_column(String(36))
    company_id: Mapped[str | None] = mapped_column(String(10), doc="the employer it acts for")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_refresh_tokens_family", "family"),
        Index("ix_refresh_tokens_login", "login"),
    )


MIGRATIONS = Migrations("identity", "dc_identity", Base.metadata, "DC_IDENTITY_DATABASE_URL")
