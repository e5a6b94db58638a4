"""Bad requests get a precise problem, never a server error: the cases schemathesis found
against the gateway's OpenAPI (page numbers beyond any list, path ids that are not text)."""

from collections.abc import AsyncIterator

import httpx
import pytest

from dc_identity.demo import OPERATOR, SCHELDE_STAFF
from tests.integration.portal_support import chromium, signed_in
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


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/reimbursement-requests?offset={HUGE}",
        f"/api/v1/companies/0712345630/audit-log?before_id={HUGE}",
    ],
)
async def test_an_offset_or_row_id_beyond_any_database_is_refused(
    platform: Platform, path: str
) -> None:
    async with platform.as_person(OPERATOR.national_number) as operator:
        assert_problem(await operator.get(path), 422)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/companies/0403170701/audit-log.csv",
        "/api/v1/companies/%C3%A1%C2%84/audit-log.csv",
        "/api/v1/companies/5032981020/workers",
        "/api/v1/users/0/wallet/payments.csv",
    ],
)
async def test_a_list_or_export_of_an_unknown_or_unreadable_id_is_not_found(
    platform: Platform, path: str
) -> None:
    async with platform.as_person(OPERATOR.national_number) as operator:
        assert_problem(await operator.get(path), 404)


@pytest.mark.parametrize("path", ["/api/v1/imports/%FF%FE", "/api/v1/workers/%C3%28"])
async def test_a_path_id_that_is_not_text_is_not_found(staff: httpx.AsyncClient, path: str) -> None:
    assert_problem(await staff.get(path), 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/imports/%1A/rows",
        "/api/v1/imports/%C2%8C%C3%8AM%F3%A9%B4%A2%03g/errors.csv",
        "/api/v1/workers/o%01%C3%B2/sessions",
        "/api/v1/reimbursement-requests/%1A%C3%BD/statement.pdf",
        "/api/v1/workers/50%25%3Fx",
    ],
)
async def test_a_path_id_with_control_characters_or_escapes_is_one_unknown_id(
    staff: httpx.AsyncClient, path: str
) -> None:
    method = "DELETE" if path.endswith("/sessions") else "GET"
    assert_problem(await staff.request(method, path), 404)


@pytest.mark.parametrize("path", ["/collections/%1A%C3%BD", "/imports/%01x/rows.csv"])
async def test_a_portal_page_of_an_id_with_control_characters_is_not_found(
    platform: Platform, path: str
) -> None:
    async with (
        chromium() as browser,
        signed_in(browser, platform.gateway_url, SCHELDE_STAFF) as page,
    ):
        answer = await page.request.get(f"{platform.gateway_url}{path}")
    assert answer.status == 404, await answer.text()


@pytest.fixture
async def small_gateway(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """A gateway in front of the platform's services that takes bodies of 2 KiB, uploads of 8."""
    from dc_gateway.api import create_app
    from tests.support.platform import second_gateway
    from tests.support.servers import serving

    settings = second_gateway(platform, max_body_bytes=2048, max_upload_bytes=8192)
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
