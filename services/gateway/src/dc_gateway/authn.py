"""Authentication: OpenID Connect bearer tokens, verified against the issuer's published keys.

The issuer's discovery document names its JWKS; keys are cached and fetched again when a token
carries an unknown key id (key rotation), at most once per refresh interval. Only asymmetric
algorithms are accepted, so neither ``alg: none`` nor an HMAC token signed with a public key
passes; issuer, audience, expiry and not-before are checked on every token.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from dataclasses import dataclass
from typing import Any, cast

import httpx
import structlog
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet, KeySetSerialization
from joserfc.jwt import JWTClaimsRegistry

from dc_common.internal import POOLED
from dc_common.problems import Problem

log = structlog.get_logger(__name__)

ALGORITHMS = ("ES256", "RS256")


class Unauthenticated(Problem):
    def __init__(self, detail: str) -> None:
        super().__init__(401, "Unauthenticated", detail)


@dataclass(frozen=True)
class Identity:
    """Who the verified token says the caller is."""

    subject: str
    name: str | None
    worker_login: str | None = None
    """Set for a Jobtracker token: the person acts as this worker only,"""
    employer: str | None = None
    """for this company (one of the worker's employers, chosen at login)."""


class TokenVerifier:
    def __init__(
        self,
        issuer: str,
        audience: str,
        *,
        refresh_interval_seconds: float = 10.0,
        leeway_seconds: int = 30,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self._claims = JWTClaimsRegistry(
            leeway=leeway_seconds,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": audience},
            sub={"essential": True},
            exp={"essential": True},
        )
        self._http = httpx.AsyncClient(timeout=10, limits=POOLED, transport=transport)
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._refresh_interval = refresh_interval_seconds
        self._lock = asyncio.Lock()

    async def ready(self) -> None:
        """Readiness: the issuer publishes its configuration now (its keys may be cached, but
        a token of a key it rotated to, and the portal's login, need it)."""
        await self._get_json(f"{self._issuer}/.well-known/openid-configuration")

    async def verify(self, token: str) -> Identity:
        keys = await self._key_set(refresh=False)
        try:
            decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
        except (JoseError, ValueError) as error:
            if not _unknown_key(error):
                raise Unauthenticated(f"invalid token: {error}") from error
            # A key id we do not know yet: the issuer may have rotated its keys.
            keys = await self._key_set(refresh=True)
            try:
                decoded = jwt.decode(token, keys, algorithms=ALGORITHMS)
            except (JoseError, ValueError) as again:
                raise Unauthenticated(f"invalid token: {again}") from again
        try:
            self._claims.validate(decoded.claims)
        except JoseError as error:
            raise Unauthenticated(f"token rejected: {error}") from error
        claims = decoded.claims
        name = claims.get("name")
        if claims.get("scope") != "jobtracker":
            return Identity(subject=str(claims["sub"]), name=name or None)
        return Identity(
            subject=str(claims["sub"]),
            name=name or None,
            worker_login=claims.get("worker_login"),
            employer=claims.get("company_id"),
        )

    async def _key_set(self, *, refresh: bool) -> KeySet:
        async with self._lock:
            stale = time.monotonic() - self._fetched_at >= self._refresh_interval
            if self._keys is None or (refresh and stale):
                self._keys = await self._fetch_keys()
                self._fetched_at = time.monotonic()
            return self._keys

    async def _fetch_keys(self) -> KeySet:
        try:
            discovery = await self._get_json(f"{self._issuer}/.well-known/openid-configuration")
            if discovery.get("issuer", "").rstrip("/") != self._issuer:
                raise Problem(503, "Identity provider misconfigured", "discovery issuer differs")
            jwks = await self._get_json(str(discovery["jwks_uri"]))
        except (httpx.HTTPError, KeyError, ValueError) as error:
            raise Problem(503, "Identity provider unavailable", str(error)) from error
        keys = KeySet.import_key_set(cast(KeySetSerialization, jwks))
        log.info("issuer keys fetched", issuer=self._issuer, kids=[k.kid for k in keys.keys])
        return keys

    async def _get_json(self, url: str) -> dict[str, Any]:
        response = await self._http.get(url)
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def aclose(self) -> None:
        await self._http.aclose()


def issuer_of(token: str) -> str | None:
    """The issuer a token claims, read without checking it (to pick the verifier that will)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    issuer = claims.get("iss") if isinstance(claims, dict) else None
    return issuer.rstrip("/") if isinstance(issuer, str) else None


def _unknown_key(error: Exception) -> bool:
    return isinstance(error, InvalidKeyIdError)


def bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthenticated("missing Authorization: Bearer token")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()
