"""Bad requests get a precise problem, never a server error: the cases schemathesis found
against the gateway's OpenAPI (page numbers beyond any list, path ids that are not text)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from dc_identity.demo import SCHELDE_STAFF
from tests.support.platform import Platform

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

HUGE = str(10**30)


@pytest.fixture
async def staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with platform.as_person(SCHELDE_STAFF.national_number) as client:
        yield client


def assert_problem(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if field is not None:
        assert [error["field"] for error in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/services",
        "/api/v1/imports",
        "/api/v1/imports/00000000-0000-4000-8000-000000000000/rows",
    ],
)
@pytest.mark.parametrize("page", [HUGE, "1000001"])
async def test_a_page_beyond_any_list_is_refused_naming_the_page(
    staff: httpx.AsyncClient, path: str, page: str
) -> None:
    assert_problem(await staff.get(path, params={"page": page}), 422, "page")


@pytest.mark.parametrize("path", ["/api/v1/imports/%FF%FE", "/api/v1/workers/%C3%28"])
async def test_a_path_id_that_is_not_text_is_not_found(staff: httpx.AsyncClient, path: str) -> None:
    assert_problem(await staff.get(path), 404)


@pytest.fixture
async def small_gateway(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway in front of the platform's services that takes bodies of 2 KiB, uploads of 8."""
    from dc_gateway.api import create_app
    from dc_gateway.settings import GatewaySettings
    from tests.support.servers import serving

    settings = GatewaySettings(
        services_url=platform.internal_urls["services-mgmt"],
        imports_url=platform.internal_urls["imports"],
        wallet_url=platform.internal_urls["wallet"],
        identity_url=platform.identity_url,
        oidc_issuer=platform.identity_url,
        max_body_bytes=2048,
        max_upload_bytes=8192,
    )
    token = await platform.token(SCHELDE_STAFF.national_number)
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        serving(create_app(settings)) as url,
        httpx.AsyncClient(base_url=url, headers=headers) as client,
    ):
        yield client


async def test_a_body_larger_than_its_route_takes_is_refused_unread(
    small_gateway: httpx.AsyncClient,
) -> None:
    too_long = {"company_id": "0712345630", "note": "x" * 4096}
    assert_problem(await small_gateway.post("/api/v1/services", json=too_long), 413, "body")

    async def chunks() -> AsyncIterator[bytes]:  # no length declared: counted as it comes
        for _ in range(8):
            yield b"x" * 1024

    chunked = await small_gateway.post(
        "/api/v1/services", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert chunked.status_code in (400, 413), chunked.text


async def test_an_upload_may_be_larger_than_a_body_but_not_than_its_own_limit(
    small_gateway: httpx.AsyncClient,
) -> None:
    form = {"kind": "services", "company_id": "0712345630"}
    big = await small_gateway.post(
        "/api/v1/imports", data=form, files={"file": ("big.csv", b"a;b\n" * 4096, "text/csv")}
    )
    assert_problem(big, 413, "body")
    fits = await small_gateway.post(
        "/api/v1/imports", data=form, files={"file": ("fits.csv", b"a;b\n" * 1024, "text/csv")}
    )
    assert fits.status_code != 413, fits.text
