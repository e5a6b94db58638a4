"""The public REST API: one door, under /api/v1, for the web portal and the Jobtracker app.

Each route declares its contract (for the OpenAPI document and early validation) and forwards to
the service that owns it. Authentication and per-route authorisation plug in here.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response, status

from dc_common.logging import configure_logging
from dc_common.problems import install_problem_handlers
from dc_gateway.settings import GatewaySettings
from dc_gateway.upstream import Upstream
from dc_services.schemas import (
    ContestIn,
    EnterpriseNumber,
    InboxItemOut,
    ModificationIn,
    ServiceDetailOut,
    ServiceIn,
    ServicePage,
    TransitionIn,
)
from dc_workflows.status import ServiceStatus

PROBLEM = {"model": dict[str, Any], "description": "A problem document (RFC 9457)"}
TRANSITION_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: PROBLEM,
    409: {**PROBLEM, "description": "The service's status does not allow this transition"},
}


def _services(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.services
    return upstream


Services = Annotated[Upstream, Depends(_services)]

router = APIRouter(prefix="/api/v1")


def _json(body: Any) -> Any:
    return None if body is None else body.model_dump(mode="json", exclude_unset=True)


@router.post(
    "/services",
    tags=["services"],
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceDetailOut,
    summary="Register a service; the company is asked to validate and the user to confirm",
    responses={200: {"description": "Already registered under this Idempotency-Key"}, 422: PROBLEM},
)
async def register_service(
    body: ServiceIn,
    request: Request,
    services: Services,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    return await services.forward(request, "POST", "/services", json=_json(body))


@router.get(
    "/services",
    tags=["services"],
    response_model=ServicePage,
    summary="Services, newest first, 50 a page, with the totals of the selection",
)
async def list_services(
    request: Request,
    services: Services,
    company_id: EnterpriseNumber | None = None,
    branch_id: Annotated[str | None, Query(pattern=r"^\d{10}$")] = None,
    status_code: Annotated[ServiceStatus | None, Query(alias="status")] = None,
    worker_login: Annotated[str | None, Query(pattern=r"^980\d{9}$")] = None,
    user_number: Annotated[str | None, Query(pattern=r"^\d{12}$")] = None,
    service_date_from: date | None = None,
    service_date_to: date | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    return await services.forward(request, "GET", "/services")


@router.get(
    "/services/{service_id}",
    tags=["services"],
    response_model=ServiceDetailOut,
    summary="One service with its history: every transition, who, when and why",
    responses={404: PROBLEM},
)
async def get_service(service_id: str, request: Request, services: Services) -> Response:
    return await services.forward(request, "GET", f"/services/{service_id}")


@router.post(
    "/services/{service_id}/validate",
    tags=["services"],
    response_model=ServiceDetailOut,
    summary="The company validates the service",
    responses=TRANSITION_RESPONSES,
)
async def validate_service(
    service_id: str, request: Request, services: Services, body: TransitionIn | None = None
) -> Response:
    return await services.forward(
        request, "POST", f"/services/{service_id}/validate", json=_json(body)
    )


@router.post(
    "/services/{service_id}/confirm",
    tags=["services"],
    response_model=ServiceDetailOut,
    summary="The user confirms the service",
    responses=TRANSITION_RESPONSES,
)
async def confirm_service(
    service_id: str, request: Request, services: Services, body: TransitionIn | None = None
) -> Response:
    return await services.forward(
        request, "POST", f"/services/{service_id}/confirm", json=_json(body)
    )


@router.post(
    "/services/{service_id}/contest",
    tags=["services"],
    response_model=ServiceDetailOut,
    summary="The user contests the service; the company must correct it",
    responses=TRANSITION_RESPONSES,
)
async def contest_service(
    service_id: str, body: ContestIn, request: Request, services: Services
) -> Response:
    return await services.forward(
        request, "POST", f"/services/{service_id}/contest", json=_json(body)
    )


@router.post(
    "/services/{service_id}/cancel",
    tags=["services"],
    response_model=ServiceDetailOut,
    summary="The company withdraws the service before voucher allocation",
    responses=TRANSITION_RESPONSES,
)
async def cancel_service(
    service_id: str, request: Request, services: Services, body: TransitionIn | None = None
) -> Response:
    return await services.forward(
        request, "POST", f"/services/{service_id}/cancel", json=_json(body)
    )


@router.patch(
    "/services/{service_id}",
    tags=["services"],
    response_model=ServiceDetailOut,
    summary="The company modifies the service; both parties must then act by hand",
    responses=TRANSITION_RESPONSES,
)
async def modify_service(
    service_id: str, body: ModificationIn, request: Request, services: Services
) -> Response:
    return await services.forward(request, "PATCH", f"/services/{service_id}", json=_json(body))


@router.get(
    "/companies/{company_id}/inbox",
    tags=["services"],
    response_model=list[InboxItemOut],
    summary="The company's requests to validate, newest first",
)
async def company_inbox(
    company_id: EnterpriseNumber,
    request: Request,
    services: Services,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    return await services.forward(request, "GET", f"/companies/{company_id}/inbox")


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    configure_logging(json=settings.log_json, level=settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.services = Upstream(
            settings.services_url, timeout=settings.upstream_timeout_seconds
        )
        yield
        await app.state.services.aclose()

    app = FastAPI(
        title="Dienstencheques platform API",
        version="0.1.0",
        description="The secure zone of recognised service-voucher companies, users and workers.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
