"""The internal read API, through HTTP, on a fresh database (SQLite, and PostgreSQL if running)."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from sqlalchemy import func, select

from dc_common.db import Database
from dc_identity.demo import DEMO, LEIE, SCHELDE, load_demo
from dc_identity.models import Base, Branch, Company, User, Worker
from dc_identity.settings import IdentitySettings
from services.identity.tests.identity_support import running
from tests.support.problems import assert_problem

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'identity.db'}"
        return
    name = f"dc_identity_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = await asyncpg.connect(POSTGRES_ADMIN, timeout=2)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.skip(f"PostgreSQL not available at 127.0.0.1:5432: {error}")
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with running(IdentitySettings(database_url=database_url, demo_data=True)) as client:
        yield client


async def count_rows(database_url: str) -> dict[str, int]:
    database = Database(database_url)
    try:
        async with database.sessions() as session:
            return {
                model.__tablename__: await session.scalar(select(func.count()).select_from(model))
                or 0
                for model in (Company, Branch, Worker, User)
            }
    finally:
        await database.dispose()


# --- health ---------------------------------------------------------------------------------


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- workers --------------------------------------------------------------------------------


async def test_get_worker(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/workers/980100000001")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "login": "980100000001",
        "national_number": "85031212461",
        "first_name": "Sofie",
        "last_name": "Janssens",
        "company_id": "0712345630",
        "branch_id": "2234567818",
        "contract_start": "2018-03-01",
        "contract_end": None,
        "language": "nl",
        "employers": [
            {
                "company_id": "0712345630",
                "branch_id": "2234567818",
                "name": "Huishoudhulp Schelde bv",
            }
        ],
    }


async def test_a_worker_of_two_companies_has_both_employers(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/workers/980100000002")).json()
    assert body["employers"] == [
        {"company_id": "0712345630", "branch_id": "2234567818", "name": "Huishoudhulp Schelde bv"},
        {"company_id": "0823456754", "branch_id": "2345678942", "name": "Poetsdienst Leie vzw"},
    ]


async def test_get_worker_with_ended_contract(client: httpx.AsyncClient) -> None:
    body = (await client.get("/v1/workers/980100000004")).json()
    assert body["contract_start"] == "2017-02-01"
    assert body["contract_end"] == "2024-06-30"


async def test_every_demo_worker_is_served(client: httpx.AsyncClient) -> None:
    for worker in DEMO.workers:
        body = (await client.get(f"/v1/workers/{worker.login}")).json()
        assert body["national_number"] == worker.national_number
        assert body["company_id"] == worker.company_id
        assert body["branch_id"] == worker.branch_id


async def test_unknown_worker_is_404(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.get("/v1/workers/980999999999"), 404, "login")
    assert body["title"] == "Not found"


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("123456789012", "must start with 980"),
        ("98010000000", "must be exactly 12 digits"),
        ("9801000000011", "must be exactly 12 digits"),
        ("98010000000x", "must be exactly 12 digits"),
    ],
)
async def test_malformed_login_is_422(client: httpx.AsyncClient, login: str, reason: str) -> None:
    body = assert_problem(await client.get(f"/v1/workers/{login}"), 422, "login")
    assert body["errors"] == [{"field": "login", "reason": reason}]


# --- users ----------------------------------------------------------------------------------


async def test_get_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/users/100000000001")
    assert response.status_code == 200
    assert response.json() == {
        "user_number": "100000000001",
        "name": "An Peeters",
        "email": "an.peeters@example.org",
        "language": "nl",
    }
    assert (await client.get("/v1/users/100000000004")).json()["name"] == "Jürgen Weber"


async def test_unknown_user_is_404(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/users/999999999999"), 404, "user_number")


async def test_malformed_user_number_is_422(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/v1/users/12345"), 422, "user_number")


# --- companies ------------------------------------------------------------------------------


async def test_get_company_with_its_branches(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/companies/{SCHELDE}")
    assert response.status_code == 200
    assert response.json() == {
        "enterprise_number": "0712345630",
        "recognition_number": "10501",
        "name": "Huishoudhulp Schelde bv",
        "branches": [
            {"establishment_unit_number": "2234567818", "name": "Huishoudhulp Schelde Gent"},
            {"establishment_unit_number": "2234567917", "name": "Huishoudhulp Schelde Antwerpen"},
        ],
    }
    other = (await client.get(f"/v1/companies/{LEIE}")).json()
    assert [b["establishment_unit_number"] for b in other["branches"]] == ["2345678942"]


async def test_unknown_company_is_404(client: httpx.AsyncClient) -> None:
    # 0403170701 is a valid enterprise number that is not in the directory.
    assert_problem(await client.get("/v1/companies/0403170701"), 404, "enterprise_number")
    assert_problem(await client.get("/v1/companies/0403170701/workers"), 404, "enterprise_number")


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("0712345631", "check digits do not match (mod 97)"),
        ("071234563", "must be exactly 10 digits"),
        ("0712.345.630", "must be exactly 10 digits"),
    ],
)
async def test_invalid_enterprise_number_is_422(
    client: httpx.AsyncClient, number: str, reason: str
) -> None:
    for path in (f"/v1/companies/{number}", f"/v1/companies/{number}/workers"):
        body = assert_problem(await client.get(path), 422, "enterprise_number")
        assert body["errors"] == [{"field": "enterprise_number", "reason": reason}]


async def test_company_workers_sorted_by_last_then_first_name(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/companies/{SCHELDE}/workers")
    assert response.status_code == 200
    workers = response.json()
    assert [(w["last_name"], w["first_name"]) for w in workers] == [
        ("De Smet", "Jan"),
        ("Dubois", "Marie"),
        ("El Amrani", "Mohamed"),
        ("Janssens", "Sofie"),
    ]
    detail = (await client.get("/v1/workers/980100000004")).json()
    assert workers[0] == {name: value for name, value in detail.items() if name != "employers"}
    others = (await client.get(f"/v1/companies/{LEIE}/workers")).json()
    assert [w["login"] for w in others] == ["980200000002", "980200000001"]  # Pereira, Schmitz


# --- demo loading ---------------------------------------------------------------------------


EXPECTED_COUNTS = {"companies": 2, "branches": 3, "workers": 6, "users": 5}


async def test_demo_data_loaded_twice_stays_single(database_url: str) -> None:
    settings = IdentitySettings(database_url=database_url, demo_data=True)
    async with running(settings) as client:
        assert (await client.get("/v1/workers/980100000001")).status_code == 200
    assert await count_rows(database_url) == EXPECTED_COUNTS

    async with running(settings) as client:  # a restart loads the demo again
        workers = (await client.get(f"/v1/companies/{SCHELDE}/workers")).json()
        assert len(workers) == 4
    database = Database(database_url)
    try:
        await load_demo(database)  # and once more, directly
    finally:
        await database.dispose()
    assert await count_rows(database_url) == EXPECTED_COUNTS


async def test_demo_loading_keeps_existing_rows(database_url: str) -> None:
    database = Database(database_url)
    try:
        async with database.engine.begin() as connection:
            await connection.run_sync(Base.metadata.create_all)
        async with database.transaction() as session:
            session.add(Company(enterprise_number=SCHELDE, recognition_number="10501", name="X"))
        await load_demo(database)
    finally:
        await database.dispose()
    settings = IdentitySettings(database_url=database_url, demo_data=True)
    async with running(settings) as client:
        assert (await client.get(f"/v1/companies/{SCHELDE}")).json()["name"] == "X"
    assert await count_rows(database_url) == EXPECTED_COUNTS


async def test_without_demo_data_the_directory_is_empty(database_url: str) -> None:
    async with running(IdentitySettings(database_url=database_url)) as client:
        assert (await client.get("/healthz")).status_code == 200
        assert_problem(await client.get("/v1/workers/980100000001"), 404, "login")
    assert await count_rows(database_url) == dict.fromkeys(EXPECTED_COUNTS, 0)


# --- settings -------------------------------------------------------------------------------


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DC_IDENTITY_DATABASE_URL",
        "DC_DEMO_DATA",
        "DC_IDENTITY_HOST",
        "DC_IDENTITY_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = IdentitySettings()
    assert settings.database_url == "sqlite+aiosqlite:///var/identity.db"
    assert settings.demo_data is False
    assert (settings.host, settings.port) == ("127.0.0.1", 8001)


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DC_IDENTITY_DATABASE_URL", "postgresql+asyncpg://db/identity")
    monkeypatch.setenv("DC_DEMO_DATA", "true")
    monkeypatch.setenv("DC_IDENTITY_HOST", "0.0.0.0")
    monkeypatch.setenv("DC_IDENTITY_PORT", "9001")
    monkeypatch.setenv("DC_DATABASE_URL", "sqlite+aiosqlite:///wrong.db")  # not ours
    monkeypatch.setenv("DC_LOG_JSON", "1")
    settings = IdentitySettings()
    assert settings.database_url == "postgresql+asyncpg://db/identity"
    assert settings.demo_data is True
    assert (settings.host, settings.port) == ("0.0.0.0", 9001)
    assert settings.log_json is True
