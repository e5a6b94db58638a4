"""The export reads the whole selection batch after batch (keyset): every service once, in the
list's order, also where many share an entry time."""

from dataclasses import replace
from datetime import timedelta

import pytest

from dc_common.db import Database
from dc_services import repository
from dc_services.history_load import load_services
from tests.support.services import SETTLED

FIRST = SETTLED


@pytest.mark.parametrize("oldest_first", [False, True])
async def test_batches_hold_every_service_once_in_the_list_order(
    db: Database, oldest_first: bool
) -> None:
    history = [
        replace(FIRST, service_date=FIRST.service_date + timedelta(days=i)) for i in range(23)
    ]
    await load_services(db, history)
    selection = repository.ServiceFilter(company_id=FIRST.company_id)
    async with db.sessions() as session:
        listed = await repository.list_services(
            session, selection, offset=0, limit=100, oldest_first=oldest_first
        )
        batches = [
            [row.id for row in rows]
            async for rows in repository.export_batches(
                session, selection, oldest_first=oldest_first, batch=4
            )
        ]
    assert [len(batch) for batch in batches] == [4, 4, 4, 4, 4, 3]
    assert [i for batch in batches for i in batch] == [row.id for row in listed.items]
    assert listed.total_services == 23
