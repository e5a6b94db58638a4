"""What services-mgmt needs to know from the identity service, over its HTTP API."""

from datetime import date

import httpx
from pydantic import BaseModel, SecretStr

from dc_common.internal import internal_http_client


class EmployerRecord(BaseModel):
    company_id: str
    branch_id: str | None


class WorkerRecord(BaseModel):
    login: str
    first_name: str
    last_name: str
    company_id: str
    branch_id: str | None
    contract_start: date
    contract_end: date | None
    employers: list[EmployerRecord] = []

    def employment_at(self, company_id: str) -> EmployerRecord | None:
        """The worker's employment by the company (its branch there), if any."""
        first = EmployerRecord(company_id=self.company_id, branch_id=self.branch_id)
        return next((e for e in [first, *self.employers] if e.company_id == company_id), None)


class UserRecord(BaseModel):
    user_number: str
    name: str
    email: str
    language: str


class BranchRecord(BaseModel):
    establishment_unit_number: str
    name: str


class CompanyRecord(BaseModel):
    enterprise_number: str
    name: str
    branches: list[BranchRecord]


class IdentityUnavailable(Exception):
    """The identity service did not answer; the caller should retry later."""


class IdentityClient:
    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | None,
        timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._http = internal_http_client(
            base_url, token=token, timeout=timeout, transport=transport
        )

    async def worker(self, login: str) -> WorkerRecord | None:
        response = await self._get(f"/v1/workers/{login}")
        return None if response is None else WorkerRecord.model_validate(response.json())

    async def company(self, enterprise_number: str) -> CompanyRecord | None:
        response = await self._get(f"/v1/companies/{enterprise_number}")
        return None if response is None else CompanyRecord.model_validate(response.json())

    async def user(self, user_number: str) -> UserRecord | None:
        response = await self._get(f"/v1/users/{user_number}")
        return None if response is None else UserRecord.model_validate(response.json())

    async def _get(self, path: str) -> httpx.Response | None:
        try:
            response = await self._http.get(path)
        except httpx.TransportError as error:
            raise IdentityUnavailable(str(error)) from error
        if response.status_code == 404:
            return None
        if response.status_code >= 500:
            raise IdentityUnavailable(f"identity answered {response.status_code}")
        response.raise_for_status()
        return response

    async def aclose(self) -> None:
        await self._http.aclose()
