"""Traces: a registration through the gateway is one trace, from the gateway's request through
services-mgmt's API and its Temporal call to the lifecycle workflow and the projection activity
it runs. The spans are read from an in-memory exporter (the test platform runs every process
here, so one tracer provider sees them all)."""

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from dc_identity.demo import SCHELDE_STAFF
from dc_workflows.contracts.lifecycle import ActivityName
from tests.support.platform import Platform
from tests.support.services import demo_registration
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]


@pytest.fixture(scope="module")
def spans() -> Iterator[InMemorySpanExporter]:
    """The process's tracer provider (set once per process): afterwards it keeps nothing."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    yield exporter
    provider.shutdown()


@pytest.fixture
async def staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with platform.as_person(SCHELDE_STAFF.national_number) as client:
        yield client


def of_trace(exporter: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [
        s for s in exporter.get_finished_spans() if s.context and s.context.trace_id == trace_id
    ]


async def test_a_registration_is_one_trace_from_the_gateway_to_the_projection(
    spans: InMemorySpanExporter, staff: httpx.AsyncClient
) -> None:
    spans.clear()
    response = await staff.post("/api/v1/services", json=demo_registration(hours=1))
    assert response.status_code == 201, response.text
    projection = f"RunActivity:{ActivityName.PROJECT_SERVICE.value}"

    async def projected() -> bool:
        return any(s.name == projection for s in spans.get_finished_spans())

    await eventually(projected)
    [gateway] = [
        s
        for s in spans.get_finished_spans()
        if s.name == "POST /api/v1/services" and s.kind == trace.SpanKind.SERVER
    ]
    assert gateway.context is not None
    names = {s.name for s in of_trace(spans, gateway.context.trace_id)}
    expected = {
        "POST /api/v1/services",  # the gateway
        "POST /v1/services",  # services-mgmt's API, called by the gateway
        "StartUpdateWithStartWorkflow:ServiceLifecycle",  # its Temporal client
        "RunWorkflow:ServiceLifecycle",  # the lifecycle, on the services-mgmt worker
        "HandleUpdate:registered",
        projection,
    }
    assert expected <= names, sorted(names)
