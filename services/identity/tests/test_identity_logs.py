"""Every change the directory logs names companies, branches and grants, and people only by
pseudonym: not one national number in identity's log events or in its requests' log records,
while an operator can still follow one person from event to event."""

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import structlog

from dc_common.logging import pseudonym
from dc_identity.demo import (
    DEMO,
    NO_RIGHTS,
    OPERATOR,
    SCHELDE,
    SCHELDE_GENT,
    SCHELDE_LEGAL_REPRESENTATIVE,
    SCHELDE_STAFF,
)
from services.identity.tests.identity_support import (
    access_of,
    as_,
    lookup,
    running,
    settings_for,
    temporary_database,
)

NEW_COMPANY = "0412345614"
NEW_BRANCH = "2456789076"
NEWCOMER = "88080839112"  # valid, not in the demo directory
SOFIE = DEMO.workers[0]


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        temporary_database("sqlite", tmp_path) as url,
        running(settings_for(url, tmp_path)) as client,
    ):
        yield client


async def test_changes_are_logged_without_national_numbers(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    manager = NO_RIGHTS.national_number
    with caplog.at_level(logging.INFO), structlog.testing.capture_logs() as events:
        token = await client.post("/dev/token", json={"national_number": manager})
        assert token.status_code == 200
        registered = await client.put(
            "/v1/people",
            json={"national_number": NEWCOMER, "first_name": "Fien", "last_name": "Baert"},
            headers=as_(NEWCOMER),
        )
        assert registered.status_code == 201
        company = await client.post(
            "/v1/companies",
            json={
                "enterprise_number": NEW_COMPANY,
                "recognition_number": "30001",
                "name": "Aalst Thuishulp cv",
                "legal_representatives": [NEWCOMER],
            },
            headers=as_(OPERATOR),
        )
        assert company.status_code == 201
        branch = await client.post(
            f"/v1/companies/{SCHELDE}/branches",
            json={"establishment_unit_number": NEW_BRANCH, "name": "Aalst"},
            headers=as_(OPERATOR),
        )
        assert branch.status_code == 201
        appointed = await client.post(
            f"/v1/companies/{SCHELDE}/main-access-managers",
            json={"national_number": manager},
            headers=as_(SCHELDE_LEGAL_REPRESENTATIVE),
        )
        assert appointed.status_code == 201
        granted = await client.post(
            f"/v1/companies/{SCHELDE}/grants",
            json={"national_number": NEWCOMER, "branch_id": SCHELDE_GENT},
            headers=as_(manager),
        )
        assert granted.status_code == 201
        grant_id = granted.json()["id"]
        revoked = await client.delete(
            f"/v1/companies/{SCHELDE}/grants/{grant_id}", headers=as_(manager)
        )
        assert revoked.status_code == 204
        sofie = {
            "login": SOFIE.login,
            "national_number": SOFIE.national_number,
            "first_name": SOFIE.first_name,
            "last_name": SOFIE.last_name,
            "branch_id": SOFIE.branch_id,
            "contract_start": SOFIE.contract_start.isoformat(),
            "language": SOFIE.language,
        }
        upserted = await client.put(
            f"/v1/companies/{SCHELDE}/workers",
            json={"workers": [sofie]},
            headers=as_(SCHELDE_STAFF),
        )
        assert upserted.status_code == 200
        assert (await access_of(client, NEWCOMER)).status_code == 200
        assert (await lookup(client, NEWCOMER)).status_code == 200

    by_name = {event["event"]: event for event in events}
    assert set(by_name) >= {
        "dev_idp.token_issued",
        "identity.person_registered",
        "identity.company_created",
        "identity.branch_created",
        "identity.main_access_manager_appointed",
        "identity.right_granted",
        "identity.right_revoked",
        "identity.workers_upserted",
    }
    lines = [repr(event) for event in events] + [record.getMessage() for record in caplog.records]
    numbers = {person.national_number for person in DEMO.people} | {NEWCOMER}
    assert [line for line in lines if any(number in line for number in numbers)] == []

    # One person followed through the logs: appointed, then granting and revoking.
    followed = pseudonym(manager)
    assert by_name["dev_idp.token_issued"]["sub"] == followed
    assert by_name["identity.main_access_manager_appointed"]["manager"] == followed
    assert by_name["identity.right_granted"]["actor"] == followed
    assert by_name["identity.right_revoked"]["actor"] == followed
    assert by_name["identity.right_granted"]["grant_id"] == grant_id
    assert by_name["identity.person_registered"]["person"] == pseudonym(NEWCOMER) != followed
