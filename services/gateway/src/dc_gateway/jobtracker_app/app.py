"""The Jobtracker app in the gateway: the shell at ``/app/``, its assets under ``/app/assets/``,
the web app manifest, the service worker and the labels in the worker's language.

The shell and the service worker are answered with ``Cache-Control: no-cache`` (the browser asks
again, an ETag makes that cheap); the service worker's cache name carries a hash of every file
it keeps, so a new release replaces the phone's copy at the next start. The API under
``/api/v1`` is never cached by the service worker: the app keeps its offline data itself.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from babel import Locale
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from dc_gateway.jobtracker_app.words import LABELS, PLURALS
from dc_gateway.jobtracker_speech import DOMAIN, LANGUAGES
from dc_gateway.portal import i18n

STATIC = Path(__file__).parent / "static"
ASSETS = STATIC / "assets"
#: Counts tried, in this order, to find one of each plural category of a language.
PLURAL_SAMPLES = (1, 0, 2, 3, 5, 11, 21, 100, 1_000_000)
MEDIA_TYPES = {
    ".js": "application/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".html": "text/html; charset=utf-8",
    ".webmanifest": "application/manifest+json",
}
NO_CACHE = "no-cache"
SCOPE = "/app/"

router = APIRouter(include_in_schema=False)


# --- labels --------------------------------------------------------------------------------


def negotiate(accept_language: str | None) -> str:
    """The first of the browser's languages (by weight, then order) the app speaks; Dutch
    otherwise."""
    return i18n.negotiate(accept_language, LANGUAGES)


@cache
def messages(language: str) -> dict[str, Any]:
    """Every label by its key; a plural label as its forms by CLDR plural category (the
    categories ``Intl.PluralRules`` names), each taken from the catalogue for a count of that
    category."""
    catalogue = i18n.translations(language, DOMAIN)
    found: dict[str, Any] = {key: catalogue.gettext(text) for key, text in LABELS.items()}
    rule = Locale.parse(language).plural_form
    for key, (singular, plural) in PLURALS.items():
        forms: dict[str, str] = {}
        for count in PLURAL_SAMPLES:
            forms.setdefault(rule(count), catalogue.ngettext(singular, plural, count))
        found[key] = forms
    return found


# --- files ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    media_type: str
    etag: str

    def answer(self, request: Request, **headers: str) -> Response:
        all_headers = {"ETag": self.etag, "Cache-Control": NO_CACHE, **headers}
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=all_headers)
        return Response(self.body, media_type=self.media_type, headers=all_headers)


def _file(body: bytes, suffix: str) -> StaticFile:
    media_type = MEDIA_TYPES.get(suffix) or mimetypes.guess_type(f"x{suffix}")[0] or "text/plain"
    return StaticFile(body, media_type, f'"{hashlib.sha256(body).hexdigest()[:20]}"')


@dataclass(frozen=True)
class Release:
    """The files of this release of the app, read once."""

    shell: StaticFile
    manifest: StaticFile
    assets: dict[str, StaticFile]
    service_worker: StaticFile


@cache
def release() -> Release:
    assets = {
        path.name: _file(path.read_bytes(), path.suffix)
        for path in sorted(ASSETS.iterdir())
        if path.is_file() and not path.name.startswith(".")
    }
    shell = _file((STATIC / "index.html").read_bytes(), ".html")
    manifest = _file((STATIC / "manifest.webmanifest").read_bytes(), ".webmanifest")
    version = hashlib.sha256(
        b"".join(f.etag.encode() for f in (shell, manifest, *assets.values()))
    ).hexdigest()[:12]
    kept = [SCOPE, f"{SCOPE}manifest.webmanifest", *(f"{SCOPE}assets/{name}" for name in assets)]
    worker = (STATIC / "sw.js").read_text(encoding="utf-8")
    worker = worker.replace('"__VERSION__"', json.dumps(version)).replace(
        '["__FILES__"]', json.dumps(kept)
    )
    return Release(shell, manifest, assets, _file(worker.encode(), ".js"))


# --- routes --------------------------------------------------------------------------------


@router.get("/app")
async def to_the_app() -> Response:
    return RedirectResponse(SCOPE, status_code=308)


@router.get("/app/")
async def shell(request: Request) -> Response:
    return release().shell.answer(request)


@router.get("/app/manifest.webmanifest")
async def manifest(request: Request) -> Response:
    return release().manifest.answer(request)


@router.get("/app/sw.js")
async def service_worker(request: Request) -> Response:
    return release().service_worker.answer(request, **{"Service-Worker-Allowed": SCOPE})


@router.get("/app/assets/{name}")
async def asset(name: str, request: Request) -> Response:
    found = release().assets.get(name)
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return found.answer(request)


@router.get("/app/messages.json")
async def labels(request: Request, lang: str | None = None) -> Response:
    """The app's labels in ``lang``, or in the browser's language (``Accept-Language``)."""
    language = lang if lang in LANGUAGES else negotiate(request.headers.get("accept-language"))
    return JSONResponse(
        {"language": language, "messages": messages(language)},
        headers={"Cache-Control": NO_CACHE, "Vary": "Accept-Language"},
    )


def mount_jobtracker_app(app: FastAPI) -> None:
    app.include_router(router)
