"""Imports of services and workers from files: forwarded to the imports service.

The rule is that of company staff (an operator, or the right on the company), checked here
because the company comes from the form or from the import: a staff member with a right on
some branches only must name one of them when uploading, and sees only the imports of their
branches. An import outside everything the caller may see is a 404. An import that stopped
because a step kept failing is retried by an operator.
"""

from collections.abc import Mapping
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, File, Form, Query, Request, Response, UploadFile, status
from fastapi.responses import StreamingResponse

from dc_common.answers import MAX_PAGE
from dc_common.problems import Problem
from dc_gateway import exports
from dc_gateway.access import Caller
from dc_gateway.parties import acting_as
from dc_gateway.policy import (
    CompanyFilter,
    Rule,
    branch_filter,
    branch_scope,
    may_see,
    not_found,
    only_company,
    requires,
    staff_scope,
)
from dc_gateway.upstream import Upstream
from dc_imports.schemas import ImportOut, ImportPage, ImportRowPage
from dc_workflows.contracts.imports import ImportKind

PROBLEM = {"model": dict[str, Any], "description": "A problem document (RFC 9457)"}
_PASSED_HEADERS = ("content-disposition", "retry-after")

EnterpriseNumber = Annotated[str, Form(pattern=r"^\d{10}$", examples=["0712345630"])]
OUTCOME = r"^(accepted|registered|duplicate|rejected)$"
IMPORTS_PAGE = 200  # the most the imports service gives a page


