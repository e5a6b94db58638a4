"""What the portal keeps per browser: a session in a signed, HttpOnly, SameSite=Lax cookie
(Starlette's session middleware), holding the person's access token, the company they work in,
their language and the token that every form must send back (CSRF)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from fastapi import Request
from pydantic import SecretStr

from dc_gateway.portal.oidc import LoginAttempt

SESSION_COOKIE = "dc_portal"
CSRF_FIELD = "csrf_token"


class LoginRequired(Exception):
    """No session, or its token has expired: the person logs in again, then comes back."""

    def __init__(self, back_to: str) -> None:
        super().__init__(back_to)
        self.back_to = back_to


class CsrfRefused(Exception):
    """A form came without the token of this session."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    name: str


def session_secret(portal_secret: SecretStr | None, internal_token: SecretStr | None) -> str:
    """The key that signs the cookie: its own setting, else derived from the internal secret
    (never the secret itself), else a fresh one (sessions then end with the process)."""
    if portal_secret is not None:
        return portal_secret.get_secret_value()
    if internal_token is not None:
        key = internal_token.get_secret_value().encode()
        return hmac.new(key, b"dc-portal-session", hashlib.sha256).hexdigest()
    return secrets.token_urlsafe(32)


def signed_in(request: Request) -> SignedIn | None:
    session = request.session
    if not session.get("token") or session.get("expires_at", 0) <= time.time():
        return None
    return SignedIn(token=session["token"], name=session.get("name", ""))


def require_sign_in(request: Request) -> SignedIn:
    person = signed_in(request)
    if person is None:
        back_to = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(back_to)
    return person


#: Logins begun on this browser and not yet come back (one per tab that was sent to the issuer),
#: the newest last; the oldest is dropped beyond this many.
PENDING_LOGINS = 5


def start_login(request: Request, back_to: str) -> LoginAttempt:
    attempt = LoginAttempt.new()
    pending: list[dict[str, str]] = request.session.get("logins", [])
    pending = [
        *pending,
        {"state": attempt.state, "verifier": attempt.verifier, "back_to": safe_path(back_to)},
    ][-PENDING_LOGINS:]
    request.session["logins"] = pending
    return attempt


def finish_login(request: Request, state: str) -> tuple[LoginAttempt, str] | None:
    """The attempt this callback answers (taken once), and where to go after; None for a
    callback this browser did not start. Several may be pending: two tabs opened while logged
    out each start one, and either may come back first."""
    pending: list[dict[str, str]] = request.session.get("logins", [])
    for attempt in pending:
        if state and hmac.compare_digest(attempt["state"], state):
            request.session["logins"] = [other for other in pending if other is not attempt]
            taken = LoginAttempt(state=attempt["state"], verifier=attempt["verifier"])
            return taken, attempt["back_to"]
    return None


def end_session(request: Request) -> None:
    """Forget everything of the session but the language chosen on this browser."""
    language = request.session.get("language")
    request.session.clear()
    if language:
        request.session["language"] = language


def begin_session(request: Request, *, token: str, expires_in: int) -> None:
    """A new session for the person (a fresh CSRF token: nothing of before carries over but
    the logins other tabs of this browser have still under way)."""
    others = request.session.get("logins", [])
    end_session(request)
    if others:
        request.session["logins"] = others
    request.session.update(
        token=token, expires_at=time.time() + expires_in, csrf=secrets.token_urlsafe(32)
    )


def csrf_token(request: Request) -> str:
    token: str = request.session.setdefault("csrf", secrets.token_urlsafe(32))
    return token


async def checked_form(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token matches this session's."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfRefused()
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


def safe_path(value: str | None) -> str:
    """Only a path of this portal to go back to (no other site: an open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value
