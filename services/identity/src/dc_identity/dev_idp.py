"""A development OpenID Connect identity provider, for the embedded default only (``DC_DEV_IDP``).

It signs ES256 access tokens for the people of the directory, the way the government's access
management does in production, and publishes its keys the same way (discovery document and
JWKS), so the gateway verifies development and production tokens with the same code.

- ``GET /.well-known/openid-configuration`` and ``GET /jwks.json``;
- ``GET /dev/authorize?response_type=code&client_id=...&redirect_uri=...&state=...&
  code_challenge=...&code_challenge_method=S256``: the authorization code flow with PKCE (what the
  portal uses, as it does against the production provider): pick who you are, the form posts to
  ``POST /dev/login``, which redirects to ``redirect_uri?code=...&state=...``; the code, single-use
  and valid two minutes, is exchanged at ``POST /dev/oauth/token`` with its ``code_verifier``;
- ``GET /dev/login?redirect_uri=...&state=...``: the same page for the implicit flow, redirecting
  to ``redirect_uri#access_token=...&state=...`` (only redirect URIs on this machine are
  accepted, in both flows);
- ``POST /dev/token`` ``{"national_number": ...}``: the same token without a browser.

The private keys live in a JSON file (``DC_DEV_IDP_KEY_FILE``, mode 0600), made on first start,
so tokens survive a restart. ``python -m dc_identity.dev_idp rotate`` makes a new current key and
keeps the previous one published, so the tokens it signed verify until they expire; a running
service picks the change up at its next request.
"""

import argparse
import base64
import hashlib
import hmac
import html
import json
import os
import secrets
import sys
import tempfile
import threading
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import structlog
from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import ECKey
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import Database
from dc_common.logging import configure_logging, pseudonym
from dc_common.problems import Problem, field_error
from dc_identity import domain, repository
from dc_identity.models import Person
from dc_identity.service import check
from dc_identity.settings import IdentitySettings

log = structlog.get_logger("dc_identity.dev_idp")

ALGORITHM = "ES256"
CURVE = "P-256"
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


# --- keys -----------------------------------------------------------------------------------


