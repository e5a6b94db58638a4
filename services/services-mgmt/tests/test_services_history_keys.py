"""Settled history holds its natural keys: a service loaded from the previous system (and not
cancelled there) is what a new registration of the same service duplicates."""

from dataclasses import replace
from datetime import UTC, date, datetime

from dc_common.db import Database
from dc_services import repository
from dc_services.history_load import load_services
from dc_workflows.status import ServiceStatus
from tests.support.services import SETTLED

REIMBURSED = SETTLED
CANCELLED = replace(REIMBURSED, service_date=date(2019, 5, 7), status=ServiceStatus.CANCELLED)


async def test_loaded_history_holds_the_keys_of_what_was_not_cancelled(db: Database) -> None:
    await load_services(db, [REIMBURSED, CANCELLED])
    await load_services(db, [REIMBURSED, CANCELLED])  # loading again changes nothing

    async with db.transaction() as session:
        holders = await repository.key_holders(
            session, [REIMBURSED.natural_key, CANCELLED.natural_key]
        )
        again = await repository.reserve_keys(
            session,
            {"new-1": REIMBURSED.natural_key, "new-2": CANCELLED.natural_key},
            datetime.now(UTC),
        )

    assert holders == {REIMBURSED.natural_key: REIMBURSED.service_id}
    assert again == {"new-1": REIMBURSED.service_id, "new-2": "new-2"}
