"""Roles, rights and the audit log through the internal API, on SQLite and PostgreSQL."""

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from dc_common.db import Database
from dc_identity import domain
from dc_identity.demo import (
    DEMO,
    LEIE,
    LEIE_KORTRIJK,
    LEIE_LEGAL_REPRESENTATIVE,
    LEIE_STAFF,
    NO_RIGHTS,
    OPERATOR,
    SCHELDE,
    SCHELDE_ANTWERPEN,
    SCHELDE_GENT,
    SCHELDE_GENT_STAFF,
    SCHELDE_LEGAL_REPRESENTATIVE,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
    USER_HOLDERS,
)
from dc_identity.models import AuditEntry, Base, Grant, MainAccessManager, User
from services.identity.tests.identity_support import (
    access_of,
    as_,
    lookup,
    running,
    settings_for,
    temporary_database,
)
from tests.support.problems import assert_problem
from tests.support.servers import DIALECTS

UNKNOWN_COMPANY = "0403170701"  # valid, not in the directory
UNKNOWN_PERSON = "88080839112"  # valid, nobody
NEW_COMPANY = "0412345614"
NEW_BRANCH = "2456789076"


@pytest.fixture(params=DIALECTS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with temporary_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
async def client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings_for(database_url, tmp_path)) as client:
        yield client


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_the_numbers_used_here_are_what_they_claim() -> None:
    assert domain.is_valid_enterprise_number(UNKNOWN_COMPANY)
    assert domain.is_valid_enterprise_number(NEW_COMPANY)
    assert domain.is_valid_establishment_unit_number(NEW_BRANCH)
    assert domain.is_valid_national_number(UNKNOWN_PERSON)
    assert UNKNOWN_PERSON not in {p.national_number for p in DEMO.people}


# --- the grant flow -------------------------------------------------------------------------


