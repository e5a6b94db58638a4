"""Who the caller is on this platform: their roles and rights, as the identity service keeps them.

Rights are read at every request (not carried in the token), so a revoke takes effect at once;
a portal page reads them once for all the API calls it makes in this process
(:func:`resolved_for`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

import httpx

from dc_common.internal import InternalApi
from dc_common.problems import Problem
from dc_identity.schemas import AccessOut


@dataclass(frozen=True)
class StaffScope:
    """What a staff member may see of one company: all of it, or some branches."""

    company_id: str
    branches: frozenset[str] | None  # None: the whole company

    def covers(self, branch_id: str | None) -> bool:
        return self.branches is None or branch_id in self.branches


@dataclass(frozen=True)
class Caller:
    national_number: str
    name: str
    operator: bool = False
    legal_representative_of: frozenset[str] = frozenset()
    main_access_manager_of: frozenset[str] = frozenset()
    staff: dict[str, StaffScope] = field(default_factory=dict)
    worker_logins: dict[str, str] = field(default_factory=dict)  # login -> company
    user_numbers: frozenset[str] = frozenset()
    access: AccessOut | None = None

    @classmethod
    def from_access(cls, access: AccessOut) -> Caller:
        staff: dict[str, StaffScope] = {}
        for right in access.rights:
            current = staff.get(right.company_id)
            if right.branch_id is None or (current is not None and current.branches is None):
                staff[right.company_id] = StaffScope(right.company_id, None)
            else:
                known = current.branches if current and current.branches else frozenset()
                staff[right.company_id] = StaffScope(right.company_id, known | {right.branch_id})
        return cls(
            national_number=access.national_number,
            name=access.name,
            operator=access.operator,
            legal_representative_of=frozenset(access.legal_representative_of),
            main_access_manager_of=frozenset(access.main_access_manager_of),
            staff=staff,
            worker_logins={w.login: w.company_id for w in access.workers},
            user_numbers=frozenset(access.user_numbers),
            access=access,
        )

    @classmethod
    def unknown(cls, national_number: str, name: str | None) -> Caller:
        """Authenticated, but not known to the platform: no role anywhere."""
        access = AccessOut(
            national_number=national_number,
            name=name or national_number,
            operator=False,
            legal_representative_of=[],
            main_access_manager_of=[],
            rights=[],
            workers=[],
            user_numbers=[],
        )
        return cls(national_number=national_number, name=access.name, access=access)

    def as_worker(self, login: str, employer: str) -> Caller:
        """The same person with a Jobtracker token: only the worker with this login, for the
        employer identity signed the token for, whatever else they are on the platform (a
        token from the phone reaches no company's data)."""
        company = employer if login in self.worker_logins else None
        access = None
        if self.access is not None:
            access = self.access.model_copy(
                update={
                    "operator": False,
                    "legal_representative_of": [],
                    "main_access_manager_of": [],
                    "rights": [],
                    "workers": [w for w in self.access.workers if w.login == login],
                    "user_numbers": [],
                }
            )
        return Caller(
            national_number=self.national_number,
            name=self.name,
            worker_logins={login: company} if company else {},
            access=access,
        )

    def knows_company(self, company_id: str) -> bool:
        """Any role at the company: the company's existence is no secret to them."""
        return (
            self.operator
            or company_id in self.staff
            or company_id in self.legal_representative_of
            or company_id in self.main_access_manager_of
            or company_id in self.worker_logins.values()
        )

    def manages_access_of(self, company_id: str) -> bool:
        return company_id in self.main_access_manager_of

    def may_appoint_managers_of(self, company_id: str) -> bool:
        return (
            company_id in self.legal_representative_of or company_id in self.main_access_manager_of
        )


class IdentityDirectory(InternalApi):
    """The caller lookup: who a person is for the platform, asked of identity at every request.

    The national number goes in the body of ``POST /v1/people/access``, never in the URL (which
    uvicorn, httpx and any proxy write to their logs)."""

    timeout = 10.0

    async def caller(self, national_number: str, name: str | None) -> Caller:
        try:
            response = await self._http.post(
                "/v1/people/access", json={"national_number": national_number}
            )
        except httpx.TransportError as error:
            raise Problem(503, "Identity service unavailable", str(error)) from error
        if response.status_code in (404, 422):
            return Caller.unknown(national_number, name)
        if response.status_code != 200:
            raise Problem(503, "Identity service unavailable", f"answered {response.status_code}")
        return Caller.from_access(AccessOut.model_validate(response.json()))


_resolved: ContextVar[tuple[str, Caller] | None] = ContextVar("dc_resolved_caller", default=None)


@contextmanager
def resolved_for(token: str, caller: Caller) -> Iterator[None]:
    """Within this block, in this task only, ``token`` stands for ``caller``: the API calls a
    portal page makes in process reuse the lookup the page made. Nothing from outside the
    process can set it."""
    reset = _resolved.set((token, caller))
    try:
        yield
    finally:
        _resolved.reset(reset)


def already_resolved(token: str) -> Caller | None:
    known = _resolved.get()
    return known[1] if known is not None and known[0] == token else None
