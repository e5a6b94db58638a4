"""The workers' Jobtracker accounts in identity's API, on SQLite and PostgreSQL: the company sets
a first password the worker must change; three wrong passwords block the account until the
company unblocks it (in the audit log); refresh tokens rotate, and one used twice ends the
session; staff reach only the workers of their own company and branches."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from dc_identity import credentials
from dc_identity.demo import (
    DEMO,
    LEIE,
    LEIE_LEGAL_REPRESENTATIVE,
    SCHELDE,
    SCHELDE_GENT_STAFF,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
)
from services.identity.tests.identity_support import as_, demo_identity

DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SOFIE, MARIE = DEMO.workers[0], DEMO.workers[2]  # Schelde Gent, Schelde Antwerpen
FIRST, OWN = "eerste-2026-wachtwoord", "mijn-eigen-geheim-42"


@pytest.fixture(params=DIALECTS)
async def client(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with demo_identity(request.param, tmp_path) as client:
        yield client


async def set_password(client: httpx.AsyncClient, login: str, password: str = FIRST) -> int:
    response = await client.put(
        f"/v1/workers/{login}/password", json={"password": password}, headers=as_(SCHELDE_STAFF)
    )
    return response.status_code


async def log_in(
    client: httpx.AsyncClient, password: str, login: str = SOFIE.login
) -> httpx.Response:
    return await client.post("/v1/jobtracker/sessions", json={"login": login, "password": password})


async def test_the_first_password_must_be_changed_and_the_token_names_the_worker(
    client: httpx.AsyncClient,
) -> None:
    assert await set_password(client, SOFIE.login) == 204
    first = await log_in(client, FIRST)
    assert first.status_code == 200, first.text
    session: dict[str, Any] = first.json()
    assert session["must_change_password"] is True
    assert session["worker"] == {
        "login": SOFIE.login,
        "name": f"{SOFIE.first_name} {SOFIE.last_name}",
        "company_id": SCHELDE,
        "language": SOFIE.language,
    }

    keys = (await client.get("/jobtracker/jwks.json")).json()
    discovery = (await client.get("/jobtracker/.well-known/openid-configuration")).json()
    assert discovery["jwks_uri"].endswith("/jobtracker/jwks.json")
    claims = jwt.decode(session["access_token"], KeySet.import_key_set(keys)).claims
    assert claims["iss"] == discovery["issuer"]
    assert (claims["sub"], claims["worker_login"], claims["scope"]) == (
        SOFIE.national_number,
        SOFIE.login,
        "jobtracker",
    )
    assert claims["exp"] - claims["iat"] == session["expires_in"] <= 3600

    change = {"login": SOFIE.login, "password": FIRST}
    weak = await client.post("/v1/jobtracker/password", json={**change, "new_password": "short1"})
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new_password"
    changed = await client.post("/v1/jobtracker/password", json={**change, "new_password": OWN})
    assert changed.status_code == 200, changed.text
    assert changed.json()["must_change_password"] is False
    assert (await log_in(client, FIRST)).status_code == 401
    assert (await log_in(client, OWN)).json()["must_change_password"] is False


async def test_a_worker_of_two_companies_logs_in_for_the_one_picked(
    client: httpx.AsyncClient,
) -> None:
    mohamed = DEMO.workers[1]  # Schelde Gent, and Leie Kortrijk
    assert await set_password(client, mohamed.login) == 204
    body = {"login": mohamed.login, "password": FIRST}
    first = (await client.post("/v1/jobtracker/sessions", json=body)).json()
    assert [e["company_id"] for e in first["employers"]] == [SCHELDE, LEIE]
    assert first["worker"]["company_id"] == SCHELDE

    for_leie = await client.post("/v1/jobtracker/sessions", json={**body, "company_id": LEIE})
    keys = KeySet.import_key_set((await client.get("/jobtracker/jwks.json")).json())
    assert jwt.decode(for_leie.json()["access_token"], keys).claims["company_id"] == LEIE
    again = await client.post(
        "/v1/jobtracker/sessions/refresh", json={"refresh_token": for_leie.json()["refresh_token"]}
    )
    assert again.json()["worker"]["company_id"] == LEIE, "a refresh keeps the employer"

    not_his = await client.post(
        "/v1/jobtracker/sessions", json={**body, "company_id": "0403170701"}
    )
    assert not_his.status_code == 422
    assert not_his.json()["errors"] == [
        {"field": "company_id", "reason": "not one of your employers"}
    ]


async def test_three_wrong_passwords_block_until_the_company_unblocks(
    client: httpx.AsyncClient,
) -> None:
    assert await set_password(client, SOFIE.login) == 204
    first, second = await log_in(client, "wrong-0001"), await log_in(client, "wrong-0002")
    unknown = await log_in(client, "wrong-0001", login="980999999999")
    assert first.status_code == second.status_code == unknown.status_code == 401
    assert first.json() == unknown.json(), "an unknown login answers as a wrong password does"
    assert (await log_in(client, "wrong-0003")).status_code == 423
    assert (await log_in(client, FIRST)).status_code == 423, "blocked, even the right password"

    account = await client.get(f"/v1/workers/{SOFIE.login}/account", headers=as_(SCHELDE_STAFF))
    assert account.json()["blocked_at"] is not None
    audit = await client.get(f"/v1/companies/{SCHELDE}/audit-log")
    actions = [e["action"] for e in audit.json() if e["details"].get("login") == SOFIE.login]
    assert actions[:2] == ["worker-blocked", "worker-password-set"]

    unblocked = await client.post(f"/v1/workers/{SOFIE.login}/unblock", headers=as_(SCHELDE_STAFF))
    assert unblocked.status_code == 204
    assert (await log_in(client, FIRST)).status_code == 200
    audit = await client.get(f"/v1/companies/{SCHELDE}/audit-log")
    assert audit.json()[0]["action"] == "worker-unblocked"


async def test_a_refresh_token_serves_once_and_its_reuse_ends_the_session(
    client: httpx.AsyncClient,
) -> None:
    assert await set_password(client, SOFIE.login) == 204
    stolen = (await log_in(client, FIRST)).json()["refresh_token"]

    async def refresh(token: str) -> httpx.Response:
        return await client.post("/v1/jobtracker/sessions/refresh", json={"refresh_token": token})

    rotated = await refresh(stolen)
    assert rotated.status_code == 200, rotated.text
    next_token = rotated.json()["refresh_token"]
    assert next_token != stolen
    assert (await refresh(stolen)).status_code == 401, "used twice"
    assert (await refresh(next_token)).status_code == 401, "the whole session ended"
    assert (await refresh("made-up")).status_code == 401

    again = (await log_in(client, FIRST)).json()["refresh_token"]
    ended = await client.delete(f"/v1/workers/{SOFIE.login}/sessions", headers=as_(SCHELDE_STAFF))
    assert ended.status_code == 204
    assert (await refresh(again)).status_code == 401, "a lost phone: the company ended it"


async def test_staff_reach_only_their_own_workers(client: httpx.AsyncClient) -> None:
    body = {"password": FIRST}
    marie = f"/v1/workers/{MARIE.login}/password"
    gent = await client.put(marie, json=body, headers=as_(SCHELDE_GENT_STAFF))
    other = await client.put(marie, json=body, headers=as_(LEIE_LEGAL_REPRESENTATIVE))
    manager = await client.put(marie, json=body, headers=as_(SCHELDE_MAIN_ACCESS_MANAGER))
    assert (gent.status_code, other.status_code, manager.status_code) == (404, 404, 404)
    sofie = f"/v1/workers/{SOFIE.login}/password"
    assert (await client.put(sofie, json=body, headers=as_(SCHELDE_GENT_STAFF))).status_code == 204
    weak = await client.put(
        sofie, json={"password": SOFIE.login + "a1"}, headers=as_(SCHELDE_STAFF)
    )
    assert weak.status_code == 422
    assert (await log_in(client, FIRST, login="980999999999")).status_code == 401


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("kort1", "at least 10"),
        ("alleenletters", "letters and digits"),
        ("1234567890", "letters and digits"),
        ("x980100000001y", "login"),
        ("a1a1a1a1a1a1", "too easy"),
        ("een-goed-wachtwoord-7", None),
    ],
)
def test_password_rules(password: str, reason: str | None) -> None:
    found = credentials.password_error(password, login=SOFIE.login)
    assert (found is None) if reason is None else (found is not None and reason in found)


def test_a_password_is_kept_only_as_its_argon2_hash() -> None:
    stored = credentials.hashed(OWN)
    assert stored.startswith("$argon2id$") and OWN not in stored
    assert credentials.matches(stored, OWN) and not credentials.matches(stored, FIRST)
