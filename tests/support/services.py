"""Services for tests: every registration its own natural key.

The duplicate rule refuses a service with the same worker, user, date, activity and hours as one
that is not cancelled. Tests that register many services for the same demo worker and household
take a new service date for each (counting back from yesterday), so no test is refused by
another's service unless it means to be.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta

from dc_identity.demo import DEMO
from dc_services.history_load import HistoryService
from dc_services.schemas import brussels_today

#: A service settled in the previous system, as the history loader takes it.
SETTLED = HistoryService(
    company_id="0712345630",
    worker_login="980100000001",
    user_number="100000000001",
    service_date=date(2019, 5, 6),
    hours=3,
    activity_type=1,
)

_next_day: defaultdict[tuple[str, str], itertools.count[int]] = defaultdict(
    lambda: itertools.count(1)
)


def fresh_service_date(worker_login: str, user_number: str) -> str:
    """A service date this worker and household have no service on yet in this test run."""
    days_ago = next(_next_day[worker_login, user_number])
    return (brussels_today() - timedelta(days=days_ago)).isoformat()


def demo_registration(hours: int = 2) -> dict[str, object]:
    """A registration body for the first demo company's first worker and household, on a day
    they have no service yet."""
    worker, user = DEMO.workers[0], DEMO.users[0]
    return {
        "company_id": DEMO.companies[0].enterprise_number,
        "worker_login": worker.login,
        "user_number": user.user_number,
        "service_date": fresh_service_date(worker.login, user.user_number),
        "hours": hours,
        "activity_type": 1,
    }
