"""The portal put into the gateway's app: session cookie, security headers, pages, assets."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from dc_gateway.portal import (
    access,
    collections,
    downloads,
    household_link,
    pages,
    session,
    words,
    workers,
)
from dc_gateway.portal.api import ApiRefused
from dc_gateway.portal.oidc import OidcClient
from dc_gateway.portal.security import SecurityHeaders
from dc_gateway.settings import GatewaySettings

STATIC = Path(__file__).parent / "static"
SESSION_HOURS = 10  # a working day; the token itself may end sooner, then the person logs in again


def oidc_client(settings: GatewaySettings) -> OidcClient:
    return OidcClient(
        settings.oidc_issuer,
        client_id=settings.portal_client_id,
        redirect_uri=f"{settings.portal_url.rstrip('/')}/auth/callback",
    )


def mount_portal(app: FastAPI, settings: GatewaySettings) -> None:
    app.include_router(downloads.router)  # first: /imports/export.csv is not an import's id
    app.include_router(pages.router)
    app.include_router(collections.router)
    app.include_router(access.router)
    app.include_router(workers.router)
    app.include_router(household_link.router)
    app.mount("/portal-assets", StaticFiles(directory=STATIC), name="portal-assets")
    app.add_middleware(
        SessionMiddleware,
        secret_key=session.session_secret(settings.portal_session_secret, settings.internal_token),
        session_cookie=session.SESSION_COOKIE,
        max_age=SESSION_HOURS * 3600,
        same_site="lax",
        https_only=settings.portal_https,
    )
    app.add_middleware(SecurityHeaders, https=settings.portal_https)
    app.state.portal_temporal_ui = settings.temporal_ui_url
    app.state.mail_links = settings.mail_links()

    @app.exception_handler(session.LoginRequired)
    async def login_required(request: Request, error: session.LoginRequired) -> Response:
        return pages.see_other(f"/login?{pages.query_string({'next': error.back_to})}")

    @app.exception_handler(session.CsrfRefused)
    async def csrf_refused(request: Request, _: session.CsrfRefused) -> Response:
        return pages.render(request, "message.html", status=403, notice=words.FORM_EXPIRED)

    @app.exception_handler(ApiRefused)
    async def api_refused(request: Request, error: ApiRefused) -> Response:
        if error.status == 404:
            return pages.render(request, "message.html", status=404, notice=words.NOT_FOUND)
        if error.status >= 500:
            return pages.render(request, "message.html", status=503, notice=words.UNAVAILABLE)
        return pages.render(request, "message.html", status=error.status, notice=words.NOT_ALLOWED)
