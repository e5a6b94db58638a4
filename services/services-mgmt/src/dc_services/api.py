"""HTTP API of services-mgmt (internal; the gateway serves it to the outside under /api/v1)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Response, status
from fastapi.responses import StreamingResponse

from dc_common.actors import ActorOut
from dc_common.answers import MAX_ROW_ID, answer
from dc_common.db import Database
from dc_common.logging import configure_logging_for
from dc_common.ops import operations_port
from dc_common.problems import field_error
from dc_common.readiness import database_check
from dc_common.service_app import acting_party, app_state, create_service_app, reader_is_operator
from dc_common.spreadsheet import CONTENT_TYPE, CsvEncoder
from dc_services import repository
from dc_services.domain import ListPosition
from dc_services.identity_client import IdentityClient
from dc_services.models import Service, ServiceHistory, ServiceView, WorkerAnswer
from dc_services.schemas import (
    BranchNumber,
    ContestIn,
    CustomerIn,
    CustomerOut,
    EncodedForWorkerOut,
    HistoryEntryOut,
    InboxItemOut,
    ModificationIn,
    ServiceDetailOut,
    ServiceIn,
    ServiceOut,
    ServicePage,
    ServiceQuery,
    ServiceViewOut,
    StatusCountOut,
    StatusCounts,
    TransitionIn,
    UserNumber,
    WorkerAnswerIn,
    WorkerAnswerOut,
    WorkerTotalOut,
    WorkerTotals,
)
from dc_services.service import Action, ServiceDesk
from dc_services.settings import ServicesSettings
from dc_workflows.contracts.common import Actor, ActorKind
from dc_workflows.contracts.lifecycle import HistoryEntry, ServiceState
from dc_workflows.deadline import BRUSSELS
from dc_workflows.status import ServiceStatus
from dc_workflows.temporal import (
    TemporalSettings,
    answer_temporal_outages,
    connect,
    temporal_check,
)

Desk = Annotated[ServiceDesk, Depends(app_state("desk"))]

router = APIRouter(prefix="/v1")


Acting = Annotated[Actor, Depends(acting_party)]
Private = Annotated[bool, Depends(reader_is_operator)]


@router.post(
    "/services",
    status_code=status.HTTP_201_CREATED,
    response_model=ServiceDetailOut,
    summary="Register a service; asks the company to validate and the user to confirm",
    responses={200: {"description": "Already registered under this Idempotency-Key"}},
)
async def register_service(
    body: ServiceIn,
    desk: Desk,
    caller: Acting,
    response: Response,
    idempotency_key: Annotated[str | None, Header(max_length=100)] = None,
) -> ServiceDetailOut:
    registration = await desk.register(caller, body, idempotency_key=idempotency_key)
    if not registration.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/services/{registration.state.service_id}"
    return await _state_out(desk, registration.state, caller)


def _selection(query: ServiceQuery) -> repository.ServiceFilter:
    return repository.ServiceFilter(
        branch_ids=tuple(query.branch_id),
        **query.model_dump(exclude={"branch_id", "page", "page_size", "sort", "after", "before"}),
    )


@router.get("/services", response_model=ServicePage, summary="Services, newest first")
async def list_services(desk: Desk, query: Annotated[ServiceQuery, Query()]) -> ServicePage:
    result = await desk.search(
        _selection(query),
        page=query.page,
        page_size=query.page_size,
        oldest_first=query.sort == "oldest",
        after=_position("after", query.after),
        before=_position("before", query.before),
    )
    first, last = (result.items[0], result.items[-1]) if result.items else (None, None)
    return ServicePage(
        items=[_row_out(row) for row in result.items],
        page=query.page,
        page_size=query.page_size,
        total_services=result.total_services,
        total_hours=result.total_hours,
        next_cursor=_cursor(last) if result.has_next else None,
        previous_cursor=_cursor(first) if result.has_previous else None,
    )


def _position(name: str, cursor: str | None) -> ListPosition | None:
    if cursor is None:
        return None
    try:
        return ListPosition.of_cursor(cursor)
    except ValueError as error:
        raise field_error(name, str(error)) from error


def _cursor(row: Service | None) -> str | None:
    return None if row is None else ListPosition(row.registered_at, row.id).cursor()


EXPORT_COLUMNS = (
    "entry_date",
    "service_date",
    "company_id",
    "branch_id",
    "worker_login",
    "user_number",
    "activity_type",
    "hours",
    "status",
    "status_label",
    "vouchers_needed",
    "vouchers_allocated",
    "vouchers_submitted",
    "vouchers_reimbursed",
    "vouchers_missing",
    "service_id",
)


def export_row(row: Service) -> tuple[object, ...]:
    status = ServiceStatus(row.status)
    return (
        row.registered_at.astimezone(BRUSSELS),
        row.service_date,
        row.company_id,
        row.branch_id,
        row.worker_login,
        row.user_number,
        row.activity_type,
        row.hours,
        int(status),
        status.label,
        row.hours,
        row.vouchers_allocated,
        row.vouchers_submitted,
        row.vouchers_reimbursed,
        row.hours - row.vouchers_allocated,
        row.id,
    )


@router.get(
    "/services/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {CONTENT_TYPE: {}}}},
)
async def export_services(desk: Desk, query: Annotated[ServiceQuery, Query()]) -> Response:
    """The whole selection (no pages) as CSV for Belgian Excel, in the list's order, streamed."""

    async def pieces() -> AsyncIterator[bytes]:
        encoder = CsvEncoder()
        yield encoder.header(EXPORT_COLUMNS)
        async for rows in desk.export(_selection(query), oldest_first=query.sort == "oldest"):
            yield encoder.rows(export_row(row) for row in rows)

    return StreamingResponse(
        pieces(),
        media_type=CONTENT_TYPE,
        headers={"Content-Disposition": 'attachment; filename="services.csv"'},
    )


