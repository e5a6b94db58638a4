"""Authorisation in one place: every route declares the rule it needs, and the app refuses to
start with a route that declares none.

Statuses: no or a bad token is 401; a company, service or person outside everything the caller
has a role in is 404 (a guessed id reveals nothing); a known resource the caller's role does not
allow is 403.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from dc_common.problems import Problem, field_error
from dc_gateway.access import Caller, StaffScope
from dc_gateway.authn import Unauthenticated


class Rule(StrEnum):
    PUBLIC = "public"
    """No token needed (liveness)."""
    AUTHENTICATED = "authenticated"
    """Any valid token; what the caller sees is narrowed by the route itself."""
    OPERATOR = "operator"
    COMPANY_MEMBER = "company-member"
    """Operator, or any role at the company in the path."""
    COMPANY_STAFF = "company-staff"
    """Operator, or the right on the company in the path (a branch right narrows the data)."""
    ACCESS_READER = "access-reader"
    """Operator, legal representative or main access manager of the company in the path."""
    MANAGER_APPOINTER = "manager-appointer"
    """Legal representative or main access manager of the company in the path."""
    ACCESS_MANAGER = "access-manager"
    """Main access manager of the company in the path."""
    SERVICE_PARTY = "service-party"
    """Any valid token; the route checks the caller's part in the service (staff of its company
    and branch, its worker, its user, or an operator)."""


#: The company a list is of; staff of one company may leave it out, an operator for all.
CompanyFilter = Annotated[
    str | None, Query(pattern=r"^\d{10}$", description="the company's enterprise number")
]

bearer = HTTPBearer(auto_error=False, description="An OpenID Connect access token")


def forbidden(detail: str) -> Problem:
    return Problem(403, "Forbidden", detail)


def not_found(what: str) -> Problem:
    return Problem(404, "Not found", f"no {what}")


# -- scoping: what of a company a caller may see and do, for routes whose company is not in the
# path (it comes from the body, a query or the resource itself) ------------------------------


def staff_scope(caller: Caller, company_id: str, *, what: str) -> StaffScope:
    """The part of the company's ``what`` the caller works on: their right (the company or
    some branches), or the whole company for an operator. A company outside everything the
    caller has a role in is a 404; one they know without the right, a 403."""
    scope = caller.staff.get(company_id)
    if scope is not None:
        return scope
    if caller.operator:
        return StaffScope(company_id, None)
    if caller.knows_company(company_id):
        raise forbidden(f"you have no right on the {what} of company {company_id}")
    raise not_found(f"company {company_id}")


def branch_scope(caller: Caller, company_id: str, branch_id: str | None, *, what: str) -> None:
    """As :func:`staff_scope`, for a change in one branch: a right on some branches only must
    name one of them."""
    scope = staff_scope(caller, company_id, what=what)
    if scope.branches is not None and not (branch_id and scope.covers(branch_id)):
        raise forbidden(f"name one of your branches as branch_id: {sorted(scope.branches)}")


def company_wide_scope(
    caller: Caller, company_id: str, *, what: str, operator_may: bool = True
) -> None:
    """The company's money needs the right on the whole company (or, where ``operator_may``,
    an operator); a branch right does not reach it."""
    scope = caller.staff.get(company_id)
    if scope is not None and scope.branches is None:
        return
    if scope is None and caller.operator and operator_may:
        return
    if caller.knows_company(company_id):
        raise forbidden(f"{what} need the right on the whole company")
    raise not_found(f"company {company_id}")


def may_see(
    caller: Caller, company_id: str, branch_id: str | None, *, company_wide: bool = False
) -> bool:
    """Whether a resource of this company and branch is the caller's to see."""
    if caller.operator:
        return True
    scope = caller.staff.get(company_id)
    if scope is None:
        return False
    return scope.branches is None if company_wide else scope.covers(branch_id)


def branch_filter(scope: StaffScope, wanted: list[str]) -> list[str]:
    """The branches to list: those asked for (each within the scope; another is a 404), or
    every branch of a branch-scoped right; empty for the whole company."""
    if scope.branches is None:
        return wanted
    outside = set(wanted) - scope.branches
    if outside:
        raise not_found(f"branch {sorted(outside)[0]}")
    return wanted or sorted(scope.branches)


def only_company(caller: Caller, *, what: str, company_wide: bool = False) -> str:
    """The company a staff member means when naming none: their only one."""
    companies = [
        company_id
        for company_id, scope in caller.staff.items()
        if not company_wide or scope.branches is None
    ]
    if len(companies) == 1:
        return companies[0]
    if companies:
        raise field_error("company_id", "required: you have rights in several companies")
    raise forbidden(f"you have no right to see {what}")


def _check(rule: Rule, caller: Caller, company_id: str | None) -> None:
    if rule in (Rule.AUTHENTICATED, Rule.SERVICE_PARTY):
        return
    if rule is Rule.OPERATOR:
        if not caller.operator:
            raise forbidden("only operators may do this")
        return
    assert company_id is not None, f"rule {rule} needs a company_id in the path"
    if not caller.knows_company(company_id):
        raise not_found(f"company {company_id}")
    allowed = {
        Rule.COMPANY_MEMBER: True,
        Rule.COMPANY_STAFF: caller.operator or company_id in caller.staff,
        Rule.ACCESS_READER: caller.operator
        or company_id in caller.legal_representative_of
        or caller.manages_access_of(company_id),
        Rule.MANAGER_APPOINTER: caller.may_appoint_managers_of(company_id),
        Rule.ACCESS_MANAGER: caller.manages_access_of(company_id),
    }[rule]
    if not allowed:
        raise forbidden(f"your role at company {company_id} does not allow this ({rule})")


class _Guard:
    """The dependency a route declares; carries its rule so the app can check every route."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    async def __call__(
        self,
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> Caller | None:
        if self.rule is Rule.PUBLIC:
            return None
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise Unauthenticated("missing Authorization: Bearer token")
        authenticate: Callable[[str], Awaitable[Caller]] = request.app.state.authenticate
        caller = await authenticate(credentials.credentials)
        _check(self.rule, caller, request.path_params.get("company_id"))
        request.state.caller = caller
        return caller


def requires(rule: Rule) -> Any:
    """``Depends`` on the rule; the endpoint gets the authenticated :class:`Caller`."""
    return Depends(_Guard(rule))


def route_rules(routers: Sequence[APIRouter]) -> dict[tuple[str, str], Rule]:
    """(method, path) -> the rule each route of the routers declared; refuses a route without."""
    rules: dict[tuple[str, str], Rule] = {}
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                raise RuntimeError(f"{route} is not an API route: it cannot declare a rule")
            guards = [d.call for d in route.dependant.dependencies if isinstance(d.call, _Guard)]
            if len(guards) != 1:
                raise RuntimeError(f"{route.methods} {route.path} must declare exactly one rule")
            for method in route.methods or ():
                rules[(method, route.path)] = guards[0].rule
    return rules


def check_every_operation_has_a_rule(app: FastAPI, rules: dict[tuple[str, str], Rule]) -> None:
    """Every operation the app documents was declared through a router with a rule."""
    for path, operations in app.openapi()["paths"].items():
        for method in operations:
            if (method.upper(), path) not in rules:
                raise RuntimeError(f"{method.upper()} {path} declares no authorisation rule")
