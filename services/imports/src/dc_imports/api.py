"""HTTP API of the imports service (internal; the gateway serves it under /api/v1)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    FastAPI,
    File,
    Form,
    Query,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import StreamingResponse

from dc_common.answers import MAX_PAGE, answer
from dc_common.db import Database
from dc_common.logging import configure_logging_for
from dc_common.ops import operations_port
from dc_common.readiness import database_check
from dc_common.service_app import acting_party, app_state, create_service_app
from dc_imports.domain import progress_percent
from dc_imports.models import Import, ImportRow, create_tables
from dc_imports.schemas import (
    FailureOut,
    ImportOut,
    ImportPage,
    ImportRowOut,
    ImportRowPage,
    RowErrorOut,
    RowFlagOut,
)
from dc_imports.service import ImportDesk
from dc_imports.settings import ImportsSettings
from dc_workflows.contracts.common import Actor
from dc_workflows.contracts.imports import ImportKind
from dc_workflows.temporal import (
    TemporalSettings,
    answer_temporal_outages,
    connect,
    temporal_check,
)

EnterpriseNumber = Annotated[str, Query(pattern=r"^\d{10}$")]
BranchNumber = Annotated[str, Query(pattern=r"^\d{10}$")]
OUTCOMES = ("accepted", "registered", "duplicate", "rejected")
CSV = "text/csv; charset=utf-8"


Desk = Annotated[ImportDesk, Depends(app_state("desk"))]
router = APIRouter(prefix="/v1", tags=["imports"])


Acting = Annotated[Actor, Depends(acting_party)]


@router.post(
    "/imports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportOut,
    summary="Upload a file of services or workers; it is processed in the background",
    responses={
        200: {"description": "The same file was uploaded before: that import"},
        413: {"description": "The file is too large"},
    },
)
async def upload(
    desk: Desk,
    caller: Acting,
    response: Response,
    file: Annotated[UploadFile, File(description="CSV (; or ,) or XLSX")],
    kind: Annotated[ImportKind, Form()],
    company_id: Annotated[str, Form(pattern=r"^\d{10}$")],
    branch_id: Annotated[str | None, Form(pattern=r"^\d{10}$")] = None,
) -> ImportOut:
    content = await file.read()
    uploaded = await desk.upload(
        caller,
        content=content,
        filename=file.filename or "upload",
        kind=kind,
        company_id=company_id,
        branch_id=branch_id or None,
    )
    if not uploaded.created:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/v1/imports/{uploaded.imported.id}"
    return import_out(uploaded.imported)


@router.post(
    "/imports/{import_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportOut,
    summary="Retry an import stopped by a step that kept failing; it goes on where it stopped",
    responses={409: {"description": "The import is not stopped (running, done or refused)"}},
)
async def retry_import(import_id: str, desk: Desk, caller: Acting) -> ImportOut:
    return import_out(await desk.retry(caller, import_id))


@router.get("/imports", response_model=ImportPage, summary="Imports, newest first")
async def list_imports(
    desk: Desk,
    company_id: EnterpriseNumber | None = None,
    branch_id: Annotated[list[str] | None, Query()] = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ImportPage:
    result = await desk.search(company_id, tuple(branch_id or ()), page=page, page_size=page_size)
    return ImportPage(
        items=[import_out(item) for item in result.items],
        page=page,
        page_size=page_size,
        total=result.total,
    )


@router.get("/imports/{import_id}", response_model=ImportOut, summary="Status and progress")
async def get_import(import_id: str, desk: Desk) -> ImportOut:
    return import_out(await desk.get(import_id))


@router.get(
    "/imports/{import_id}/errors.csv",
    response_class=StreamingResponse,
    summary="Rejected and duplicate rows: line, field, reason and the row's values",
    responses={200: {"content": {"text/csv": {}}}},
)
async def error_report(import_id: str, desk: Desk) -> StreamingResponse:
    pieces = await desk.error_report(import_id)
    return StreamingResponse(
        pieces,
        media_type=CSV,
        headers={"Content-Disposition": f'attachment; filename="import-{import_id}-errors.csv"'},
    )


@router.get(
    "/imports/{import_id}/rows",
    response_model=ImportRowPage,
    summary="The rows with their outcome, errors and plausibility flags, by line",
)
async def import_rows(
    import_id: str,
    desk: Desk,
    outcome: Annotated[str | None, Query(pattern="^(" + "|".join(OUTCOMES) + ")$")] = None,
    flagged: bool | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ImportRowPage:
    imported, rows = await desk.rows(
        import_id, outcome=outcome, flagged=flagged, page=page, page_size=page_size
    )
    names = list(imported.header or ())
    return ImportRowPage(
        items=[_row_out(row, names) for row in rows.items],
        page=page,
        page_size=page_size,
        total=rows.total,
    )


def import_out(imported: Import) -> ImportOut:
    failure = None
    if imported.failure:
        details: dict[str, Any] = imported.failure_details or {}
        failure = FailureOut(
            reason=imported.failure,
            line=int(details.get("line", 1)),
            errors=list(details.get("errors", [])),
            retryable=imported.retryable,
        )
    return answer(
        ImportOut,
        imported,
        uploaded_by=imported.uploaded_by_name,
        progress_percent=progress_percent(
            imported.status, imported.retryable, imported.rows_read, imported.rows_total
        ),
        failure=failure,
    )


def _row_out(row: ImportRow, names: list[str]) -> ImportRowOut:
    raw = list(row.raw or ())
    values = {
        (names[index] if index < len(names) and names[index] else f"column {index + 1}"): value
        for index, value in enumerate(raw)
    }
    return answer(
        ImportRowOut,
        row,
        errors=[RowErrorOut.model_validate(error) for error in row.errors or ()],
        flags=[RowFlagOut.model_validate(flag) for flag in row.flags or ()],
        values=values,
    )


def create_app(
    settings: ImportsSettings | None = None, temporal: TemporalSettings | None = None
) -> FastAPI:
    settings = settings or ImportsSettings()
    configure_logging_for(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(settings.database_url)
        await create_tables(db.engine)
        client = await connect(temporal)
        app.state.desk = ImportDesk(temporal=client, db=db, settings=settings)
        app.state.readiness = {
            "database": database_check(db.engine),
            "temporal": temporal_check(client),
        }
        async with operations_port(settings.ops_host, settings.ops_port, app.state.readiness):
            yield
        await db.dispose()

    app = create_service_app(
        name="imports",
        title="dienstencheques imports",
        lifespan=lifespan,
        routers=[router],
        internal_token=settings.internal_token,
    )
    answer_temporal_outages(app)
    return app