async def test_grant_flow_appoint_grant_branch_revoke(client: httpx.AsyncClient) -> None:
    """The legal representative appoints a main access manager, who grants a branch right;
    access shows it; after the revoke it is gone; the audit log tells who, when, what, where."""
    manager, grantee = NO_RIGHTS.national_number, USER_HOLDERS[0].national_number
    started = datetime.now(UTC)

    response = await client.post(
        f"/v1/companies/{SCHELDE}/main-access-managers",
        json={"national_number": manager},
        headers=as_(SCHELDE_LEGAL_REPRESENTATIVE),
    )
    assert response.status_code == 201, response.text
    appointed = response.json()
    assert appointed == {
        "company_id": SCHELDE,
        "national_number": manager,
        "name": NO_RIGHTS.name,
        "appointed_by": SCHELDE_LEGAL_REPRESENTATIVE.national_number,
        "appointed_by_name": SCHELDE_LEGAL_REPRESENTATIVE.name,
        "appointed_at": appointed["appointed_at"],
    }
    assert _at(appointed["appointed_at"]) >= started
    access = (await access_of(client, manager)).json()
    assert access["main_access_manager_of"] == [SCHELDE]
    managers = (await client.get(f"/v1/companies/{SCHELDE}/main-access-managers")).json()
    assert [m["national_number"] for m in managers] == [
        SCHELDE_MAIN_ACCESS_MANAGER.national_number,
        manager,
    ]

    response = await client.post(
        f"/v1/companies/{SCHELDE}/grants",
        json={"national_number": grantee, "branch_id": SCHELDE_ANTWERPEN},
        headers=as_(manager),
    )
    assert response.status_code == 201, response.text
    grant = response.json()
    assert grant == {
        "id": grant["id"],
        "company_id": SCHELDE,
        "branch_id": SCHELDE_ANTWERPEN,
        "national_number": grantee,
        "name": USER_HOLDERS[0].name,
        "right": "dienstencheques-eo",
        "granted_by": manager,
        "granted_by_name": NO_RIGHTS.name,
        "granted_at": grant["granted_at"],
        "revoked_by": None,
        "revoked_at": None,
    }
    access = (await access_of(client, grantee)).json()
    assert access["rights"] == [
        {"grant_id": grant["id"], "company_id": SCHELDE, "branch_id": SCHELDE_ANTWERPEN}
    ]
    active = (await client.get(f"/v1/companies/{SCHELDE}/grants")).json()
    assert grant in active

    response = await client.delete(
        f"/v1/companies/{SCHELDE}/grants/{grant['id']}", headers=as_(manager)
    )
    assert response.status_code == 204
    assert response.content == b""
    access = (await access_of(client, grantee)).json()
    assert access["rights"] == []
    active = (await client.get(f"/v1/companies/{SCHELDE}/grants")).json()
    assert grant["id"] not in [g["id"] for g in active]
    everything = (
        await client.get(f"/v1/companies/{SCHELDE}/grants", params={"include_revoked": "true"})
    ).json()
    (revoked,) = [g for g in everything if g["id"] == grant["id"]]
    assert revoked["revoked_by"] == manager
    assert _at(revoked["revoked_at"]) >= _at(revoked["granted_at"])

    log = (await client.get(f"/v1/companies/{SCHELDE}/audit-log", params={"limit": 3})).json()
    assert [(e["action"], e["actor"], e["subject"], e["branch_id"]) for e in log] == [
        ("right-revoked", manager, grantee, SCHELDE_ANTWERPEN),
        ("right-granted", manager, grantee, SCHELDE_ANTWERPEN),
        (
            "main-access-manager-appointed",
            SCHELDE_LEGAL_REPRESENTATIVE.national_number,
            manager,
            None,
        ),
    ]
    assert log[0]["details"] == {"grant_id": grant["id"], "right": "dienstencheques-eo"}
    assert log[1]["details"] == {"grant_id": grant["id"], "right": "dienstencheques-eo"}
    assert [e["company_id"] for e in log] == [SCHELDE] * 3
    assert _at(log[0]["at"]) == _at(revoked["revoked_at"])
    assert _at(log[1]["at"]) == _at(grant["granted_at"])
    assert _at(log[2]["at"]) == _at(appointed["appointed_at"])
    assert log[0]["id"] > log[1]["id"] > log[2]["id"]
    # Leie's log knows nothing of it.
    leie_log = (await client.get(f"/v1/companies/{LEIE}/audit-log")).json()
    assert {e["company_id"] for e in leie_log} == {LEIE}
    assert grantee not in {e["subject"] for e in leie_log}


async def test_a_main_access_manager_appoints_a_backup_and_grants_the_whole_company(
    client: httpx.AsyncClient,
) -> None:
    backup = NO_RIGHTS.national_number
    response = await client.post(
        f"/v1/companies/{LEIE}/main-access-managers",
        json={"national_number": backup},
        headers=as_(LEIE_LEGAL_REPRESENTATIVE),  # also Leie's main access manager
    )
    assert response.status_code == 201
    response = await client.post(
        f"/v1/companies/{LEIE}/grants",
        json={"national_number": SCHELDE_STAFF.national_number, "branch_id": None},
        headers=as_(backup),
    )
    assert response.status_code == 201, response.text
    assert response.json()["branch_id"] is None
    access = (await access_of(client, SCHELDE_STAFF.national_number)).json()
    assert {(r["company_id"], r["branch_id"]) for r in access["rights"]} == {
        (SCHELDE, None),
        (LEIE, None),
    }
    # The branch may be left out: the whole company.
    response = await client.post(
        f"/v1/companies/{LEIE}/grants",
        json={"national_number": SCHELDE_GENT_STAFF.national_number},
        headers=as_(backup),
    )
    assert response.status_code == 201
    assert response.json()["branch_id"] is None


# --- access ---------------------------------------------------------------------------------


