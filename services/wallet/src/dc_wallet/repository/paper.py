"""Paper vouchers: the issuer's list, and what a worker's check of a number answers."""

from collections.abc import Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import upsert
from dc_wallet.models import PaperVoucher


async def paper_voucher(session: AsyncSession, number: str) -> PaperVoucher | None:
    return await session.get(PaperVoucher, number)


async def save_paper_voucher(session: AsyncSession, voucher: Mapping[str, object]) -> None:
    """The issuer's record of the voucher; loading it again replaces it."""
    insert = upsert(session, PaperVoucher).values(voucher)
    changed = ("issue_date", "expiry_date", "used_on")
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[PaperVoucher.number],
            set_={column: insert.excluded[column] for column in changed},
        )
    )