class KeyStore:
    """The signing keys in their file: the first is current, the next one the previous key."""

    KEEP = 2  # current + previous: enough for tokens to outlive one rotation

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys: list[ECKey] = []
        self._stamp: tuple[int, int] | None = None

    def load_or_create(self) -> None:
        """Read the key file, making it (with a fresh key) when there is none."""
        with self._lock:
            if not self.path.exists():
                self._create([_new_key()])
            self._read()

    def rotate(self) -> ECKey:
        """A new current key; the old current key stays published as the previous one."""
        with self._lock:
            old = self._read_file() if self.path.exists() else []
            key = _new_key()
            self._replace([key, *old][: self.KEEP])
            self._read()
            return key

    @property
    def current(self) -> ECKey:
        self._refresh()
        return self._keys[0]

    def public_jwks(self) -> dict[str, list[dict[str, Any]]]:
        self._refresh()
        return {"keys": [_public_jwk(key) for key in self._keys]}

    def _refresh(self) -> None:
        """Follow a rotation made by another process (the CLI) since the file was read."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            if not self._keys:
                raise
            return
        if (stat.st_mtime_ns, stat.st_ino) != self._stamp:
            with self._lock:
                self._read()

    def _read(self) -> None:
        stat = self.path.stat()
        if stat.st_mode & 0o077:
            self.path.chmod(0o600)
        self._keys = self._read_file()
        if not self._keys:
            raise ValueError(f"{self.path}: no keys")
        self._stamp = (stat.st_mtime_ns, stat.st_ino)

    def _read_file(self) -> list[ECKey]:
        document = json.loads(self.path.read_text(encoding="utf-8"))
        return [ECKey.import_key(entry) for entry in document["keys"]]

    def _write_temporary(self, keys: Sequence[ECKey]) -> Path:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, name = tempfile.mkstemp(prefix=".dev-idp-", dir=self.path.parent)
        os.fchmod(descriptor, 0o600)
        document = {"keys": [key.as_dict(private=True) for key in keys]}
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            json.dump(document, file, indent=2)
        return Path(name)

    def _create(self, keys: Sequence[ECKey]) -> None:
        """Create the file unless another process just did (then theirs wins)."""
        temporary = self._write_temporary(keys)
        try:
            os.link(temporary, self.path)
            log.info("dev_idp.key_created", path=str(self.path), kid=keys[0].kid)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()

    def _replace(self, keys: Sequence[ECKey]) -> None:
        temporary = self._write_temporary(keys)
        os.replace(temporary, self.path)


def _new_key() -> ECKey:
    return ECKey.generate_key(CURVE, private=True, auto_kid=True)


def _public_jwk(key: ECKey) -> dict[str, Any]:
    public = key.as_dict(private=False)
    return {
        "kid": key.kid,
        "kty": public["kty"],
        "crv": public["crv"],
        "x": public["x"],
        "y": public["y"],
        "alg": ALGORITHM,
        "use": "sig",
    }


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int


def issue_token(
    keys: KeyStore,
    settings: IdentitySettings,
    person: Person,
    *,
    now: datetime | None = None,
) -> IssuedToken:
    """A signed access token for ``person``: sub = national number, for the platform audience."""
    key = keys.current
    issued = int((now or datetime.now(UTC)).timestamp())
    lifetime = int(timedelta(minutes=settings.dev_idp_token_minutes).total_seconds())
    claims = {
        "iss": settings.dev_idp_issuer,
        "aud": settings.oidc_audience,
        "sub": person.national_number,
        "name": display_name(person),
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
    }
    header = {"alg": ALGORITHM, "kid": key.kid, "typ": "JWT"}
    token = jwt.encode(header, claims, key, algorithms=[ALGORITHM])
    return IssuedToken(token, lifetime)


def display_name(person: Person) -> str:
    return domain.display_name(person.first_name, person.last_name, person.national_number)


def redirect_uri_error(value: str) -> str | None:
    """Tokens go only back to this machine: http(s) on 127.0.0.1, localhost or [::1]."""
    if not value:
        return "is required"
    if any(c.isspace() or c == "\\" or ord(c) < 32 for c in value):
        return "must not contain spaces, backslashes or control characters"
    if "#" in value:
        return "must not contain a fragment"
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http or https URL"
    if "@" in parts.netloc:
        return "must not contain user information"
    if parts.hostname not in LOCAL_HOSTS:
        return "must be on 127.0.0.1 or localhost"
    return None


# --- HTTP -----------------------------------------------------------------------------------


class TokenRequest(BaseModel):
    national_number: str


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int


CODE_LIFETIME = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class PendingCode:
    """An authorization code waiting for its exchange."""

    national_number: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    expires_at: datetime


def pkce_challenge(verifier: str) -> str:
    """RFC 7636 S256: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class CodeStore:
    """The codes handed out and not yet exchanged, in this process (the development provider
    runs as one process); each is taken once."""

    def __init__(self) -> None:
        self._codes: dict[str, PendingCode] = {}

    def issue(self, pending: PendingCode) -> str:
        now = datetime.now(UTC)
        self._codes = {c: p for c, p in self._codes.items() if p.expires_at > now}
        code = secrets.token_urlsafe(32)
        self._codes[code] = pending
        return code

    def take(self, code: str) -> PendingCode | None:
        pending = self._codes.pop(code, None)
        if pending is None or pending.expires_at <= datetime.now(UTC):
            return None
        return pending


def _oauth_error(error: str, description: str) -> JSONResponse:
    """A token endpoint refusal (RFC 6749 section 5.2)."""
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=400,
        headers={"Cache-Control": "no-store"},
    )