async def _grant_ids(client: httpx.AsyncClient) -> dict[tuple[str, str | None, str], int]:
    ids = {}
    for company in (SCHELDE, LEIE):
        for grant in (await client.get(f"/v1/companies/{company}/grants")).json():
            ids[(grant["company_id"], grant["branch_id"], grant["national_number"])] = grant["id"]
    return ids


def _access(number: str, name: str, **roles: Any) -> dict[str, Any]:
    return {
        "national_number": number,
        "name": name,
        "operator": False,
        "legal_representative_of": [],
        "main_access_manager_of": [],
        "rights": [],
        "workers": [],
        "user_numbers": [],
    } | roles


async def test_access_of_the_demo_people(client: httpx.AsyncClient) -> None:
    ids = await _grant_ids(client)

    def right(company: str, branch: str | None, person: str) -> dict[str, Any]:
        return {
            "grant_id": ids[(company, branch, person)],
            "company_id": company,
            "branch_id": branch,
        }

    sofie, ana = DEMO.workers[0], DEMO.workers[5]
    expected = [
        _access(OPERATOR.national_number, "Nora Vermeulen", operator=True),
        _access(
            SCHELDE_LEGAL_REPRESENTATIVE.national_number,
            "Pieter Claes",
            legal_representative_of=[SCHELDE],
        ),
        _access(
            SCHELDE_MAIN_ACCESS_MANAGER.national_number,
            "Els Wouters",
            main_access_manager_of=[SCHELDE],
        ),
        _access(
            SCHELDE_STAFF.national_number,
            "Tom Mertens",
            rights=[right(SCHELDE, None, SCHELDE_STAFF.national_number)],
        ),
        _access(
            SCHELDE_GENT_STAFF.national_number,
            "Lotte Jacobs",
            rights=[right(SCHELDE, SCHELDE_GENT, SCHELDE_GENT_STAFF.national_number)],
        ),
        _access(
            LEIE_LEGAL_REPRESENTATIVE.national_number,
            "Bart Goossens",
            legal_representative_of=[LEIE],
            main_access_manager_of=[LEIE],
        ),
        _access(
            LEIE_STAFF.national_number,
            "Inge Willems",
            rights=[right(LEIE, None, LEIE_STAFF.national_number)],
        ),
        _access(NO_RIGHTS.national_number, "Wim Aerts"),
        _access(
            sofie.national_number,
            "Sofie Janssens",
            workers=[{"login": sofie.login, "company_id": SCHELDE, "branch_id": SCHELDE_GENT}],
        ),
        _access(
            ana.national_number,
            "Ana Pereira",
            workers=[{"login": ana.login, "company_id": LEIE, "branch_id": LEIE_KORTRIJK}],
        ),
        _access(USER_HOLDERS[3].national_number, "Jürgen Weber", user_numbers=["100000000004"]),
    ]
    for want in expected:
        response = await access_of(client, want["national_number"])
        assert response.status_code == 200
        assert response.json() == want


async def test_every_demo_person_is_served(client: httpx.AsyncClient) -> None:
    for person in DEMO.people:
        response = await lookup(client, person.national_number)
        assert response.json() == {
            "national_number": person.national_number,
            "first_name": person.first_name,
            "last_name": person.last_name,
            "email": person.email,
        }


async def test_unknown_or_malformed_person(client: httpx.AsyncClient) -> None:
    for ask in (lookup, access_of):
        assert_problem(await ask(client, UNKNOWN_PERSON), 404, "national_number")
    assert_problem(await lookup(client, "88080839014"), 422, "national_number")
    assert_problem(await access_of(client, "8808083901"), 422, "national_number")


# --- companies and branches -----------------------------------------------------------------


