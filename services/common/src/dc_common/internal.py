"""Service-to-service trust: the internal APIs accept calls only from the gateway and the
workers, which prove it with the shared secret ``DC_INTERNAL_TOKEN`` (a bearer token).

The ``X-Actor-*`` headers that name the acting party are believed only on a call that carries
the secret; without it every internal route answers 401, whatever else the request says.
"""

import hmac
from typing import Annotated

import httpx
import structlog
from fastapi import Header, Request
from pydantic import SecretStr

from dc_common.problems import Problem

# The variable's name, not a secret.
TOKEN_VARIABLE = "DC_INTERNAL_TOKEN"  # nosec B105


class InternalTokenMissing(RuntimeError):
    """A process that serves or calls an internal API was started without the shared secret."""

    def __init__(self) -> None:
        super().__init__(f"{TOKEN_VARIABLE} must be set: the secret the internal APIs share")


def required(token: SecretStr | None) -> SecretStr:
    """The configured secret; refuses to go on without one (secure by default)."""
    if token is None or not token.get_secret_value():
        raise InternalTokenMissing()
    return token


def internal_headers(token: SecretStr | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {required(token).get_secret_value()}"}


#: How connections to another service are pooled. An idle connection is dropped after 2 s,
#: before the server closes it (uvicorn does after 5 s): reusing a connection at the moment the
#: server closes it fails a request the server never read, with a transport error.
POOLED = httpx.Limits(max_connections=100, max_keepalive_connections=20, keepalive_expiry=2.0)


def internal_http_client(
    base_url: str,
    *,
    token: SecretStr | None,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An HTTP client of another service's internal API, carrying the shared secret and the id
    of the request being answered, if any (so one request can be followed through every
    service's log)."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout,
        limits=POOLED,
        transport=transport,
        headers=internal_headers(token),
        event_hooks={"request": [_pass_request_id]},
    )


async def _pass_request_id(request: httpx.Request) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if request_id and "x-request-id" not in request.headers:
        request.headers["x-request-id"] = str(request_id)


def require_internal_caller(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Dependency of every internal route: the caller holds the shared secret."""
    expected: SecretStr = request.app.state.internal_token
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        presented.strip().encode(), expected.get_secret_value().encode()
    ):
        raise Problem(
            401,
            "Not an internal caller",
            "internal APIs answer the gateway and the workers only",
        )


class InternalApi:
    """A client of another service's internal API: its HTTP client, with the shared secret and
    the timeout of the kind of calls it makes (``timeout``, seconds, set by each client; a
    caller's ``at_most`` shortens it)."""

    timeout: float = 10.0

    def __init__(
        self,
        base_url: str,
        *,
        token: SecretStr | None,
        transport: httpx.AsyncBaseTransport | None = None,
        at_most: float | None = None,
    ) -> None:
        timeout = self.timeout if at_most is None else min(self.timeout, at_most)
        self._http = internal_http_client(
            base_url, token=token, timeout=timeout, transport=transport
        )

    async def aclose(self) -> None:
        await self._http.aclose()
