"""HTTP API of the wallet (internal; the gateway serves it to the outside under /api/v1)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from temporalio.client import Client

from dc_common.actors import Actor, ActorOut
from dc_common.answers import MAX_OFFSET, answer
from dc_common.logging import configure_logging_for
from dc_common.migrations import migrate
from dc_common.ops import operations_port
from dc_common.readiness import database_check
from dc_common.service_app import acting_party, app_state, create_service_app, reader_is_operator
from dc_wallet import repository
from dc_wallet.activities import Clock, utc_now
from dc_wallet.models import MIGRATIONS, Order, Reconciliation, ReimbursementRequest
from dc_wallet.schemas import (
    PAPER_VOUCHER_NUMBER,
    AllocationStepOut,
    BalanceOut,
    EnterpriseNumber,
    ExpiryGroupOut,
    OrderIn,
    OrderOut,
    PaperVoucherCheckOut,
    PaperVoucherIn,
    ProcessingOut,
    ReconciliationOut,
    ReimbursementIn,
    ReimbursementOut,
    ServicePaymentOut,
    StatementLineOut,
    StatementOut,
    WalletOut,
    YearOut,
)
from dc_wallet.service import StillProcessing, WalletDesk
from dc_wallet.settings import WalletSettings
from dc_wallet.starter import TemporalStarter, WorkflowStarter
from dc_workflows.status import ServiceStatus
from dc_workflows.temporal import (
    TemporalSettings,
    answer_temporal_outages,
    connect,
    temporal_check,
)

Desk = Annotated[WalletDesk, Depends(app_state("desk"))]
Acting = Annotated[Actor, Depends(acting_party)]
ShowsPerson = Annotated[bool, Depends(reader_is_operator)]
UserNumberPath = Annotated[str, Path(pattern=r"^\d{12}$")]
PROCESSING = {"model": ProcessingOut, "description": "Being processed: ask again, same reference"}
UNAVAILABLE = {
    "description": "Nothing was recorded (the workflow service is unreachable): try again"
}

router = APIRouter(prefix="/v1")


@router.post(
    "/users/{user_number}/voucher-orders",
    status_code=status.HTTP_201_CREATED,
    response_model=OrderOut,
    summary="A paid voucher order: issues the vouchers and pays the services waiting for them",
    responses={
        200: {"description": "Ordered before under this reference: the first order"},
        202: PROCESSING,
        409: {"description": "Yearly cap exceeded, or the reference names another order"},
        422: {"description": "Order too small, or invalid input"},
        503: UNAVAILABLE,
    },
)
async def order_vouchers(
    user_number: UserNumberPath,
    body: OrderIn,
    desk: Desk,
    response: Response,
    actor: Acting,
    shows_person: ShowsPerson,
) -> OrderOut:
    placed = await desk.order(user_number, body.reference, body.quantity, ordered_by=actor)
    if not placed.created:
        response.status_code = status.HTTP_200_OK
    return _order_out(placed.order, shows_person)


@router.get("/users/{user_number}/wallet", response_model=WalletOut)
async def wallet(user_number: UserNumberPath, desk: Desk, shows_person: ShowsPerson) -> WalletOut:
    view = await desk.wallet(user_number)
    cap = desk.policy.yearly_cap
    return WalletOut(
        user_number=user_number,
        as_of=view.today,
        balance=BalanceOut(vouchers=view.available, value_cents=view.available_cents),
        vouchers_by_expiry=[answer(ExpiryGroupOut, group) for group in view.by_expiry],
        allocations=[
            answer(
                ServicePaymentOut,
                claim,
                status_label=ServiceStatus(claim.status).label,
                steps=[answer(AllocationStepOut, step) for step in view.steps[claim.service_id]],
            )
            for claim in view.claims
        ],
        orders_this_year=YearOut(
            year=view.year,
            ordered=view.ordered_this_year,
            cap=cap,
            left=max(cap - view.ordered_this_year, 0),
            orders=[_order_out(order, shows_person) for order in view.orders],
        ),
    )


@router.post(
    "/reimbursement-requests",
    status_code=status.HTTP_201_CREATED,
    response_model=StatementOut,
    summary="A company asks reimbursement of the vouchers allocated to some of its services: "
    "they are submitted at once",
    responses={
        200: {"description": "Requested before under this reference: the first request"},
        202: PROCESSING,
        409: {"description": "The reference names a request of other services"},
        422: {"description": "A service is not payable, or invalid input"},
        503: UNAVAILABLE,
    },
)
async def request_reimbursement(
    body: ReimbursementIn,
    desk: Desk,
    response: Response,
    actor: Acting,
    shows_person: ShowsPerson,
) -> StatementOut:
    requested = await desk.request_reimbursement(
        body.company_id, body.reference, body.service_ids, requested_by=actor
    )
    if not requested.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/reimbursement-requests/{requested.request.id}"
    return await _statement_out(desk, requested.request.id, shows_person)


@router.get(
    "/reimbursement-requests",
    response_model=list[ReimbursementOut],
    summary="Reimbursement requests, newest first",
)
async def list_reimbursement_requests(
    desk: Desk,
    shows_person: ShowsPerson,
    company_id: EnterpriseNumber | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> list[ReimbursementOut]:
    requests = await desk.requests(company_id, limit=limit, offset=offset)
    return [_request_out(request, shows_person) for request in requests]


@router.get(
    "/reimbursement-requests/{request_id}",
    response_model=StatementOut,
    summary="The statement of a request: services, vouchers, amount",
)
async def reimbursement_statement(
    request_id: str, desk: Desk, shows_person: ShowsPerson
) -> StatementOut:
    return await _statement_out(desk, request_id, shows_person)


@router.post(
    "/reimbursement-requests/{request_id}/payout",
    response_model=ReimbursementOut,
    status_code=status.HTTP_202_ACCEPTED,
    summary="Pay a submitted request out to the company (operator)",
    responses={
        200: {"description": "Already paid out: nothing done again"},
        409: {"description": "Not submitted yet"},
    },
)
async def pay_out(
    request_id: str, desk: Desk, response: Response, actor: Acting, shows_person: ShowsPerson
) -> ReimbursementOut:
    payout = await desk.payout(request_id, paid_by=actor)
    if not payout.started:
        response.status_code = status.HTTP_200_OK
    return _request_out(payout.request, shows_person)


PaperNumber = Annotated[str, Path(pattern=PAPER_VOUCHER_NUMBER)]


@router.get(
    "/paper-vouchers/{number}",
    response_model=PaperVoucherCheckOut,
    summary="Check a paper voucher's number: valid, expired, already used or unknown",
)
async def check_paper_voucher(number: PaperNumber, desk: Desk) -> PaperVoucherCheckOut:
    state, voucher = await desk.check_paper_voucher(number)
    expiry = voucher.expiry_date if voucher else None
    return PaperVoucherCheckOut(number=number, state=state, expiry_date=expiry)


@router.put(
    "/paper-vouchers/{number}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Record the issuer's paper voucher (operators load the issuer's list)",
)
async def save_paper_voucher(number: PaperNumber, body: PaperVoucherIn, desk: Desk) -> Response:
    await desk.save_paper_voucher(number, body.model_dump())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/reconciliations/latest",
    response_model=ReconciliationOut,
    summary="The latest finished reconciliation of the wallet against the read model (operators)",
    responses={404: {"description": "No run has finished yet"}},
)
async def latest_reconciliation(desk: Desk) -> ReconciliationOut:
    return _reconciliation_out(await desk.latest_reconciliation())


def _actor_out(stored: dict[str, Any] | None, shows_person: bool) -> ActorOut | None:
    if stored is None:
        return None
    return ActorOut.of(Actor.model_validate(stored), private=shows_person)


def _reconciliation_out(run: Reconciliation) -> ReconciliationOut:
    assert run.finished_at is not None
    return answer(ReconciliationOut, run, unrepaired=list(run.unrepaired))


def _order_out(order: Order, shows_person: bool) -> OrderOut:
    return answer(OrderOut, order, ordered_by=_actor_out(order.ordered_by, shows_person))


def _request_out(request: ReimbursementRequest, shows_person: bool) -> ReimbursementOut:
    state = (
        "paid"
        if request.paid_at is not None
        else "submitted"
        if request.submitted_at is not None
        else "requested"
    )
    return answer(
        ReimbursementOut,
        request,
        status=state,
        requested_by=_actor_out(request.requested_by, shows_person),
        paid_by=_actor_out(request.paid_by, shows_person),
    )


async def _statement_out(desk: WalletDesk, request_id: str, shows_person: bool) -> StatementOut:
    statement = await desk.statement(request_id)
    value = statement.request.voucher_value_cents
    return StatementOut(
        **dict(_request_out(statement.request, shows_person)),
        services=[
            answer(StatementLineOut, line, amount_cents=line.vouchers * value)
            for line in statement.lines
        ],
    )


def create_app(
    settings: WalletSettings | None = None,
    temporal: TemporalSettings | None = None,
    *,
    starter: WorkflowStarter | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """The API. ``starter``: how wallet changes reach Temporal (by default a client of the
    server ``temporal`` names); ``clock``: tests move time."""
    settings = settings or WalletSettings()
    configure_logging_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = repository.open_database(settings.database_url)
        await migrate(db.engine, MIGRATIONS)
        client = None if starter else await connect(temporal)
        workflows = starter or TemporalStarter(cast(Client, client))
        app.state.readiness = {"database": database_check(db.engine)}
        if client is not None:
            app.state.readiness["temporal"] = temporal_check(client)
        app.state.desk = WalletDesk(
            db=db,
            policy=settings.policy(),
            starter=workflows,
            clock=clock,
            wait=settings.change_wait,
        )
        async with operations_port(settings.ops_host, settings.ops_port, app.state.readiness):
            yield
        await db.dispose()

    app = create_service_app(
        name="wallet",
        title="dienstencheques wallet",
        lifespan=lifespan,
        routers=[router],
        internal_token=settings.internal_token,
    )

    async def on_still_processing(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StillProcessing)
        return JSONResponse(
            ProcessingOut(detail=exc.detail).model_dump(),
            status_code=status.HTTP_202_ACCEPTED,
            headers={"Retry-After": "2"},
        )

    app.add_exception_handler(StillProcessing, on_still_processing)
    answer_temporal_outages(app)
    return app