@router.get("/services/status-counts", response_model=StatusCounts)
async def count_by_status(desk: Desk, query: Annotated[ServiceQuery, Query()]) -> StatusCounts:
    counts = await desk.totals_by(_selection(query), "status")
    return StatusCounts(
        counts=[
            StatusCountOut(
                status=ServiceStatus(int(count.key)),
                status_label=ServiceStatus(int(count.key)).label,
                services=count.services,
                hours=count.hours,
            )
            for count in counts
        ]
    )


@router.get("/services/worker-totals", response_model=WorkerTotals)
async def totals_by_worker(desk: Desk, query: Annotated[ServiceQuery, Query()]) -> WorkerTotals:
    totals = await desk.totals_by(_selection(query), "worker_login")
    return WorkerTotals(
        workers=[
            WorkerTotalOut(worker_login=str(t.key), services=t.services, hours=t.hours)
            for t in totals
        ]
    )


@router.get("/services/{service_id}", response_model=ServiceDetailOut)
async def get_service(service_id: str, desk: Desk, private: Private = False) -> ServiceDetailOut:
    service, history = await desk.get_with_history(service_id)
    given = await desk.worker_answer(service_id)
    return ServiceDetailOut(
        **_row_out(service).model_dump(),
        history=[_history_out(entry, private=private) for entry in history],
        worker_answer=_answer_out(given),
    )


def _transition_route(action: Action) -> None:
    """``POST /services/{id}/{action}``: the party's transition, with an optional reason."""

    async def transition(
        service_id: str, desk: Desk, caller: Acting, body: TransitionIn | None = None
    ) -> ServiceDetailOut:
        reason = body.reason if body else None
        state = await desk.transition(action, caller, service_id, reason)
        return await _state_out(desk, state, caller)

    router.post(
        f"/services/{{service_id}}/{action}",
        response_model=ServiceDetailOut,
        name=f"{action}_service",
    )(transition)


for _action in ("validate", "confirm", "cancel"):
    _transition_route(_action)


@router.post("/services/{service_id}/contest", response_model=ServiceDetailOut)
async def contest_service(
    service_id: str, body: ContestIn, desk: Desk, caller: Acting
) -> ServiceDetailOut:
    """A contest needs its reason."""
    state = await desk.transition("contest", caller, service_id, body.reason)
    return await _state_out(desk, state, caller)


@router.patch("/services/{service_id}", response_model=ServiceDetailOut)
async def modify_service(
    service_id: str, body: ModificationIn, desk: Desk, caller: Acting
) -> ServiceDetailOut:
    return await _state_out(desk, await desk.modify(caller, service_id, body), caller)


def _private(caller: Actor) -> bool:
    """Who acted is shown by national number to an operator only."""
    return caller.kind is ActorKind.OPERATOR


