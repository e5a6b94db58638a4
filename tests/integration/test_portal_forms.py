"""Every form of the portal, taken from the gateway's own route table (so a form added later is
tried too), refuses a post from a logged-in browser without its CSRF token or with a guessed
one: 403 and the page that says the form expired; a forged logout leaves the session alone."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from playwright.async_api import Browser
from pydantic import SecretStr

from dc_gateway.portal import i18n
from dc_gateway.portal.app import mount_portal
from dc_gateway.settings import GatewaySettings
from dc_identity.demo import SCHELDE_STAFF
from tests.integration.portal_support import chromium, signed_in
from tests.support.platform import Platform

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

#: A value for each kind of path parameter (the refusal comes before any of them is read).
PARAMETERS = {
    "service_id": "00000000-0000-0000-0000-000000000000",
    "action": "validate",
    "login": "980100000001",
    "grant_id": "1",
    "token": "not-a-token",
}


def portal_forms() -> list[str]:
    """The path of every form the portal answers: the POST routes the portal puts into the
    gateway's app."""
    app = FastAPI()
    mount_portal(app, GatewaySettings(internal_token=SecretStr("forms" * 8)))
    included = [getattr(entry, "original_router", None) for entry in app.routes]
    routes = [route for router in included if router for route in router.routes]
    paths = sorted(
        route.path for route in routes if isinstance(route, APIRoute) and "POST" in route.methods
    )
    return [re.sub(r"\{(\w+)\}", lambda m: PARAMETERS[m.group(1)], path) for path in paths]


FORMS = portal_forms()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as browser:
        yield browser


def test_the_portal_has_its_forms() -> None:
    assert len(FORMS) >= 15, FORMS
    assert "/logout" in FORMS and "/services/new" in FORMS


async def test_every_form_refuses_a_post_without_its_csrf_token(
    platform: Platform, browser: Browser
) -> None:
    expired = i18n.translations("nl").gettext(
        "This form has expired. Go back, reload the page and try again."
    )
    async with signed_in(browser, platform.gateway_url, SCHELDE_STAFF) as page:
        request = page.context.request
        for form in FORMS:
            url = f"{platform.gateway_url}{form}"
            without = await request.post(url, form={"back": "/"}, max_redirects=0)
            guessed = await request.post(url, form={"csrf_token": "guess"}, max_redirects=0)
            assert (form, without.status, guessed.status) == (form, 403, 403)
            assert expired in await guessed.text(), form
        await page.goto(f"{platform.gateway_url}/services")
        assert "/services" in page.url, "the forged logout ended nothing"
