"""The rules of a worker's Jobtracker account: passwords, blocking, and refresh tokens.

The company sets a first password, which the worker must change at the first login. Passwords
are hashed with Argon2id (argon2-cffi) and never kept or logged in clear. Three wrong passwords
in a row block the account until the company unblocks it. A login gives a short-lived access
token and a refresh token; a refresh token serves once and is replaced by a new one of the same
family, and a refresh token used a second time (stolen, or replayed) ends its whole family.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 128
MAX_WRONG_ATTEMPTS = 3

_hasher = PasswordHasher()


def password_error(password: str, *, login: str) -> str | None:
    """Why this password may not be used, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    if not any(c.isalpha() for c in password) or not any(c.isdigit() for c in password):
        return "must hold letters and digits"
    if login in password:
        return "may not contain the login"
    if len(set(password)) < 4:
        return "is too easy to guess"
    return None


def hashed(password: str) -> str:
    return _hasher.hash(password)


#: Checked against when the login is unknown, so that answer takes as long as a wrong password.
DUMMY_HASH = hashed("no such account 0")


def matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class Attempt:
    """What a login attempt leaves: the count of wrong passwords in a row, and whether the
    account is blocked by it."""

    wrong_in_a_row: int
    blocked: bool


def after_wrong_password(wrong_in_a_row: int) -> Attempt:
    count = wrong_in_a_row + 1
    return Attempt(count, blocked=count >= MAX_WRONG_ATTEMPTS)


# --- refresh tokens ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NewRefreshToken:
    token: str
    """Given to the phone once; only its digest is kept."""
    digest: str
    expires_at: datetime


def new_refresh_token(now: datetime, lifetime: timedelta) -> NewRefreshToken:
    token = secrets.token_urlsafe(32)
    return NewRefreshToken(token, token_digest(token), now + lifetime)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def refresh_refusal(
    *, used_at: datetime | None, revoked_at: datetime | None, expires_at: datetime, now: datetime
) -> str | None:
    """Why this stored refresh token gives no new one, or None."""
    if revoked_at is not None:
        return "the session has ended"
    if used_at is not None:
        return "the refresh token was used already"
    if expires_at <= now:
        return "the session has expired"
    return None
