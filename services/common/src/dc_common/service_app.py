"""The FastAPI application of an internal service, built the same way for each of them."""

from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import unquote

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, Request
from pydantic import SecretStr

from dc_common.actors import Actor, ActorKind
from dc_common.internal import require_internal_caller, required
from dc_common.metrics import instrument
from dc_common.problems import Problem, install_problem_handlers
from dc_common.readiness import add_readiness_route
from dc_common.tracing import instrument_app


def create_service_app(
    *,
    name: str,
    title: str,
    lifespan: Any,
    routers: Sequence[APIRouter],
    internal_token: SecretStr | None,
    description: str | None = None,
) -> FastAPI:
    """Problem documents for errors, the service's routers (each route open only to callers
    with the shared internal secret), ``GET /healthz`` and ``GET /readyz`` (open, for the
    probes; the lifespan names the checks in ``app.state.readiness``), every request counted
    and timed (:mod:`dc_common.metrics`)."""
    app = FastAPI(title=title, version="0.1.0", description=description or "", lifespan=lifespan)
    app.state.internal_token = required(internal_token)
    app.state.readiness = {}
    install_problem_handlers(app)
    instrument(app, name)
    instrument_app(app, name)
    for router in routers:
        app.include_router(router, dependencies=[Depends(require_internal_caller)])

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    add_readiness_route(app)
    return app


def serve(app: FastAPI, host: str, port: int) -> None:
    """Serve an API until stopped: logging as the process configured it, and no access log of
    uvicorn's (each request's line is the structured one of :mod:`dc_common.metrics`)."""
    uvicorn.run(app, host=host, port=port, log_config=None, access_log=False)


def app_state(name: str) -> Callable[[Request], Any]:
    """A dependency giving what the app's lifespan put in ``app.state.<name>`` (its desk)."""

    def from_state(request: Request) -> Any:
        return getattr(request.app.state, name)

    return from_state


def reader_is_operator(x_actor_kind: Annotated[str | None, Header()] = None) -> bool:
    """Whether an answer may name people by national number: only to an operator (the gateway
    names the reader's role in ``X-Actor-Kind``, on reads too)."""
    return x_actor_kind == ActorKind.OPERATOR


def acting_party(
    x_actor_kind: Annotated[ActorKind | None, Header()] = None,
    x_actor_id: Annotated[str | None, Header(max_length=64)] = None,
    x_actor_person: Annotated[str | None, Header(max_length=64)] = None,
    x_actor_name: Annotated[str | None, Header(max_length=600)] = None,
) -> Actor:
    """The party acting, as the gateway established it after authenticating the caller.

    Believed because the route only answers callers with the internal secret (the gateway,
    which sets these headers after authenticating the person, and the workers).
    """
    if x_actor_kind is None or not x_actor_id:
        raise Problem(401, "No acting party", "X-Actor-Kind and X-Actor-Id are required")
    name = unquote(x_actor_name)[:200] if x_actor_name else None
    return Actor(kind=x_actor_kind, id=x_actor_id, person=x_actor_person, name=name)
