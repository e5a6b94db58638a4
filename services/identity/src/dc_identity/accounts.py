"""Workers' Jobtracker accounts: the company sets and unblocks, the worker logs in, refreshes
and changes the password (the rules in :mod:`dc_identity.credentials`).

A login answers a short-lived access token, signed with identity's Jobtracker key (its JWKS is
public, so the gateway verifies it as it verifies any token), and a refresh token kept only by
its digest. Blocking and unblocking are in the company's audit log.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from joserfc import jwt
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.actors import Actor
from dc_common.db import Database
from dc_common.logging import pseudonym
from dc_common.problems import Problem, field_error
from dc_identity import credentials, repository
from dc_identity.dev_idp import ALGORITHM, KeyStore
from dc_identity.domain import AuditAction
from dc_identity.models import RefreshToken, Worker, WorkerAccount

log = structlog.get_logger("dc_identity.accounts")
SCOPE = "jobtracker"
WRONG = "wrong login or password; three wrong passwords in a row block the account"


@dataclass(frozen=True)
class TokenPolicy:
    """Who signs the Jobtracker's tokens, for whom, and how long they live."""

    keys: KeyStore
    issuer: str
    audience: str
    access_minutes: int
    refresh_days: int


@dataclass(frozen=True)
class Session:
    access_token: str
    expires_in: int
    refresh_token: str
    must_change_password: bool
    worker: Worker
    employer: str
    """The company the tokens act for."""
    employers: list[repository.Employer]


@dataclass(frozen=True)
class AccountView:
    login: str
    has_password: bool
    must_change_password: bool
    blocked_at: datetime | None
    wrong_in_a_row: int


def _now() -> datetime:
    return datetime.now(UTC)


def access_token(
    policy: TokenPolicy, worker: Worker, employer: str, now: datetime
) -> tuple[str, int]:
    """The worker's access token: the person (national number) acting as this worker only,
    for one employer."""
    key = policy.keys.current
    issued = int(now.timestamp())
    lifetime = policy.access_minutes * 60
    claims = {
        "iss": policy.issuer,
        "aud": policy.audience,
        "sub": worker.national_number,
        "name": f"{worker.first_name} {worker.last_name}",
        "scope": SCOPE,
        "worker_login": worker.login,
        "company_id": employer,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
    }
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}
    return jwt.encode(header, claims, key, algorithms=[ALGORITHM]), lifetime


# --- the company ------------------------------------------------------------------------------


async def _worker_for_staff(session: AsyncSession, actor: Actor, login: str) -> Worker:
    """The worker, if the acting person is an operator or holds the right on the worker's
    company (or branch); 404 otherwise (the worker is not theirs to know)."""
    worker = await session.get(Worker, login)
    person = actor.person or ""
    if worker is not None:
        roles = await repository.roles_of(session, person)
        scopes = await repository.active_grant_scopes(session, worker.company_id, person)
        if roles.operator or any(s.branch_id in (None, worker.branch_id) for s in scopes):
            return worker
    raise Problem(404, "Not found", f"login: no worker {login} of yours")


async def set_first_password(db: Database, actor: Actor, login: str, password: str) -> None:
    """The company sets a password the worker must change at the first login; it unblocks the
    account and ends its sessions (a lost phone)."""
    if reason := credentials.password_error(password, login=login):
        raise field_error("password", reason)
    now = _now()
    async with db.transaction() as session:
        worker = await _worker_for_staff(session, actor, login)
        account = await session.get(WorkerAccount, login)
        if account is None:
            # No password yet: an empty hash verifies none.
            account = WorkerAccount(login=login, password_hash="", must_change=True)  # nosec B106
            session.add(account)
        account.password_hash = credentials.hashed(password)
        account.must_change = True
        account.wrong_in_a_row = 0
        account.blocked_at = None
        account.password_set_at = now
        await _end_sessions(session, login, now)
        _audit(session, worker, actor.person or "", AuditAction.WORKER_PASSWORD_SET, now)
    log.info("identity.worker_password_set", login=login, actor=pseudonym(actor.person or ""))


async def unblock(db: Database, actor: Actor, login: str) -> None:
    now = _now()
    async with db.transaction() as session:
        worker = await _worker_for_staff(session, actor, login)
        account = await session.get(WorkerAccount, login)
        if account is None:
            raise Problem(404, "Not found", f"login: worker {login} has no account yet")
        account.wrong_in_a_row = 0
        if account.blocked_at is not None:
            account.blocked_at = None
            _audit(session, worker, actor.person or "", AuditAction.WORKER_UNBLOCKED, now)
    log.info("identity.worker_unblocked", login=login, actor=pseudonym(actor.person or ""))


async def end_sessions(db: Database, actor: Actor, login: str) -> None:
    """Every refresh token of the worker stops working (a lost phone)."""
    now = _now()
    async with db.transaction() as session:
        await _worker_for_staff(session, actor, login)
        await _end_sessions(session, login, now)


async def account(db: Database, actor: Actor, login: str) -> AccountView:
    async with db.sessions() as session:
        await _worker_for_staff(session, actor, login)
        found = await session.get(WorkerAccount, login)
    if found is None:
        return AccountView(login, False, False, None, 0)
    return AccountView(login, True, found.must_change, found.blocked_at, found.wrong_in_a_row)


