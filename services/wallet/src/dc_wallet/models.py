"""The wallet's own database: wallets, vouchers, orders, claims, allocations, reimbursement
requests, the ledger, the recorded results of idempotent operations, and the reconciliation
runs."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dc_common.db import UTCDateTime
from dc_common.migrations import Migrations

SERVICE_ID = String(128)
USER_NUMBER = String(12)
PARTY_ID = String(32)


class Base(DeclarativeBase):
    pass


class Wallet(Base):
    """One row per user. Its lock serialises every change of the user's vouchers and claims."""

    __tablename__ = "wallets"

    user_number: Mapped[str] = mapped_column(USER_NUMBER, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Order(Base):
    """A paid voucher order; ``reference`` is the idempotency key of the payment."""

    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_number: Mapped[str] = mapped_column(USER_NUMBER)
    reference: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issue_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date] = mapped_column(Date)
    first_voucher: Mapped[str] = mapped_column(String(16))
    last_voucher: Mapped[str] = mapped_column(String(16))
    ordered_by: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="the acting party (dc_common.actors.Actor); None for orders of the earlier API"
    )

    __table_args__ = (
        UniqueConstraint("user_number", "reference", name="uq_orders_user_reference"),
        Index("ix_orders_user_issue", "user_number", "issue_date"),
    )


class Voucher(Base):
    """One electronic voucher: pays one hour. Always in exactly one state."""

    __tablename__ = "vouchers"

    number: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_number: Mapped[str] = mapped_column(USER_NUMBER)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    price_cents: Mapped[int] = mapped_column(Integer)
    issue_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date] = mapped_column(Date, doc="the last day it may be spent")
    state: Mapped[str] = mapped_column(String(12))
    service_id: Mapped[str | None] = mapped_column(SERVICE_ID)
    allocation_step: Mapped[int | None] = mapped_column(Integer)
    reimbursement_request_id: Mapped[str | None] = mapped_column(String(36))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_vouchers_user_state_expiry", "user_number", "state", "expiry_date", "number"),
        Index("ix_vouchers_state_expiry", "state", "expiry_date"),
        Index("ix_vouchers_service", "service_id"),
        Index("ix_vouchers_request", "reimbursement_request_id"),
    )


class Claim(Base):
    """A service waiting for or receiving payment from its user's wallet."""

    __tablename__ = "claims"

    service_id: Mapped[str] = mapped_column(SERVICE_ID, primary_key=True)
    user_number: Mapped[str] = mapped_column(USER_NUMBER)
    company_id: Mapped[str] = mapped_column(PARTY_ID)
    branch_id: Mapped[str | None] = mapped_column(PARTY_ID)
    service_date: Mapped[date] = mapped_column(Date)
    hours: Mapped[int] = mapped_column(Integer)
    ready_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[int] = mapped_column(Integer)
    payment_version: Mapped[int] = mapped_column(Integer)
    vouchers_allocated: Mapped[int] = mapped_column(Integer)
    vouchers_submitted: Mapped[int] = mapped_column(Integer)
    vouchers_reimbursed: Mapped[int] = mapped_column(Integer)
    allocation_steps: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_update: Mapped[dict[str, Any] | None] = mapped_column(
        JSON,
        doc="the PaymentUpdate of the latest payment version, as its lifecycle was told; "
        "the reconciliation sends it again when the read model shows otherwise",
    )

    __table_args__ = (
        Index("ix_claims_user_status", "user_number", "status"),
        Index("ix_claims_company_date", "company_id", "service_date"),
        Index("ix_claims_updated", "updated_at", "service_id"),
    )


class Allocation(Base):
    """One allocation step of one service: ``(service_id, step)`` is allocated at most once."""

    __tablename__ = "allocations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(SERVICE_ID)
    step: Mapped[int] = mapped_column(Integer)
    vouchers: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    operation: Mapped[str] = mapped_column(Text, doc="the idempotent operation that allocated")

    __table_args__ = (UniqueConstraint("service_id", "step", name="uq_allocations_service_step"),)


class ReimbursementRequest(Base):
    """A company's request to be paid for the vouchers allocated to some of its services."""

    __tablename__ = "reimbursement_requests"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    company_id: Mapped[str] = mapped_column(PARTY_ID)
    reference: Mapped[str] = mapped_column(String(25))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    vouchers: Mapped[int] = mapped_column(Integer)
    voucher_value_cents: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    requested_by: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="the acting party who asked (an Actor); None for requests of the earlier API"
    )
    paid_by: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, doc="the operator who paid it out (an Actor)"
    )

    __table_args__ = (
        UniqueConstraint("company_id", "reference", name="uq_reimbursement_company_reference"),
        Index("ix_reimbursement_company_created", "company_id", "created_at"),
    )


class LedgerEntry(Base):
    """A movement of a wallet (see :class:`~dc_wallet.domain.LedgerKind`); ``key`` makes it
    written once."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(Text, unique=True)
    user_number: Mapped[str] = mapped_column(USER_NUMBER)
    kind: Mapped[str] = mapped_column(String(12))
    vouchers: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reference: Mapped[str] = mapped_column(Text, doc="order reference, service id or date")

    __table_args__ = (Index("ix_ledger_user", "user_number", "id"),)


class Operation(Base):
    """The result of an idempotent activity, written in the same transaction as its changes: a
    retry returns it instead of changing anything again."""

    __tablename__ = "operations"

    key: Mapped[str] = mapped_column(Text, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    result: Mapped[dict[str, Any]] = mapped_column(JSON)


class Reconciliation(Base):
    """One run of the daily reconciliation: the window of claim changes it checked against the
    services-mgmt read model, and what it found (written when the run finishes)."""

    __tablename__ = "reconciliations"

    key: Mapped[str] = mapped_column(String(200), primary_key=True, doc="its workflow id")
    since: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    checked: Mapped[int] = mapped_column(Integer)
    mismatched: Mapped[int] = mapped_column(Integer)
    repaired: Mapped[int] = mapped_column(Integer)
    unrepaired: Mapped[list[str]] = mapped_column(JSON, doc="service ids, at most 100")

    __table_args__ = (Index("ix_reconciliations_finished", "finished_at"),)


class PaperVoucher(Base):
    """A paper voucher as its issuer lists it: a worker checks the number a household hands
    over (valid, expired, already used) before taking it."""

    __tablename__ = "paper_vouchers"

    number: Mapped[str] = mapped_column(String(16), primary_key=True)
    issue_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date] = mapped_column(Date, doc="the last day it may be handed over")
    used_on: Mapped[date | None] = mapped_column(Date, doc="handed in by a company")


MIGRATIONS = Migrations("wallet", "dc_wallet", Base.metadata, "DC_WALLET_DATABASE_URL")
