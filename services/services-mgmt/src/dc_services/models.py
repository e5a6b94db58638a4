"""The services-mgmt read model: a projection of the lifecycle workflows, plus the outbox."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dc_common.db import UTCDateTime
from dc_common.migrations import Migrations


class Base(DeclarativeBase):
    pass


class Service(Base):
    """A service as its lifecycle last projected it. On PostgreSQL the table is partitioned by
    the month of the service date (``repository.SERVICE_MONTHS``): a list of a service-date
    window reads only its months' partitions. A key must hold the partition column, hence the
    service date in the primary key; the id alone is unique all the same (one row per
    lifecycle, moved to another partition when a modification changes its month)."""

    __tablename__ = "services"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[int] = mapped_column(Integer)
    company_id: Mapped[str] = mapped_column(String(10))
    branch_id: Mapped[str | None] = mapped_column(String(10))
    worker_login: Mapped[str] = mapped_column(String(12))
    user_number: Mapped[str] = mapped_column(String(12))
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    hours: Mapped[int] = mapped_column(Integer)
    activity_type: Mapped[int] = mapped_column(Integer)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    validation_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    company_validated: Mapped[bool] = mapped_column(Boolean)
    user_confirmed: Mapped[bool] = mapped_column(Boolean)
    auto_validation_possible: Mapped[bool] = mapped_column(Boolean)
    vouchers_allocated: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    vouchers_submitted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    vouchers_reimbursed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    voucher: Mapped[str] = mapped_column(
        String(10), default="electronic", server_default="electronic", doc="or paper"
    )

    __table_args__ = (
        Index("ix_services_company_registered", "company_id", "registered_at", "id"),
        # A status in a window of months: each month's partition finds its first row at once
        # (the services waiting at a status are recent; the old months hold none).
        Index("ix_services_company_status", "company_id", "status", "registered_at", "id"),
        Index("ix_services_registered", "registered_at", "id"),
        Index("ix_services_user", "user_number", "service_date"),
        Index("ix_services_worker", "worker_login", "service_date"),
        {"postgresql_partition_by": "RANGE (service_date)"},
    )


class ServiceTotal(Base):
    """How many services, and hours, the read model holds per company, branch, entry day (in
    Brussels), service date, status and activity: kept by every write of a service in the same
    transaction, so the totals of a list's selection are a sum over a few rows per day instead
    of a count over every service. No branch is ``""`` (a key column is never null)."""

    __tablename__ = "service_totals"

    company_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    entry_day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    status: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_type: Mapped[int] = mapped_column(Integer, primary_key=True)
    services: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # The edge days of a service-date window, without reading the company's every entry day.
        Index("ix_service_totals_company_date", "company_id", "service_date"),
    )


class EntryTotal(Base):
    """The same totals without the service date: what a selection that does not narrow the
    service dates (the list as it opens, an entry window) sums, in a fraction of the rows."""

    __tablename__ = "entry_totals"

    company_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    entry_day: Mapped[date] = mapped_column(Date, primary_key=True)
    branch_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    status: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_type: Mapped[int] = mapped_column(Integer, primary_key=True)
    services: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)


class MonthTotal(Base):
    """The same totals per month of the service date, without the entry day: the whole months
    of a service-date window (the sliding window of 13 months) sum a few rows a month, and only
    its edge days are read by day."""

    __tablename__ = "month_totals"

    company_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    service_month: Mapped[date] = mapped_column(Date, primary_key=True, doc="its first day")
    branch_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    status: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_type: Mapped[int] = mapped_column(Integer, primary_key=True)
    services: Mapped[int] = mapped_column(Integer)
    hours: Mapped[int] = mapped_column(Integer)


class ServiceKey(Base):
    """The natural key of a service that is not cancelled, held by that one service: the
    duplicate rule of every channel (API, imports, the app). Reserved before the lifecycle
    starts, moved by a modification, released by a cancellation."""

    __tablename__ = "service_keys"

    worker_login: Mapped[str] = mapped_column(String(12), primary_key=True)
    user_number: Mapped[str] = mapped_column(String(12), primary_key=True)
    service_date: Mapped[date] = mapped_column(Date, primary_key=True)
    activity_type: Mapped[int] = mapped_column(Integer, primary_key=True)
    hours: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[str] = mapped_column(String(36), unique=True)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServiceHistory(Base):
    """Every transition of a service: who, when, why; one row per workflow version."""

    __tablename__ = "service_history"

    service_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(32))
    status: Mapped[int] = mapped_column(Integer)
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_person: Mapped[str | None] = mapped_column(String(64), doc="national number")
    actor_name: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, object] | None] = mapped_column(JSON)


class InboxItem(Base):
    """A request the portal shows a company: validate this service, or a reminder to."""

    __tablename__ = "company_inbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80), unique=True)
    company_id: Mapped[str] = mapped_column(String(10), index=True)
    service_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class OutboxMessage(Base):
    """An e-mail, recorded with what asked for it and delivered by the mail relay until the
    relay server took it (``sent_at``) or refused it for good (``failed_at``). A delivery that
    may have happened is repeated rather than lost, under the same Message-ID (from ``key``)."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(80))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime(), doc="not before: a lease while a relay delivers, or the backoff after"
    )
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failure: Mapped[str | None] = mapped_column(Text, doc="the last refusal of the relay server")

    __table_args__ = (
        UniqueConstraint("key", name="uq_mail_outbox_key"),
        Index("ix_mail_outbox_due", "sent_at", "failed_at", "next_attempt_at"),
    )


class WorkerCustomer(Base):
    """A household a worker serves for one company, as the Jobtracker app keeps it: by user
    number, with the name the worker knows it by and an optional phone and note."""

    __tablename__ = "worker_customers"

    company_id: Mapped[str] = mapped_column(String(10), primary_key=True)
    worker_login: Mapped[str] = mapped_column(String(12), primary_key=True)
    user_number: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(500))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WorkerAnswer(Base):
    """The worker's answer to a service the company encoded for them: confirmed, or a
    correction asked with its reason (which the company reads). The last answer counts."""

    __tablename__ = "worker_answers"

    service_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    worker_login: Mapped[str] = mapped_column(String(12))
    answer: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class ServiceView(Base):
    """Who looked at a household's service, other than the household: a company's staff, the
    service's worker, an operator. The household may read the list; nothing changes a row."""

    __tablename__ = "service_views"
    __table_args__ = (Index("ix_service_views_user", "user_number", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_number: Mapped[str] = mapped_column(String(12))
    service_id: Mapped[str] = mapped_column(String(36))
    service_date: Mapped[date] = mapped_column(Date)
    company_id: Mapped[str] = mapped_column(String(10))
    viewer_kind: Mapped[str] = mapped_column(String(16))
    viewer_id: Mapped[str] = mapped_column(String(64))
    viewer_person: Mapped[str | None] = mapped_column(String(64), doc="national number")
    viewer_name: Mapped[str | None] = mapped_column(String(200))


MIGRATIONS = Migrations("services-mgmt", "dc_services", Base.metadata, "DC_SERVICES_DATABASE_URL")