async def test_operator_creates_a_company_and_a_branch(client: httpx.AsyncClient) -> None:
    representative = UNKNOWN_PERSON  # from the enterprise register, not known yet
    body = {
        "enterprise_number": NEW_COMPANY,
        "recognition_number": "30001",
        "name": "Aalst Thuishulp cv",
        "legal_representatives": [representative, NO_RIGHTS.national_number, representative],
    }
    response = await client.post("/v1/companies", json=body, headers=as_(OPERATOR))
    assert response.status_code == 201, response.text
    assert response.json() == {
        "enterprise_number": NEW_COMPANY,
        "recognition_number": "30001",
        "name": "Aalst Thuishulp cv",
        "branches": [],
        "legal_representatives": [representative, NO_RIGHTS.national_number],
    }
    names = [c["name"] for c in (await client.get("/v1/companies")).json()]
    assert names == ["Aalst Thuishulp cv", "Huishoudhulp Schelde bv", "Poetsdienst Leie vzw"]

    response = await client.post(
        f"/v1/companies/{NEW_COMPANY}/branches",
        json={"establishment_unit_number": NEW_BRANCH, "name": "Aalst centrum"},
        headers=as_(OPERATOR),
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"establishment_unit_number": NEW_BRANCH, "name": "Aalst centrum"}
    branches = (await client.get(f"/v1/companies/{NEW_COMPANY}/branches")).json()
    assert branches == [{"establishment_unit_number": NEW_BRANCH, "name": "Aalst centrum"}]
    company = (await client.get(f"/v1/companies/{NEW_COMPANY}")).json()
    assert company["branches"] == branches

    # The new legal representative is a person now, and can appoint at once.
    access = (await access_of(client, representative)).json()
    assert access["legal_representative_of"] == [NEW_COMPANY]
    assert access["name"] == representative  # no name yet
    response = await client.post(
        f"/v1/companies/{NEW_COMPANY}/main-access-managers",
        json={"national_number": representative},
        headers=as_(representative),
    )
    assert response.status_code == 201

    log = (await client.get(f"/v1/companies/{NEW_COMPANY}/audit-log")).json()
    assert [(e["action"], e["actor"], e["branch_id"]) for e in log] == [
        ("main-access-manager-appointed", representative, None),
        ("branch-created", OPERATOR.national_number, NEW_BRANCH),
        ("company-created", OPERATOR.national_number, None),
    ]
    assert log[1]["details"] == {"name": "Aalst centrum"}
    assert log[2]["details"] == {
        "name": "Aalst Thuishulp cv",
        "recognition_number": "30001",
        "legal_representatives": [representative, NO_RIGHTS.national_number],
    }


async def test_branches_of_a_demo_company(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/companies/{SCHELDE}/branches")
    assert [b["establishment_unit_number"] for b in response.json()] == [
        SCHELDE_GENT,
        SCHELDE_ANTWERPEN,
    ]


async def test_a_person_registers_and_updates_themself(client: httpx.AsyncClient) -> None:
    body = {"first_name": "Fien", "last_name": "Baert", "email": "fien@example.org"}
    response = await client.put(
        "/v1/people", json={"national_number": UNKNOWN_PERSON, **body}, headers=as_(UNKNOWN_PERSON)
    )
    assert response.status_code == 201
    assert response.json() == {"national_number": UNKNOWN_PERSON, **body}
    body["email"] = "fien.baert@example.org"
    response = await client.put(
        "/v1/people", json={"national_number": UNKNOWN_PERSON, **body}, headers=as_(OPERATOR)
    )
    assert response.status_code == 200
    assert (await lookup(client, UNKNOWN_PERSON)).json()["email"] == body["email"]
    assert_problem(
        await client.put(
            "/v1/people", json={"national_number": UNKNOWN_PERSON, **body}, headers=as_(NO_RIGHTS)
        ),
        403,
    )
    assert_problem(
        await client.put("/v1/people", json={"national_number": UNKNOWN_PERSON, **body}), 401
    )


# --- refusals -------------------------------------------------------------------------------


def _writes(grant_id: int = 1) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        (
            "POST",
            "/v1/companies",
            {
                "enterprise_number": NEW_COMPANY,
                "recognition_number": "30001",
                "name": "Aalst Thuishulp cv",
                "legal_representatives": [NO_RIGHTS.national_number],
            },
        ),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/branches",
            {"establishment_unit_number": NEW_BRANCH, "name": "Aalst"},
        ),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/main-access-managers",
            {"national_number": NO_RIGHTS.national_number},
        ),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/grants",
            {"national_number": NO_RIGHTS.national_number, "branch_id": SCHELDE_GENT},
        ),
        ("DELETE", f"/v1/companies/{SCHELDE}/grants/{grant_id}", None),
    ]


