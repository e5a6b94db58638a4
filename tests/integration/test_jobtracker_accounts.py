"""A worker's Jobtracker account through the gateway: the company sets the first password, the
worker logs in and changes it, and the token from the phone acts as that worker only."""

import asyncio
import uuid

import httpx
import pytest

from dc_identity.demo import DEMO, SCHELDE, SCHELDE_STAFF
from tests.support.platform import Platform
from tests.support.services import fresh_service_date

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SOFIE, MARIE = DEMO.workers[0], DEMO.workers[2]
FIRST, OWN = "door-de-firma-2026", "sofie-haar-eigen-99"


async def test_a_worker_logs_in_changes_the_password_and_sees_only_their_services(
    platform: Platform,
) -> None:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        for worker in (SOFIE, MARIE):
            registered = await staff.post(
                "/api/v1/services",
                json={
                    "company_id": SCHELDE,
                    "worker_login": worker.login,
                    "user_number": DEMO.users[1].user_number,
                    "service_date": fresh_service_date(worker.login, DEMO.users[1].user_number),
                    "hours": 2,
                    "activity_type": 1,
                },
            )
            assert registered.status_code == 201, registered.text
        set_first = await staff.put(
            f"/api/v1/workers/{SOFIE.login}/password", json={"password": FIRST}
        )
        assert set_first.status_code == 204, set_first.text

    phone = platform.anonymous
    login = await phone.post(
        "/api/v1/jobtracker/sessions", json={"login": SOFIE.login, "password": FIRST}
    )
    assert login.status_code == 200, login.text
    assert login.json()["must_change_password"] is True
    changed = await phone.post(
        "/api/v1/jobtracker/password",
        json={"login": SOFIE.login, "password": FIRST, "new_password": OWN},
    )
    assert changed.status_code == 200, changed.text
    session = changed.json()
    assert session["must_change_password"] is False

    refreshed = await phone.post(
        "/api/v1/jobtracker/sessions/refresh", json={"refresh_token": session["refresh_token"]}
    )
    assert refreshed.status_code == 200, refreshed.text
    bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    mine = await phone.get("/api/v1/services", headers=bearer, params={"page_size": 200})
    assert mine.status_code == 200, mine.text
    assert {s["worker_login"] for s in mine.json()["items"]} == {SOFIE.login}
    company = await phone.get("/api/v1/services", headers=bearer, params={"company_id": SCHELDE})
    assert company.status_code in (403, 404), "a phone's token reaches no company's list"
    me = (await phone.get("/api/v1/me", headers=bearer)).json()
    assert (me["rights"], [w["login"] for w in me["workers"]]) == ([], [SOFIE.login])


async def test_a_token_from_the_phone_is_refused_once_forged(platform: Platform) -> None:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        answer = await staff.put(
            f"/api/v1/workers/{MARIE.login}/password", json={"password": FIRST}
        )
        assert answer.status_code == 204
    login = await platform.anonymous.post(
        "/api/v1/jobtracker/sessions", json={"login": MARIE.login, "password": FIRST}
    )
    header, payload, signature = login.json()["access_token"].split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    refused = await platform.anonymous.get(
        "/api/v1/services", headers={"Authorization": f"Bearer {forged}"}
    )
    assert refused.status_code == 401


async def test_a_resend_storm_of_an_offline_queue_registers_each_service_once(
    platform: Platform,
) -> None:
    """Five services queued offline, their queue resent eight times at once: five services,
    and every resend answers the first registration."""
    password = "storm-2026-wachtwoord"
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        answer = await staff.put(
            f"/api/v1/workers/{SOFIE.login}/password", json={"password": password}
        )
        assert answer.status_code == 204
    phone = platform.anonymous
    login = await phone.post(
        "/api/v1/jobtracker/sessions", json={"login": SOFIE.login, "password": password}
    )
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    user = DEMO.users[3].user_number
    queue = [
        (
            f"phone-{uuid.uuid4()}",
            {
                "user_number": user,
                "service_date": fresh_service_date(SOFIE.login, user),
                "hours": 1 + n,
                "activity_type": 1,
            },
        )
        for n in range(5)
    ]

    async def send(key: str, body: dict[str, object]) -> httpx.Response:
        headers = {**bearer, "Idempotency-Key": key}
        return await phone.post("/api/v1/jobtracker/services", json=body, headers=headers)

    answers = await asyncio.gather(*(send(k, b) for _ in range(8) for k, b in queue))
    assert {a.status_code for a in answers} <= {200, 201}, [a.text for a in answers][:3]
    by_key: dict[str, set[str]] = {}
    for (key, _), answer in zip([item for _ in range(8) for item in queue], answers, strict=True):
        by_key.setdefault(key, set()).add(answer.json()["id"])
    assert all(len(ids) == 1 for ids in by_key.values()), "one service per key"
    registered = {ids.pop() for ids in by_key.values()}
    assert len(registered) == 5
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        listed = await staff.get(
            "/api/v1/services",
            params={"company_id": SCHELDE, "user_number": user, "page_size": 200},
        )
    mine = [s for s in listed.json()["items"] if s["id"] in registered]
    assert len(mine) == 5 and {s["status"] for s in mine} == {1}
    assert {s["worker_login"] for s in mine} == {SOFIE.login}

    missing_key = await phone.post("/api/v1/jobtracker/services", json=queue[0][1], headers=bearer)
    assert missing_key.status_code == 422
