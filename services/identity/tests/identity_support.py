"""Shared by the identity tests on roles, rights and the development identity provider.

Import it as ``services.identity.tests.identity_support`` (the repository root is on the path).
"""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from dc_identity.api import create_app
from dc_identity.demo import OPERATOR, SCHELDE, DemoPerson
from dc_identity.settings import IdentitySettings
from tests.support.servers import empty_database, in_process


def temporary_database(dialect: str, tmp_path: Path) -> AbstractAsyncContextManager[str]:
    """A fresh, empty identity database URL (SQLite or PostgreSQL)."""
    return empty_database(dialect, tmp_path, "identity")


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> IdentitySettings:
    """Demo data on, the development identity provider on, its key file under ``tmp_path``."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "demo_data": True,
        "dev_idp": True,
        "dev_idp_key_file": tmp_path / "var" / "dev-idp-key.json",
        "jobtracker_key_file": tmp_path / "var" / "jobtracker-key.json",
    }
    values.update(overrides)
    return IdentitySettings(**values)


def running(settings: IdentitySettings) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The identity app, its lifespan run, called in this process."""
    return in_process(create_app(settings), "http://identity", settings.internal_token)


@asynccontextmanager
async def demo_identity(dialect: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """Identity with the demo directory on a fresh database of that dialect, in this process."""
    async with (
        temporary_database(dialect, tmp_path) as url,
        running(settings_for(url, tmp_path)) as client,
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
