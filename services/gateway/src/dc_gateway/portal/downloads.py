"""The portal's CSV downloads: every list of the portal as the API exports it, with the list's
filters, streamed in flat memory.

A download calls the API's export route itself with the page's caller (its scoping code, not
a copy), rather than the API in process, whose answer would be held in memory whole. Only
routes whose rule is "authenticated" are called this way: they check everything else in their
own body; the audit log, behind a rule of its own, goes through the API.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import ValidationError

from dc_gateway import routes_imports, routes_services, routes_wallet
from dc_gateway.portal.pages import ROW_OUTCOMES, ThePage, list_query, see_other
from dc_services.schemas import ServiceQuery

router = APIRouter(include_in_schema=False)


@router.get("/services/by-worker/export.csv")
async def services_by_worker_csv(page: ThePage) -> Response:
    query = list_query(page.request)
    params = {
        name: value
        for name, value in {**query, "company_id": page.company}.items()
        if name not in ("page", "page_size", "sort") and value not in (None, "", [])
    }
    try:
        selection = ServiceQuery.model_validate(params)
    except ValidationError:
        return see_other(f"/services/by-worker?{page.request.url.query}")
    narrowed = routes_services.scoped(params, await page.api.caller(), selection)
    name = page.request.query_params.get("name", "")
    return await routes_services.worker_totals_csv(page.request, narrowed, name=name)


@router.get("/imports/export.csv")
async def imports_csv(page: ThePage) -> Response:
    return await routes_imports.export_imports(
        page.request.app.state.imports, await page.api.caller(), page.company
    )


@router.get("/imports/{import_id}/rows.csv")
async def import_rows_csv(import_id: str, page: ThePage) -> Response:
    outcome = page.request.query_params.get("outcome")
    outcome = outcome if outcome in ROW_OUTCOMES else None
    return await routes_imports.export_import_rows(
        import_id, page.request.app.state.imports, await page.api.caller(), outcome, None
    )


@router.get("/collections/export.csv")
async def requests_csv(page: ThePage) -> Response:
    return await routes_wallet.export_reimbursement_requests(
        page.request.app.state.wallet, await page.api.caller(), page.company
    )


@router.get("/collections/{request_id}/statement.csv")
async def statement_csv(request_id: str, page: ThePage) -> Response:
    return await routes_wallet.statement_csv(
        request_id, page.request, page.request.app.state.wallet, await page.api.caller()
    )


@router.get("/access/audit.csv")
async def audit_log_csv(page: ThePage) -> Response:
    return await page.api.download(f"/companies/{page.company}/audit-log.csv")


@router.get("/access/grants.csv")
async def grants_csv(page: ThePage) -> Response:
    return await page.api.download(f"/companies/{page.company}/grants.csv")


@router.get("/wallet/payments.csv")
async def wallet_payments_csv(page: ThePage) -> Response:
    numbers: list[str] = page.request.session.get("user_numbers", [])
    if not numbers:
        return see_other("/wallet")
    return await page.api.download(f"/users/{numbers[0]}/wallet/payments.csv")
