"""Prometheus metrics of a process: every HTTP request counted and timed by its route, served
as ``GET /metrics`` in Prometheus' text format on the process's operations port
(:mod:`dc_common.ops`), never on the port of its API (the gateway's is public). Business
counters are defined where their events happen, in the same registry of the process.

Routes are labelled by their template (``/v1/services/{service_id}``), never by their path: an
id in a label would make a series per service."""

from time import perf_counter

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUESTS = Counter(
    "dc_http_requests", "HTTP requests answered", ["app", "method", "route", "status"]
)
LATENCY = Histogram(
    "dc_http_request_duration_seconds",
    "Time from a request to the end of its answer",
    ["app", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
UNMATCHED = "unmatched"


class HttpMetrics:
    """ASGI middleware: counts and times each request (streamed answers to their last byte)."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = route_of(scope)
            LATENCY.labels(self.name, scope["method"], route).observe(perf_counter() - started)
            REQUESTS.labels(self.name, scope["method"], route, str(status)).inc()


def route_of(scope: Scope) -> str:
    """The template of the route that answered (mounted apps' routes with their mount path)."""
    route = scope.get("route")
    template = getattr(route, "path", None)
    if not isinstance(template, str):
        return UNMATCHED
    return f"{scope.get('root_path', '')}{template}"


def instrument(app: FastAPI, name: str) -> None:
    """Measure every request of ``app`` (``name`` labels its series)."""
    app.add_middleware(HttpMetrics, name=name)


def add_metrics_route(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
