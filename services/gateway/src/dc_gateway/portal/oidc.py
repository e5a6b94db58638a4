"""The portal's login: the OpenID Connect authorization code flow with PKCE (RFC 7636), against
the issuer the gateway trusts (the development provider in the embedded default, the
government's access management in production: the same code).

The portal is a public client: no client secret, the PKCE verifier proves the code is ours.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from dc_common.internal import POOLED
from dc_common.problems import Problem


@dataclass(frozen=True, slots=True)
class LoginAttempt:
    """What the portal keeps in the browser's session between sending it to the issuer and
    its coming back: the state (against forged callbacks) and the PKCE verifier."""

    state: str
    verifier: str

    @classmethod
    def new(cls) -> LoginAttempt:
        return cls(state=secrets.token_urlsafe(24), verifier=secrets.token_urlsafe(48))

    @property
    def challenge(self) -> str:
        digest = hashlib.sha256(self.verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    expires_in: int


class LoginFailed(Exception):
    """The issuer refused the code (used, expired, or not ours)."""


class OidcClient:
    def __init__(
        self,
        issuer: str,
        *,
        client_id: str,
        redirect_uri: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self._http = httpx.AsyncClient(timeout=10, limits=POOLED, transport=transport)
        self._discovery: dict[str, Any] | None = None

    async def authorization_url(self, attempt: LoginAttempt) -> str:
        endpoint = str((await self._endpoints())["authorization_endpoint"])
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile",
            "state": attempt.state,
            "code_challenge": attempt.challenge,
            "code_challenge_method": "S256",
        }
        return f"{endpoint}?{urlencode(query)}"

    async def exchange(self, code: str, attempt: LoginAttempt) -> Tokens:
        endpoint = str((await self._endpoints())["token_endpoint"])
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "code_verifier": attempt.verifier,
        }
        try:
            response = await self._http.post(endpoint, data=form)
        except httpx.HTTPError as error:
            raise Problem(503, "Identity provider unavailable", str(error)) from error
        if response.status_code == 400:
            refusal = response.json()
            raise LoginFailed(
                f"{refusal.get('error', 'invalid_grant')}: {refusal.get('error_description', '')}"
            )
        if response.status_code != 200:
            raise Problem(503, "Identity provider unavailable", f"token {response.status_code}")
        body = response.json()
        return Tokens(access_token=str(body["access_token"]), expires_in=int(body["expires_in"]))

    async def _endpoints(self) -> dict[str, Any]:
        if self._discovery is None:
            url = f"{self._issuer}/.well-known/openid-configuration"
            try:
                response = await self._http.get(url)
                response.raise_for_status()
            except httpx.HTTPError as error:
                raise Problem(503, "Identity provider unavailable", str(error)) from error
            self._discovery = response.json()
        return self._discovery

    async def aclose(self) -> None:
        await self._http.aclose()
