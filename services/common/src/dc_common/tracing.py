"""OpenTelemetry traces: one trace from a call to the gateway through the internal APIs, the
Temporal client, the workflow and its activities (the SDK's tracing interceptor, on every client
:func:`dc_workflows.temporal.connect` makes and so on every worker).

Every process is instrumented (its FastAPI app, its httpx clients, its Temporal client); spans are
exported only when the environment names an OTLP endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``, OTLP over HTTP, with the exporter's other standard
``OTEL_`` variables). Off by default: without a tracer provider the instrumentation records
nothing. Probes and scrapes (``/healthz``, ``/readyz``, ``/metrics``) are not traced.
"""

import os

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
NOT_TRACED = "healthz,readyz,metrics"


def configure_tracing(service: str) -> bool:
    """Export this process's spans, named ``service``, when an endpoint is set; True if so."""
    if not any(os.environ.get(name) for name in ENDPOINT_VARIABLES):
        return False
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return True


def instrument_app(app: FastAPI, service: str) -> None:
    """Trace every request of ``app`` and every call of the process's httpx clients (the
    context travels in ``traceparent`` to the service called), and export them if configured."""
    configure_tracing(service)
    FastAPIInstrumentor.instrument_app(app, excluded_urls=NOT_TRACED)
    instrumentor = HTTPXClientInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument()