class ImportsUpstream(Upstream):
    """The imports service: also takes a file upload and passes a download's name on."""

    async def upload(
        self,
        path: str,
        *,
        filename: str,
        content: bytes,
        content_type: str,
        data: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> Response:
        try:
            answer = await self._http.post(
                self._internal_url(path),
                files={"file": (filename, content, content_type)},
                data=dict(data),
                headers=dict(headers),
            )
        except httpx.TransportError as error:
            raise Problem(503, "Service unavailable", f"{self._http.base_url}: {error}") from error
        return self.relay(answer)

    async def download(self, path: str) -> Response:
        try:
            answer = await self._http.get(self._internal_url(path))
        except httpx.TransportError as error:
            raise Problem(503, "Service unavailable", f"{self._http.base_url}: {error}") from error
        return self.relay(answer)

    def relay(self, answer: httpx.Response) -> Response:
        headers = {name: answer.headers[name] for name in _PASSED_HEADERS if name in answer.headers}
        if location := answer.headers.get("location"):
            headers["Location"] = location.replace(self._internal_prefix, self._public_prefix, 1)
        return Response(
            content=answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
            headers=headers,
        )


def _imports(request: Request) -> ImportsUpstream:
    upstream: ImportsUpstream = request.app.state.imports
    return upstream


Imports = Annotated[ImportsUpstream, Depends(_imports)]
router = APIRouter(prefix="/api/v1", tags=["imports"])


async def _visible(imports: ImportsUpstream, caller: Caller, import_id: str) -> dict[str, Any]:
    imported = await imports.fetch(f"/imports/{import_id}")
    if imported is None or not may_see(caller, imported["company_id"], imported["branch_id"]):
        raise not_found("such import")
    return imported


@router.post(
    "/imports",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportOut,
    summary="Upload a file of services or workers; processed in the background",
    responses={
        200: {"description": "The same file was uploaded before: that import"},
        403: PROBLEM,
        404: PROBLEM,
        413: PROBLEM,
        422: PROBLEM,
    },
)
async def upload_import(
    imports: Imports,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    file: Annotated[UploadFile, File(description="CSV (; or ,, UTF-8 or Windows-1252) or XLSX")],
    kind: Annotated[ImportKind, Form()],
    company_id: EnterpriseNumber,
    branch_id: Annotated[str | None, Form(pattern=r"^\d{10}$")] = None,
) -> Response:
    """Staff of the company (a branch right: naming that branch) or an operator."""
    branch_scope(caller, company_id, branch_id or None, what="imports")
    actor = acting_as(caller, "company", company_id)
    data = {"kind": kind.value, "company_id": company_id}
    if branch_id:
        data["branch_id"] = branch_id
    return await imports.upload(
        "/imports",
        filename=file.filename or "upload",
        content=await file.read(),
        content_type=file.content_type or "application/octet-stream",
        data=data,
        headers=actor,
    )


@router.get(
    "/imports",
    response_model=ImportPage,
    summary="Imports, newest first: those of the caller's company (or branches)",
)
async def list_imports(
    request: Request,
    imports: Imports,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    company_id: CompanyFilter = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Response:
    params = {"page": str(page), "page_size": str(page_size), **_imports_of(caller, company_id)}
    return await imports.forward(request, "GET", "/imports", params=params)


def _imports_of(caller: Caller, company_id: str | None) -> dict[str, str | list[str]]:
    """Whose imports the caller reads: their company's (or its branches'), or every one for an
    operator who names no company."""
    if company_id is None and not caller.operator:
        company_id = only_company(caller, what="imports")
    if company_id is None:
        return {}
    scope = staff_scope(caller, company_id, what="imports")
    return {"company_id": company_id, "branch_id": branch_filter(scope, [])}


IMPORT_COLUMNS = (
    exports.instant("uploaded_at", "created_at"),
    exports.text("filename"),
    exports.text("kind"),
    exports.text("status"),
    exports.text("uploaded_by"),
    exports.text("rows_total"),
    exports.text("accepted"),
    exports.text("rejected"),
    exports.text("duplicates"),
    exports.text("flagged"),
    exports.text("branch_id"),
    exports.text("import_id", "id"),
)


@router.get(
    "/imports/export.csv",
    **exports.CSV_ROUTE,
    summary="The imports as CSV for Belgian Excel, newest first",
)
async def export_imports(
    imports: Imports,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    company_id: CompanyFilter = None,
) -> Response:
    whose = _imports_of(caller, company_id)

    async def fetch(page: int, size: int) -> dict[str, Any]:
        params = {"page": str(page), "page_size": str(size), **whose}
        answer: dict[str, Any] = await imports.fetch_json("/imports", params=params)
        return answer

    pages = exports.by_page(fetch, size=IMPORTS_PAGE)
    return await exports.csv_answer("imports.csv", IMPORT_COLUMNS, pages)


@router.get(
    "/imports/{import_id}",
    response_model=ImportOut,
    summary="One import: status and progress",
    responses={404: PROBLEM},
)
async def get_import(
    import_id: str,
    imports: Imports,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> dict[str, Any]:
    return await _visible(imports, caller, import_id)


@router.post(
    "/imports/{import_id}/retry",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=ImportOut,
    summary="Retry an import stopped by a step that kept failing (operators)",
    responses={403: PROBLEM, 404: PROBLEM, 409: PROBLEM},
)
async def retry_import(
    import_id: str,
    request: Request,
    imports: Imports,
    caller: Annotated[Caller, requires(Rule.OPERATOR)],
) -> Response:
    """It goes on from the first line not finished (``failure.line``), registering nothing
    twice. 409 for an import that is not stopped: running, done, or a file refused as a whole
    (which is corrected and uploaded again)."""
    await _visible(imports, caller, import_id)
    headers = acting_as(caller, "operator", caller.national_number)
    return await imports.forward(request, "POST", f"/imports/{import_id}/retry", headers=headers)


@router.get(
    "/imports/{import_id}/errors.csv",
    summary="The rejected and duplicate rows: line, field, reason and the row's values",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, 404: PROBLEM},
)
async def import_errors(
    import_id: str,
    imports: Imports,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
) -> Response:
    await _visible(imports, caller, import_id)
    return await imports.download(f"/imports/{import_id}/errors.csv")


@router.get(
    "/imports/{import_id}/rows",
    response_model=ImportRowPage,
    summary="The rows by line, with outcome, errors and plausibility flags",
    responses={404: PROBLEM},
)
async def import_rows(
    import_id: str,
    request: Request,
    imports: Imports,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    outcome: Annotated[str | None, Query(pattern=OUTCOME)] = None,
    flagged: bool | None = None,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """``flagged=true``: the rows with a plausibility flag the company should look at."""
    await _visible(imports, caller, import_id)
    return await imports.forward(request, "GET", f"/imports/{import_id}/rows")


ROW_COLUMNS = (
    exports.text("line"),
    exports.text("outcome"),
    exports.Column(
        "errors", lambda row: " | ".join(f"{e['field']}: {e['reason']}" for e in row["errors"])
    ),
    exports.Column("flags", lambda row: " | ".join(f["message"] for f in row["flags"])),
    exports.text("duplicate_of"),
    exports.text("service_id"),
)


@router.get(
    "/imports/{import_id}/rows.csv",
    response_class=StreamingResponse,
    responses={**exports.CSV_RESPONSES, 404: PROBLEM},
    summary="Every row by line with its outcome, errors and flags, as CSV (with the same filters)",
)
async def export_import_rows(
    import_id: str,
    imports: Imports,
    caller: Annotated[Caller, requires(Rule.AUTHENTICATED)],
    outcome: Annotated[str | None, Query(pattern=OUTCOME)] = None,
    flagged: bool | None = None,
) -> Response:
    await _visible(imports, caller, import_id)
    wanted = {"outcome": outcome, "flagged": None if flagged is None else str(flagged).lower()}
    chosen = {name: value for name, value in wanted.items() if value is not None}

    async def fetch(page: int, size: int) -> dict[str, Any]:
        params = {"page": str(page), "page_size": str(size), **chosen}
        answer: dict[str, Any] = await imports.fetch_json(
            f"/imports/{import_id}/rows", params=params
        )
        return answer

    pages = exports.by_page(fetch)
    return await exports.csv_answer(f"import-{import_id}-rows.csv", ROW_COLUMNS, pages)
