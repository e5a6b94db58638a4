"""The company's workers and their Jobtracker accounts: set a first password, unblock an account
after three wrong passwords, log a worker out on every phone (a lost phone)."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from dc_gateway.portal import session
from dc_gateway.portal.api import ApiRefused
from dc_gateway.portal.pages import Page, ThePage, names_of, see_other

router = APIRouter(include_in_schema=False)


async def _workers_page(
    page: Page, *, status: int = 200, errors: dict[str, str] | None = None
) -> Response:
    company = page.company
    workers, found, names = await asyncio.gather(
        page.api.get(f"/companies/{company}/workers"),
        page.api.get(f"/companies/{company}/worker-accounts"),
        names_of(page, company),
    )
    accounts = {a["login"]: a for a in found}
    rows = [{**w, "account": accounts.get(w["login"])} for w in workers]
    return page.render(
        "workers.html",
        status=status,
        rows=rows,
        blocked=[r for r in rows if r["account"] and r["account"]["blocked_at"]],
        names=names,
        errors=errors or {},
    )


@router.get("/workers")
async def workers_page(page: ThePage) -> Response:
    return await _workers_page(page)


async def _change(page: Page, login: str, call: Any, done: str) -> Response:
    try:
        await call
    except ApiRefused as refused:
        if refused.status != 422:
            raise
        reason = "; ".join(refused.field_errors().values()) or str(refused.problem.get("detail"))
        return await _workers_page(page, status=422, errors={login: reason})
    page.request.session["flash"] = {"done": done}
    return see_other("/workers")


@router.post("/workers/{login}/password")
async def set_first_password(login: str, page: ThePage) -> Response:
    form = await session.checked_form(page.request)
    body = {"password": form.get("password", "")}
    return await _change(
        page, login, page.api.put(f"/workers/{login}/password", body), "password-set"
    )


@router.post("/workers/{login}/unblock")
async def unblock(login: str, page: ThePage) -> Response:
    await session.checked_form(page.request)
    return await _change(page, login, page.api.post(f"/workers/{login}/unblock"), "unblocked")


@router.post("/workers/{login}/logout")
async def end_sessions(login: str, page: ThePage) -> Response:
    await session.checked_form(page.request)
    call = page.api.delete(f"/workers/{login}/sessions")
    return await _change(page, login, call, "sessions-ended")
