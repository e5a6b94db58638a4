"""What the imports need from the identity service, over its HTTP API: the contracts of a
company's workers (plausibility), and the bulk upsert of the workers of a workers file."""

from collections.abc import Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from dc_common.actors import Actor
from dc_common.internal import InternalApi
from dc_workflows.contracts.imports import ImportedWorker


class WorkerContract(BaseModel):
    login: str
    contract_start: date
    contract_end: date | None


class FieldErrorOut(BaseModel):
    field: str
    reason: str


class WorkerUpsertResult(BaseModel):
    login: str
    outcome: str
    errors: list[FieldErrorOut] = []


class WorkerUpsertAnswer(BaseModel):
    results: list[WorkerUpsertResult]


class IdentityUnavailable(Exception):
    """The identity service did not answer as it should; the activity retries."""


class IdentityRefused(Exception):
    """Identity refused the whole request (no acting person, no right, unknown company)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class IdentityClient(InternalApi):
    timeout = 60.0

    async def company_workers(self, company_id: str) -> list[WorkerContract]:
        """The company's workers with their contracts; empty for an unknown company."""
        response = await self._call("GET", f"/v1/companies/{company_id}/workers")
        if response.status_code in (404, 422):
            return []
        _raise_for_status(response)
        return [WorkerContract.model_validate(item) for item in response.json()]

    async def upsert_workers(
        self, company_id: str, actor: Actor, workers: Sequence[ImportedWorker]
    ) -> list[WorkerUpsertResult]:
        """Create or update the workers (by login); one result per worker, in order."""
        body: dict[str, Any] = {
            "workers": [worker.model_dump(mode="json", exclude={"line"}) for worker in workers]
        }
        headers = _acting(actor)
        response = await self._call(
            "PUT", f"/v1/companies/{company_id}/workers", json=body, headers=headers
        )
        if response.status_code in (401, 403, 404, 422):
            raise IdentityRefused(response.status_code, _detail(response))
        _raise_for_status(response)
        results = WorkerUpsertAnswer.model_validate(response.json()).results
        if len(results) != len(workers):
            raise IdentityUnavailable("identity answered for another number of workers")
        return results

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TransportError as error:
            raise IdentityUnavailable(str(error)) from error


def _acting(actor: Actor) -> dict[str, str]:
    """The acting party in the shared ``X-Actor-*`` headers (who uploaded the file)."""
    headers = {"X-Actor-Kind": actor.kind.value, "X-Actor-Id": actor.id}
    if actor.person:
        headers["X-Actor-Person"] = actor.person
    if actor.name:
        headers["X-Actor-Name"] = quote(actor.name, safe=" ")
    return headers


def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise IdentityUnavailable(f"identity answered {response.status_code}: {_detail(response)}")


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:500]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("title") or body)
    return str(body)
