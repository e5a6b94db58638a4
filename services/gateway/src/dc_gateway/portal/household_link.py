"""A household opens its service from the link in the e-mail, without a login, and confirms
or contests it there (Flanders offers this to households without an online account).

The link is signed by services-mgmt (:mod:`dc_common.mail_links`); the page then acts as the
household on that one service only, through the same API as every page. A link serves once:
it is spent when the household acted on the service after the mail, or the service changed
(a new mail then brings a new link).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from dc_common.mail_links import LinkExpired, LinkInvalid, MailLink, MailLinks
from dc_gateway.access import Caller
from dc_gateway.portal import session, words
from dc_gateway.portal.api import ApiRefused, PortalApi
from dc_gateway.portal.pages import Names, render, see_other

router = APIRouter(include_in_schema=False)
ACTIONS = ("confirm", "contest")


class LinkRefused(Exception):
    def __init__(self, notice: words.Notice, status: int) -> None:
        super().__init__(notice.heading)
        self.notice = notice
        self.status = status


def spent(link: MailLink, service: dict[str, Any]) -> bool:
    """The household acted on the service after the mail, or the service changed since."""
    return any(
        entry["seq"] > link.version
        and (entry["actor"]["kind"] == "user" or entry["event"] == "modified")
        for entry in service["history"]
    )


@asynccontextmanager
async def household_of(request: Request, token: str) -> AsyncIterator[tuple[PortalApi, str]]:
    """The API as the household the link names, and the service's id; refused for a link
    that is forged, expired or spent, or whose service is not that household's."""
    links: MailLinks = request.app.state.mail_links
    try:
        link = links.read(token)
    except LinkExpired as expired:
        raise LinkRefused(words.LINK_EXPIRED, 410) from expired
    except LinkInvalid as invalid:
        raise LinkRefused(words.LINK_INVALID, 404) from invalid
    household = Caller(national_number="", name="", user_numbers=frozenset({link.user_number}))
    api = PortalApi(request, f"mail-link-{secrets.token_urlsafe(24)}", caller=household)
    try:
        service = await api.get(f"/services/{link.service_id}")
        if spent(link, service):
            raise LinkRefused(words.LINK_USED, 410)
        yield api, link.service_id
    finally:
        await api.aclose()


def _refused(request: Request, refused: LinkRefused) -> Response:
    return _keyed(render(request, "message.html", status=refused.status, notice=refused.notice))


def _service_page(request: Request, token: str, service: dict[str, Any], **more: Any) -> Response:
    page = render(
        request,
        "service.html",
        service=service,
        link_base=f"/link/{token}",
        back_here=f"/link/{token}",
        names=Names({}, {}),
        staff=False,
        person=None,
        **more,
    )
    return _keyed(page)


def _keyed(response: Response) -> Response:
    """A page whose address holds the link's key: never pass the address on to another."""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@router.get("/link/{token}")
async def linked_service(token: str, request: Request) -> Response:
    try:
        async with household_of(request, token) as (api, service_id):
            service = await api.get(f"/services/{service_id}")
    except LinkRefused as refused:
        return _refused(request, refused)
    return _service_page(request, token, service)


@router.post("/link/{token}/{action}")
async def act_on_linked_service(token: str, action: str, request: Request) -> Response:
    form = await session.checked_form(request)
    if action not in ACTIONS:
        return render(request, "message.html", status=404, notice=words.NOT_FOUND)
    reason = form.get("reason", "").strip()
    body = {"reason": reason} if reason or action == "contest" else None
    try:
        async with household_of(request, token) as (api, service_id):
            try:
                await api.post(f"/services/{service_id}/{action}", body)
            except ApiRefused as refused:
                service = await api.get(f"/services/{service_id}")
                return _service_page(
                    request,
                    token,
                    service,
                    status=refused.status,
                    refusal=None if refused.field_errors() else refused.problem.get("detail"),
                    field_errors=refused.field_errors(),
                    form=form,
                )
    except LinkRefused as refused:
        return _refused(request, refused)
    return see_other(f"/link-done/{action}")


@router.get("/link-done/{action}")
async def link_done(action: str, request: Request) -> Response:
    notice = words.LINK_DONE.get(action, words.NOT_FOUND)
    return render(request, "message.html", notice=notice)