async def company_accounts(db: Database, company_id: str) -> list[tuple[Worker, WorkerAccount]]:
    """The accounts of the company's workers that have one, by login."""
    async with db.sessions() as session:
        rows = await session.execute(
            select(Worker, WorkerAccount)
            .join(WorkerAccount, WorkerAccount.login == Worker.login)
            .where(Worker.company_id == company_id)
            .order_by(Worker.login)
        )
        return [(worker, found) for worker, found in rows]


async def _end_sessions(session: AsyncSession, login: str, now: datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.login == login, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _audit(
    session: AsyncSession, worker: Worker, actor: str, action: AuditAction, now: datetime
) -> None:
    repository.add_audit_entry(
        session,
        company_id=worker.company_id,
        at=now,
        actor=actor,
        action=action,
        subject=worker.national_number,
        branch_id=worker.branch_id,
        details={"login": worker.login},
    )


# --- the worker -------------------------------------------------------------------------------


def _refused(detail: str) -> Problem:
    return Problem(401, "Not logged in", detail)


async def log_in(
    db: Database, policy: TokenPolicy, login: str, password: str, employer: str | None = None
) -> Session:
    """A session for the worker, or 401 (with the attempts left) or 423 (blocked). The third
    wrong password in a row blocks the account."""
    now = _now()
    async with db.transaction() as session:
        worker = await session.get(Worker, login)
        found = await session.get(WorkerAccount, login, with_for_update=True)
        if worker is None or found is None:
            credentials.matches(credentials.DUMMY_HASH, password)  # as long as a real check
            raise _refused(WRONG)
        if found.blocked_at is not None:
            raise Problem(423, "Account blocked", "ask your company to unblock your account")
        if not credentials.matches(found.password_hash, password):
            attempt = credentials.after_wrong_password(found.wrong_in_a_row)
            found.wrong_in_a_row = attempt.wrong_in_a_row
            if attempt.blocked:
                found.blocked_at = now
                _audit(session, worker, worker.national_number, AuditAction.WORKER_BLOCKED, now)
        else:
            found.wrong_in_a_row = 0
            return await _new_session(session, policy, worker, found, now, None, employer)
    log.info("identity.worker_login_refused", login=login, blocked=attempt.blocked)
    if attempt.blocked:
        raise Problem(423, "Account blocked", "three wrong passwords: ask your company")
    raise _refused(WRONG)  # the same answer for an unknown login: nobody learns which exist


async def refresh(
    db: Database, policy: TokenPolicy, token: str, employer: str | None = None
) -> Session:
    """A new pair for a refresh token that was not used yet; one used again ends its family.
    The new pair acts for ``employer``, or for the employer the old one acted for."""
    now = _now()
    digest = credentials.token_digest(token)
    async with db.transaction() as session:
        stored = await session.get(RefreshToken, digest, with_for_update=True)
        if stored is None:
            raise _refused("unknown refresh token")
        reason = credentials.refresh_refusal(
            used_at=stored.used_at,
            revoked_at=stored.revoked_at,
            expires_at=stored.expires_at,
            now=now,
        )
        if reason is None:
            worker = await session.get(Worker, stored.login)
            found = await session.get(WorkerAccount, stored.login)
            if worker is None or found is None or found.blocked_at is not None:
                reason = "the account is blocked"
            else:
                stored.used_at = now
                chosen = employer or stored.company_id
                return await _new_session(
                    session, policy, worker, found, now, stored.family, chosen
                )
        if stored.used_at is not None and stored.revoked_at is None:
            await session.execute(  # reused: stolen or replayed, so the whole family ends
                update(RefreshToken)
                .where(RefreshToken.family == stored.family, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
    log.info("identity.worker_refresh_refused", reason=reason)
    raise _refused(reason)


async def change_password(
    db: Database, policy: TokenPolicy, login: str, password: str, new_password: str
) -> Session:
    """The worker's own new password (the first one the company set must be changed); the
    other sessions end, this one goes on with fresh tokens."""
    if reason := credentials.password_error(new_password, login=login):
        raise field_error("new_password", reason)
    if new_password == password:
        raise field_error("new_password", "must differ from the current password")
    await log_in(db, policy, login, password)  # counts a wrong password like a login
    now = _now()
    async with db.transaction() as session:
        worker = await session.get(Worker, login)
        found = await session.get(WorkerAccount, login, with_for_update=True)
        assert worker is not None and found is not None
        found.password_hash = credentials.hashed(new_password)
        found.must_change = False
        found.password_set_at = now
        await _end_sessions(session, login, now)
        return await _new_session(session, policy, worker, found, now, None, None)


async def _new_session(
    session: AsyncSession,
    policy: TokenPolicy,
    worker: Worker,
    found: WorkerAccount,
    now: datetime,
    family: str | None,
    employer: str | None,
) -> Session:
    """Tokens for the worker, acting for ``employer`` (by default the first employer); 422
    for a company the worker does not work for."""
    employers = await repository.employers_of(session, worker)
    chosen = employer or employers[0].company_id
    if chosen not in {e.company_id for e in employers}:
        raise field_error("company_id", "not one of your employers")
    fresh = credentials.new_refresh_token(now, timedelta(days=policy.refresh_days))
    session.add(
        RefreshToken(
            digest=fresh.digest,
            login=worker.login,
            family=family or str(uuid.uuid4()),
            company_id=chosen,
            issued_at=now,
            expires_at=fresh.expires_at,
        )
    )
    token, lifetime = access_token(policy, worker, chosen, now)
    return Session(token, lifetime, fresh.token, found.must_change, worker, chosen, employers)
