"""What a caller may send, and how often.

The size: a request body larger than its route allows is refused with 413 before it is read,
by its declared length, or as soon as a body without one (chunked) passes the limit, so a huge
upload never fills the gateway's memory. Uploads of import files (the API's and the portal's)
may be larger than any other body.

How often: logins from one address past a rate (:class:`LoginAttempts`) are refused with 429
and ``Retry-After`` before identity or the identity provider is asked, whatever the account;
three wrong passwords in a row block the account itself (identity).
"""

import math
import time
from collections.abc import Collection

from fastapi import Request
from limits import parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dc_common.problems import Problem, problem_response

TOO_MANY_LOGINS = "Too many login attempts from this address"
WAIT_AND_TRY_AGAIN = "Wait a moment, then try again."

#: Where an import file is uploaded: through the API and through the portal's form.
UPLOAD_PATHS = ("/api/v1/imports", "/imports")


class _TooLarge(Exception):
    pass


class BodyLimit:
    def __init__(
        self, app: ASGIApp, *, most: int, uploads: int, upload_paths: Collection[str] = UPLOAD_PATHS
    ) -> None:
        self.app = app
        self.most = most
        self.uploads = uploads
        self.upload_paths = frozenset(upload_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.uploads if scope["path"] in self.upload_paths else self.most
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await _refuse(limit, scope, receive, send)
            return
        received = 0
        started = False

        async def counting(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, counting)
        except _TooLarge:
            if started:
                raise
            await _refuse(limit, scope, receive, send)


def _declared_length(scope: Scope) -> int | None:
    for key, value in scope["headers"]:
        if key == b"content-length":
            text = value.decode("latin-1")
            return int(text) if text.isdecimal() and len(text) < 19 else 1 << 62
    return None


async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
    problem = Problem(
        413,
        "Request too large",
        f"at most {limit} bytes may be sent here",
        errors=[{"field": "body", "reason": f"larger than {limit} bytes"}],
    )
    await problem_response(problem)(scope, receive, send)


class LoginAttempts:
    """At most ``rate`` (``30/minute``: the notation of the ``limits`` library) logins from one
    client address, counted in a moving window in ``storage`` (a ``limits`` storage URI)."""

    def __init__(self, rate: str, storage: str = "async+memory://") -> None:
        self._rate = parse(rate)
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage))

    async def count(self, request: Request) -> None:
        """Count one attempt from the request's address; 429 past the rate."""
        address = request.client.host if request.client else "unknown"
        if await self._limiter.hit(self._rate, "login", address):
            return
        stats = await self._limiter.get_window_stats(self._rate, "login", address)
        wait = max(1, math.ceil(stats.reset_time - time.time()))
        raise Problem(429, TOO_MANY_LOGINS, WAIT_AND_TRY_AGAIN, retry_after=wait)


async def login_attempt(request: Request) -> None:
    """The dependency of every login route: one attempt counted for the caller's address."""
    attempts: LoginAttempts = request.app.state.login_attempts
    await attempts.count(request)
