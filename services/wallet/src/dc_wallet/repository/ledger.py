"""Movements of a wallet, written in the transaction that moves the vouchers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from dc_wallet.domain import LedgerKind
from dc_wallet.models import LedgerEntry


def ledger_entry(
    session: AsyncSession,
    *,
    key: str,
    user_number: str,
    kind: LedgerKind,
    vouchers: int,
    amount_cents: int,
    at: datetime,
    reference: str,
) -> None:
    session.add(
        LedgerEntry(
            key=key,
            user_number=user_number,
            kind=kind.value,
            vouchers=vouchers,
            amount_cents=amount_cents,
            at=at,
            reference=reference,
        )
    )
