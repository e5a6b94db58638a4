"""Wallets, voucher orders and reimbursements: forwarded to the wallet service.

A user orders for and reads their own household's wallet; the company's staff with the right on
the whole company ask and read reimbursements (a branch right does not reach the company's money);
operators pay requests out and read the latest reconciliation.

The wallet answers who ordered, asked and paid out by name and role; it names people by national
number only to a reader who is an operator, so every call tells it the reader's role
(``X-Actor-Kind``), writes the whole acting party.
"""

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from dc_common.answers import MAX_OFFSET
from dc_gateway import exports
from dc_gateway.access import Caller
from dc_gateway.parties import PLATFORM, acting_as, reader
from dc_gateway.policy import (
    CompanyFilter,
    Rule,
    company_wide_scope,
    forbidden,
    may_see,
    not_found,
    only_company,
    requires,
)
from dc_gateway.portal import i18n
from dc_gateway.portal import statement as statement_document
from dc_gateway.upstream import Upstream
from dc_wallet.schemas import (
    OrderIn,
    OrderOut,
    ProcessingOut,
    ReconciliationOut,
    ReimbursementIn,
    ReimbursementOut,
    StatementOut,
)

router = APIRouter(prefix="/api/v1", tags=["wallet"])
PROBLEM = {"model": dict[str, Any], "description": "A problem document (RFC 9457)"}


def _wallet(request: Request) -> Upstream:
    upstream: Upstream = request.app.state.wallet
    return upstream


Wallet = Annotated[Upstream, Depends(_wallet)]
PROCESSING = {"model": ProcessingOut, "description": "Being processed: ask again, same reference"}


def _own_household(caller: Caller, user_number: str, *, operator_may: bool) -> None:
    if user_number in caller.user_numbers or (operator_may and caller.operator):
        return
    if caller.operator:
        raise forbidden("only the household itself may do this")
    raise not_found(f"user {user_number}")