async def _send(
    client: httpx.AsyncClient,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize("header", [None, "", "12345", "85031212462"])
async def test_writes_without_a_valid_actor_are_401(
    client: httpx.AsyncClient, header: str | None
) -> None:
    headers = as_(header)  # the party, without a (valid) person acting for it
    for method, path, body in _writes():
        response = await _send(client, method, path, body, headers)
        problem = assert_problem(response, 401, "X-Actor-Person")
        assert problem["title"] == "Not authenticated", (method, path)
        # No acting party at all.
        assert_problem(await _send(client, method, path, body), 401)
    # Even with a body that would be refused: authentication comes first.
    response = await client.post(
        f"/v1/companies/{SCHELDE}/grants", json={"nonsense": 1}, headers=headers
    )
    assert_problem(response, 401, "X-Actor-Person")
    assert_problem(await client.post(f"/v1/companies/{SCHELDE}/grants", json={"nonsense": 1}), 401)


async def test_writes_by_someone_who_may_not_are_403(client: httpx.AsyncClient) -> None:
    grant_id = (await _grant_ids(client))[(SCHELDE, None, SCHELDE_STAFF.national_number)]
    company, branch, appoint, grant, revoke = _writes(grant_id)
    refused = [
        # Only the operator creates companies and branches.
        (company, SCHELDE_LEGAL_REPRESENTATIVE),
        (company, SCHELDE_MAIN_ACCESS_MANAGER),
        (branch, SCHELDE_MAIN_ACCESS_MANAGER),
        (branch, SCHELDE_STAFF),
        # A legal representative or main access manager of this company appoints.
        (appoint, OPERATOR),
        (appoint, SCHELDE_STAFF),
        (appoint, LEIE_LEGAL_REPRESENTATIVE),
        (appoint, NO_RIGHTS),
        (appoint, UNKNOWN_PERSON),
        # Only a main access manager of this company grants and revokes.
        (grant, SCHELDE_LEGAL_REPRESENTATIVE),
        (grant, SCHELDE_STAFF),
        (grant, SCHELDE_GENT_STAFF),
        (grant, LEIE_LEGAL_REPRESENTATIVE),
        (grant, OPERATOR),
        (revoke, SCHELDE_LEGAL_REPRESENTATIVE),
        (revoke, SCHELDE_STAFF),
        (revoke, LEIE_LEGAL_REPRESENTATIVE),
        (revoke, OPERATOR),
    ]
    for (method, path, body), actor in refused:
        response = await _send(client, method, path, body, as_(actor))
        problem = assert_problem(response, 403)
        assert problem["title"] == "Not allowed", (method, path, actor)
        assert problem["detail"].startswith("not allowed: ")
    # Nothing was written.
    assert len((await client.get("/v1/companies")).json()) == 2
    assert len((await client.get(f"/v1/companies/{SCHELDE}/grants")).json()) == 2
    log = (await client.get(f"/v1/companies/{SCHELDE}/audit-log")).json()
    assert len(log) == 3  # the demo's appointment and two grants


async def test_unknown_company_or_grant_is_404(client: httpx.AsyncClient) -> None:
    for path in ("branches", "main-access-managers", "grants", "audit-log", "workers"):
        assert_problem(
            await client.get(f"/v1/companies/{UNKNOWN_COMPANY}/{path}"), 404, "enterprise_number"
        )
    manager = as_(SCHELDE_MAIN_ACCESS_MANAGER)
    for method, path, body in _writes()[1:]:
        response = await _send(
            client, method, path.replace(SCHELDE, UNKNOWN_COMPANY), body, as_(OPERATOR)
        )
        assert_problem(response, 404, "enterprise_number")
    leie_grant = (await _grant_ids(client))[(LEIE, None, LEIE_STAFF.national_number)]
    # A grant of another company is not there for this one, nor is a grant that never was.
    for grant_id in (leie_grant, 999_999):
        response = await client.delete(
            f"/v1/companies/{SCHELDE}/grants/{grant_id}", headers=manager
        )
        assert_problem(response, 404, "grant_id")
    leie = (await client.get(f"/v1/companies/{LEIE}/grants")).json()
    assert leie_grant in [g["id"] for g in leie]


async def test_conflicts_are_409(client: httpx.AsyncClient) -> None:
    manager = as_(SCHELDE_MAIN_ACCESS_MANAGER)
    gent = {"national_number": SCHELDE_GENT_STAFF.national_number, "branch_id": SCHELDE_GENT}
    assert_problem(
        await client.post(f"/v1/companies/{SCHELDE}/grants", json=gent, headers=manager), 409
    )
    whole = {"national_number": SCHELDE_STAFF.national_number, "branch_id": None}
    assert_problem(
        await client.post(f"/v1/companies/{SCHELDE}/grants", json=whole, headers=manager), 409
    )

    grant_id = (await _grant_ids(client))[
        (SCHELDE, SCHELDE_GENT, SCHELDE_GENT_STAFF.national_number)
    ]
    path = f"/v1/companies/{SCHELDE}/grants/{grant_id}"
    assert (await client.delete(path, headers=manager)).status_code == 204
    problem = assert_problem(await client.delete(path, headers=manager), 409)
    assert problem["detail"] == "grant_id: the grant is already revoked"
    # After the revoke the same scope may be granted again: a new grant, the old one kept.
    response = await client.post(f"/v1/companies/{SCHELDE}/grants", json=gent, headers=manager)
    assert response.status_code == 201
    assert response.json()["id"] != grant_id

    appoint = {"national_number": SCHELDE_MAIN_ACCESS_MANAGER.national_number}
    response = await client.post(
        f"/v1/companies/{SCHELDE}/main-access-managers",
        json=appoint,
        headers=as_(SCHELDE_LEGAL_REPRESENTATIVE),
    )
    assert_problem(response, 409)

    company = {
        "enterprise_number": SCHELDE,
        "recognition_number": "99999",
        "name": "Again",
        "legal_representatives": [NO_RIGHTS.national_number],
    }
    assert_problem(await client.post("/v1/companies", json=company, headers=as_(OPERATOR)), 409)
    company |= {"enterprise_number": NEW_COMPANY, "recognition_number": "10501"}  # Schelde's
    problem = assert_problem(
        await client.post("/v1/companies", json=company, headers=as_(OPERATOR)), 409
    )
    assert problem["detail"].startswith("recognition_number: ")
    branch = {"establishment_unit_number": LEIE_KORTRIJK, "name": "Kortrijk again"}
    response = await client.post(
        f"/v1/companies/{SCHELDE}/branches", json=branch, headers=as_(OPERATOR)
    )
    assert_problem(response, 409)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        (
            "POST",
            "/v1/companies",
            {
                "enterprise_number": "0412345617",
                "recognition_number": "1",
                "name": "X",
                "legal_representatives": [NO_RIGHTS.national_number],
            },
            "enterprise_number",
        ),
        (
            "POST",
            "/v1/companies",
            {
                "enterprise_number": NEW_COMPANY,
                "recognition_number": "1",
                "name": "X",
                "legal_representatives": [NO_RIGHTS.national_number, "88080839014"],
            },
            "legal_representatives.1",
        ),
        (
            "POST",
            "/v1/companies",
            {
                "enterprise_number": NEW_COMPANY,
                "recognition_number": "1",
                "name": "X",
                "legal_representatives": [],
            },
            "legal_representatives",
        ),
        (
            "POST",
            "/v1/companies",
            {
                "enterprise_number": NEW_COMPANY,
                "recognition_number": "1",
                "legal_representatives": [NO_RIGHTS.national_number],
            },
            "name",
        ),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/branches",
            {"establishment_unit_number": "2456789081", "name": "X"},
            "establishment_unit_number",
        ),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/grants",
            {"national_number": "88080839014"},
            "national_number",
        ),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/grants",
            {"national_number": UNKNOWN_PERSON},  # valid, but nobody the directory knows
            "national_number",
        ),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/grants",
            {"national_number": NO_RIGHTS.national_number, "branch_id": LEIE_KORTRIJK},
            "branch_id",
        ),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/grants",
            {"national_number": NO_RIGHTS.national_number, "branch_id": "2234567819"},
            "branch_id",
        ),
        ("POST", f"/v1/companies/{SCHELDE}/grants", {}, "national_number"),
        (
            "POST",
            f"/v1/companies/{SCHELDE}/main-access-managers",
            {"national_number": UNKNOWN_PERSON},
            "national_number",
        ),
        (
            "POST",
            "/v1/companies/0712345631/grants",
            {"national_number": NO_RIGHTS.national_number},
            "enterprise_number",
        ),
        ("DELETE", f"/v1/companies/{SCHELDE}/grants/first", None, "grant_id"),
    ],
)
async def test_bad_input_is_422_naming_the_field(
    client: httpx.AsyncClient, method: str, path: str, body: dict[str, Any] | None, field: str
) -> None:
    # Each write as someone who may make it, so only the input is wrong.
    actor = OPERATOR if path.endswith(("companies", "branches")) else SCHELDE_MAIN_ACCESS_MANAGER
    if path.endswith("main-access-managers"):
        actor = SCHELDE_LEGAL_REPRESENTATIVE
    response = await _send(client, method, path, body, as_(actor))
    assert_problem(response, 422, field)


