"""Collections and invoicing: the company asks reimbursement of the vouchers allocated to its
services, and reads its requests, their statements (also as PDF) and payouts.

Only staff with the right on the whole company reach the company's money (the API refuses a
branch right); such a person sees a notice instead.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from dc_gateway.portal import session, words
from dc_gateway.portal.api import ApiRefused
from dc_gateway.portal.pages import (
    Page,
    ThePage,
    language_of,
    names_of,
    page_number,
    see_other,
)

router = APIRouter(include_in_schema=False)
REQUESTS_PER_PAGE = 50
#: The most services one request form lists (the API takes up to 1,000 per request).
PAYABLE_SHOWN = 200


def _company_money_refused(page: Page) -> Response:
    return page.render("message.html", status=403, notice=words.COMPANY_WIDE_ONLY)


@router.get("/collections")
async def requests_page(page: ThePage) -> Response:
    current = page_number(page.request.query_params.get("page"))
    params = {
        "company_id": page.company,
        "limit": REQUESTS_PER_PAGE + 1,  # one more: is there a next page?
        "offset": (current - 1) * REQUESTS_PER_PAGE,
    }
    try:
        requests = await page.api.get("/reimbursement-requests", params)
    except ApiRefused as refused:
        if refused.status in (403, 404):
            return _company_money_refused(page)
        raise
    return page.render(
        "collections.html",
        requests=requests[:REQUESTS_PER_PAGE],
        current=current,
        more=len(requests) > REQUESTS_PER_PAGE,
    )


async def _request_form(
    page: Page, *, reference: str = "", chosen: set[str] | None = None, **more: Any
) -> Response:
    payable = await page.api.get(
        "/services",
        {
            "company_id": page.company,
            "payable": "true",
            "sort": "oldest",  # the oldest first: their vouchers expire first
            "page_size": PAYABLE_SHOWN,
        },
    )
    return page.render(
        "collection_new.html",
        status=more.pop("status", 200),
        payable=payable["items"],
        total=payable["total_services"],
        reference=reference,
        chosen=chosen,
        **more,
    )


@router.get("/collections/new")
async def new_request(page: ThePage) -> Response:
    try:
        await page.api.get("/reimbursement-requests", {"company_id": page.company, "limit": 1})
    except ApiRefused as refused:
        if refused.status in (403, 404):
            return _company_money_refused(page)
        raise
    return await _request_form(page)


@router.post("/collections")
async def ask_reimbursement(page: ThePage) -> Response:
    """Ask reimbursement of the ticked services under the typed reference. The reference makes
    the request idempotent: the same form sent twice asks once."""
    form = await session.checked_form(page.request)
    reference = form.get("reference", "").strip()
    chosen = [s for s in (await page.request.form()).getlist("service") if isinstance(s, str)]
    errors: dict[str, str] = {}
    if not reference:
        errors["reference"] = "missing"
    if not chosen:
        errors["service_ids"] = "missing"
    if not errors:
        body = {"company_id": page.company, "reference": reference, "service_ids": chosen}
        try:
            answer = await page.api.post("/reimbursement-requests", body)
        except ApiRefused as refused:
            if refused.status in (403, 404):
                return _company_money_refused(page)
            if refused.status >= 500:
                raise
            errors = _request_errors(refused)
        else:
            if answer.get("state") == "processing":
                page.request.session["flash"] = {"done": "reimbursement-processing"}
                return see_other("/collections")
            page.request.session["flash"] = {"done": "reimbursement"}
            return see_other(f"/collections/{answer['id']}")
    return await _request_form(
        page, reference=reference, chosen=set(chosen), errors=errors, status=422
    )


def _request_errors(refused: ApiRefused) -> dict[str, str]:
    """What the API refused, by field of the form: the reference, or the services (with the
    API's reason, which names the service)."""
    errors: dict[str, str] = {}
    for field, reason in refused.field_errors().items():
        name = "reference" if field == "reference" else "service_ids"
        errors[name] = (errors.get(name, "") + " " + reason).strip()
    return errors or {"service_ids": str(refused.problem.get("detail", ""))}


@router.get("/collections/{request_id}")
async def statement_page(request_id: str, page: ThePage) -> Response:
    statement = await page.api.get(f"/reimbursement-requests/{request_id}")
    names = await names_of(page, statement["company_id"])
    return page.render("collection.html", statement=statement, names=names)


@router.get("/collections/{request_id}/statement.pdf")
async def statement_pdf(request_id: str, page: ThePage) -> Response:
    return await page.api.download(
        f"/reimbursement-requests/{request_id}/statement.pdf",
        headers={"Accept-Language": language_of(page.request)},
    )
