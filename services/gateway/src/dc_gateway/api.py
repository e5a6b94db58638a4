"""The public door: the REST API under /api/v1 (for the Jobtracker app and integrations), its
documentation at /docs and /redoc, and the web portal at / (:mod:`dc_gateway.portal`).

Every route declares its contract (for the OpenAPI document and early validation) and the
authorisation rule it needs (:mod:`dc_gateway.policy`), then forwards to the owning service.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from dc_common.logging import configure_logging_for
from dc_common.metrics import instrument
from dc_common.ops import operations_port
from dc_common.problems import install_problem_handlers
from dc_common.readiness import readiness_answer
from dc_common.tracing import instrument_app
from dc_gateway import (
    routes_identity,
    routes_imports,
    routes_jobtracker,
    routes_services,
    routes_wallet,
)
from dc_gateway.access import Caller, IdentityDirectory, already_resolved
from dc_gateway.authn import TokenVerifier, issuer_of
from dc_gateway.docs import mount_docs
from dc_gateway.jobtracker_app import mount_jobtracker_app
from dc_gateway.limits import BodyLimit, LoginAttempts
from dc_gateway.policy import Rule, check_every_operation_has_a_rule, requires, route_rules
from dc_gateway.portal.app import mount_portal, oidc_client
from dc_gateway.settings import GatewaySettings
from dc_gateway.upstream import Upstream

health = APIRouter(tags=["health"])


@health.get("/healthz")
async def healthz(_: Annotated[Caller | None, requires(Rule.PUBLIC)]) -> dict[str, str]:
    return {"status": "ok"}


@health.get("/readyz", responses={503: {"description": "Not ready: a check failed"}})
async def readyz(
    request: Request, _: Annotated[Caller | None, requires(Rule.PUBLIC)]
) -> JSONResponse:
    """Ready when the identity provider and every service the gateway forwards to answer; each
    check's outcome in ``checks``."""
    return await readiness_answer(request.app.state.readiness)


ROUTERS = (
    health,
    routes_jobtracker.phone,
    routes_jobtracker.router,
    routes_services.router,
    routes_identity.router,
    routes_wallet.router,
    routes_imports.router,
)


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    configure_logging_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = settings.upstream_timeout_seconds
        token = settings.internal_token
        app.state.services = Upstream(settings.services_url, token=token, timeout=timeout)
        app.state.identity = Upstream(settings.identity_url, token=token, timeout=timeout)
        app.state.wallet = Upstream(settings.wallet_url, token=token, timeout=timeout)
        app.state.imports = routes_imports.ImportsUpstream(
            settings.imports_url, token=token, timeout=timeout
        )
        verifier = TokenVerifier(
            settings.oidc_issuer,
            settings.oidc_audience,
            refresh_interval_seconds=settings.oidc_keys_refresh_seconds,
        )
        jobtracker = TokenVerifier(
            settings.jobtracker_issuer,
            settings.oidc_audience,
            refresh_interval_seconds=settings.oidc_keys_refresh_seconds,
        )
        directory = IdentityDirectory(
            settings.identity_url, token=token, at_most=settings.upstream_timeout_seconds
        )

        async def authenticate(token: str) -> Caller:
            if (known := already_resolved(token)) is not None:
                return known
            from_phone = issuer_of(token) == settings.jobtracker_issuer.rstrip("/")
            identity = await (jobtracker if from_phone else verifier).verify(token)
            caller = await directory.caller(identity.subject, identity.name)
            if from_phone:  # a Jobtracker token is the worker's, whatever else the person is
                return caller.as_worker(identity.worker_login or "", identity.employer or "")
            return caller

        app.state.authenticate = authenticate
        app.state.login_attempts = LoginAttempts(
            settings.login_attempts_per_address, settings.rate_limit_storage
        )
        app.state.portal_oidc = oidc_client(settings)
        app.state.readiness = {
            "identity provider": verifier.ready,
            "jobtracker issuer": jobtracker.ready,
            "identity": app.state.identity.health_check(),
            "services-mgmt": app.state.services.health_check(),
            "wallet": app.state.wallet.health_check(),
            "imports": app.state.imports.health_check(),
        }
        async with operations_port(settings.ops_host, settings.ops_port, app.state.readiness):
            yield
        upstreams = (app.state.services, app.state.identity, app.state.wallet, app.state.imports)
        for closable in (*upstreams, verifier, jobtracker, directory, app.state.portal_oidc):
            await closable.aclose()

    app = FastAPI(
        title="Dienstencheques platform API",
        version="0.1.0",
        description="The secure zone of recognised service-voucher companies, users and workers. "
        "Every call but /healthz needs an OpenID Connect bearer token.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    mount_docs(app)
    mount_jobtracker_app(app)
    mount_portal(app, settings)
    install_problem_handlers(app)
    # Added first, so inside the metrics: a request refused for its size is counted and logged.
    app.add_middleware(BodyLimit, most=settings.max_body_bytes, uploads=settings.max_upload_bytes)
    instrument(app, "gateway")
    instrument_app(app, "gateway")
    for router in ROUTERS:
        app.include_router(router)
    # Refuse to build an app with an operation that declares no authorisation rule.
    check_every_operation_has_a_rule(app, route_rules(ROUTERS))
    return app
