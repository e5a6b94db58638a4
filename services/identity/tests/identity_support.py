"""Shared by the identity tests on roles, rights and the development identity provider.

Import it as ``services.identity.tests.identity_support`` (the repository root is on the path).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from dc_common.internal import internal_headers
from dc_identity.api import create_app
from dc_identity.demo import OPERATOR, SCHELDE, DemoPerson
from dc_identity.settings import IdentitySettings
from tests.support.servers import postgres_database, postgres_unavailable_reason

PROBLEM_JSON = "application/problem+json"
DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@asynccontextmanager
async def temporary_database(dialect: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database URL: a SQLite file under ``tmp_path`` or a new PostgreSQL
    database (skips the test when no PostgreSQL server is running)."""
    if dialect == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'var' / 'identity.db'}"
        return
    if reason := await postgres_unavailable_reason():
        pytest.skip(reason)
    async with postgres_database("dc_identity_test") as url:
        yield url


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> IdentitySettings:
    """Demo data on, the development identity provider on, its key file under ``tmp_path``."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "demo_data": True,
        "dev_idp": True,
        "dev_idp_key_file": tmp_path / "var" / "dev-idp-key.json",
    }
    values.update(overrides)
    return IdentitySettings(**values)


@asynccontextmanager
async def running(settings: IdentitySettings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan run (ASGITransport alone does not run it)."""
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=transport,
            base_url="http://identity",
            headers=internal_headers(settings.internal_token),
        ) as client,
    ):
        yield client


def as_(person: DemoPerson | str | None, *, company: str = SCHELDE) -> dict[str, str]:
    """The acting party as the gateway names it (``dc_gateway.parties.acting_as``): the operator
    as an operator, anyone else for a company (identity decides by the person acting, their
    national number in ``X-Actor-Person``; ``None``: no person)."""
    number = person if isinstance(person, str | None) else person.national_number
    if number == OPERATOR.national_number:
        headers = {"X-Actor-Kind": "operator", "X-Actor-Id": number}
    else:
        headers = {"X-Actor-Kind": "company", "X-Actor-Id": company}
    if number is not None:
        headers["X-Actor-Person"] = number
    return headers


async def access_of(client: httpx.AsyncClient, national_number: str) -> httpx.Response:
    """``POST /v1/people/access``: who the person is for the platform."""
    return await client.post("/v1/people/access", json={"national_number": national_number})


async def lookup(client: httpx.AsyncClient, national_number: str) -> httpx.Response:
    """``POST /v1/people/lookup``: the person."""
    return await client.post("/v1/people/lookup", json={"national_number": national_number})


def assert_problem(
    response: httpx.Response, status: int, field: str | None = None
) -> dict[str, Any]:
    """A problem document with this status (and naming this field, when given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    if field is not None:
        assert body["detail"].startswith(f"{field}: "), body
        assert [error["field"] for error in body["errors"]] == [field], body
    return body
