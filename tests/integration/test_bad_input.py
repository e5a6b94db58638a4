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
