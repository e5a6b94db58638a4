"""The portal's pages. Each reads and changes data through :class:`PortalApi` only."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import ValidationError
from starlette.datastructures import UploadFile

from dc_common.answers import MAX_PAGE
from dc_common.db import month_shifted
from dc_common.problems import Problem
from dc_gateway import routes_services
from dc_gateway.limits import login_attempt
from dc_gateway.portal import i18n, session, words
from dc_gateway.portal.api import ApiRefused, PortalApi
from dc_gateway.portal.oidc import LoginFailed, OidcClient
from dc_gateway.upstream import Upstream
from dc_services.schemas import ServiceQuery
from dc_workflows.deadline import BRUSSELS

log = structlog.get_logger(__name__)

TEMPLATES = Path(__file__).parent / "templates"
PAGE_SIZES = (50, 100, 200)
ROW_OUTCOMES = ("accepted", "registered", "duplicate", "rejected")
#: The list's date filters: when the address names none, the list opens on a window.
DATE_FILTERS = ("service_date_from", "service_date_to", "registered_from", "registered_to")
OPENING_WINDOW_MONTHS = 13
LIST_FILTERS = (
    "status",
    "worker_login",
    "user_number",
    "activity_type",
    "service_date_from",
    "service_date_to",
    "registered_from",
    "registered_to",
)

router = APIRouter(include_in_schema=False)


@cache
def environment(language: str) -> Environment:
    """The templates in one language (an environment per language: no shared mutable state
    between requests)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
    formats = i18n.Formats(language)
    env.filters |= {
        "date": formats.date,
        "datetime": formats.date_time,
        "number": formats.number,
        "euros": formats.euros,
        "time_left": formats.time_left,
        "query_string": query_string,
        "masked": masked,
    }
    env.globals |= {"words": words, "LANGUAGES": i18n.LANGUAGE_NAMES, "language": language}
    env.globals["m"] = env.get_template("macros.html").module  # the pieces every page uses
    return env


def query_string(values: dict[str, Any]) -> str:
    """The address of a list with these filters (empty ones left out)."""
    kept = {key: value for key, value in values.items() if value not in (None, "", [])}
    return urlencode(kept, doseq=True)


def masked(national_number: str | None) -> str:
    """A national number as lists show it: enough to tell two people apart, not the number."""
    if not national_number or len(national_number) != 11 or not national_number.isdecimal():
        return national_number or ""  # not a person's number: the platform, say
    return "•" * 7 + national_number[-4:]


def language_of(request: Request) -> str:
    chosen = request.session.get("language")
    if chosen in i18n.LANGUAGES:
        return str(chosen)
    return i18n.negotiate(request.headers.get("accept-language"))


