"""Login attempts per address: past the gateway's rate, the Jobtracker's logins, refreshes and
password changes, and the portal's logins, are refused with 429 and ``Retry-After`` before
identity is asked (so the right password does not pass either), in the caller's language; an
attempt from another address still passes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dc_gateway.api import create_app
from tests.support.platform import Platform, second_gateway
from tests.support.servers import serving

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

RATE = 3
#: uvicorn trusts ``X-Forwarded-For`` from loopback, as from the proxy in front of a gateway.
ELSEWHERE = {"X-Forwarded-For": "203.0.113.7"}


@pytest.fixture
async def gateway(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway in front of the platform that takes 3 logins a minute from one address."""
    settings = second_gateway(platform, login_attempts_per_address=f"{RATE}/minute")
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


def wrong_login(number: int) -> dict[str, str]:
    # Logins of nobody: each answered 401, none of them blocks an account.
    return {"login": f"98099999{number:04d}", "password": "not the password 1"}


async def test_logins_past_the_rate_of_an_address_are_refused_in_its_language(
    gateway: httpx.AsyncClient,
) -> None:
    sessions = "/api/v1/jobtracker/sessions"
    for number in range(RATE):
        answer = await gateway.post(sessions, json=wrong_login(number))
        assert answer.status_code == 401, answer.text

    refused = await gateway.post(sessions, json=wrong_login(99), headers={"Accept-Language": "nl"})

    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["title"] == "Te veel aanmeldpogingen vanaf dit adres"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    for path, body in (
        ("/api/v1/jobtracker/sessions/refresh", {"refresh_token": "x" * 40}),
        (
            "/api/v1/jobtracker/password",
            {"login": "980999990042", "password": "x", "new_password": "Another one 42"},
        ),
    ):
        also = await gateway.post(path, json=body)
        assert also.status_code == 429, (path, also.text)
    portal = await gateway.get("/login", follow_redirects=False)
    assert portal.status_code == 429
    assert "Te veel aanmeldpogingen" in portal.text, "in Dutch, the portal's first language"
    assert portal.headers["retry-after"]

    elsewhere = await gateway.post(sessions, json=wrong_login(100), headers=ELSEWHERE)
    assert elsewhere.status_code == 401, "another address has its own count"


async def test_the_portal_says_so_on_a_page_in_the_browser_s_language(
    gateway: httpx.AsyncClient,
) -> None:
    headers = {"Accept-Language": "fr-BE,fr;q=0.9"}
    for _ in range(RATE):
        started = await gateway.get("/login", headers=headers, follow_redirects=False)
        assert started.status_code in (302, 303, 307), started.text

    refused = await gateway.get("/login", headers=headers, follow_redirects=False)

    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("text/html")
    assert "Trop de tentatives de connexion" in refused.text
    callback = await gateway.get("/auth/callback", params={"code": "c", "state": "s"})
    assert callback.status_code == 429
