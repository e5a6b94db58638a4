"""Who looked at a person's services: every time someone other than the household (the
company's staff, an operator) is shown one of its services, the audit records who, and the
household reads it back, newest first; an operator reads it with national numbers. The
household's own reads, and a refused look, record nothing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from dc_identity.demo import DEMO, LEIE_STAFF, OPERATOR, SCHELDE_STAFF, USER_HOLDERS
from tests.support.platform import Platform
from tests.support.services import demo_registration

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

USER = DEMO.users[0].user_number
VIEWS = f"/api/v1/users/{USER}/service-views"


async def views(client: httpx.AsyncClient, service_id: str) -> list[dict[str, Any]]:
    answer = await client.get(VIEWS, params={"limit": 500})
    assert answer.status_code == 200, answer.text
    return [view for view in answer.json() if view["service_id"] == service_id]


async def test_every_look_at_a_household_s_service_by_someone_else_is_recorded(
    platform: Platform,
) -> None:
    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(OPERATOR.national_number) as operator,
        platform.as_person(USER_HOLDERS[0].national_number) as household,
        platform.as_person(LEIE_STAFF.national_number) as stranger,
    ):
        created = await staff.post("/api/v1/services", json=demo_registration())
        assert created.status_code == 201, created.text
        service_id = created.json()["id"]
        path = f"/api/v1/services/{service_id}"

        assert (await staff.get(path)).status_code == 200
        assert (await household.get(path)).status_code == 200
        assert (await stranger.get(path)).status_code == 404
        assert (await operator.get(path)).status_code == 200

        seen = await views(household, service_id)
        by_operator = await views(operator, service_id)

    assert [(v["viewer"]["kind"], v["viewer"]["id"]) for v in seen] == [
        ("operator", "platform"),
        ("company", SCHELDE_STAFF_COMPANY),
    ], "newest first; the household's own read and the stranger's refused one not recorded"
    assert seen[1]["viewer"]["name"] == f"{SCHELDE_STAFF.first_name} {SCHELDE_STAFF.last_name}"
    assert all(v["viewer"]["person"] is None for v in seen), "no national number to a household"
    assert by_operator[1]["viewer"]["person"] == SCHELDE_STAFF.national_number
    assert seen[0]["id"] > seen[1]["id"]
    older = await _page_before(platform, seen[0]["id"])
    assert older[0]["id"] == seen[1]["id"], "paged by before_id"


SCHELDE_STAFF_COMPANY = DEMO.companies[0].enterprise_number


async def _page_before(platform: Platform, before_id: int) -> list[dict[str, Any]]:
    async with platform.as_person(USER_HOLDERS[0].national_number) as household:
        answer = await household.get(VIEWS, params={"before_id": before_id, "limit": 1})
    assert answer.status_code == 200, answer.text
    page: list[dict[str, Any]] = answer.json()
    return page