@dataclass
class Page:
    """One page being made: who asks, and the API on their behalf."""

    request: Request
    person: session.SignedIn
    api: PortalApi

    @property
    def company(self) -> str | None:
        company: str | None = self.request.session.get("company")
        return company

    def render(self, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
        return render(self.request, template, status=status, person=self.person, **values)


def render(request: Request, template: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    language = language_of(request)
    context = {
        "request": request,
        "csrf_token": session.csrf_token(request),
        "companies": request.session.get("companies", []),
        "company": request.session.get("company"),
        "staff": bool(request.session.get("staff")),
        "operator": bool(request.session.get("operator")),
        "flash": request.session.pop("flash", None),
        **values,
    }
    html = environment(language).get_template(template).render(context)
    response = HTMLResponse(html, status_code=status)
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = "no-store"
    return response


async def page(request: Request) -> AsyncIterator[Page]:
    person = session.require_sign_in(request)
    api = PortalApi(request, person.token)
    try:
        yield Page(request=request, person=person, api=api)
    finally:
        await api.aclose()


ThePage = Annotated[Page, Depends(page)]


def see_other(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


# --- login -----------------------------------------------------------------------------------


def _oidc(request: Request) -> OidcClient:
    client: OidcClient = request.app.state.portal_oidc
    return client


async def _too_many_logins(request: Request) -> Response | None:
    """The page to show instead when this address has logged in too often; None to go on."""
    try:
        await login_attempt(request)
    except Problem as refused:
        log.warning("portal.login_refused", reason="too many attempts from the address")
        page = render(request, "message.html", status=429, notice=words.TOO_MANY_LOGINS)
        page.headers["Retry-After"] = str(refused.retry_after)
        return page
    return None


@router.get("/login")
async def login(request: Request, next: str = "/") -> Response:
    if refused := await _too_many_logins(request):
        return refused
    attempt = session.start_login(request, next)
    return see_other(await _oidc(request).authorization_url(attempt))


@router.get("/auth/callback")
async def login_callback(request: Request, code: str = "", state: str = "") -> Response:
    if refused := await _too_many_logins(request):
        return refused
    pending = session.finish_login(request, state)
    if pending is None or not code:
        log.warning("portal.login_refused", reason="no code" if pending else "unknown state")
        return render(request, "message.html", status=400, notice=words.LOGIN_FAILED)
    attempt, back_to = pending
    try:
        tokens = await _oidc(request).exchange(code, attempt)
    except LoginFailed as refusal:
        log.warning("portal.login_refused", reason=str(refusal))
        return render(request, "message.html", status=400, notice=words.LOGIN_FAILED)
    session.begin_session(request, token=tokens.access_token, expires_in=tokens.expires_in)
    api = PortalApi(request, tokens.access_token)
    try:
        me = await api.get("/me")
        companies = await api.get("/companies")
    finally:
        await api.aclose()
    staff_of = {right["company_id"] for right in me["rights"]}
    manages = set(me["legal_representative_of"]) | set(me["main_access_manager_of"])
    known = [
        {"id": c["enterprise_number"], "name": c["name"]}
        for c in companies
        if me["operator"] or c["enterprise_number"] in staff_of | manages
    ]
    request.session.update(
        name=me["name"],
        operator=me["operator"],
        staff=bool(staff_of) or me["operator"],
        companies=known,
        company=known[0]["id"] if known else None,
        user_numbers=me["user_numbers"],
        represents=me["legal_representative_of"],
        manages=me["main_access_manager_of"],
    )
    return see_other(back_to)


@router.post("/logout")
async def logout(request: Request) -> Response:
    await session.checked_form(request)
    session.end_session(request)
    return see_other("/logged-out")


@router.get("/logged-out")
async def logged_out(request: Request) -> Response:
    return render(request, "message.html", notice=words.LOGGED_OUT)


@router.post("/language")
async def choose_language(request: Request) -> Response:
    form = await session.checked_form(request)
    if form.get("language") in i18n.LANGUAGES:
        request.session["language"] = form["language"]
    return see_other(session.safe_path(form.get("next")))


@router.post("/company")
async def choose_company(request: Request) -> Response:
    form = await session.checked_form(request)
    known = {c["id"] for c in request.session.get("companies", [])}
    if form.get("company") in known:
        request.session["company"] = form["company"]
    return see_other(session.safe_path(form.get("next")))


# --- staff and household pages -------------------------------------------------------------


@router.get("/")
async def dashboard(page: ThePage) -> Response:
    if not page.request.session.get("staff"):
        manages = page.request.session.get("represents") or page.request.session.get("manages")
        if manages and not page.request.session.get("user_numbers"):
            return see_other("/access")  # a legal representative without the right itself
        return await household_home(page)
    company = page.company
    counts, soon, imports, requests, inbox = await asyncio.gather(
        page.api.get("/services/status-counts", {"company_id": company}),
        page.api.get(
            "/services", {"company_id": company, "status": 1, "sort": "oldest", "page_size": 5}
        ),
        page.api.get("/imports", {"company_id": company, "page_size": 3}),
        _optional(page.api.get("/reimbursement-requests", {"company_id": company})),
        page.api.get(f"/companies/{company}/inbox", {"limit": 10}),
    )
    by_status = {c["status"]: c for c in counts["counts"]}

    def group(codes: tuple[int, ...]) -> list[dict[str, Any]]:
        return [
            {"status": code, "services": by_status.get(code, {}).get("services", 0)}
            for code in codes
        ]

    return page.render(
        "dashboard.html",
        waiting=group(words.WAITING_FOR_COMPANY),
        contested=group(words.CONTESTED),
        partially_paid=group(words.PARTIALLY_PAID),
        outside=group(words.OUTSIDE_VOUCHERS),
        soon=[s for s in soon["items"] if s["validation_deadline"]],
        now=datetime.now(UTC),
        imports=imports["items"],
        requests=None if requests is None else [r for r in requests if r["status"] != "paid"],
        inbox=inbox,
    )


async def _optional(call: Awaitable[Any]) -> Any:
    """What the API answers, or None where this person may not see it (a branch right)."""
    try:
        return await call
    except ApiRefused as refused:
        if refused.status in (403, 404):
            return None
        raise


async def household_home(page: Page) -> Response:
    waiting, validated = await asyncio.gather(
        page.api.get("/services", {"status": 1, "page_size": 50}),
        page.api.get("/services", {"status": 2, "page_size": 50}),
    )
    return page.render("household.html", to_confirm=waiting["items"] + validated["items"])


def list_query(request: Request) -> dict[str, Any]:
    """The filters of the list as the address carries them (a link can be sent to a colleague)."""
    params = request.query_params
    query: dict[str, Any] = {name: params.get(name, "") for name in LIST_FILTERS}
    if not any(name in params for name in DATE_FILTERS):
        query["service_date_from"] = opening_window_start().isoformat()
    query["branch_id"] = [branch for branch in params.getlist("branch_id") if branch]
    query["sort"] = "oldest" if params.get("sort") == "oldest" else "newest"
    size = page_number(params.get("page_size"))
    query["page_size"] = size if size in PAGE_SIZES else 50
    query["page"] = page_number(params.get("page"))
    return query


def opening_window_start() -> date:
    """The list opens on the sliding window of 13 months of service dates: this month and the
    12 before it (the form shows it; a person who empties the dates sees the whole history).
    A window is also what the read model answers fastest: only its months' partitions."""
    return month_shifted(datetime.now(BRUSSELS).date(), -(OPENING_WINDOW_MONTHS - 1))


def list_cursor(request: Request) -> dict[str, str]:
    """The position the pager's link asks for (the page after or before one), if any: the page
    number in the address is then only its label, and a deep page costs what the first does."""
    params = request.query_params
    for name in ("after", "before"):
        cursor = params.get(name, "")
        if 0 < len(cursor) <= 200:
            return {name: cursor}
    return {}


def page_number(typed: str | None, *, highest: int = MAX_PAGE) -> int:
    """A page number from the address: 1 for anything that is not one (``²``, ``-3``, 10**40)."""
    if not typed or not typed.isascii() or not typed.isdecimal() or len(typed) > 7:
        return 1
    return min(max(int(typed), 1), highest)


@dataclass(frozen=True)
class Names:
    """The names of the company's workers (by login) and branches (by number), for staff."""

    workers: dict[str, str]
    branches: dict[str, str]


NAMES_SECONDS = 60.0
_names: dict[tuple[str, str], tuple[float, Names]] = {}


async def names_of(page: Page, company_id: str | None) -> Names:
    """Asked of the API once a minute per person and company (names change rarely; what the
    person may see of them is theirs, so they are kept per person)."""
    if not company_id or not page.request.session.get("staff"):
        return Names({}, {})
    key = (hashlib.sha256(page.person.token.encode()).hexdigest(), company_id)
    now = time.monotonic()
    kept = _names.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    workers, branches = await asyncio.gather(
        page.api.get(f"/companies/{company_id}/workers"),
        page.api.get(f"/companies/{company_id}/branches"),
    )
    names = Names(
        workers={w["login"]: f"{w['first_name']} {w['last_name']}" for w in workers},
        branches={b["establishment_unit_number"]: b["name"] for b in branches},
    )
    for stale in [k for k, (until, _) in _names.items() if until <= now]:
        del _names[stale]
    _names[key] = (now + NAMES_SECONDS, names)
    return names


@router.get("/services")
async def services_list(page: ThePage) -> Response:
    query = list_query(page.request)
    errors: dict[str, str] = {}
    try:
        asked = {**query, **list_cursor(page.request), "company_id": page.company}
        listing = await page.api.get("/services", asked)
    except ApiRefused as refused:
        if refused.status != 422:
            raise
        errors = refused.field_errors()
        listing = {"items": [], "total_services": 0, "total_hours": 0, "page": 1}
    return page.render(
        "services.html",
        names=await names_of(page, page.company),
        query=query,
        listing=listing,
        errors=errors,
        page_sizes=[(size, size) for size in PAGE_SIZES],
        pages=max(1, -(-listing["total_services"] // query["page_size"])),
        back_to=str(page.request.url.path)
        + (f"?{page.request.url.query}" if page.request.url.query else ""),
    )


@router.get("/services/by-worker")
async def services_by_worker(page: ThePage) -> Response:
    """The list's selection per worker, workers alphabetically, filtered on their name."""
    query = list_query(page.request)
    selection = {k: v for k, v in query.items() if k not in ("page", "page_size", "sort")}
    totals, names = await asyncio.gather(
        page.api.get("/services/worker-totals", {**selection, "company_id": page.company}),
        names_of(page, page.company),
    )
    wanted = page.request.query_params.get("name", "")
    rows = routes_services.workers_by_name(totals["workers"], names.workers, wanted)
    return page.render(
        "by_worker.html",
        query=query,
        selection=selection,
        name=page.request.query_params.get("name", ""),
        rows=rows,
        total_services=sum(r["services"] for r in rows),
        total_hours=sum(r["hours"] for r in rows),
    )


@router.get("/services/new")
async def new_service(page: ThePage) -> Response:
    return await _registration_form(page, {}, {})


async def _registration_form(
    page: Page, values: dict[str, str], errors: dict[str, str], *, status: int = 200, **more: Any
) -> Response:
    today = datetime.now(BRUSSELS).date().isoformat()
    defaults = {"service_date": today, "hours": "3", "activity_type": "1"}
    return page.render(
        "register.html",
        status=status,
        names=await names_of(page, page.company),
        values={**defaults, **values},
        errors=errors,
        key=values.get("key") or f"portal-{secrets.token_hex(12)}",
        today=today,
        **more,
    )


@router.post("/services/new")
async def register_service(page: ThePage) -> Response:
    """Staff encode a service for a worker of the company; the form's key makes a second
    submission of the same form register nothing new (the API's Idempotency-Key)."""
    form = await session.checked_form(page.request)
    fields = ("worker_login", "user_number", "service_date", "hours", "activity_type")
    values = {name: form.get(name, "").strip() for name in (*fields, "key")}
    body: dict[str, Any] = {"company_id": page.company, **{f: values[f] for f in fields}}
    try:
        created = await page.api.post("/services", body, headers={"Idempotency-Key": values["key"]})
    except ApiRefused as refused:
        duplicate = refused.problem.get("duplicate_of") if refused.status == 409 else None
        errors = refused.field_errors() or ({} if duplicate else {"form": "refused"})
        return await _registration_form(
            page, values, errors, status=refused.status, duplicate_of=duplicate
        )
    page.request.session["flash"] = {"done": "register"}
    return see_other(f"/services/{created['id']}")


@router.get("/services/export.csv")
async def export_services(page: ThePage) -> Response:
    """The list's selection as CSV, streamed: the API's export, with its scoping, for the
    person of this session."""
    query = list_query(page.request)
    params = {
        name: value
        for name, value in {**query, "company_id": page.company}.items()
        if name not in ("page", "page_size") and value not in (None, "", [])
    }
    try:
        selection = ServiceQuery.model_validate(params)
    except ValidationError:
        return see_other(f"/services?{page.request.url.query}")
    caller = await page.api.caller()
    services: Upstream = page.request.app.state.services
    narrowed = routes_services.scoped(params, caller, selection)
    return await services.stream("/services/export.csv", params=narrowed)


@router.get("/services/{service_id}")
async def service_detail(service_id: str, page: ThePage) -> Response:
    service = await page.api.get(f"/services/{service_id}")
    return page.render(
        "service.html",
        names=await names_of(page, service["company_id"]),
        service=service,
        back_to=session.safe_path(page.request.query_params.get("back")),
        temporal_url=_temporal_link(page.request, service_id),
    )


def _temporal_link(request: Request, service_id: str) -> str | None:
    if not request.session.get("operator"):
        return None
    base: str = request.app.state.portal_temporal_ui
    return f"{base.rstrip('/')}/namespaces/default/workflows/service-{service_id}"


ACTIONS = {"validate", "confirm", "cancel", "contest"}


async def _service_refused(
    page: Page, service_id: str, refused: ApiRefused, back_to: str, form: dict[str, str]
) -> Response:
    """The service's page again, with what was refused next to its field."""
    service = await page.api.get(f"/services/{service_id}")
    return page.render(
        "service.html",
        names=await names_of(page, service["company_id"]),
        status=refused.status,
        service=service,
        back_to=back_to,
        refusal=None if refused.field_errors() else refused.problem.get("detail", ""),
        field_errors=refused.field_errors(),
        form=form,
        temporal_url=_temporal_link(page.request, service_id),
    )


@router.post("/services/{service_id}/modify")
async def modify_service(service_id: str, page: ThePage) -> Response:
    """The company corrects the service (after a contest, for example): only what changed."""
    form = await session.checked_form(page.request)
    service = await page.api.get(f"/services/{service_id}")
    changes: dict[str, Any] = {}
    for name in ("service_date", "hours", "activity_type"):
        value = form.get(name, "").strip()
        if value and value != str(service[name]):
            changes[name] = value
    if reason := form.get("reason", "").strip():
        changes["reason"] = reason
    back_to = session.safe_path(form.get("back"))
    try:
        await page.api.patch(f"/services/{service_id}", changes)
    except ApiRefused as refused:
        return await _service_refused(page, service_id, refused, back_to, form)
    page.request.session["flash"] = {"done": "modify"}
    return see_other(f"/services/{service_id}")


@router.post("/services/{service_id}/{action}")
async def service_action(service_id: str, action: str, page: ThePage) -> Response:
    form = await session.checked_form(page.request)
    if action not in ACTIONS:
        return page.render("message.html", status=404, notice=words.NOT_FOUND)
    reason = form.get("reason", "").strip()
    body: dict[str, Any] | None = {"reason": reason} if reason or action == "contest" else None
    back_to = session.safe_path(form.get("back"))
    try:
        await page.api.post(f"/services/{service_id}/{action}", body)
    except ApiRefused as refused:
        return await _service_refused(page, service_id, refused, back_to, form)
    page.request.session["flash"] = {"done": action}
    return see_other(back_to if form.get("return") == "list" else f"/services/{service_id}")


@router.post("/services")
async def validate_selection(page: ThePage) -> Response:
    """Validate the services ticked in the list, one by one (each answer is its own)."""
    form = await session.checked_form(page.request)
    selected = (await page.request.form()).getlist("service")
    done = 0
    for service_id in selected:
        if not isinstance(service_id, str):
            continue
        try:
            await page.api.post(f"/services/{service_id}/validate")
            done += 1
        except ApiRefused:
            continue
    page.request.session["flash"] = {
        "done": "validate-selection",
        "values": {"done": done, "selected": len(selected)},
    }
    return see_other(session.safe_path(form.get("back")))


@router.get("/imports")
async def imports_page(page: ThePage) -> Response:
    imports = await page.api.get("/imports", {"company_id": page.company, "page_size": 20})
    return page.render("imports.html", imports=imports["items"], errors={})


@router.post("/imports")
async def upload_import(page: ThePage) -> Response:
    form = await page.request.form()
    await session.checked_form(page.request)
    upload = form.get("file")
    kind = form.get("kind")
    errors: dict[str, str] = {}
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors["file"] = "missing"
    if kind not in words.IMPORT_KINDS:
        errors["kind"] = "missing"
    if not errors and isinstance(upload, UploadFile) and isinstance(kind, str):
        content = await upload.read()
        file = (upload.filename or "upload", content, upload.content_type or "text/csv")
        data = {"kind": kind, "company_id": page.company or ""}
        try:
            created = await page.api.upload("/imports", data=data, file=file)
            return see_other(f"/imports/{created['id']}")
        except ApiRefused as refused:
            errors = {"file": refused.problem.get("detail", "")}
    imports = await page.api.get("/imports", {"company_id": page.company, "page_size": 20})
    return page.render("imports.html", status=422, imports=imports["items"], errors=errors)


@router.get("/imports/{import_id}")
async def import_page(import_id: str, page: ThePage) -> Response:
    imported = await page.api.get(f"/imports/{import_id}")
    number = page_number(page.request.query_params.get("page"))
    outcome = page.request.query_params.get("outcome", "")
    outcome = outcome if outcome in ROW_OUTCOMES else ""
    rows = await page.api.get(
        f"/imports/{import_id}/rows", {"page": number, "page_size": 50, "outcome": outcome}
    )
    return page.render(
        "import.html",
        imported=imported,
        rows=rows,
        outcome=outcome,
        running=imported["status"] in ("queued", "running"),
    )


@router.get("/imports/{import_id}/errors.csv")
async def import_errors(import_id: str, page: ThePage) -> Response:
    return await page.api.download(f"/imports/{import_id}/errors.csv")


def _household(page: Page) -> str | None:
    numbers: list[str] = page.request.session.get("user_numbers", [])
    return numbers[0] if numbers else None


@router.get("/wallet")
async def wallet_page(page: ThePage) -> Response:
    """The household's wallet: balance, vouchers by expiry date, what they paid, the cap left,
    and an order form (its reference made with the form, so sending it twice orders once)."""
    user_number = _household(page)
    if user_number is None:
        return page.render("message.html", status=404, notice=words.NOT_FOUND)
    wallet = await page.api.get(f"/users/{user_number}/wallet")
    return page.render(
        "wallet.html", wallet=wallet, reference=f"portal-{secrets.token_hex(8)}", errors={}
    )


@router.post("/wallet/orders")
async def order_vouchers(page: ThePage) -> Response:
    form = await session.checked_form(page.request)
    user_number = _household(page)
    if user_number is None:
        return page.render("message.html", status=404, notice=words.NOT_FOUND)
    body = {"reference": form.get("reference", ""), "quantity": form.get("quantity", "")}
    try:
        answer = await page.api.post(f"/users/{user_number}/voucher-orders", body)
    except ApiRefused as refused:
        wallet = await page.api.get(f"/users/{user_number}/wallet")
        return page.render(
            "wallet.html",
            status=refused.status,
            wallet=wallet,
            reference=body["reference"],
            quantity=body["quantity"],
            errors=refused.field_errors() or {"quantity": refused.problem.get("detail", "")},
        )
    done = "order-processing" if answer and answer.get("state") == "processing" else "order"
    page.request.session["flash"] = {"done": done}
    return see_other("/wallet")


@router.get("/help")
async def help_page(request: Request) -> Response:
    return render(request, "help.html", person=session.signed_in(request))
