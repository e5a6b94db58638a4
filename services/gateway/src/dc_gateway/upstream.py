"""Forwarding a gateway call to the service that owns it, over HTTP."""

from typing import Any

import httpx
from fastapi import Request, Response

from dc_common.problems import Problem

_FORWARDED_HEADERS = ("idempotency-key", "x-request-id")


class Upstream:
    """One backing service: its base URL, its internal path prefix and the public one."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        internal_prefix: str = "/v1",
        public_prefix: str = "/api/v1",
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, transport=transport)
        self._internal_prefix = internal_prefix
        self._public_prefix = public_prefix

    async def forward(
        self, request: Request, method: str, path: str, *, json: Any = None
    ) -> Response:
        headers = {
            name: request.headers[name] for name in _FORWARDED_HEADERS if name in request.headers
        }
        try:
            answer = await self._http.request(
                method,
                self._internal_prefix + path,
                params=request.query_params,
                json=json,
                headers=headers,
            )
        except httpx.TransportError as error:
            raise Problem(503, "Service unavailable", f"{self._http.base_url}: {error}") from error
        response_headers = {}
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

    async def aclose(self) -> None:
        await self._http.aclose()