@router.post(
    "/users/{user_number}/voucher-orders",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    summary="Order vouchers into the household's wallet (idempotent on the order reference)",
    responses={
        200: {"description": "The first order with this reference"},
        202: PROCESSING,
        409: PROBLEM,
        503: PROBLEM,
    },
)
async def order_vouchers(
    user_number: str,
    body: OrderIn,
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    _own_household(caller, user_number, operator_may=False)
    path = f"/users/{user_number}/voucher-orders"
    actor = acting_as(caller, "user", user_number)
    return await wallet.forward(
        request, "POST", path, json=body.model_dump(mode="json"), headers=actor
    )


@router.get(
    "/users/{user_number}/wallet",
    summary="Balance, vouchers by expiry, the services paid, orders and the yearly cap left",
)
async def get_wallet(
    user_number: str,
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    _own_household(caller, user_number, operator_may=True)
    return await wallet.forward(
        request, "GET", f"/users/{user_number}/wallet", headers=reader(caller, "user")
    )


PAYMENT_COLUMNS = (
    exports.day("service_date"),
    exports.text("hours"),
    exports.text("status"),
    exports.text("status_label"),
    exports.text("vouchers_allocated"),
    exports.Column(
        "paid",
        lambda row: " | ".join(
            f"{step['vouchers']} ({exports.belgian_day(step['at'])})" for step in row["steps"]
        ),
    ),
    exports.text("company_id"),
    exports.text("service_id"),
)


@router.get(
    "/users/{user_number}/wallet/payments.csv",
    **exports.CSV_ROUTE,
    summary="The services the household's vouchers paid, with their allocation steps, as CSV",
)
async def export_wallet_payments(
    user_number: str,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    _own_household(caller, user_number, operator_may=True)
    answer = await wallet.fetch_json(f"/users/{user_number}/wallet", headers=reader(caller, "user"))
    rows = exports.one_page(answer["allocations"])
    return await exports.csv_answer(f"wallet-{user_number}.csv", PAYMENT_COLUMNS, rows)


@router.post(
    "/reimbursement-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=StatementOut,
    summary="Ask reimbursement of the vouchers allocated to some of the company's services",
    responses={
        200: {"description": "The first request with this reference"},
        202: PROCESSING,
        422: PROBLEM,
        503: PROBLEM,
    },
)
async def request_reimbursement(
    body: ReimbursementIn,
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    company_wide_scope(caller, body.company_id, what="reimbursements", operator_may=False)
    actor = acting_as(caller, "company", body.company_id)
    return await wallet.forward(
        request, "POST", "/reimbursement-requests", json=body.model_dump(mode="json"), headers=actor
    )


def _requests_of(caller: Caller, company_id: str | None) -> dict[str, str]:
    """Whose requests the caller reads: a company's (staff with the right on all of it) or,
    for an operator who names none, every company's."""
    if company_id is None and not caller.operator:
        company_id = only_company(caller, what="reimbursements", company_wide=True)
    if company_id is None:
        return {}
    company_wide_scope(caller, company_id, what="reimbursements")
    return {"company_id": company_id}


@router.get(
    "/reimbursement-requests",
    response_model=list[ReimbursementOut],
    summary="The company's reimbursement requests, newest first (collections and invoicing)",
)
async def list_reimbursement_requests(
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    company_id: CompanyFilter = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Response:
    params = {"limit": str(limit), "offset": str(offset), **_requests_of(caller, company_id)}
    return await wallet.forward(
        request,
        "GET",
        "/reimbursement-requests",
        params=params,
        headers=reader(caller, "company"),
    )


REQUEST_COLUMNS = (
    exports.instant("asked_at", "created_at"),
    exports.text("reference"),
    exports.text("status"),
    exports.text("vouchers"),
    exports.euros("amount_eur", "amount_cents"),
    exports.instant("submitted_at"),
    exports.instant("paid_at"),
    exports.text("company_id"),
    exports.text("request_id", "id"),
)


@router.get(
    "/reimbursement-requests/export.csv",
    **exports.CSV_ROUTE,
    summary="The company's reimbursement requests as CSV for Belgian Excel, newest first",
)
async def export_reimbursement_requests(
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    company_id: CompanyFilter = None,
) -> Response:
    whose = _requests_of(caller, company_id)

    async def fetch(limit: int, offset: int) -> list[dict[str, Any]]:
        params = {"limit": str(limit), "offset": str(offset), **whose}
        return await wallet.fetch_list(
            "/reimbursement-requests", params=params, headers=reader(caller, "company")
        )

    pages = exports.by_offset(fetch)
    return await exports.csv_answer("reimbursement-requests.csv", REQUEST_COLUMNS, pages)


async def _statement(
    request: Request, wallet: Upstream, caller: Caller, request_id: str
) -> tuple[Response, dict[str, Any] | None]:
    """The wallet's answer for the statement, and the statement when it is one (None for the
    wallet's refusal, passed on as it is); 404 where it is not the caller's to read."""
    answer = await wallet.forward(
        request,
        "GET",
        f"/reimbursement-requests/{request_id}",
        headers=reader(caller, "company"),
    )
    if answer.status_code in (404, 422):
        raise not_found("such reimbursement request")
    if answer.status_code != 200:
        return answer, None
    statement: dict[str, Any] = json.loads(bytes(answer.body))
    if not may_see(caller, statement["company_id"], None, company_wide=True):
        raise not_found("such reimbursement request")
    return answer, statement


@router.get(
    "/reimbursement-requests/{request_id}",
    response_model=StatementOut,
    summary="The statement of a request: services, number of vouchers, amount",
)
async def get_statement(
    request_id: str,
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    answer, _ = await _statement(request, wallet, caller, request_id)
    return answer


@router.get(
    "/reimbursement-requests/{request_id}/statement.pdf",
    response_class=Response,
    summary="The statement of a request as a PDF, in the language of Accept-Language (nl, fr, en)",
    responses={200: {"content": {"application/pdf": {}}}, 404: PROBLEM},
)
async def statement_pdf(
    request_id: str,
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    answer, statement = await _statement(request, wallet, caller, request_id)
    if statement is None:
        return answer
    language = i18n.negotiate(request.headers.get("accept-language"))
    return Response(
        statement_document.statement_pdf(statement, language),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="statement-{statement["id"]}.pdf"',
            "Content-Language": language,
        },
    )


STATEMENT_COLUMNS = (
    exports.day("service_date"),
    exports.text("user_number"),
    exports.text("branch_id"),
    exports.text("vouchers"),
    exports.euros("amount_eur", "amount_cents"),
    exports.text("service_id"),
)


@router.get(
    "/reimbursement-requests/{request_id}/statement.csv",
    response_class=StreamingResponse,
    responses={**exports.CSV_RESPONSES, 404: PROBLEM},
    summary="The services of a request with their vouchers and amount, as CSV",
)
async def statement_csv(
    request_id: str,
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    answer, statement = await _statement(request, wallet, caller, request_id)
    if statement is None:
        return answer
    lines = statement["services"]
    name = f"statement-{request_id}.csv"
    return await exports.csv_answer(name, STATEMENT_COLUMNS, exports.one_page(lines))


@router.post(
    "/reimbursement-requests/{request_id}/payout",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ReimbursementOut,
    summary="Pay a submitted request out to the company",
)
async def pay_out(
    request_id: str,
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.OPERATOR)],
) -> Response:
    headers = acting_as(caller, "operator", PLATFORM)
    return await wallet.forward(
        request, "POST", f"/reimbursement-requests/{request_id}/payout", headers=headers
    )


@router.get(
    "/reconciliations/latest",
    response_model=ReconciliationOut,
    summary="The latest daily reconciliation of the wallet against the services read model: "
    "services checked, mismatched, repaired",
    responses={404: PROBLEM},
)
async def latest_reconciliation(
    request: Request,
    wallet: Wallet,
    caller: Annotated[Caller, requires(Rule.OPERATOR)],
) -> Response:
    return await wallet.forward(
        request, "GET", "/reconciliations/latest", headers=reader(caller, "operator")
    )
