"""Prometheus metrics of a process: every HTTP request counted and timed by its route, served
as ``GET /metrics`` in Prometheus' text format on the process's operations port
(:mod:`dc_common.ops`), never on the port of its API (the gateway's is public). Business
counters are defined where their events happen, in the same registry of the process.

Routes are labelled by their template (``/v1/services/{service_id}``), never by their path: an
id in a label would make a series per service."""

import re
import uuid
from time import perf_counter

import structlog
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
#: Probes and scrapes: counted, not logged.
QUIET = ("/healthz", "/readyz", "/metrics")

log = structlog.get_logger(__name__)


#: The header naming a request across the services it reaches.
REQUEST_ID = "x-request-id"
_REQUEST_ID_BYTES = REQUEST_ID.encode()
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class HttpMetrics:
    """ASGI middleware, every request: its id (the caller's ``X-Request-ID`` when it is one, a
    new one otherwise) bound to every log line of the request, answered in ``X-Request-ID`` and
    passed on by the gateway to the services it calls; counted and timed (streamed answers to
    their last byte); and one structured access line (the route's template, never its path)."""

    def __init__(self, app: ASGIApp, name: str) -> None:
        self.app = app
        self.name = name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        request_id = _request_id(scope)
        headers = [(k, v) for k, v in scope["headers"] if k != _REQUEST_ID_BYTES]
        scope = {**scope, "headers": [*headers, (_REQUEST_ID_BYTES, request_id.encode())]}
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        (_REQUEST_ID_BYTES, request_id.encode()),
                    ],
                }
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, sending)
            finally:
                seconds = perf_counter() - started
                route = route_of(scope)
                LATENCY.labels(self.name, scope["method"], route).observe(seconds)
                REQUESTS.labels(self.name, scope["method"], route, str(status)).inc()
                if route not in QUIET:
                    log.info(
                        "request",
                        app=self.name,
                        method=scope["method"],
                        route=route,
                        status=status,
                        ms=round(seconds * 1000, 1),
                    )


def _request_id(scope: Scope) -> str:
    for key, value in scope["headers"]:
        if key == _REQUEST_ID_BYTES:
            given: str = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


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
