"""What every answer of the portal says to the browser: a Content-Security-Policy without inline
scripts, no framing, no sniffing, no referrer to other sites; the session cookie HttpOnly and
SameSite=Lax, and, once the portal is served over https, Secure with HSTS."""

from collections.abc import AsyncIterator

import httpx
import pytest

from dc_gateway.api import create_app
from dc_gateway.settings import GatewaySettings
from tests.support.platform import Platform
from tests.support.servers import serving

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]


def directives(policy: str) -> dict[str, str]:
    parts = (part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    return {name: rest for name, rest in parts}


def assert_page_headers(response: httpx.Response) -> None:
    policy = directives(response.headers["content-security-policy"])
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "same-origin"


async def test_the_login_page_and_its_cookie_over_http(platform: Platform) -> None:
    answer = await platform.anonymous.get("/login", follow_redirects=False)
    assert answer.status_code == 303
    assert_page_headers(answer)
    assert "strict-transport-security" not in answer.headers  # plain http: no promise of TLS
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    assert "secure" not in cookie.split(";")[1:]


@pytest.fixture
async def over_https(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway as it runs behind TLS (its portal URL https)."""
    settings = GatewaySettings(
        portal_url="https://portal.example.invalid",
        services_url=platform.internal_urls["services-mgmt"],
        imports_url=platform.internal_urls["imports"],
        wallet_url=platform.internal_urls["wallet"],
        identity_url=platform.identity_url,
        oidc_issuer=platform.identity_url,
    )
    async with serving(create_app(settings)) as url, httpx.AsyncClient(base_url=url) as client:
        yield client


async def test_behind_tls_the_cookie_is_secure_and_hsts_is_sent(
    over_https: httpx.AsyncClient,
) -> None:
    answer = await over_https.get("/login", follow_redirects=False)
    assert_page_headers(answer)
    assert answer.headers["strict-transport-security"].startswith("max-age=31536000")
    attributes = [part.strip() for part in answer.headers["set-cookie"].lower().split(";")]
    assert {"secure", "httponly", "samesite=lax"} <= set(attributes)
