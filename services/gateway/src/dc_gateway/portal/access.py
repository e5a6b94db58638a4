"""Access management: who may work for the company in the secure zone.

The legal representative appoints main access managers; a main access manager grants and
revokes the right "Dienstencheques voor erkende ondernemingen" on the whole company or on one
branch; every change is in the audit log. The API decides who may do what (a page only
shows the forms its reader may use).
"""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from dc_gateway.portal import session
from dc_gateway.portal.api import ApiRefused
from dc_gateway.portal.pages import Page, ThePage, page_number, see_other

router = APIRouter(include_in_schema=False)
AUDIT_PAGE = 50


def _roles(page: Page) -> dict[str, bool]:
    company = page.company
    represents = company in page.request.session.get("represents", [])
    manages = company in page.request.session.get("manages", [])
    return {"may_appoint": represents or manages, "may_grant": manages}


async def _access_page(
    page: Page, *, status: int = 200, errors: dict[str, str] | None = None, **values: Any
) -> Response:
    base = f"/companies/{page.company}"
    managers, grants, branches = await asyncio.gather(
        page.api.get(f"{base}/main-access-managers"),
        page.api.get(f"{base}/grants"),
        _branches(page),
    )
    return page.render(
        "access.html",
        status=status,
        managers=managers,
        grants=grants,
        branches=branches,
        errors=errors or {},
        **_roles(page),
        **values,
    )


async def _branches(page: Page) -> dict[str, str]:
    branches = await page.api.get(f"/companies/{page.company}/branches")
    return {b["establishment_unit_number"]: b["name"] for b in branches}


@router.get("/access")
async def access_page(page: ThePage) -> Response:
    return await _access_page(page)


async def _change(page: Page, call: Any, done: str, form: dict[str, str]) -> Response:
    """Make the change; on a refusal, the page again with the reason next to the form."""
    try:
        await call
    except ApiRefused as refused:
        if refused.status in (403, 404):
            raise
        reason = refused.field_errors() or {"form": str(refused.problem.get("detail", ""))}
        return await _access_page(page, status=refused.status, errors=reason, form=form)
    page.request.session["flash"] = {"done": done}
    return see_other("/access")


@router.post("/access/managers")
async def appoint_manager(page: ThePage) -> Response:
    form = await session.checked_form(page.request)
    body = {"national_number": _digits(form.get("national_number", ""))}
    call = page.api.post(f"/companies/{page.company}/main-access-managers", body)
    return await _change(page, call, "manager-appointed", {**form, "which": "manager"})


@router.post("/access/grants")
async def grant_right(page: ThePage) -> Response:
    form = await session.checked_form(page.request)
    body = {
        "national_number": _digits(form.get("national_number", "")),
        "branch_id": form.get("branch_id") or None,
    }
    call = page.api.post(f"/companies/{page.company}/grants", body)
    return await _change(page, call, "right-granted", {**form, "which": "grant"})


@router.post("/access/grants/{grant_id}/revoke")
async def revoke_right(grant_id: int, page: ThePage) -> Response:
    form = await session.checked_form(page.request)
    call = page.api.delete(f"/companies/{page.company}/grants/{grant_id}")
    return await _change(page, call, "right-revoked", form)


def _digits(typed: str) -> str:
    """A national number as people type it (85.07.30-033.61) as its 11 digits."""
    return "".join(c for c in typed if c.isdigit()) or typed.strip()


@router.get("/access/audit")
async def audit_log(page: ThePage) -> Response:
    before = page_number(page.request.query_params.get("before"), highest=2**62)
    params: dict[str, Any] = {"limit": AUDIT_PAGE + 1}
    if before > 1:
        params["before_id"] = before
    entries, branches = await asyncio.gather(
        page.api.get(f"/companies/{page.company}/audit-log", params),
        _branches(page),
    )
    more = len(entries) > AUDIT_PAGE
    entries = entries[:AUDIT_PAGE]
    return page.render(
        "audit.html",
        entries=entries,
        branches=branches,
        next_before=entries[-1]["id"] if more and entries else None,
        older=before > 1,
    )
