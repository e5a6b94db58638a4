"""Every endpoint of the gateway, called as every kind of caller, gets exactly the expected status.

The table below is the declared authorisation of the platform. A new endpoint without a row here
fails `test_every_endpoint_is_in_the_matrix`; one without a declared rule cannot even be built
(`test_an_endpoint_without_a_rule_is_refused`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import APIRouter
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from dc_common.belgian_numbers import mod97_check, with_enterprise_check
from dc_gateway.api import ROUTERS
from dc_gateway.policy import route_rules
from dc_identity.demo import (
    DEMO,
    LEIE_STAFF,
    OPERATOR,
    SCHELDE,
    SCHELDE_ANTWERPEN,
    SCHELDE_GENT_STAFF,
    SCHELDE_LEGAL_REPRESENTATIVE,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
    USER_HOLDERS,
)
from dc_identity.dev_idp import KeyStore
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.payments import ReconciliationRun
from dc_workflows.payments import WalletReconciliationWorkflow
from tests.support.platform import Platform
from tests.support.servers import internal_client
from tests.support.services import fresh_service_date
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SOFIE = DEMO.workers[0]  # Schelde, Gent
MARIE = DEMO.workers[2]  # Schelde, Antwerpen: the worker of the services below
AN = DEMO.users[0]
AN_HOLDER = USER_HOLDERS[0]
FIRST_PASSWORD = "eerste-2026-wachtwoord"

# -- the callers --------------------------------------------------------------------------------

INVALID_TOKENS = ("anonymous", "expired", "wrong-audience", "forged", "alg-none", "hmac")
PEOPLE = {
    "company-staff": SCHELDE_STAFF.national_number,
    "other-company-staff": LEIE_STAFF.national_number,
    "other-branch-staff": SCHELDE_GENT_STAFF.national_number,
    "worker": SOFIE.national_number,
    "user": AN_HOLDER.national_number,
    "main-access-manager": SCHELDE_MAIN_ACCESS_MANAGER.national_number,
    "legal-representative": SCHELDE_LEGAL_REPRESENTATIVE.national_number,
    "operator": OPERATOR.national_number,
}
CALLERS = (*INVALID_TOKENS, *PEOPLE)


def _expect(default: int, **by_caller: int) -> dict[str, int]:
    """Expected status per caller: 401 for every invalid token, ``default`` unless named."""
    people = {caller: by_caller.pop(caller.replace("-", "_"), default) for caller in PEOPLE}
    assert not by_caller, f"unknown callers {by_caller}"
    return {**dict.fromkeys(INVALID_TOKENS, 401), **people}


# Who plays which part at company Schelde, for a service in its Antwerpen branch, worked by Marie
# for user An: the company staff and the operator see it; the user is An; nobody else has a part.
COMPANY_STAFF_ONLY = _expect(404, company_staff=200, user=403, operator=403)
USER_ONLY = _expect(404, user=200, company_staff=403, operator=403)
ACCESS_READERS = _expect(
    403,
    main_access_manager=200,
    legal_representative=200,
    operator=200,
    other_company_staff=404,
    user=404,
)
ACCESS_MANAGER_ONLY = _expect(403, main_access_manager=201, other_company_staff=404, user=404)
COMPANY_MEMBERS = _expect(200, other_company_staff=404, user=404)
OPERATOR_ONLY = _expect(403, operator=201)
WORKER_MANAGERS = _expect(404, company_staff=204, operator=204)
COMPANY_WORKERS_READERS = _expect(
    403, company_staff=200, other_branch_staff=200, operator=200, other_company_staff=404, user=404
)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    expected: dict[str, int]
    body: Callable[[Fixtures, str], Awaitable[Any]] | None = None
    target: Callable[[Fixtures, str], Awaitable[str]] | None = None
    """Builds the concrete path (a fresh resource per caller where the call changes state)."""
    query: dict[str, str] | None = None
    form: Callable[[Fixtures, str], Awaitable[tuple[dict[str, Any], dict[str, str]]]] | None = None
    """Builds a multipart body instead of JSON: (files, fields)."""
    headers: dict[str, str] | None = None


@dataclass
class Fixtures:
    platform: Platform
    staff: httpx.AsyncClient
    holder: httpx.AsyncClient
    service_id: str
    serial: itertools.count[int]

    request_id: str | None = None

    async def reimbursement_request(self) -> str:
        """A real request of Schelde: a household's wallet paid a service, Tom asked
        reimbursement. Emma's household, which no other test of this platform pays from, so
        older services waiting in the same wallet do not take the vouchers first."""
        if self.request_id is None:
            emma, holder = DEMO.users[4], USER_HOLDERS[4]
            service_id = (await _register(self.staff, user_number=emma.user_number))["id"]
            await self.staff.post(f"/api/v1/services/{service_id}/validate")
            async with self.platform.as_person(holder.national_number) as household:
                await household.post(f"/api/v1/services/{service_id}/confirm")
                order = await household.post(
                    f"/api/v1/users/{emma.user_number}/voucher-orders",
                    json={"reference": "matrix-fixture", "quantity": 10},
                )
            assert order.status_code == 201, order.text

            async def paid() -> bool:
                service = (await self.staff.get(f"/api/v1/services/{service_id}")).json()
                return bool(service["status"] == 12)

            await eventually(paid)
            request = await self.staff.post(
                "/api/v1/reimbursement-requests",
                json={"company_id": SCHELDE, "reference": "MATRIX", "service_ids": [service_id]},
            )
            assert request.status_code == 201, request.text
            self.request_id = request.json()["id"]
        return self.request_id

    async def worker_account(self, login: str) -> None:
        """The worker has a Jobtracker account (its first password set by Tom)."""
        answer = await self.staff.put(
            f"/api/v1/workers/{login}/password", json={"password": FIRST_PASSWORD}
        )
        assert answer.status_code == 204, answer.text

    async def fresh_service(self, _caller: str) -> str:
        return (await _register(self.staff))["id"]

    async def new_person(self) -> str:
        return await self.platform.new_person("New", "Person")

    async def fresh_grant(self) -> int:
        grantee = await self.new_person()
        async with internal_client(self.platform.identity_url) as identity:
            response = await identity.post(
                f"/v1/companies/{SCHELDE}/grants",
                json={"national_number": grantee, "branch_id": None},
                headers={
                    "X-Actor-Kind": "company",
                    "X-Actor-Id": SCHELDE,
                    "X-Actor-Person": SCHELDE_MAIN_ACCESS_MANAGER.national_number,
                },
            )
        assert response.status_code == 201, response.text
        grant_id: int = response.json()["id"]
        return grant_id


async def _register(client: httpx.AsyncClient, **overrides: str) -> dict[str, Any]:
    response = await client.post("/api/v1/services", json={**_service_body(), **overrides})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _service_body() -> dict[str, Any]:
    """A service of Marie for An, on a date of its own (each is a new service, no duplicate)."""
    return {
        "company_id": SCHELDE,
        "branch_id": SCHELDE_ANTWERPEN,
        "worker_login": MARIE.login,
        "user_number": AN.user_number,
        "service_date": fresh_service_date(MARIE.login, AN.user_number),
        "hours": 2,
        "activity_type": 1,
    }


async def _new_service_body(_f: Fixtures, _caller: str) -> dict[str, Any]:
    return _service_body()


async def _same_service(f: Fixtures, _caller: str) -> str:
    return f"/api/v1/services/{f.service_id}"


async def _fresh_grant_path(f: Fixtures, _caller: str) -> str:
    return f"/api/v1/companies/{SCHELDE}/grants/{await f.fresh_grant()}"


async def _new_company(f: Fixtures, _caller: str) -> dict[str, Any]:
    number = with_enterprise_check(f"09{next(f.serial):06d}")
    return {
        "enterprise_number": number,
        "recognition_number": f"R{number}",
        "name": "New bv",
        "legal_representatives": [await f.new_person()],
    }


async def _new_branch(f: Fixtures, _caller: str) -> dict[str, Any]:
    base = f"29{next(f.serial):06d}"
    return {"establishment_unit_number": f"{base}{mod97_check(int(base)):02d}", "name": "New"}


async def _new_person_body(f: Fixtures, _caller: str) -> dict[str, Any]:
    return {"national_number": await f.new_person(), "branch_id": None}


def _service_path(
    suffix: str = "", under: str = "/api/v1"
) -> Callable[[Fixtures, str], Awaitable[str]]:
    async def build(f: Fixtures, caller: str) -> str:
        return f"{under}/services/{await f.fresh_service(caller)}{suffix}"

    return build


def _account_path(suffix: str) -> Callable[[Fixtures, str], Awaitable[str]]:
    async def build(f: Fixtures, _caller: str) -> str:
        await f.worker_account(MARIE.login)
        return f"/api/v1/workers/{MARIE.login}{suffix}"

    return build


def _body(value: Any) -> Callable[[Fixtures, str], Awaitable[Any]]:
    async def build(_f: Fixtures, _caller: str) -> Any:
        return value

    return build


def _import_file(caller: str) -> bytes:
    """A services file whose one row names the caller (so each caller's file is new); the row
    is rejected, nothing is registered."""
    return f"Werknemer;Gebruikersnummer;Datum;Uren;Activiteit\r\n{caller};1;2;3;4\r\n".encode()


async def _new_import(_f: Fixtures, caller: str) -> tuple[dict[str, Any], dict[str, str]]:
    files = {"file": (f"{caller}.csv", _import_file(caller), "text/csv")}
    return files, {"kind": "services", "company_id": SCHELDE}


def _import_path(suffix: str = "") -> Callable[[Fixtures, str], Awaitable[str]]:
    """One import of Schelde's Antwerpen branch (the same file again is the same import)."""

    async def build(f: Fixtures, _caller: str) -> str:
        response = await f.staff.post(
            "/api/v1/imports",
            files={"file": ("antwerpen.csv", _import_file("antwerpen"), "text/csv")},
            data={"kind": "services", "company_id": SCHELDE, "branch_id": SCHELDE_ANTWERPEN},
        )
        assert response.status_code in (200, 202), response.text
        return f"/api/v1/imports/{response.json()['id']}{suffix}"

    return build


IMPORT_READERS = _expect(404, company_staff=200, operator=200)


async def _not_payable_request(f: Fixtures, _caller: str) -> dict[str, Any]:
    return {"company_id": SCHELDE, "reference": "NOT-PAYABLE", "service_ids": [f.service_id]}


_RECONCILED: list[str] = []


async def _after_a_reconciliation(f: Fixtures, _caller: str) -> str:
    """The latest reconciliation, once one run has finished on this platform."""
    if not _RECONCILED:
        run = await f.platform.temporal.execute_workflow(
            WalletReconciliationWorkflow.run,
            ReconciliationRun(),
            id=f"matrix-reconciliation-{next(f.serial)}",
            task_queue=TaskQueue.LIFECYCLE,
        )
        _RECONCILED.append(run.key)
    return "/api/v1/reconciliations/latest"


def _request_path(suffix: str = "") -> Callable[[Fixtures, str], Awaitable[str]]:
    async def build(f: Fixtures, _caller: str) -> str:
        return f"/api/v1/reimbursement-requests/{await f.reimbursement_request()}{suffix}"

    return build


#: The views of the list's selection: the same scoping, the same answers.
LIST_VIEWS = (
    "/api/v1/services",
    "/api/v1/services/export.csv",
    "/api/v1/services/status-counts",
    "/api/v1/services/worker-totals.csv",
    "/api/v1/services/worker-totals",
)

S = f"/api/v1/companies/{SCHELDE}"
MATRIX: tuple[Call, ...] = (
    Call("GET", "/healthz", dict.fromkeys(CALLERS, 200)),
    Call("GET", "/readyz", dict.fromkeys(CALLERS, 200)),
    Call("GET", "/api/v1/me", _expect(200)),
    Call("GET", "/api/v1/companies", _expect(200)),
    Call("POST", "/api/v1/companies", OPERATOR_ONLY, body=_new_company),
    Call("GET", "/api/v1/companies/{company_id}", COMPANY_MEMBERS),
    Call("GET", "/api/v1/companies/{company_id}/branches", COMPANY_MEMBERS),
    Call("POST", "/api/v1/companies/{company_id}/branches", OPERATOR_ONLY, body=_new_branch),
    Call(
        "POST",
        "/api/v1/companies/{company_id}/main-access-managers",
        _expect(
            403,
            main_access_manager=201,
            legal_representative=201,
            other_company_staff=404,
            user=404,
        ),
        body=_new_person_body,
    ),
    Call("GET", "/api/v1/companies/{company_id}/main-access-managers", ACCESS_READERS),
    Call(
        "POST", "/api/v1/companies/{company_id}/grants", ACCESS_MANAGER_ONLY, body=_new_person_body
    ),
    Call("GET", "/api/v1/companies/{company_id}/grants", ACCESS_READERS),
    Call("GET", "/api/v1/companies/{company_id}/grants.csv", ACCESS_READERS),
    Call(
        "DELETE",
        "/api/v1/companies/{company_id}/grants/{grant_id}",
        _expect(403, main_access_manager=204, other_company_staff=404, user=404),
        target=_fresh_grant_path,
    ),
    Call("GET", "/api/v1/companies/{company_id}/audit-log", ACCESS_READERS),
    Call("GET", "/api/v1/companies/{company_id}/audit-log.csv", ACCESS_READERS),
    Call(
        "GET",
        "/api/v1/companies/{company_id}/workers",
        COMPANY_WORKERS_READERS,
    ),
    Call(
        "GET",
        "/api/v1/companies/{company_id}/inbox",
        _expect(
            403,
            company_staff=200,
            other_branch_staff=200,
            operator=200,
            other_company_staff=404,
            user=404,
        ),
    ),
    *(
        Call(
            "GET",
            path,
            _expect(
                200,
                worker=403,
                main_access_manager=403,
                legal_representative=403,
                other_company_staff=404,
                user=404,
            ),
            query={"company_id": SCHELDE},
        )
        for path in LIST_VIEWS
    ),
    Call(
        "POST",
        "/api/v1/services",
        _expect(403, company_staff=201, other_company_staff=404, user=404),
        body=_new_service_body,
    ),
    Call(
        "GET",
        "/api/v1/services/{service_id}",
        _expect(404, company_staff=200, user=200, operator=200),
        target=_same_service,
    ),
    Call(
        "POST",
        "/api/v1/services/{service_id}/validate",
        COMPANY_STAFF_ONLY,
        target=_service_path("/validate"),
    ),
    Call(
        "POST",
        "/api/v1/services/{service_id}/cancel",
        COMPANY_STAFF_ONLY,
        target=_service_path("/cancel"),
    ),
    Call(
        "PATCH",
        "/api/v1/services/{service_id}",
        COMPANY_STAFF_ONLY,
        body=_body({"hours": 3}),
        target=_service_path(),
    ),
    Call(
        "POST", "/api/v1/services/{service_id}/confirm", USER_ONLY, target=_service_path("/confirm")
    ),
    Call(
        "POST",
        "/api/v1/services/{service_id}/contest",
        USER_ONLY,
        body=_body({"reason": "not 2 hours"}),
        target=_service_path("/contest"),
    ),
    Call(
        "GET",
        "/api/v1/workers/{login}",
        _expect(404, company_staff=200, operator=200),
    ),
    Call(
        "POST",
        "/api/v1/jobtracker/services",
        # Only a worker registers here, their own service (for the company of their login).
        _expect(403, worker=201),
        body=_body(
            {
                "user_number": AN.user_number,
                "service_date": "2026-01-05",
                "hours": 1,
                "activity_type": 1,
            }
        ),
        headers={"Idempotency-Key": "matrix-phone-key"},
    ),
    # The worker's phone: customers, services, answers and paper vouchers of the worker's own
    # (a worker's token; none of the company's staff, households or operators: 403). The
    # service of Marie is not the worker's (404).
    *(
        Call("GET", f"/api/v1/jobtracker/{path}", _expect(403, worker=200))
        for path in ("customers", "services", "to-validate", "paper-vouchers/{number}")
    ),
    Call(
        "PUT",
        "/api/v1/jobtracker/customers/{user_number}",
        _expect(403, worker=200),
        body=_body({"name": "Het gezin Peeters"}),
    ),
    *(
        Call(
            "POST",
            f"/api/v1/jobtracker/services/{{service_id}}/{answer}",
            _expect(403, worker=404),
            body=_body({"reason": "3 uren"} if answer == "correction" else None),
            target=_service_path(f"/{answer}", under="/api/v1/jobtracker"),
        )
        for answer in ("confirm", "correction")
    ),
    Call(
        "PUT",
        "/api/v1/paper-vouchers/{number}",
        _expect(403, operator=204),
        body=_body({"issue_date": "2025-01-02", "expiry_date": "2025-09-01"}),
    ),
    # The worker's own account routes are public: the password is the credential (a malformed
    # one is refused the same for everybody).
    *(
        Call("POST", f"/api/v1/jobtracker/{path}", dict.fromkeys(CALLERS, 422), body=_body({}))
        for path in ("sessions", "sessions/refresh", "password")
    ),
    Call(
        "PUT",
        "/api/v1/workers/{login}/password",
        WORKER_MANAGERS,
        body=_body({"password": FIRST_PASSWORD}),
    ),
    *(
        Call(
            method,
            f"/api/v1/workers/{{login}}{suffix}",
            WORKER_MANAGERS,
            target=_account_path(suffix),
        )
        for method, suffix in (("POST", "/unblock"), ("DELETE", "/sessions"))
    ),
    Call(
        "GET",
        "/api/v1/companies/{company_id}/worker-accounts",
        COMPANY_WORKERS_READERS,
    ),
    Call(
        "GET",
        "/api/v1/workers/{login}/account",
        _expect(404, company_staff=200, operator=200),
        target=_account_path("/account"),
    ),
    Call("GET", "/api/v1/users/{user_number}", _expect(404, user=200, operator=200)),
    Call(
        "POST",
        "/api/v1/users/{user_number}/voucher-orders",
        _expect(404, user=201, operator=403),
        body=_body({"reference": "matrix-order", "quantity": 10}),
    ),
    Call("GET", "/api/v1/users/{user_number}/wallet", _expect(404, user=200, operator=200)),
    Call(
        "GET",
        "/api/v1/users/{user_number}/service-views",
        _expect(404, user=200, operator=200),
    ),
    Call(
        "GET",
        "/api/v1/users/{user_number}/wallet/payments.csv",
        _expect(404, user=200, operator=200),
    ),
    Call(
        "POST",
        "/api/v1/reimbursement-requests",
        # Tom passes the gate; the wallet refuses a service it does not pay (422).
        _expect(403, company_staff=422, other_company_staff=404, user=404),
        body=_not_payable_request,
    ),
    Call(
        "GET",
        "/api/v1/reimbursement-requests",
        _expect(403, company_staff=200, operator=200, other_company_staff=404, user=404),
        query={"company_id": SCHELDE},
    ),
    Call(
        "GET",
        "/api/v1/reimbursement-requests/export.csv",
        _expect(403, company_staff=200, operator=200, other_company_staff=404, user=404),
        query={"company_id": SCHELDE},
    ),
    *(
        Call(
            "GET",
            f"/api/v1/reimbursement-requests/{{request_id}}{suffix}",
            _expect(404, company_staff=200, operator=200),
            target=_request_path(suffix),
        )
        for suffix in ("", "/statement.csv", "/statement.pdf")
    ),
    Call(
        "POST",
        "/api/v1/reimbursement-requests/{request_id}/payout",
        _expect(403, operator=202),
        target=_request_path("/payout"),
    ),
    Call(
        "GET",
        "/api/v1/reconciliations/latest",
        _expect(403, operator=200),
        target=_after_a_reconciliation,
    ),
    Call(
        "POST",
        "/api/v1/imports",
        _expect(403, company_staff=202, operator=202, other_company_staff=404, user=404),
        form=_new_import,
    ),
    Call(
        "GET",
        "/api/v1/imports",
        _expect(
            403,
            company_staff=200,
            other_branch_staff=200,
            operator=200,
            other_company_staff=404,
            user=404,
        ),
        query={"company_id": SCHELDE},
    ),
    Call(
        "GET",
        "/api/v1/imports/export.csv",
        _expect(
            403,
            company_staff=200,
            other_branch_staff=200,
            operator=200,
            other_company_staff=404,
            user=404,
        ),
        query={"company_id": SCHELDE},
    ),
    Call("GET", "/api/v1/imports/{import_id}", IMPORT_READERS, target=_import_path()),
    Call(
        "GET",
        "/api/v1/imports/{import_id}/rows.csv",
        IMPORT_READERS,
        target=_import_path("/rows.csv"),
    ),
    Call(
        "GET",
        "/api/v1/imports/{import_id}/errors.csv",
        IMPORT_READERS,
        target=_import_path("/errors.csv"),
    ),
    Call("GET", "/api/v1/imports/{import_id}/rows", IMPORT_READERS, target=_import_path("/rows")),
    Call(
        "POST",
        "/api/v1/imports/{import_id}/retry",
        # Operators only; this import did not stop (it runs or is done), so there is nothing
        # to retry (409).
        _expect(403, operator=409),
        target=_import_path("/retry"),
    ),
)

PATH_VALUES = {
    "company_id": SCHELDE,
    "login": MARIE.login,
    "user_number": AN.user_number,
    "number": "4000009999",
}


def test_every_endpoint_is_in_the_matrix() -> None:
    declared = set(route_rules(ROUTERS))
    in_matrix = {(call.method, call.path) for call in MATRIX}
    assert declared - in_matrix == set(), "endpoints without a row in the authorisation matrix"
    assert in_matrix - declared == set(), "rows for endpoints that do not exist"


def test_an_endpoint_without_a_rule_is_refused() -> None:
    loose = APIRouter()

    @loose.get("/api/v1/loose")
    async def loose_endpoint() -> None:
        return None

    with pytest.raises(RuntimeError, match="must declare exactly one rule"):
        route_rules([*ROUTERS, loose])


@pytest.fixture(scope="module")
async def tokens(platform: Platform) -> AsyncIterator[dict[str, str | None]]:
    tokens: dict[str, str | None] = {
        caller: await platform.token(number) for caller, number in PEOPLE.items()
    }
    tokens.update(_bad_tokens(platform))
    yield tokens


def _bad_tokens(platform: Platform) -> dict[str, str | None]:
    """Tokens every gateway must refuse, each for one reason."""
    store = KeyStore(platform.state_dir / "dev-idp-key.json")
    store.load_or_create()
    real = store.current
    now = int(time.time())
    good = {
        "iss": platform.identity_url,
        "aud": "dienstencheques-platform",
        "sub": SCHELDE_STAFF.national_number,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    header = {"alg": "ES256", "kid": real.kid}
    impostor = ECKey.generate_key("P-256", parameters={"kid": real.kid})
    public_as_secret = OctKey.import_key(str(real.as_dict(private=False)).encode())
    return {
        "anonymous": None,
        "expired": jwt.encode(header, {**good, "iat": now - 7200, "exp": now - 3600}, real),
        "wrong-audience": jwt.encode(header, {**good, "aud": "another-platform"}, real),
        "forged": jwt.encode(header, good, impostor),
        "alg-none": _unsigned(good),
        "hmac": jwt.encode(
            {"alg": "HS256", "kid": real.kid}, good, public_as_secret, algorithms=["HS256"]
        ),
    }


def _unsigned(claims: dict[str, Any]) -> str:
    import base64
    import json

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."


@pytest.fixture(scope="module")
async def fixtures(platform: Platform) -> AsyncIterator[Fixtures]:
    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(AN_HOLDER.national_number) as holder,
    ):
        service = await _register(staff)
        yield Fixtures(platform, staff, holder, service["id"], itertools.count(1))


@pytest.mark.parametrize("call", MATRIX, ids=lambda call: f"{call.method} {call.path}")
async def test_authorisation_matrix(
    platform: Platform, tokens: dict[str, str | None], fixtures: Fixtures, call: Call
) -> None:
    assert set(call.expected) == set(CALLERS), "every caller kind has an expected status"
    got: dict[str, int] = {}
    for caller in CALLERS:
        path = await call.target(fixtures, caller) if call.target else call.path
        path = path.replace("{service_id}", fixtures.service_id).format(**PATH_VALUES)
        body = await call.body(fixtures, caller) if call.body else None
        token = tokens[caller]
        headers = {
            **(call.headers or {}),
            **({"Authorization": f"Bearer {token}"} if token else {}),
        }
        if call.form is not None:
            files, fields = await call.form(fixtures, caller)
            response = await platform.anonymous.request(
                call.method, path, files=files, data=fields, headers=headers, params=call.query
            )
        else:
            response = await platform.anonymous.request(
                call.method, path, json=body, headers=headers, params=call.query
            )
        got[caller] = response.status_code
    assert got == call.expected