def create_router(settings: IdentitySettings, keys: KeyStore) -> APIRouter:
    """The provider's routes, public (no internal secret: the browser calls them); the app
    includes them only when ``settings.dev_idp`` is true. Logs name a person by pseudonym."""
    router = APIRouter(tags=["development identity provider"])

    def session(request: Request) -> AbstractAsyncContextManager[AsyncSession]:
        database: Database = request.app.state.database
        return database.sessions()

    base = settings.dev_idp_issuer.rstrip("/")

    @router.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return {
            "issuer": settings.dev_idp_issuer,
            "jwks_uri": f"{base}/jwks.json",
            "authorization_endpoint": f"{base}/dev/authorize",
            "token_endpoint": f"{base}/dev/oauth/token",
            "response_types_supported": ["code", "token"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
        }

    @router.get("/jwks.json")
    async def jwks(response: Response) -> dict[str, list[dict[str, Any]]]:
        response.headers["Cache-Control"] = "public, max-age=60"
        return keys.public_jwks()

    @router.post("/dev/token")
    async def token(request: Request, body: TokenRequest) -> TokenResponse:
        async with session(request) as db:
            person = await _known_person(db, body.national_number)
        issued = issue_token(keys, settings, person)
        log.info("dev_idp.token_issued", sub=pseudonym(person.national_number), via="token")
        return TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)

    codes = CodeStore()

    async def picker(request: Request, hidden: dict[str, str]) -> HTMLResponse:
        async with session(request) as db:
            people = await repository.list_people(db)
            roles = _role_lines(await repository.directory_roles(db), people)
        return HTMLResponse(_login_page(people, roles, hidden))

    @router.get("/dev/authorize", response_class=HTMLResponse)
    async def authorize(
        request: Request,
        response_type: str = "",
        client_id: str = "",
        redirect_uri: str = "",
        state: str = "",
        code_challenge: str = "",
        code_challenge_method: str = "",
    ) -> HTMLResponse:
        _check_redirect(redirect_uri)
        _check_code_request(response_type, client_id, code_challenge, code_challenge_method)
        hidden = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
        }
        return await picker(request, hidden)

    @router.get("/dev/login", response_class=HTMLResponse)
    async def login_page(request: Request, redirect_uri: str = "", state: str = "") -> HTMLResponse:
        _check_redirect(redirect_uri)
        return await picker(request, {"redirect_uri": redirect_uri, "state": state})

    @router.post("/dev/login")
    async def login(request: Request) -> RedirectResponse:
        form = await _form(request)
        redirect_uri = form.get("redirect_uri", "")
        _check_redirect(redirect_uri)
        async with session(request) as db:
            person = await _known_person(db, form.get("national_number", ""))
        state = form.get("state", "")
        if form.get("response_type") == "code":
            client_id, challenge = form.get("client_id", ""), form.get("code_challenge", "")
            _check_code_request("code", client_id, challenge, "S256")
            code = codes.issue(
                PendingCode(
                    national_number=person.national_number,
                    client_id=client_id,
                    redirect_uri=redirect_uri,
                    code_challenge=challenge,
                    expires_at=datetime.now(UTC) + CODE_LIFETIME,
                )
            )
            query = {"code": code, **({"state": state} if state else {})}
            log.info("dev_idp.code_issued", sub=pseudonym(person.national_number))
            return RedirectResponse(f"{redirect_uri}?{urlencode(query)}", status_code=303)
        issued = issue_token(keys, settings, person)
        fragment = {
            "access_token": issued.access_token,
            # OAuth's token type.
            "token_type": "Bearer",  # nosec B105
            "expires_in": str(issued.expires_in),
        }
        if state:
            fragment["state"] = state
        log.info("dev_idp.token_issued", sub=pseudonym(person.national_number), via="login")
        return RedirectResponse(f"{redirect_uri}#{urlencode(fragment)}", status_code=303)

    @router.post("/dev/oauth/token", response_model=TokenResponse)
    async def exchange_code(request: Request) -> Response:
        form = await _form(request)
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "only authorization_code")
        pending = codes.take(form.get("code", ""))
        if pending is None:
            return _oauth_error("invalid_grant", "unknown, used or expired code")
        if (pending.client_id, pending.redirect_uri) != (
            form.get("client_id"),
            form.get("redirect_uri"),
        ):
            return _oauth_error("invalid_grant", "client_id or redirect_uri differ")
        if not hmac.compare_digest(
            pkce_challenge(form.get("code_verifier", "")), pending.code_challenge
        ):
            return _oauth_error("invalid_grant", "code_verifier does not match")
        async with session(request) as db:
            person = await _known_person(db, pending.national_number)
        issued = issue_token(keys, settings, person)
        log.info("dev_idp.token_issued", sub=pseudonym(person.national_number), via="code")
        answer = TokenResponse(access_token=issued.access_token, expires_in=issued.expires_in)
        return JSONResponse(answer.model_dump(), headers={"Cache-Control": "no-store"})

    return router


def _check_redirect(redirect_uri: str) -> None:
    if reason := redirect_uri_error(redirect_uri):
        raise Problem(
            400,
            "Bad request",
            f"redirect_uri: {reason}",
            errors=[{"field": "redirect_uri", "reason": reason}],
        )


def _check_code_request(
    response_type: str, client_id: str, code_challenge: str, method: str
) -> None:
    """An authorization request of the code flow names its client and carries a PKCE S256
    challenge (43 to 128 characters of base64url)."""
    problems = {
        "response_type": None if response_type == "code" else "must be code",
        "client_id": None if client_id else "is required",
        "code_challenge": None
        if 43 <= len(code_challenge) <= 128
        and all(c.isalnum() or c in "-._~" for c in code_challenge)
        else "must be a PKCE challenge of 43 to 128 characters",
        "code_challenge_method": None if method == "S256" else "must be S256",
    }
    for field, reason in problems.items():
        if reason:
            raise Problem(
                400,
                "Bad request",
                f"{field}: {reason}",
                errors=[{"field": field, "reason": reason}],
            )