@router.get(
    "/companies/{company_id}/inbox",
    response_model=list[InboxItemOut],
    summary="Requests to validate, newest first",
)
async def company_inbox(
    company_id: str,
    desk: Desk,
    branch_id: Annotated[list[BranchNumber] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[InboxItemOut]:
    items = await desk.inbox(company_id, branch_ids=tuple(branch_id or ()), limit=limit)
    return [
        InboxItemOut(service_id=item.service_id, kind=item.kind, created_at=item.created_at)
        for item in items
    ]


# -- who looked at a household's services ------------------------------------------------------


@router.post(
    "/services/{service_id}/views",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Record that the acting party (not the household) was shown the service",
)
async def record_view(service_id: str, desk: Desk, viewer: Acting) -> Response:
    await desk.record_view(viewer, service_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/users/{user_number}/service-views",
    response_model=list[ServiceViewOut],
    summary="Who was shown the household's services, newest first",
)
async def service_views(
    user_number: str,
    desk: Desk,
    private: Private = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
) -> list[ServiceViewOut]:
    views = await desk.views_of_user(user_number, limit=limit, before_id=before_id)
    return [_view_out(view, private=private) for view in views]


def _view_out(view: ServiceView, *, private: bool) -> ServiceViewOut:
    viewer = Actor(
        kind=ActorKind(view.viewer_kind),
        id=view.viewer_id,
        name=view.viewer_name,
        person=view.viewer_person,
    )
    return answer(ServiceViewOut, view, viewer=ActorOut.of(viewer, private=private))


# -- the worker's side (the Jobtracker app) -----------------------------------------------------

CUSTOMERS = "/companies/{company_id}/workers/{login}/customers"


@router.get(CUSTOMERS, response_model=list[CustomerOut], summary="The worker's customers")
async def worker_customers(company_id: str, login: str, desk: Desk) -> list[CustomerOut]:
    return [answer(CustomerOut, row) for row in await desk.customers(company_id, login)]


@router.put(
    f"{CUSTOMERS}/{{user_number}}",
    response_model=CustomerOut,
    summary="Add or change a customer of the worker (a user the platform knows)",
)
async def save_worker_customer(
    company_id: str, login: str, user_number: UserNumber, body: CustomerIn, desk: Desk
) -> CustomerOut:
    return answer(CustomerOut, await desk.save_customer(company_id, login, user_number, body))


@router.get(
    "/companies/{company_id}/workers/{login}/encoded",
    response_model=list[EncodedForWorkerOut],
    summary="Services the company encoded for the worker that wait for the worker's answer",
)
async def encoded_for_worker(
    company_id: str,
    login: str,
    desk: Desk,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[EncodedForWorkerOut]:
    found = await desk.encoded_for(company_id, login, limit=limit)
    return [
        EncodedForWorkerOut(**_row_out(row).model_dump(), worker_answer=_answer_out(given))
        for row, given in found
    ]


@router.put(
    "/services/{service_id}/worker-answer",
    response_model=WorkerAnswerOut,
    summary="The worker confirms a service the company encoded, or asks to correct it",
)
async def answer_as_worker(
    service_id: str, body: WorkerAnswerIn, desk: Desk, caller: Acting
) -> WorkerAnswerOut:
    given = await desk.answer_as_worker(caller, service_id, body)
    return answer(WorkerAnswerOut, given)


def _answer_out(given: WorkerAnswer | None) -> WorkerAnswerOut | None:
    return None if given is None else answer(WorkerAnswerOut, given)


def _row_out(row: Service) -> ServiceOut:
    status = ServiceStatus(row.status)
    return answer(ServiceOut, row, status=status, status_label=status.label)


def _history_out(entry: ServiceHistory, *, private: bool) -> HistoryEntryOut:
    status = ServiceStatus(entry.status)
    actor = Actor(
        kind=ActorKind(entry.actor_kind),
        id=entry.actor_id,
        name=entry.actor_name,
        person=entry.actor_person,
    )
    return answer(
        HistoryEntryOut,
        entry,
        status=status,
        status_label=status.label,
        actor=ActorOut.of(actor, private=private),
    )


async def _state_out(desk: ServiceDesk, state: ServiceState, caller: Actor) -> ServiceDetailOut:
    """The state the workflow returned. A query's answer carries the whole history; an
    update's carries none (the workflow sends each entry once, to the read model, which holds
    them all by the time the update answers), so it comes from there."""
    private = _private(caller)
    if state.history:
        history = [_workflow_entry_out(entry, private=private) for entry in state.history]
    else:
        rows = await desk.history(state.service_id)
        history = [_history_out(entry, private=private) for entry in rows]
    return answer(
        ServiceDetailOut,
        state,
        id=state.service_id,
        status_label=state.status.label,
        **state.parties.model_dump(),
        **state.details.model_dump(),
        history=history,
    )


def _workflow_entry_out(entry: HistoryEntry, *, private: bool) -> HistoryEntryOut:
    return answer(
        HistoryEntryOut,
        entry,
        status_label=entry.status.label,
        actor=ActorOut.of(entry.actor, private=private),
        details=entry.details.model_dump(mode="json") if entry.details else None,
    )


def create_app(
    settings: ServicesSettings | None = None, temporal: TemporalSettings | None = None
) -> FastAPI:
    settings = settings or ServicesSettings()
    configure_logging_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        await repository.prepare(db)
        identity = IdentityClient(settings.identity_url, token=settings.internal_token)
        client = await connect(temporal)
        app.state.desk = ServiceDesk(temporal=client, db=db, identity=identity, settings=settings)
        app.state.readiness = {
            "database": database_check(db.engine),
            "temporal": temporal_check(client),
        }
        async with operations_port(settings.ops_host, settings.ops_port, app.state.readiness):
            yield
        await identity.aclose()
        await db.dispose()

    app = create_service_app(
        name="services-mgmt",
        title="dienstencheques services-mgmt",
        lifespan=lifespan,
        routers=[router],
        internal_token=settings.internal_token,
    )
    answer_temporal_outages(app)
    return app
