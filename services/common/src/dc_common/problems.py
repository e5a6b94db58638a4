"""Errors as RFC 9457 problem documents (application/problem+json)."""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

PROBLEM_JSON = "application/problem+json"
#: What a 503 tells the caller to wait before trying again (``Retry-After``, seconds): what it
#: waited on (a service, identity, the identity provider) is restarting or reconnecting.
RETRY_AFTER_SECONDS = 5

log = structlog.get_logger()


class Problem(Exception):
    """Raise from domain or API code to answer with a problem document."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        *,
        errors: list[dict[str, Any]] | None = None,
        extensions: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.errors = errors
        self.extensions = extensions or {}
        """Members of the problem type beyond the standard ones (RFC 9457, section 3.2)."""
        self.retry_after = retry_after or (RETRY_AFTER_SECONDS if status == 503 else None)
        """Seconds to wait before sending again (``Retry-After``): a 503's, a 429's."""

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            **self.extensions,
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        return body


def field_error(field: str, reason: str) -> Problem:
    """A 422 naming the one field that is wrong and why."""
    return Problem(
        422,
        "Invalid request",
        f"{field}: {reason}",
        errors=[{"field": field, "reason": reason}],
    )


def problem_response(problem: Problem) -> JSONResponse:
    headers = {"Retry-After": str(problem.retry_after)} if problem.retry_after else None
    return JSONResponse(
        problem.body(), status_code=problem.status, media_type=PROBLEM_JSON, headers=headers
    )


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_validation(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"field": _field_name(error["loc"]), "reason": error["msg"]} for error in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem_response(Problem(422, "Invalid request", detail, errors=errors))

    async def on_http(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem_response(Problem(exc.status_code, str(exc.detail)))

    async def on_database_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)
        if not exc.connection_invalidated:
            return await on_bug(request, exc)
        # The connection was lost (a restart, a failover, a cut): the transaction did not
        # commit, or its outcome is unknown; what creates carries an Idempotency-Key and a
        # repeated transition answers 409, so the caller can send the request again.
        log.warning("database connection lost", path=request.url.path)
        detail = "the database connection was lost; send the request again"
        return problem_response(Problem(503, "Service unavailable", detail))

    async def on_bug(_request: Request, _exc: Exception) -> JSONResponse:
        # Starlette still logs the traceback; the caller learns nothing of the inside.
        return problem_response(Problem(500, "Internal error", "the error has been logged"))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_database_error)
    app.add_exception_handler(Exception, on_bug)


def _field_name(location: tuple[int | str, ...] | list[int | str]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"
