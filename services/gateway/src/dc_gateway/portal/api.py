"""The one path of the portal into the data: the gateway's own API (/api/v1), called in this
process with the signed-in person's token, so every page obeys the API's rules and scoping."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
from fastapi import Request, Response

from dc_gateway.access import Caller, resolved_for
from dc_gateway.authn import Unauthenticated
from dc_gateway.portal.session import LoginRequired

#: What a downloaded file keeps of the API's headers.
PASSED_ON = ("content-disposition", "content-language")


class ApiRefused(Exception):
    """The API answered with a problem (a 4xx): the page shows it, in the page's language
    where the API names a field."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail", ""))
        self.status = status
        self.problem = problem

    def field_errors(self) -> dict[str, str]:
        return {
            str(error.get("field")): str(error.get("reason", ""))
            for error in self.problem.get("errors", [])
        }


class PortalApi:
    def __init__(self, request: Request, token: str, *, caller: Caller | None = None) -> None:
        """``caller``: who the page is for when it is known without a token (a household
        that opened the signed link of its e-mail); ``token`` then only names it in process."""
        self._request = request
        self._token = token
        self._caller = caller
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=request.app),
            base_url="http://gateway",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    async def caller(self) -> Caller:
        """Who the page is for, looked up once per page (the API's own authentication)."""
        if self._caller is None:
            try:
                self._caller = await self._request.app.state.authenticate(self._token)
            except Unauthenticated as refused:
                raise LoginRequired(self._request.url.path) from refused
        return self._caller

    async def _send(self, method: str, path: str, **options: Any) -> httpx.Response:
        caller = await self.caller()
        with resolved_for(self._token, caller):
            # Ids percent-encoded: one with a "%", "?" or control character stays one id.
            return await self._http.request(method, quote(f"/api/v1{path}", safe="/"), **options)

    async def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return self._answer(await self._send("GET", path, params=_clean(params)))

    async def post(
        self,
        path: str,
        body: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> Any:
        return self._answer(await self._send("POST", path, json=body, headers=headers))

    async def upload(self, path: str, *, data: dict[str, str], file: tuple[str, bytes, str]) -> Any:
        return self._answer(await self._send("POST", path, data=data, files={"file": file}))

    async def download(self, path: str, *, headers: dict[str, str] | None = None) -> Response:
        """A file the API hands out (a report, a statement), passed on as it is."""
        answer = await self._send("GET", path, headers=headers)
        if answer.status_code != 200:
            self._answer(answer)
        passed = {n: answer.headers[n] for n in PASSED_ON if n in answer.headers}
        return Response(
            answer.content, media_type=answer.headers.get("content-type"), headers=passed
        )

    async def put(self, path: str, body: dict[str, Any]) -> Any:
        return self._answer(await self._send("PUT", path, json=body))

    async def delete(self, path: str) -> Any:
        return self._answer(await self._send("DELETE", path))

    async def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self._answer(await self._send("PATCH", path, json=body))

    def _answer(self, response: httpx.Response) -> Any:
        if response.status_code == 401:
            raise LoginRequired(self._request.url.path)
        if response.status_code >= 400:
            try:
                problem = response.json()
            except ValueError:
                problem = {"detail": response.text}
            raise ApiRefused(response.status_code, problem)
        return response.json() if response.content else None

    async def aclose(self) -> None:
        await self._http.aclose()


def _clean(params: dict[str, Any] | None) -> dict[str, Any] | None:
    """Without the empty fields of a submitted filter form."""
    if params is None:
        return None
    return {key: value for key, value in params.items() if value not in (None, "", [])}
