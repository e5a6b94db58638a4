"""The Jobtracker's accounts in identity's API.

Internal routes (behind the internal secret, reached through the gateway): the worker logs in,
refreshes and changes the password; the company's staff set a first password, unblock an account,
end its sessions and read its state. Public routes: the discovery document and keys of the
Jobtracker's token issuer, which the gateway verifies the workers' tokens with.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Request, Response

from dc_identity import accounts
from dc_identity.accounts import TokenPolicy
from dc_identity.api import Acting, Db, _problems
from dc_identity.schemas import (
    CompanyWorkerAccountOut,
    EmployerOut,
    FirstPasswordIn,
    PasswordChangeIn,
    RefreshIn,
    SessionOut,
    SessionWorkerOut,
    WorkerAccountOut,
    WorkerLoginIn,
)

router = APIRouter(prefix="/v1", tags=["jobtracker"])


def _policy(request: Request) -> TokenPolicy:
    policy: TokenPolicy = request.app.state.jobtracker_tokens
    return policy


Policy = Annotated[TokenPolicy, Depends(_policy)]
REFUSED = _problems(401, 422, 423)


def _session_out(session: accounts.Session) -> SessionOut:
    worker = session.worker
    return SessionOut(
        access_token=session.access_token,
        expires_in=session.expires_in,
        refresh_token=session.refresh_token,
        must_change_password=session.must_change_password,
        worker=SessionWorkerOut(
            login=worker.login,
            name=f"{worker.first_name} {worker.last_name}",
            company_id=session.employer,
            language=worker.language,
        ),
        employers=[EmployerOut.model_validate(e) for e in session.employers],
    )


@router.post("/jobtracker/sessions", responses=REFUSED)
async def log_in(body: WorkerLoginIn, db: Db, policy: Policy) -> SessionOut:
    """A worker logs in with their login and password: 401 for a wrong one (or an unknown
    login), 423 once three wrong passwords in a row have blocked the account."""
    found = await accounts.log_in(db, policy, body.login, body.password, body.company_id)
    return _session_out(found)


@router.post("/jobtracker/sessions/refresh", responses=REFUSED)
async def refresh(body: RefreshIn, db: Db, policy: Policy) -> SessionOut:
    """A new access token and the next refresh token; a refresh token used twice ends the
    session everywhere."""
    return _session_out(await accounts.refresh(db, policy, body.refresh_token, body.company_id))


@router.post("/jobtracker/password", responses=REFUSED)
async def change_password(body: PasswordChangeIn, db: Db, policy: Policy) -> SessionOut:
    """The worker's own password (required after the company set the first one)."""
    changed = await accounts.change_password(
        db, policy, body.login, body.password, body.new_password
    )
    return _session_out(changed)


@router.put(
    "/workers/{login}/password",
    status_code=204,
    response_class=Response,
    responses=_problems(404, 422),
)
async def set_first_password(login: str, body: FirstPasswordIn, actor: Acting, db: Db) -> Response:
    """The company sets a password the worker must change; it unblocks and ends the sessions."""
    await accounts.set_first_password(db, actor, login, body.password)
    return Response(status_code=204)


@router.post(
    "/workers/{login}/unblock", status_code=204, response_class=Response, responses=_problems(404)
)
async def unblock(login: str, actor: Acting, db: Db) -> Response:
    await accounts.unblock(db, actor, login)
    return Response(status_code=204)


@router.delete(
    "/workers/{login}/sessions", status_code=204, response_class=Response, responses=_problems(404)
)
async def end_sessions(login: str, actor: Acting, db: Db) -> Response:
    """Every session of the worker ends (a lost phone): the refresh tokens stop working."""
    await accounts.end_sessions(db, actor, login)
    return Response(status_code=204)


@router.get("/workers/{login}/account", responses=_problems(404))
async def account(login: str, actor: Acting, db: Db) -> WorkerAccountOut:
    view = await accounts.account(db, actor, login)
    return WorkerAccountOut(
        login=view.login,
        has_password=view.has_password,
        must_change_password=view.must_change_password,
        blocked_at=view.blocked_at,
        wrong_in_a_row=view.wrong_in_a_row,
    )


@router.get("/companies/{enterprise_number}/worker-accounts")
async def company_accounts(enterprise_number: str, db: Db) -> list[CompanyWorkerAccountOut]:
    """The Jobtracker accounts of the company's workers (those who have one)."""
    return [
        CompanyWorkerAccountOut(
            login=worker.login,
            branch_id=worker.branch_id,
            has_password=True,
            must_change_password=found.must_change,
            blocked_at=found.blocked_at,
            wrong_in_a_row=found.wrong_in_a_row,
        )
        for worker, found in await accounts.company_accounts(db, enterprise_number)
    ]


def public_router(policy: TokenPolicy) -> APIRouter:
    """The issuer's discovery document and keys, at ``<issuer>/.well-known/...``."""
    public = APIRouter(prefix=urlsplit(policy.issuer).path.rstrip("/"), tags=["jobtracker"])

    @public.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": policy.issuer,
            "jwks_uri": f"{policy.issuer}/jwks.json",
            "id_token_signing_alg_values_supported": ["ES256"],
        }

    @public.get("/jwks.json")
    async def jwks(response: Response) -> dict[str, list[dict[str, Any]]]:
        response.headers["Cache-Control"] = "public, max-age=300"
        return policy.keys.public_jwks()

    return public
