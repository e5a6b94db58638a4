"""The FastAPI application of an internal service, built the same way for each of them."""

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Header

from dc_common.actors import Actor, ActorKind
from dc_common.problems import Problem, install_problem_handlers


def create_service_app(
    *,
    title: str,
    lifespan: Any,
    routers: Sequence[APIRouter],
    description: str | None = None,
) -> FastAPI:
    """Problem documents for errors, the service's routers, and ``GET /healthz``."""
    app = FastAPI(title=title, version="0.1.0", description=description or "", lifespan=lifespan)
    install_problem_handlers(app)
    for router in routers:
        app.include_router(router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def acting_party(
    x_actor_kind: Annotated[ActorKind | None, Header()] = None,
    x_actor_id: Annotated[str | None, Header(max_length=64)] = None,
    x_actor_person: Annotated[str | None, Header(max_length=64)] = None,
) -> Actor:
    """The party acting, as the gateway established it after authenticating the caller.

    Internal APIs are reached only through the gateway, which sets these headers.
    """
    if x_actor_kind is None or not x_actor_id:
        raise Problem(401, "No acting party", "X-Actor-Kind and X-Actor-Id are required")
    return Actor(kind=x_actor_kind, id=x_actor_id, person=x_actor_person)
