"""The gateway's token check against hostile tokens: only a token the issuer signed with one of
its published keys, for this audience, within its validity, passes. The issuer is the real
development identity provider, served over HTTP; the forged tokens are signed with its own key
where the signature must not be what gives them away."""

import base64
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, OctKey

from dc_gateway.authn import TokenVerifier, Unauthenticated
from dc_identity.api import create_app
from dc_identity.dev_idp import KeyStore
from services.identity.tests.identity_support import settings_for, temporary_database
from tests.support.servers import free_port, serving

AUDIENCE = "dienstencheques-platform"
PERSON = "85073003328"


@pytest.fixture
async def issuer(tmp_path: Path) -> AsyncIterator[tuple[str, ECKey]]:
    """The issuer's URL and its signing key."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with temporary_database("sqlite", tmp_path) as database:
        settings = settings_for(database, tmp_path, dev_idp_issuer=url, oidc_audience=AUDIENCE)
        async with serving(create_app(settings), port):
            keys = KeyStore(settings.dev_idp_key_file)
            keys.load_or_create()
            yield url, keys.current


@pytest.fixture
async def verifier(issuer: tuple[str, ECKey]) -> AsyncIterator[TokenVerifier]:
    checker = TokenVerifier(issuer[0], AUDIENCE, refresh_interval_seconds=0)
    yield checker
    await checker.aclose()


def claims(issuer: str, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    found = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": PERSON,
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    found.update(changes)
    return {name: value for name, value in found.items() if value is not None}


def signed(key: ECKey, payload: dict[str, Any], kid: str | None = None) -> str:
    header = {"alg": "ES256", "kid": kid or key.kid, "typ": "JWT"}
    return jwt.encode(header, payload, key)


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_a_token_the_issuer_signed_passes(
    issuer: tuple[str, ECKey], verifier: TokenVerifier
) -> None:
    url, key = issuer
    identity = await verifier.verify(signed(key, claims(url)))
    assert identity.subject == PERSON


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": int(time.time()) - 3600}, id="expired"),
        pytest.param({"nbf": int(time.time()) + 3600}, id="not-yet-valid"),
        pytest.param({"iss": "https://issuer.example.invalid"}, id="wrong-issuer"),
        pytest.param({"aud": "another-application"}, id="wrong-audience"),
        pytest.param({"exp": None}, id="no-expiry"),
        pytest.param({"sub": None}, id="no-subject"),
    ],
)
async def test_a_token_with_wrong_claims_is_refused_although_well_signed(
    issuer: tuple[str, ECKey], verifier: TokenVerifier, changes: dict[str, Any]
) -> None:
    url, key = issuer
    with pytest.raises(Unauthenticated):
        await verifier.verify(signed(key, claims(url, **changes)))


async def test_an_unsigned_token_alg_none_is_refused(
    issuer: tuple[str, ECKey], verifier: TokenVerifier
) -> None:
    url, key = issuer
    token = f"{b64({'alg': 'none', 'kid': key.kid, 'typ': 'JWT'})}.{b64(claims(url))}."
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_an_hmac_token_keyed_with_the_public_key_is_refused(
    issuer: tuple[str, ECKey], verifier: TokenVerifier
) -> None:
    url, key = issuer
    public = json.dumps(key.as_dict(private=False), sort_keys=True).encode()
    secret = OctKey.import_key(public)
    header = {"alg": "HS256", "kid": key.kid, "typ": "JWT"}
    token = jwt.encode(header, claims(url), secret, algorithms=["HS256"])
    with pytest.raises(Unauthenticated):
        await verifier.verify(token)


async def test_a_token_of_a_key_the_issuer_never_published_is_refused(
    issuer: tuple[str, ECKey], verifier: TokenVerifier
) -> None:
    url, _ = issuer
    stranger = ECKey.generate_key("P-256")
    with pytest.raises(Unauthenticated):
        await verifier.verify(signed(stranger, claims(url), kid="a-key-nobody-published"))
    with pytest.raises(Unauthenticated):  # nor under the issuer's own key id
        await verifier.verify(signed(stranger, claims(url), kid=issuer[1].kid))


async def test_a_tampered_payload_is_refused(
    issuer: tuple[str, ECKey], verifier: TokenVerifier
) -> None:
    url, key = issuer
    header, _, signature = signed(key, claims(url)).split(".")
    forged = f"{header}.{b64(claims(url, sub='00000000097'))}.{signature}"
    with pytest.raises(Unauthenticated):
        await verifier.verify(forged)