async def _known_person(db: AsyncSession, national_number: str) -> Person:
    check("national_number", national_number, domain.national_number_error)
    person = await repository.get_person(db, national_number)
    if person is None:
        raise field_error("national_number", "no person with this national number")
    return person


async def _form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (the login form), first value per name."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise Problem(415, "Unsupported media type", "send the login form urlencoded")
    body = (await request.body()).decode("utf-8", errors="replace")
    return {name: values[0] for name, values in parse_qs(body, max_num_fields=20).items()}


def _role_lines(roles: repository.DirectoryRoles, people: Sequence[Person]) -> dict[str, list[str]]:
    """What each person may do, in words, for the person picker."""
    companies = {c.enterprise_number: f"{c.name} ({c.enterprise_number})" for c in roles.companies}
    branches = {b.establishment_unit_number: b.name for b in roles.branches}
    lines: dict[str, list[str]] = {person.national_number: [] for person in people}

    def add(national_number: str, line: str) -> None:
        lines.setdefault(national_number, []).append(line)

    for person in people:
        if person.is_operator:
            add(person.national_number, "operator")
    for representative in roles.legal_representatives:
        company = companies.get(representative.company_id, representative.company_id)
        add(representative.national_number, f"legal representative of {company}")
    for manager in roles.main_access_managers:
        company = companies.get(manager.company_id, manager.company_id)
        add(manager.national_number, f"main access manager of {company}")
    for grant in roles.active_grants:
        company = companies.get(grant.company_id, grant.company_id)
        if grant.branch_id is None:
            add(grant.national_number, f"right on {company}, whole company")
        else:
            branch = branches.get(grant.branch_id, grant.branch_id)
            add(grant.national_number, f"right on {company}, branch {branch} only")
    for worker in roles.workers:
        company = companies.get(worker.company_id, worker.company_id)
        add(worker.national_number, f"worker {worker.login} at {company}")
    for user in roles.users:
        if user.holder_national_number:
            add(user.holder_national_number, f"user (household) {user.user_number}")
    return lines


def _login_page(
    people: Sequence[Person], roles: dict[str, list[str]], hidden: dict[str, str]
) -> str:
    def e(value: str) -> str:
        return html.escape(value, quote=True)

    fields = "\n".join(
        f'  <input type="hidden" name="{e(name)}" value="{e(value)}">'
        for name, value in hidden.items()
    )
    rows = "\n".join(
        f"""<li><form method="post" action="/dev/login">
{fields}
  <button type="submit" name="national_number" value="{e(person.national_number)}">
    {e(display_name(person))}</button>
  <span class="number">{e(person.national_number)}</span>
  <span class="roles">{e("; ".join(roles.get(person.national_number, [])) or "no rights")}</span>
</form></li>"""
        for person in people
    )
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Development login: pick who you are</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 48rem; }}
ul {{ list-style: none; padding: 0; }}
li {{ border-bottom: 1px solid #ddd; padding: .5rem 0; }}
button {{ min-width: 12rem; text-align: left; padding: .3rem .6rem; cursor: pointer; }}
.number {{ font-family: monospace; margin: 0 1rem; color: #555; }}
.roles {{ color: #333; }}
.note {{ background: #fff4ce; padding: .5rem 1rem; }}
</style>
</head>
<body>
<h1>Pick who you are</h1>
<p class="note">Development identity provider: anyone may log in as anyone. In production the
government's access management (eID, itsme) does this.</p>
<ul>
{rows}
</ul>
</body>
</html>
"""


# --- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dc_identity.dev_idp",
        description="Manage the development identity provider's signing keys.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rotate", help="make a new current key; keep the previous one published")
    commands.add_parser("jwks", help="print the published public keys")
    arguments = parser.parse_args(argv)
    store = KeyStore(IdentitySettings().dev_idp_key_file)
    if arguments.command == "rotate":
        key = store.rotate()
        print(f"new current key {key.kid} in {store.path}")
    else:
        store.load_or_create()
        print(json.dumps(store.public_jwks(), indent=2))
    return 0


if __name__ == "__main__":
    _settings = IdentitySettings()
    configure_logging(
        json=_settings.log_json, level=_settings.log_level
    )  # to stderr: stdout is data
    sys.exit(main())
