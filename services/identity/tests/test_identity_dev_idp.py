"""The development identity provider: discovery, JWKS, tokens, rotation and the login page."""

import json
import re
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidKeyIdError
from joserfc.jwk import ECKey, KeySet
from joserfc.jwt import JWTClaimsRegistry

from dc_identity import dev_idp
from dc_identity.demo import (
    DEMO,
    NO_RIGHTS,
    OPERATOR,
    SCHELDE_GENT_STAFF,
    SCHELDE_MAIN_ACCESS_MANAGER,
)
from dc_identity.settings import IdentitySettings
from services.identity.tests.identity_support import (
    as_,
    lookup,
    running,
    settings_for,
    temporary_database,
)
from tests.support.problems import assert_problem

ISSUER = "http://127.0.0.1:18001"
AUDIENCE = "dienstencheques-platform"
CALLBACK = "http://127.0.0.1:8000/auth/callback"


@pytest.fixture
async def settings(tmp_path: Path) -> AsyncIterator[IdentitySettings]:
    async with temporary_database("sqlite", tmp_path) as url:
        yield settings_for(url, tmp_path, dev_idp_issuer=ISSUER, oidc_audience=AUDIENCE)


@pytest.fixture
async def client(settings: IdentitySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running(settings) as client:
        yield client


async def token_for(client: httpx.AsyncClient, national_number: str) -> dict[str, Any]:
    response = await client.post("/dev/token", json={"national_number": national_number})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def verify(client: httpx.AsyncClient, token: str) -> jwt.Token:
    """As the gateway does: the published keys, ES256 only, then issuer, audience and times."""
    keys = KeySet.import_key_set((await client.get("/jwks.json")).json())
    decoded = jwt.decode(token, keys, algorithms=["ES256"])
    JWTClaimsRegistry(
        iss={"essential": True, "value": ISSUER},
        aud={"essential": True, "value": AUDIENCE},
        sub={"essential": True},
        exp={"essential": True},
        nbf={"essential": True},
        iat={"essential": True},
    ).validate(decoded.claims)
    return decoded


# --- discovery and keys ---------------------------------------------------------------------


async def test_discovery_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response.json() == {
        "issuer": ISSUER,
        "jwks_uri": f"{ISSUER}/jwks.json",
        "authorization_endpoint": f"{ISSUER}/dev/authorize",
        "token_endpoint": f"{ISSUER}/dev/oauth/token",
        "response_types_supported": ["code", "token"],
        "grant_types_supported": ["authorization_code"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["none"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
    }


async def test_jwks_publishes_one_public_p256_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/jwks.json")
    assert response.status_code == 200
    assert "max-age" in response.headers["cache-control"]
    (key,) = response.json()["keys"]
    assert set(key) == {"kid", "kty", "crv", "x", "y", "alg", "use"}  # no private "d"
    assert (key["kty"], key["crv"], key["alg"], key["use"]) == ("EC", "P-256", "ES256", "sig")
    assert key["kid"]


async def test_the_key_file_is_private_and_survives_a_restart(
    settings: IdentitySettings,
) -> None:
    async with running(settings) as client:
        first = (await client.get("/jwks.json")).json()
        token = (await token_for(client, OPERATOR.national_number))["access_token"]
    path = settings.dev_idp_key_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    stored = json.loads(path.read_text())
    assert [key["kid"] for key in stored["keys"]] == [first["keys"][0]["kid"]]
    assert "d" in stored["keys"][0]

    async with running(settings) as client:
        assert (await client.get("/jwks.json")).json() == first
        assert (await verify(client, token)).claims["sub"] == OPERATOR.national_number


async def test_a_readable_key_file_is_made_private_again(settings: IdentitySettings) -> None:
    async with running(settings):
        pass
    settings.dev_idp_key_file.chmod(0o644)
    async with running(settings):
        pass
    assert stat.S_IMODE(settings.dev_idp_key_file.stat().st_mode) == 0o600


# --- tokens ---------------------------------------------------------------------------------


async def test_token_verifies_with_the_published_key_and_carries_the_claims(
    client: httpx.AsyncClient,
) -> None:
    before = int(time.time())
    issued = await token_for(client, SCHELDE_MAIN_ACCESS_MANAGER.national_number)
    after = int(time.time())
    assert issued["token_type"] == "Bearer"
    assert issued["expires_in"] == 3600

    decoded = await verify(client, issued["access_token"])
    (key,) = (await client.get("/jwks.json")).json()["keys"]
    assert decoded.header == {"alg": "ES256", "kid": key["kid"], "typ": "JWT"}
    claims = decoded.claims
    assert set(claims) == {"iss", "aud", "sub", "name", "iat", "nbf", "exp"}
    assert claims["iss"] == ISSUER
    assert claims["aud"] == AUDIENCE
    assert claims["sub"] == SCHELDE_MAIN_ACCESS_MANAGER.national_number
    assert claims["name"] == "Els Wouters"
    assert before <= claims["iat"] <= after
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] == claims["iat"] + 3600


async def test_token_lifetime_and_audience_come_from_settings(tmp_path: Path) -> None:
    async with temporary_database("sqlite", tmp_path) as url:
        settings = settings_for(
            url, tmp_path, dev_idp_token_minutes=5, oidc_audience="another-audience"
        )
        async with running(settings) as client:
            issued = await token_for(client, OPERATOR.national_number)
            claims = jwt.decode(
                issued["access_token"],
                KeySet.import_key_set((await client.get("/jwks.json")).json()),
                algorithms=["ES256"],
            ).claims
    assert issued["expires_in"] == 300
    assert claims["exp"] - claims["iat"] == 300
    assert claims["aud"] == "another-audience"


async def test_a_token_signed_by_another_key_does_not_verify(client: httpx.AsyncClient) -> None:
    """Same kid and claims as a real token, signed with a key of the forger's own."""
    real = jwt.decode(
        (await token_for(client, OPERATOR.national_number))["access_token"],
        KeySet.import_key_set((await client.get("/jwks.json")).json()),
        algorithms=["ES256"],
    )
    forger = ECKey.generate_key("P-256")
    forged = jwt.encode(real.header, real.claims, forger, algorithms=["ES256"])
    with pytest.raises(BadSignatureError):
        await verify(client, forged)


@pytest.mark.parametrize(
    ("national_number", "status"), [("88080839112", 422), ("88080839014", 422), ("", 422)]
)
async def test_no_token_for_unknown_or_malformed_people(
    client: httpx.AsyncClient, national_number: str, status: int
) -> None:
    response = await client.post("/dev/token", json={"national_number": national_number})
    assert_problem(response, status, "national_number")


async def test_every_demo_person_can_get_a_token(client: httpx.AsyncClient) -> None:
    for person in DEMO.people:
        issued = await token_for(client, person.national_number)
        claims = (await verify(client, issued["access_token"])).claims
        assert (claims["sub"], claims["name"]) == (person.national_number, person.name)


# --- rotation -------------------------------------------------------------------------------


async def test_rotation_keeps_the_previous_key_published(
    client: httpx.AsyncClient,
    settings: IdentitySettings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DC_DEV_IDP_KEY_FILE", str(settings.dev_idp_key_file))
    old_token = (await token_for(client, NO_RIGHTS.national_number))["access_token"]
    (first,) = [k["kid"] for k in (await client.get("/jwks.json")).json()["keys"]]

    assert dev_idp.main(["rotate"]) == 0
    assert "new current key" in capsys.readouterr().out
    # The running service follows the file: a new current key, the previous one still there.
    published = [k["kid"] for k in (await client.get("/jwks.json")).json()["keys"]]
    assert len(published) == 2
    second = published[0]
    assert published == [second, first]
    new_token = (await token_for(client, NO_RIGHTS.national_number))["access_token"]
    assert (await verify(client, new_token)).header["kid"] == second
    assert (await verify(client, old_token)).header["kid"] == first
    assert stat.S_IMODE(settings.dev_idp_key_file.stat().st_mode) == 0o600

    # One more rotation retires the first key: its tokens no longer verify.
    assert dev_idp.main(["rotate"]) == 0
    published = [k["kid"] for k in (await client.get("/jwks.json")).json()["keys"]]
    assert published[1:] == [second]
    assert first not in published
    await verify(client, new_token)
    with pytest.raises(InvalidKeyIdError):  # no key with that kid
        await verify(client, old_token)

    capsys.readouterr()
    assert dev_idp.main(["jwks"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [k["kid"] for k in printed["keys"]] == published


async def test_rotation_survives_a_restart(settings: IdentitySettings) -> None:
    async with running(settings) as client:
        old_token = (await token_for(client, OPERATOR.national_number))["access_token"]
    dev_idp.KeyStore(settings.dev_idp_key_file).rotate()
    async with running(settings) as client:
        assert len((await client.get("/jwks.json")).json()["keys"]) == 2
        await verify(client, old_token)


# --- the login page -------------------------------------------------------------------------


async def test_login_page_lists_the_people_with_their_roles(client: httpx.AsyncClient) -> None:
    response = await client.get("/dev/login", params={"redirect_uri": CALLBACK, "state": "s-1"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "Pick who you are" in page
    for person in DEMO.people:
        assert person.national_number in page
        assert person.name in page
    for role in (
        "operator",
        "legal representative of Huishoudhulp Schelde bv (0712345630)",
        "main access manager of Huishoudhulp Schelde bv (0712345630)",
        "right on Huishoudhulp Schelde bv (0712345630), whole company",
        "right on Huishoudhulp Schelde bv (0712345630), branch Huishoudhulp Schelde Gent only",
        "main access manager of Poetsdienst Leie vzw (0823456754)",
        "worker 980100000001 at Huishoudhulp Schelde bv (0712345630)",
        "user (household) 100000000001",
        "no rights",
    ):
        assert role in page, role
    assert f'value="{CALLBACK}"' in page
    assert 'value="s-1"' in page


async def test_login_page_escapes_what_it_echoes(client: httpx.AsyncClient) -> None:
    state = '"><script>alert(1)</script>'
    response = await client.get("/dev/login", params={"redirect_uri": CALLBACK, "state": state})
    assert response.status_code == 200
    assert "<script>" not in response.text
    assert "&quot;&gt;&lt;script&gt;" in response.text


async def test_login_redirects_back_with_the_token_in_the_fragment(
    client: httpx.AsyncClient,
) -> None:
    form = {
        "national_number": SCHELDE_GENT_STAFF.national_number,
        "redirect_uri": CALLBACK,
        "state": "xyz 1/2",
    }
    response = await client.post("/dev/login", data=form)
    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    fragment = {name: values[0] for name, values in parse_qs(location.fragment).items()}
    assert set(fragment) == {"access_token", "token_type", "expires_in", "state"}
    assert fragment["token_type"] == "Bearer"
    assert fragment["expires_in"] == "3600"
    assert fragment["state"] == "xyz 1/2"
    claims = (await verify(client, fragment["access_token"])).claims
    assert claims["sub"] == SCHELDE_GENT_STAFF.national_number

    # Without a state, none comes back; a query of the redirect URI is kept.
    form = {"national_number": OPERATOR.national_number, "redirect_uri": f"{CALLBACK}?next=/a"}
    location = urlsplit((await client.post("/dev/login", data=form)).headers["location"])
    assert location.query == "next=/a"
    assert "state" not in parse_qs(location.fragment)


async def test_login_refuses_unknown_people_and_other_encodings(
    client: httpx.AsyncClient,
) -> None:
    form = {"national_number": "88080839112", "redirect_uri": CALLBACK}
    assert_problem(await client.post("/dev/login", data=form), 422, "national_number")
    response = await client.post("/dev/login", json=form)
    assert_problem(response, 415)


FOREIGN = [
    "https://evil.example/callback",
    "http://127.0.0.1.evil.example/cb",
    "http://localhost.evil.example/cb",
    "http://127.0.0.1@evil.example/cb",
    "http://evil.example\\@127.0.0.1/cb",
    "http://user:pw@127.0.0.1/cb",
    "//127.0.0.1:8000/cb",
    "javascript:alert(1)//127.0.0.1",
    "file:///etc/passwd",
    "http://127.0.0.1:8000/cb#already",
    "http://127.0.0.1:99999/cb",
    "http://127.0.0.1/c b",
    "",
]


@pytest.mark.parametrize("redirect_uri", FOREIGN)
async def test_login_refuses_a_foreign_redirect_uri(
    client: httpx.AsyncClient, redirect_uri: str
) -> None:
    response = await client.get("/dev/login", params={"redirect_uri": redirect_uri})
    assert_problem(response, 400, "redirect_uri")
    form = {"national_number": OPERATOR.national_number, "redirect_uri": redirect_uri}
    response = await client.post("/dev/login", data=form)
    assert_problem(response, 400, "redirect_uri")
    assert "location" not in response.headers


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:8000/auth/callback",
        "http://localhost:8000/",
        "http://localhost/cb?x=1",
        "https://localhost:8443/cb",
        "http://[::1]:8000/cb",
    ],
)
def test_local_redirect_uris_are_accepted(redirect_uri: str) -> None:
    assert dev_idp.redirect_uri_error(redirect_uri) is None


# --- switched off ---------------------------------------------------------------------------


# --- authorization code flow with PKCE -------------------------------------------------------

VERIFIER = "a-verifier-of-the-portal-that-is-long-enough-for-pkce-0123456789"
FORM = {"content-type": "application/x-www-form-urlencoded"}


async def code_for(
    client: httpx.AsyncClient, national_number: str, verifier: str = VERIFIER
) -> str:
    """Through the pages as a browser goes: authorize, pick the person, follow the redirect."""
    request = {
        "response_type": "code",
        "client_id": "portal",
        "redirect_uri": CALLBACK,
        "state": "s-1",
        "code_challenge": dev_idp.pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    page = await client.get("/dev/authorize", params=request)
    assert page.status_code == 200, page.text
    hidden = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page.text))
    assert hidden["code_challenge"] == request["code_challenge"]
    form = {**hidden, "national_number": national_number}
    answer = await client.post("/dev/login", data=form)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == CALLBACK
    query = parse_qs(location.query)
    assert query["state"] == ["s-1"]
    return query["code"][0]


def exchange(code: str, changes: dict[str, str] | None = None) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "client_id": "portal",
        "redirect_uri": CALLBACK,
        "code_verifier": VERIFIER,
        **(changes or {}),
    }


async def test_a_code_is_exchanged_once_for_a_token_of_the_person(
    client: httpx.AsyncClient,
) -> None:
    code = await code_for(client, SCHELDE_GENT_STAFF.national_number)
    response = await client.post("/dev/oauth/token", data=exchange(code))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    token = response.json()
    assert token["token_type"] == "Bearer"
    decoded = await verify(client, token["access_token"])
    assert decoded.claims["sub"] == SCHELDE_GENT_STAFF.national_number
    again = await client.post("/dev/oauth/token", data=exchange(code))
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "changes",
    [
        {"code_verifier": "another-verifier-that-is-long-enough-for-pkce-000000000000"},
        {"redirect_uri": "http://127.0.0.1:8000/elsewhere"},
        {"client_id": "someone-else"},
        {"code": "made-up"},
    ],
)
async def test_a_code_is_refused_with_another_verifier_client_or_redirect(
    client: httpx.AsyncClient, changes: dict[str, str]
) -> None:
    code = await code_for(client, OPERATOR.national_number)
    response = await client.post("/dev/oauth/token", data=exchange(code, changes))
    assert (response.status_code, response.json()["error"]) == (400, "invalid_grant")


async def test_an_authorization_request_without_pkce_is_refused(client: httpx.AsyncClient) -> None:
    base = {"response_type": "code", "client_id": "portal", "redirect_uri": CALLBACK}
    plain = {**base, "code_challenge": VERIFIER, "code_challenge_method": "plain"}
    assert_problem(await client.get("/dev/authorize", params=plain), 400, "code_challenge_method")
    assert_problem(await client.get("/dev/authorize", params=base), 400, "code_challenge")
    foreign = {**base, "redirect_uri": "https://evil.example/cb"}
    assert_problem(await client.get("/dev/authorize", params=foreign), 400, "redirect_uri")


async def test_without_dev_idp_none_of_its_routes_exist(tmp_path: Path) -> None:
    async with temporary_database("sqlite", tmp_path) as url:
        settings = settings_for(url, tmp_path, dev_idp=False)
        async with running(settings) as client:
            for method, path in [
                ("GET", "/.well-known/openid-configuration"),
                ("GET", "/jwks.json"),
                ("GET", f"/dev/login?redirect_uri={CALLBACK}"),
                ("POST", "/dev/login"),
                ("POST", "/dev/token"),
            ]:
                response = await client.request(
                    method, path, json={"national_number": OPERATOR.national_number}
                )
                assert response.status_code == 404, (method, path)
            # The rest of the service works as ever.
            assert (await lookup(client, OPERATOR.national_number)).status_code == 200
            assert (await client.get("/v1/companies", headers=as_(OPERATOR))).status_code == 200
    assert not settings.dev_idp_key_file.exists()


# --- settings -------------------------------------------------------------------------------

ENVIRONMENT = (
    "DC_DEV_IDP",
    "DC_DEV_IDP_ISSUER",
    "DC_DEV_IDP_KEY_FILE",
    "DC_DEV_IDP_TOKEN_MINUTES",
    "DC_OIDC_AUDIENCE",
)


def test_dev_idp_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    settings = IdentitySettings()
    assert settings.dev_idp is False
    assert settings.dev_idp_issuer == "http://127.0.0.1:8001"
    assert settings.dev_idp_key_file == Path("var/dev-idp-key.json")
    assert settings.dev_idp_token_minutes == 60
    assert settings.oidc_audience == "dienstencheques-platform"


def test_dev_idp_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DC_DEV_IDP", "true")
    monkeypatch.setenv("DC_DEV_IDP_ISSUER", "http://localhost:9001")
    monkeypatch.setenv("DC_DEV_IDP_KEY_FILE", "/tmp/elsewhere/key.json")
    monkeypatch.setenv("DC_DEV_IDP_TOKEN_MINUTES", "15")
    monkeypatch.setenv("DC_OIDC_AUDIENCE", "other")
    settings = IdentitySettings()
    assert settings.dev_idp is True
    assert settings.dev_idp_issuer == "http://localhost:9001"
    assert settings.dev_idp_key_file == Path("/tmp/elsewhere/key.json")
    assert settings.dev_idp_token_minutes == 15
    assert settings.oidc_audience == "other"
