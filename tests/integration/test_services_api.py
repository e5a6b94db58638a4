"""The services API through the gateway, against the real Temporal dev server and PostgreSQL."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from dc_identity.demo import DEMO, LEIE_STAFF, OPERATOR, SCHELDE_STAFF, USER_HOLDERS
from dc_services.models import InboxItem, OutboxMessage, ServiceHistory
from dc_services.schemas import brussels_today
from tests.support.platform import Platform
from tests.support.services import fresh_service_date
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SCHELDE = DEMO.companies[0].enterprise_number
LEIE = DEMO.companies[1].enterprise_number
SOFIE = DEMO.workers[0]  # Schelde, branch Gent
KATRIN = DEMO.workers[4]  # Leie
AN = DEMO.users[0]
CLAIRE = DEMO.users[2]
HOLDER = {user.user_number: holder for user, holder in zip(DEMO.users, USER_HOLDERS, strict=True)}


@pytest.fixture(scope="session")
async def staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """Tom, with the right on the whole of company Schelde."""
    async with platform.as_person(SCHELDE_STAFF.national_number) as client:
        yield client


@pytest.fixture(scope="session")
async def leie_staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with platform.as_person(LEIE_STAFF.national_number) as client:
        yield client


@pytest.fixture(scope="session")
async def an(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """An Peeters, who logs in for user 100000000001."""
    async with platform.as_person(HOLDER[AN.user_number].national_number) as client:
        yield client


def a_service(**overrides: Any) -> dict[str, Any]:
    """A service of Sofie for An (or as overridden), on a date of its own unless one is given."""
    body = {
        "company_id": SCHELDE,
        "worker_login": SOFIE.login,
        "user_number": AN.user_number,
        "hours": 4,
        "activity_type": 1,
        **overrides,
    }
    body.setdefault("service_date", fresh_service_date(body["worker_login"], body["user_number"]))
    return body


async def register(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/services", json=a_service(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def katrin_on(
    client: httpx.AsyncClient, day: date, hours: tuple[int, ...], **more: Any
) -> list[dict[str, Any]]:
    """Services of Katrin (Leie) on one day, one per number of hours, in that order."""
    return [
        await register(
            client,
            company_id=LEIE,
            worker_login=KATRIN.login,
            service_date=day.isoformat(),
            hours=h,
            **more,
        )
        for h in hours
    ]


def on_day(day: date) -> dict[str, str]:
    """The selection of Leie's services of one service date."""
    return {
        "company_id": LEIE,
        "service_date_from": day.isoformat(),
        "service_date_to": day.isoformat(),
    }


def statuses(service: dict[str, Any]) -> list[int]:
    return [entry["status"] for entry in service["history"]]


async def test_registration_asks_company_and_user_at_once(
    platform: Platform, staff: httpx.AsyncClient
) -> None:
    created = await register(staff, user_number=CLAIRE.user_number)

    assert created["status"] == 1
    assert created["status_label"] == "encoded"
    assert created["branch_id"] == SOFIE.branch_id, "the branch defaults to the worker's"
    assert created["validation_deadline"] is not None
    fetched = (await staff.get(f"/api/v1/services/{created['id']}")).json()
    assert fetched["history"][0]["event"] == "registered"
    assert fetched["history"][0]["actor"] == {
        "kind": "company",
        "id": SCHELDE,
        "name": "Tom Mertens",
        "role": "company staff",
        "person": None,
    }

    async def company_and_user_asked() -> bool:
        inbox = (await staff.get(f"/api/v1/companies/{SCHELDE}/inbox")).json()
        in_inbox = any(item["service_id"] == created["id"] for item in inbox)
        return in_inbox and len(platform.mails_to(CLAIRE.email, about=created["id"])) == 1

    await eventually(company_and_user_asked)
    [mail] = platform.mails_to(CLAIRE.email, about=created["id"])
    assert mail["Subject"].startswith("Confirmez votre prestation"), "in the user's language"


