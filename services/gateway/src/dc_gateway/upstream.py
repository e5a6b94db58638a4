"""Calling the service that owns a resource, over HTTP."""

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request, Response
from fastapi.responses import StreamingResponse
from pydantic import SecretStr
from starlette.background import BackgroundTask

from dc_common.internal import internal_http_client
from dc_common.problems import Problem
from dc_common.readiness import Check, http_check

#: What a call forwards from the caller's request (its id travels with every internal call).
_FORWARDED_HEADERS = ("idempotency-key",)
#: What an answer passes back to the caller besides its body (a 503's wait; a 202's too).
_RETURNED_HEADERS = ("retry-after",)
QueryParams = Mapping[str, str | list[str]] | None


class Upstream:
    """One backing service: its base URL, its internal path prefix and the public one."""

    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | None,
        timeout: float,
        internal_prefix: str = "/v1",
        public_prefix: str = "/api/v1",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = internal_http_client(
            base_url, token=token, timeout=timeout, transport=transport
        )
        self._internal_prefix = internal_prefix
        self._public_prefix = public_prefix

    def health_check(self) -> Check:
        """Readiness: the service answers its liveness probe."""
        return http_check(self._http)

    async def fetch(
        self,
        path: str,
        *,
        params: QueryParams = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any] | None:
        """The resource's JSON, or None when the service does not know it."""
        answer = await self._call("GET", path, params=params, headers=headers)
        if answer.status_code in (404, 422):
            return None
        if answer.status_code != 200:
            raise _refusal(path, answer)
        body: dict[str, Any] = answer.json()
        return body

    async def fetch_list(
        self,
        path: str,
        *,
        params: QueryParams = None,
        headers: Mapping[str, str] | None = None,
    ) -> list[dict[str, Any]]:
        body: list[dict[str, Any]] = await self.fetch_json(path, params=params, headers=headers)
        return body

    async def fetch_json(
        self,
        path: str,
        *,
        params: QueryParams = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """The answer's JSON, whatever its shape; a resource the service does not know (or whose
        id it cannot read) is 404, a service unavailable for now 503, any other refusal the
        gateway's fault (502)."""
        answer = await self._call("GET", path, params=params, headers=headers)
        if answer.status_code in (404, 422):
            raise Problem(404, "Not found", f"{path}: unknown")
        if answer.status_code != 200:
            raise _refusal(path, answer)
        return answer.json()

    async def record(self, path: str, *, headers: Mapping[str, str]) -> None:
        """A POST that only records (answered 204); a resource the service does not know is
        404, any other refusal as :meth:`fetch`'s."""
        answer = await self._call("POST", path, headers=headers)
        if answer.status_code in (404, 422):
            raise Problem(404, "Not found", f"{path}: unknown")
        if answer.status_code != 204:
            raise _refusal(path, answer)

    async def forward(
        self,
        request: Request,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: QueryParams = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Pass the call on and its answer back (status, body, Location rewritten)."""
        passed = {
            name: request.headers[name] for name in _FORWARDED_HEADERS if name in request.headers
        }
        answer = await self._call(
            method,
            path,
            json=json,
            params=request.query_params if params is None else params,
            headers={**passed, **(headers or {})},
        )
        response_headers = {n: answer.headers[n] for n in _RETURNED_HEADERS if n in answer.headers}
        if location := answer.headers.get("location"):
            response_headers["Location"] = location.replace(
                self._internal_prefix, self._public_prefix, 1
            )
        return Response(
            content=answer.content,
            status_code=answer.status_code,
            media_type=answer.headers.get("content-type"),
            headers=response_headers,
        )

    async def stream(self, path: str, *, params: QueryParams = None) -> Response:
        """A large answer (an export) passed on as it comes, in flat memory; a refusal as is."""
        request = self._http.build_request("GET", self._internal_url(path), params=params)
        try:
            answer = await self._http.send(request, stream=True)
        except httpx.TransportError as error:
            raise Problem(503, "Service unavailable", f"{self._http.base_url}: {error}") from error
        media_type = answer.headers.get("content-type")
        if answer.status_code != 200:
            await answer.aread()
            await answer.aclose()
            returned = {n: answer.headers[n] for n in _RETURNED_HEADERS if n in answer.headers}
            return Response(
                answer.content,
                status_code=answer.status_code,
                media_type=media_type,
                headers=returned,
            )
        passed = {n: answer.headers[n] for n in ("content-disposition",) if n in answer.headers}
        return StreamingResponse(
            answer.aiter_raw(),
            media_type=media_type,
            headers=passed,
            background=BackgroundTask(answer.aclose),
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        try:
            return await self._http.request(
                method, self._internal_url(path), json=json, params=params, headers=headers
            )
        except httpx.TransportError as error:
            raise Problem(503, "Service unavailable", f"{self._http.base_url}: {error}") from error

    def _internal_url(self, path: str) -> str:
        """The service's path of ``path``, its ids percent-encoded: an id with a ``%``, a ``?``
        or a control character stays one id, as the caller sent it."""
        return quote(self._internal_prefix + path, safe="/")

    async def aclose(self) -> None:
        await self._http.aclose()


def _refusal(path: str, answer: httpx.Response) -> Problem:
    """What the gateway answers for a read the service refused: a service unavailable for now
    (a lost database connection, Temporal restarting) stays a 503 with ``Retry-After``, so the
    caller sends it again; any other refusal is the gateway's fault (502)."""
    if answer.status_code == 503:
        return Problem(503, "Service unavailable", f"{path}: the service is not available now")
    return Problem(502, "Bad gateway", f"{path}: upstream answered {answer.status_code}")
