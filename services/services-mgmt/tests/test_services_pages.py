"""A list walked page after page by its cursors, forwards and back, in both orders, holds every
service once and the same pages as by number, also where many services share an entry time."""

from dataclasses import replace
from datetime import timedelta

import pytest

from dc_common.db import Database
from dc_services import repository
from dc_services.domain import ListPosition
from dc_services.history_load import load_services
from tests.support.services import SETTLED

SIZE = 4


def position(row: object) -> ListPosition:
    return ListPosition(row.registered_at, row.id)  # type: ignore[attr-defined]


@pytest.mark.parametrize("oldest_first", [False, True])
async def test_cursors_walk_the_pages_by_number_forwards_and_back(
    db: Database, oldest_first: bool
) -> None:
    # 11 services on different days, 6 more entered at one same moment: 17 in all, 5 pages.
    by_day = [
        replace(SETTLED, service_date=SETTLED.service_date + timedelta(days=i)) for i in range(11)
    ]
    same_moment = [
        replace(SETTLED, activity_type=2, hours=1 + i, registered_at=by_day[3].entered_at)
        for i in range(6)
    ]
    await load_services(db, by_day + same_moment)
    selection = repository.ServiceFilter(company_id=SETTLED.company_id)

    async with db.sessions() as session:
        by_number = [
            await repository.list_services(
                session, selection, offset=n * SIZE, limit=SIZE, oldest_first=oldest_first
            )
            for n in range(5)
        ]
        forwards = [by_number[0]]
        while forwards[-1].has_next:
            forwards.append(
                await repository.list_services(
                    session,
                    selection,
                    limit=SIZE,
                    oldest_first=oldest_first,
                    after=position(forwards[-1].items[-1]),
                )
            )
        backwards = [forwards[-1]]
        while backwards[-1].has_previous:
            backwards.append(
                await repository.list_services(
                    session,
                    selection,
                    limit=SIZE,
                    oldest_first=oldest_first,
                    before=position(backwards[-1].items[0]),
                )
            )

    def ids(pages: list[repository.Page]) -> list[list[str]]:
        return [[row.id for row in page.items] for page in pages]

    assert ids(forwards) == ids(by_number)
    assert ids(backwards) == ids(by_number)[::-1]
    everything = [i for page in ids(forwards) for i in page]
    assert len(everything) == len(set(everything)) == 17
    assert [(p.has_previous, p.has_next) for p in forwards] == [
        (False, True),
        (True, True),
        (True, True),
        (True, True),
        (True, False),
    ]
    assert {p.total_services for p in forwards + backwards} == {17}


def test_a_cursor_is_read_back_and_a_made_up_one_refused() -> None:
    at = SETTLED.entered_at
    assert ListPosition.of_cursor(ListPosition(at, "abc").cursor()) == ListPosition(at, "abc")
    for made_up in ("not-a-cursor", "", "MjAyNi0xMi0wMw"):
        with pytest.raises(ValueError, match="not a cursor"):
            ListPosition.of_cursor(made_up)