async def test_a_worker_registers_their_own_service(platform: Platform) -> None:
    async with platform.as_person(SOFIE.national_number) as sofie:
        created = await register(sofie)
        assert created["history"][0]["actor"]["kind"] == "worker"
        assert created["history"][0]["actor"]["id"] == SOFIE.login
        for_a_colleague = await sofie.post(
            "/api/v1/services", json=a_service(worker_login=DEMO.workers[1].login)
        )
        assert for_a_colleague.status_code == 403
        mine = (await sofie.get("/api/v1/services")).json()["items"]
        assert {service["worker_login"] for service in mine} == {SOFIE.login}


async def test_company_then_user_makes_it_ready_for_allocation(
    staff: httpx.AsyncClient, an: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"

    validated = await staff.post(f"{url}/validate", json={"reason": "checked"})
    assert validated.status_code == 200, validated.text
    assert validated.json()["status"] == 2
    confirmed = await an.post(f"{url}/confirm")
    assert confirmed.json()["status"] == 11

    fetched = (await staff.get(url)).json()
    assert statuses(fetched)[:3] == [1, 2, 11]
    assert [e["actor"]["kind"] for e in fetched["history"][:3]] == ["company", "company", "user"]
    holder = HOLDER[AN.user_number]
    assert fetched["history"][2]["actor"]["name"] == f"{holder.first_name} {holder.last_name}"
    assert fetched["history"][1]["reason"] == "checked"


async def test_user_then_company_makes_it_ready_for_allocation(
    staff: httpx.AsyncClient, an: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"

    assert (await an.post(f"{url}/confirm")).json()["status"] == 15
    assert (await staff.post(f"{url}/validate")).json()["status"] == 11
    assert statuses((await staff.get(url)).json())[:3] == [1, 15, 11]


async def test_the_parties_may_only_do_their_own_part(
    staff: httpx.AsyncClient, an: httpx.AsyncClient, leie_staff: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"

    assert (await an.post(f"{url}/validate")).status_code == 403, "a user does not validate"
    assert (await staff.post(f"{url}/confirm")).status_code == 403, "a company does not confirm"
    assert (await leie_staff.get(url)).status_code == 404, "another company sees nothing"
    assert (await leie_staff.post(f"{url}/validate")).status_code == 404


async def test_contest_then_modify_then_both_by_hand(
    staff: httpx.AsyncClient, an: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"

    no_reason = await an.post(f"{url}/contest", json={})
    assert no_reason.status_code == 422
    assert no_reason.json()["errors"][0]["field"] == "reason"
    contested = await an.post(f"{url}/contest", json={"reason": "only 3 hours"})
    assert contested.json()["status"] == 3
    assert contested.json()["auto_validation_possible"] is False
    assert contested.json()["validation_deadline"] is None

    refused = await staff.post(f"{url}/validate")
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
    assert "modify it first" in refused.json()["detail"]

    modified = await staff.patch(url, json={"hours": 3, "reason": "user was right"})
    assert modified.json()["status"] == 4
    assert modified.json()["hours"] == 3
    assert (await staff.post(f"{url}/validate")).json()["status"] == 2
    assert (await an.post(f"{url}/confirm")).json()["status"] == 11
    assert statuses((await staff.get(url)).json())[:5] == [1, 3, 4, 2, 11]


async def test_modification_after_confirmation_needs_a_new_confirmation(
    staff: httpx.AsyncClient, an: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"

    assert (await an.post(f"{url}/confirm")).json()["status"] == 15
    modified = (await staff.patch(url, json={"activity_type": 2})).json()
    assert (modified["status"], modified["user_confirmed"]) == (4, False)
    assert (await staff.post(f"{url}/validate")).json()["status"] == 2
    assert (await an.post(f"{url}/confirm")).json()["status"] == 11


async def test_impossible_transitions_are_refused_and_leave_no_trace(
    staff: httpx.AsyncClient, an: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"
    await staff.post(f"{url}/validate")

    twice = await staff.post(f"{url}/validate")
    assert twice.status_code == 409
    assert twice.json()["detail"] == "the company already validated this service"
    unchanged = await staff.patch(url, json={"hours": 4})
    assert unchanged.status_code == 409
    assert "changes nothing" in unchanged.json()["detail"]

    cancelled = await staff.post(f"{url}/cancel", json={"reason": "double entry"})
    assert cancelled.json()["status"] == 5
    after_cancel = await an.post(f"{url}/confirm")
    assert after_cancel.status_code == 409
    modify_after_cancel = await staff.patch(url, json={"hours": 2})
    assert modify_after_cancel.status_code == 409

    fetched = (await staff.get(url)).json()
    assert statuses(fetched) == [1, 2, 5]
    assert fetched["version"] == 3


async def test_no_modification_or_cancel_once_ready_for_allocation(
    staff: httpx.AsyncClient, an: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"
    await staff.post(f"{url}/validate")
    await an.post(f"{url}/confirm")

    after_ready = await staff.patch(url, json={"hours": 2})
    assert after_ready.status_code == 409
    assert "cannot modify" in after_ready.json()["detail"]
    assert (await staff.post(f"{url}/cancel")).status_code == 409


async def test_unknown_service_is_404(staff: httpx.AsyncClient) -> None:
    response = await staff.get("/api/v1/services/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    confirm = await staff.post("/api/v1/services/nope/confirm")
    assert confirm.status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "reason"),
    [
        ({"hours": 0}, "hours", "greater than or equal to 1"),
        ({"hours": 10}, "hours", "less than or equal to 9"),
        ({"hours": 2.5}, "hours", "integer"),
        ({"activity_type": 5}, "activity_type", "less than or equal to 4"),
        ({"service_date": "2015-12-31"}, "service_date", "must not be before 2016-01-01"),
        (
            {"service_date": (brussels_today() + timedelta(days=1)).isoformat()},
            "service_date",
            "must not be in the future",
        ),
        ({"user_number": "12345678901"}, "user_number", "pattern"),
        ({"worker_login": "970100000001"}, "worker_login", "pattern"),
        ({"worker_login": "980999999999"}, "worker_login", "unknown worker"),
        ({"worker_login": KATRIN.login}, "worker_login", f"not a worker of company {SCHELDE}"),
        ({"user_number": "999999999999"}, "user_number", "unknown user"),
        ({"branch_id": DEMO.branches[2].establishment_unit_number}, "branch_id", "not a branch"),
    ],
)
async def test_invalid_registration_is_a_422_naming_the_field(
    staff: httpx.AsyncClient, overrides: dict[str, Any], field: str, reason: str
) -> None:
    response = await staff.post("/api/v1/services", json=a_service(**overrides))

    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [error["field"] for error in errors] == [field]
    assert reason in errors[0]["reason"]


async def test_service_date_limits_are_inclusive(staff: httpx.AsyncClient) -> None:
    first = await register(staff, service_date="2016-01-01")
    today = await register(staff, service_date=brussels_today().isoformat())
    assert first["service_date"] == "2016-01-01"
    assert today["service_date"] == brussels_today().isoformat()


async def test_list_is_paged_newest_first_with_totals(leie_staff: httpx.AsyncClient) -> None:
    day = date(2020, 2, 3)
    ids = []
    for hours in (1, 2, 3):
        service = await register(
            leie_staff,
            company_id=LEIE,
            worker_login=KATRIN.login,
            service_date=day.isoformat(),
            hours=hours,
        )
        ids.append(service["id"])
    query = {"company_id": LEIE, "service_date_from": "2020-02-03", "service_date_to": "2020-02-03"}

    first = (await leie_staff.get("/api/v1/services", params={**query, "page_size": 2})).json()
    second = (
        await leie_staff.get("/api/v1/services", params={**query, "page_size": 2, "page": 2})
    ).json()

    assert [s["id"] for s in first["items"] + second["items"]] == ids[::-1]
    assert (first["total_services"], first["total_hours"]) == (3, 6)
    assert first["page_size"] == 2
    too_big = await leie_staff.get("/api/v1/services", params={"page_size": 201})
    assert too_big.status_code == 422

    # The same pages by their cursors: after the first page's last row, and back before it.
    assert first["previous_cursor"] is None and second["next_cursor"] is None
    after = {**query, "page_size": 2, "after": first["next_cursor"]}
    by_cursor = (await leie_staff.get("/api/v1/services", params=after)).json()
    assert by_cursor["items"] == second["items"]
    before = {**query, "page_size": 2, "before": by_cursor["previous_cursor"]}
    back = (await leie_staff.get("/api/v1/services", params=before)).json()
    assert back["items"] == first["items"] and back["previous_cursor"] is None
    made_up = await leie_staff.get("/api/v1/services", params={**query, "after": "123"})
    assert made_up.status_code == 422
    assert made_up.json()["errors"] == [{"field": "after", "reason": "not a cursor of this list"}]


async def test_list_sorts_oldest_first_and_filters_on_activity_and_entry_date(
    leie_staff: httpx.AsyncClient,
) -> None:
    day = date(2020, 5, 6)
    first, third = await katrin_on(leie_staff, day, (1, 3))
    [second] = await katrin_on(leie_staff, day, (2,), activity_type=3)
    ids = [first["id"], third["id"], second["id"]]
    query = on_day(day)

    async def listed(**more: str) -> list[str]:
        response = await leie_staff.get("/api/v1/services", params={**query, **more})
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["items"]]

    assert await listed() == ids[::-1]
    assert await listed(sort="oldest") == ids
    assert await listed(activity_type="1", sort="oldest") == [ids[0], ids[1]]
    today = brussels_today()
    assert (
        await listed(registered_from=today.isoformat(), registered_to=today.isoformat())
        == (ids[::-1])
    )
    assert await listed(registered_to=(today - timedelta(days=1)).isoformat()) == []
    assert await listed(registered_from=(today + timedelta(days=1)).isoformat()) == []
    refused = await leie_staff.get("/api/v1/services", params={"sort": "random"})
    assert refused.status_code == 422


async def test_the_export_is_the_whole_selection_as_belgian_excel_reads_it(
    leie_staff: httpx.AsyncClient,
) -> None:
    ids = [s["id"] for s in await katrin_on(leie_staff, date(2020, 7, 8), (2, 5, 1))]
    query = on_day(date(2020, 7, 8))
    response = await leie_staff.get("/api/v1/services/export.csv", params=query)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    lines = response.content.decode("utf-8-sig").split("\r\n")
    header, *rows = [line.split(";") for line in lines if line]
    assert header[:3] == ["entry_date", "service_date", "company_id"]
    column = {name: i for i, name in enumerate(header)}
    assert [row[column["service_id"]] for row in rows] == ids[::-1]
    assert {row[column["service_date"]] for row in rows} == {"08/07/2020"}
    assert [row[column["vouchers_missing"]] for row in rows] == ["1", "5", "2"]
    listed = (await leie_staff.get("/api/v1/services", params=query)).json()
    assert sum(int(row[column["hours"]]) for row in rows) == listed["total_hours"]
    oldest = await leie_staff.get("/api/v1/services/export.csv", params={**query, "sort": "oldest"})
    assert [line.split(";")[-1] for line in oldest.text.splitlines()[1:]] == ids
    other = await leie_staff.get("/api/v1/services/export.csv", params={"company_id": SCHELDE})
    assert other.status_code == 404


async def test_counts_by_status_add_up_to_the_list_of_the_selection(
    leie_staff: httpx.AsyncClient,
) -> None:
    services = await katrin_on(leie_staff, date(2020, 3, 4), (1, 2, 4))
    await leie_staff.post(f"/api/v1/services/{services[0]['id']}/validate")
    await leie_staff.post(f"/api/v1/services/{services[1]['id']}/cancel")
    query = on_day(date(2020, 3, 4))

    async def counts() -> list[dict[str, Any]]:
        response = await leie_staff.get("/api/v1/services/status-counts", params=query)
        assert response.status_code == 200, response.text
        body: list[dict[str, Any]] = response.json()["counts"]
        return body

    async def projected() -> bool:
        found = [(c["status"], c["services"], c["hours"]) for c in await counts()]
        return found == [(1, 1, 4), (2, 1, 1), (5, 1, 2)]

    await eventually(projected)
    counted = await counts()
    assert counted[0]["status_label"] == "encoded"
    listed = (await leie_staff.get("/api/v1/services", params=query)).json()
    assert listed["total_services"] == sum(c["services"] for c in counted)
    assert listed["total_hours"] == sum(c["hours"] for c in counted)
    other = await leie_staff.get("/api/v1/services/status-counts", params={"company_id": SCHELDE})
    assert other.status_code == 404
    per_worker = await leie_staff.get("/api/v1/services/worker-totals", params=query)
    assert per_worker.json()["workers"] == [
        {"worker_login": KATRIN.login, "services": 3, "hours": 7}
    ]


async def test_same_idempotency_key_registers_once(staff: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": f"jobtracker-{uuid.uuid4()}"}
    body = a_service()
    first = await staff.post("/api/v1/services", json=body, headers=headers)
    again = await staff.post("/api/v1/services", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert again.headers["location"] == f"/api/v1/services/{first.json()['id']}"

    await staff.post(f"/api/v1/services/{first.json()['id']}/cancel")
    after_cancel = await staff.post("/api/v1/services", json=body, headers=headers)
    assert (after_cancel.status_code, after_cancel.json()["status"]) == (200, 5)


async def test_projection_writes_each_transition_once(
    platform: Platform, staff: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"
    await staff.post(f"{url}/validate")
    await staff.post(f"{url}/cancel")

    async def notified() -> bool:
        async with platform.services_db.sessions() as session:
            sent = await session.scalar(
                select(func.count()).where(
                    OutboxMessage.key.startswith(service["id"]), OutboxMessage.sent_at.is_not(None)
                )
            )
        return sent == 1

    await eventually(notified)
    async with platform.services_db.sessions() as session:
        history = await session.scalar(
            select(func.count()).where(ServiceHistory.service_id == service["id"])
        )
        inbox = await session.scalar(
            select(func.count()).where(InboxItem.service_id == service["id"])
        )
    assert (history, inbox) == (3, 1)


async def test_operators_find_services_by_search_attributes(
    platform: Platform, staff: httpx.AsyncClient
) -> None:
    user = DEMO.users[3]
    service = await register(staff, user_number=user.user_number)
    async with platform.as_person(HOLDER[user.user_number].national_number) as holder:
        await holder.post(f"/api/v1/services/{service['id']}/confirm")
    query = (
        f"DcUserNumber = '{user.user_number}' AND DcStatus = 15 "
        f"AND DcCompany = '{SCHELDE}' AND DcWorker = '{SOFIE.login}'"
    )

    async def found() -> bool:
        ids = [w.id async for w in platform.temporal.list_workflows(query)]
        return f"service-{service['id']}" in ids

    await eventually(found)


async def test_openapi_documents_the_services_api(platform: Platform) -> None:
    document = (await platform.anonymous.get("/openapi.json")).json()
    paths = document["paths"]
    assert {"post", "get"} <= set(paths["/api/v1/services"])
    assert "patch" in paths["/api/v1/services/{service_id}"]
    for action in ("validate", "confirm", "contest", "cancel"):
        assert "post" in paths[f"/api/v1/services/{{service_id}}/{action}"]
    assert (await platform.anonymous.get("/healthz")).json() == {"status": "ok"}
    assert (await platform.anonymous.get("/api/v1/services")).status_code == 401


async def test_gateway_says_when_a_service_is_down(platform: Platform) -> None:
    from dc_gateway.api import create_app
    from dc_gateway.settings import GatewaySettings
    from tests.support.servers import free_port, serving

    settings = GatewaySettings(
        services_url=f"http://127.0.0.1:{free_port()}",
        identity_url=platform.identity_url,
        oidc_issuer=platform.identity_url,
    )
    token = await platform.token(SCHELDE_STAFF.national_number)
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        response = await client.get(
            "/api/v1/services", headers={"Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Service unavailable"
    assert response.headers["retry-after"] == "5"


# -- one duplicate rule: same worker, user, date, activity and hours as a service not cancelled --


async def test_a_duplicate_is_refused_naming_the_first_service(staff: httpx.AsyncClient) -> None:
    body = a_service()
    first = await staff.post("/api/v1/services", json=body)
    assert first.status_code == 201, first.text

    again = await staff.post("/api/v1/services", json=body)

    assert again.status_code == 409, again.text
    assert again.headers["content-type"] == "application/problem+json"
    problem = again.json()
    assert problem["duplicate_of"] == first.json()["id"]
    assert first.json()["id"] in problem["detail"]
    other_hours = await staff.post("/api/v1/services", json={**body, "hours": 3})
    assert other_hours.status_code == 201, "another number of hours is another service"

    await staff.post(f"/api/v1/services/{first.json()['id']}/cancel")
    after_cancel = await staff.post("/api/v1/services", json=body)
    assert after_cancel.status_code == 201, "a cancelled service holds no key"


async def test_registrations_at_the_same_time_make_one_service(staff: httpx.AsyncClient) -> None:
    body = a_service()

    answers = await asyncio.gather(*(staff.post("/api/v1/services", json=body) for _ in range(6)))

    created = [a for a in answers if a.status_code == 201]
    refused = [a for a in answers if a.status_code == 409]
    assert (len(created), len(refused)) == (1, 5), [a.status_code for a in answers]
    assert {a.json()["duplicate_of"] for a in refused} == {created[0].json()["id"]}


async def test_a_modification_may_not_make_a_duplicate(staff: httpx.AsyncClient) -> None:
    day = fresh_service_date(SOFIE.login, AN.user_number)
    three = await register(staff, service_date=day, hours=3)
    two = await register(staff, service_date=day, hours=2)
    url = f"/api/v1/services/{two['id']}"

    refused = await staff.patch(url, json={"hours": 3})

    assert refused.status_code == 409, refused.text
    assert refused.json()["duplicate_of"] == three["id"]
    unchanged = (await staff.get(url)).json()
    assert (unchanged["hours"], unchanged["status"], unchanged["version"]) == (2, 1, 1)
    # Once the first moves away, its key is free for the second.
    await staff.patch(f"/api/v1/services/{three['id']}", json={"hours": 5})
    moved = await staff.patch(url, json={"hours": 3})
    assert moved.status_code == 200, moved.text
    again = await staff.post("/api/v1/services", json=a_service(service_date=day, hours=2))
    assert again.status_code == 201, "the key the second left is free again"


async def test_modifications_at_the_same_time_each_keep_their_field(
    staff: httpx.AsyncClient,
) -> None:
    service = await register(staff, hours=4, activity_type=1)
    url = f"/api/v1/services/{service['id']}"
    new_day = fresh_service_date(SOFIE.login, AN.user_number)

    answers = await asyncio.gather(
        staff.patch(url, json={"hours": 2}),
        staff.patch(url, json={"activity_type": 3}),
        staff.patch(url, json={"service_date": new_day}),
    )

    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    final = (await staff.get(url)).json()
    assert (final["hours"], final["activity_type"], final["service_date"]) == (2, 3, new_day)
    assert statuses(final) == [1, 4, 4, 4]


# -- who acted: by name and role; the national number to operators only ------------------------


async def test_the_household_sees_who_acted_by_name_not_national_number(
    platform: Platform, staff: httpx.AsyncClient, an: httpx.AsyncClient
) -> None:
    service = await register(staff)
    url = f"/api/v1/services/{service['id']}"
    await an.post(f"{url}/confirm")

    seen = (await an.get(url)).json()
    registered, confirmed = seen["history"][:2]
    assert registered["actor"] == {
        "kind": "company",
        "id": SCHELDE,
        "name": "Tom Mertens",
        "role": "company staff",
        "person": None,
    }
    assert (confirmed["actor"]["role"], confirmed["actor"]["person"]) == ("household", None)
    for reader in (staff, an):
        text = (await reader.get(url)).text
        assert SCHELDE_STAFF.national_number not in text
        assert HOLDER[AN.user_number].national_number not in text

    async with platform.as_person(OPERATOR.national_number) as operator:
        audited = (await operator.get(url)).json()
    assert audited["history"][0]["actor"]["person"] == SCHELDE_STAFF.national_number
    assert audited["history"][1]["actor"]["person"] == HOLDER[AN.user_number].national_number
