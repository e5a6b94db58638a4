"""One request can be followed through the logs: the gateway keeps the caller's X-Request-ID
(or makes one), answers it, passes it to the services it calls, and every log line of the
request in each of them carries it; a made-up header that is no id is replaced."""

import re
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog

from dc_identity.demo import SCHELDE_STAFF
from tests.support.platform import Platform
from tests.support.services import demo_registration

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]


@pytest.fixture
async def staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with platform.as_person(SCHELDE_STAFF.national_number) as client:
        yield client


async def test_a_request_id_follows_the_request_through_every_service_s_log(
    staff: httpx.AsyncClient,
) -> None:
    body = demo_registration(hours=3)
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as events:
        response = await staff.post(
            "/api/v1/services", json=body, headers={"X-Request-ID": "follow-me-42"}
        )
    assert response.status_code == 201, response.text
    assert response.headers["x-request-id"] == "follow-me-42"
    lines = [e for e in events if e.get("request_id") == "follow-me-42"]
    access = {(e["app"], e["route"], e["status"]) for e in lines if e["event"] == "request"}
    assert ("gateway", "/api/v1/services", 201) in access
    assert ("services-mgmt", "/v1/services", 201) in access
    assert ("identity", "/v1/people/access", 200) in access  # the gateway looked the caller up
    assert all(e.get("request_id") for e in events if e["event"] == "request")


async def test_a_header_that_is_no_id_is_replaced_by_a_new_one(
    staff: httpx.AsyncClient,
) -> None:
    response = await staff.get("/api/v1/me", headers={"X-Request-ID": "<script>" + "x" * 100})
    assert response.status_code == 200
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
