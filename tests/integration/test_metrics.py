"""Metrics, as Prometheus scrapes them from a process's operations port: a registration through
the API moves the request counters and latencies of the gateway and of services-mgmt by one
each, labelled by route template (no id in any label), and the projections it causes count by
status. The test platform runs every API and worker in this process, so one registry holds the
series of them all."""

from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from dc_common.ops import ops_app
from dc_identity.demo import SCHELDE_STAFF
from tests.support.platform import Platform
from tests.support.services import demo_registration
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape() -> Samples:
    transport = httpx.ASGITransport(app=ops_app({}))
    async with httpx.AsyncClient(transport=transport, base_url="http://ops") as ops:
        response = await ops.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    key = (name, frozenset(labels.items()))
    return after.get(key, 0.0) - before.get(key, 0.0)


@pytest.fixture
async def staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with platform.as_person(SCHELDE_STAFF.national_number) as client:
        yield client


async def register(staff: httpx.AsyncClient) -> str:
    response = await staff.post("/api/v1/services", json=demo_registration())
    assert response.status_code == 201, response.text
    service_id: str = response.json()["id"]
    return service_id


async def test_a_registration_moves_the_counters_and_latencies_it_went_through(
    staff: httpx.AsyncClient,
) -> None:
    before = await scrape()
    service_id = await register(staff)
    gateway = {"app": "gateway", "method": "POST", "route": "/api/v1/services"}
    after: Samples = {}

    async def counted() -> bool:  # a request counts once its answer's last byte is sent
        nonlocal after
        after = await scrape()
        return moved(before, after, "dc_http_requests_total", **gateway, status="201") == 1

    await eventually(counted)
    assert moved(before, after, "dc_http_request_duration_seconds_count", **gateway) == 1
    internal = {"app": "services-mgmt", "method": "POST", "route": "/v1/services"}
    assert moved(before, after, "dc_http_requests_total", **internal, status="201") == 1
    assert moved(before, after, "dc_http_request_duration_seconds_count", **internal) == 1
    assert moved(before, after, "dc_services_projected_total", status="1") >= 1
    assert not any(service_id in value for _, labels in after for _, value in labels)

    await staff.get(f"/api/v1/services/{service_id}")

    async def counted_by_template() -> bool:
        later = await scrape()
        route = {"app": "gateway", "method": "GET", "route": "/api/v1/services/{service_id}"}
        return moved(after, later, "dc_http_requests_total", **route, status="200") == 1

    await eventually(counted_by_template)


async def test_the_temporal_sdk_s_own_metrics_are_served_beside_them(
    staff: httpx.AsyncClient,
) -> None:
    """Workflow tasks and activities, counted and timed by the SDK of the worker that ran them."""
    await register(staff)  # a workflow task and its local activities on the services worker

    async def sdk_series() -> bool:
        names = {name for name, _ in await scrape()}
        return {
            "temporal_workflow_task_execution_latency_milliseconds_count",
            "temporal_local_activity_execution_latency_milliseconds_count",
            "temporal_request_total",
        } <= names

    await eventually(sdk_series)