async def test_bad_reads_are_422(client: httpx.AsyncClient) -> None:
    for path in ("branches", "main-access-managers", "grants", "audit-log"):
        assert_problem(
            await client.get(f"/v1/companies/0712345631/{path}"), 422, "enterprise_number"
        )
    path = f"/v1/companies/{SCHELDE}/audit-log"
    assert_problem(await client.get(path, params={"limit": 0}), 422, "limit")
    assert_problem(await client.get(path, params={"limit": 501}), 422, "limit")
    assert_problem(await client.get(path, params={"before_id": "x"}), 422, "before_id")


# --- the audit log --------------------------------------------------------------------------


async def test_audit_log_pages_newest_first(client: httpx.AsyncClient) -> None:
    manager = as_(SCHELDE_MAIN_ACCESS_MANAGER)
    for person in USER_HOLDERS:
        response = await client.post(
            f"/v1/companies/{SCHELDE}/grants",
            json={"national_number": person.national_number, "branch_id": SCHELDE_GENT},
            headers=manager,
        )
        assert response.status_code == 201
    everything = (await client.get(f"/v1/companies/{SCHELDE}/audit-log")).json()
    assert len(everything) == 3 + len(USER_HOLDERS)
    ids = [e["id"] for e in everything]
    assert ids == sorted(ids, reverse=True)
    assert [e["subject"] for e in everything[:5]] == [
        p.national_number for p in reversed(USER_HOLDERS)
    ]

    pages: list[list[int]] = []
    before: int | None = None
    while True:
        params: dict[str, int] = {"limit": 3}
        if before is not None:
            params["before_id"] = before
        page = (await client.get(f"/v1/companies/{SCHELDE}/audit-log", params=params)).json()
        if not page:
            break
        pages.append([e["id"] for e in page])
        before = page[-1]["id"]
    assert [len(page) for page in pages] == [3, 3, 2]
    assert [i for page in pages for i in page] == ids


# --- demo loading and the database ----------------------------------------------------------


async def _count(database_url: str, model: type[Base]) -> int:
    database = Database(database_url)
    try:
        async with database.sessions() as session:
            return await session.scalar(select(func.count()).select_from(model)) or 0
    finally:
        await database.dispose()


async def test_demo_roles_load_once_and_a_revoked_demo_grant_stays_revoked(
    database_url: str, tmp_path: Path
) -> None:
    settings = settings_for(database_url, tmp_path)
    async with running(settings) as client:
        grant_id = (await _grant_ids(client))[(LEIE, None, LEIE_STAFF.national_number)]
        response = await client.delete(
            f"/v1/companies/{LEIE}/grants/{grant_id}", headers=as_(LEIE_LEGAL_REPRESENTATIVE)
        )
        assert response.status_code == 204
    counts = {m: await _count(database_url, m) for m in (MainAccessManager, Grant, AuditEntry)}
    assert counts == {MainAccessManager: 2, Grant: 3, AuditEntry: 6}

    async with running(settings) as client:  # a restart loads the demo again
        access = (await access_of(client, LEIE_STAFF.national_number)).json()
        assert access["rights"] == []
    assert {m: await _count(database_url, m) for m in counts} == counts


async def test_an_earlier_users_table_gets_its_holder_column(
    database_url: str, tmp_path: Path
) -> None:
    database = Database(database_url)
    try:
        async with database.engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TABLE users (user_number VARCHAR(12) PRIMARY KEY, name VARCHAR(200),"
                    " email VARCHAR(254), language VARCHAR(2))"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO users VALUES"
                    " ('100000000001', 'An Peeters', 'an.peeters@example.org', 'nl')"
                )
            )
    finally:
        await database.dispose()
    async with running(settings_for(database_url, tmp_path)) as client:
        assert (await client.get("/v1/users/100000000001")).status_code == 200
        access = (await access_of(client, USER_HOLDERS[0].national_number)).json()
        assert access["user_numbers"] == ["100000000001"]
    database = Database(database_url)
    try:
        async with database.sessions() as session:
            rows = await session.execute(select(User.user_number, User.holder_national_number))
            holders = {user_number: holder for user_number, holder in rows}
    finally:
        await database.dispose()
    assert holders == {u.user_number: u.holder_national_number for u in DEMO.users}


async def test_the_database_refuses_a_second_active_grant_for_a_scope(
    database_url: str, tmp_path: Path
) -> None:
    """Two requests racing past the check still cannot both grant: a partial unique index."""
    async with running(settings_for(database_url, tmp_path)):
        pass
    database = Database(database_url)
    now = datetime.now(UTC)
    manager = SCHELDE_MAIN_ACCESS_MANAGER.national_number

    def grant(branch_id: str | None, revoked: bool = False) -> Grant:
        return Grant(
            company_id=SCHELDE,
            branch_id=branch_id,
            national_number=SCHELDE_STAFF.national_number,
            granted_by=manager,
            granted_at=now,
            revoked_by=manager if revoked else None,
            revoked_at=now if revoked else None,
        )

    try:
        with pytest.raises(IntegrityError):  # the demo granted Tom the whole company already
            async with database.transaction() as session:
                session.add(grant(None))
        with pytest.raises(IntegrityError):  # a branch, twice
            async with database.transaction() as session:
                session.add_all([grant(SCHELDE_GENT), grant(SCHELDE_GENT)])
        async with database.transaction() as session:  # revoked ones do not count
            session.add_all([grant(None, revoked=True), grant(SCHELDE_ANTWERPEN)])
    finally:
        await database.dispose()
