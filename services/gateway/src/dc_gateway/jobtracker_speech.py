"""The Jobtracker API in the worker's language (nl, fr, de or en, from ``Accept-Language``).

Labels (statuses, activities, voucher states) and refusals are translated with the
``jobtracker`` gettext catalogue, the one the app's own labels are in; dates are written with
Babel for the language. A refusal from identity or services-mgmt is passed on translated: its
texts are the catalogue's message ids (the ones a worker can meet are listed below, so the
extraction finds them); a text the catalogue does not know is passed on as it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Sequence
from datetime import date
from typing import Any

from babel import dates
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from dc_common.problems import PROBLEM_JSON, Problem, problem_response
from dc_gateway.portal import i18n
from dc_workflows.status import ServiceStatus

LANGUAGES = ("nl", "fr", "de", "en")
DOMAIN = "jobtracker"


def N_(message: str) -> str:
    """Marks a message id for extraction; translated where it is used."""
    return message


STATUSES = {
    ServiceStatus.ENCODED: N_("encoded, waiting for the company and the household"),
    ServiceStatus.VALIDATED: N_("validated by the company"),
    ServiceStatus.CONTESTED: N_("contested by the household"),
    ServiceStatus.MODIFIED: N_("modified"),
    ServiceStatus.CANCELLED: N_("cancelled"),
    ServiceStatus.READY_FOR_ALLOCATION: N_("validated and confirmed"),
    ServiceStatus.ALLOCATED: N_("paid"),
    ServiceStatus.REIMBURSEMENT_REQUESTED: N_("paid"),
    ServiceStatus.REIMBURSED: N_("paid"),
    ServiceStatus.CONFIRMED: N_("confirmed by the household"),
    ServiceStatus.PARTIALLY_ALLOCATED_FIRST: N_("partly paid"),
    ServiceStatus.PARTIALLY_REIMBURSED: N_("partly paid"),
    ServiceStatus.PARTIALLY_ALLOCATED_SECOND: N_("partly paid"),
    ServiceStatus.PARTIALLY_ALLOCATED_LAST: N_("paid"),
    ServiceStatus.PAY_OUTSIDE_VOUCHERS: N_("to be paid outside vouchers"),
}
ACTIVITIES = {
    1: N_("household help"),
    2: N_("household shopping"),
    3: N_("ironing outside the home"),
    4: N_("transport of persons with reduced mobility"),
}
VOUCHER_KINDS = {"electronic": N_("electronic"), "paper": N_("paper")}
PAPER_STATES = {
    "valid": N_("valid"),
    "expired": N_("expired"),
    "used": N_("already used"),
    "unknown": N_("unknown"),
}

#: What identity, services-mgmt and the gateway answer a worker, word for word.
REFUSALS = (
    N_("Not logged in"),
    N_("wrong login or password; three wrong passwords in a row block the account"),
    N_("Account blocked"),
    N_("ask your company to unblock your account"),
    N_("three wrong passwords: ask your company"),
    N_("unknown refresh token"),
    N_("the session has ended"),
    N_("the refresh token was used already"),
    N_("the session has expired"),
    N_("the account is blocked"),
    N_("Invalid request"),
    N_("must be at least 10 characters long"),
    N_("must be at most 256 characters long"),
    N_("must hold letters and digits"),
    N_("may not contain the login"),
    N_("is too easy to guess"),
    N_("must differ from the current password"),
    N_("not one of your employers"),
    N_("unknown user"),
    N_("say what to correct"),
    N_("Nothing to answer"),
    N_("you registered this service yourself"),
    N_("Duplicate service"),
    N_("Not found"),
    N_("Service not found"),
    N_("Forbidden"),
    N_("only a worker's Jobtracker token registers here"),
    N_("Service unavailable"),
    N_("Identity service unavailable"),
    N_("Too many login attempts from this address"),
    N_("Wait a moment, then try again."),
    N_("must not be in the future"),
    N_("must not be before 2016-01-01"),
    N_("Unauthenticated"),
    N_("Transition rejected"),
)
#: Refusals with a part that varies: the pattern, and the message id to say instead.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^already registered as service \S+$"), N_("this service was registered before")),
    (re.compile(r"^duplicate of service \S+$"), N_("this service was registered before")),
    (re.compile(r"^no .+"), N_("not found, or not yours")),
    (re.compile(r"^the service is .+"), N_("the service is no longer waiting for an answer")),
    (re.compile(r"^(invalid token|token rejected|missing bearer).*", re.I), N_("log in again")),
)
#: The reason of a field the request's own checks refuse, by the check's type.
CHECKS = {
    "missing": N_("required"),
    "less_than_equal": N_("at most {limit}"),
    "greater_than_equal": N_("at least {limit}"),
    "string_too_short": N_("at least {limit} characters"),
    "string_too_long": N_("at most {limit} characters"),
    "int_parsing": N_("a whole number"),
    "int_from_float": N_("a whole number"),
    "date_parsing": N_("a date, like 2026-12-31"),
    "date_from_datetime_parsing": N_("a date, like 2026-12-31"),
    "enum": N_("not one of the choices"),
    "literal_error": N_("not one of the choices"),
}
PATTERN_REASONS = {
    "login": N_("12 digits, starting with 980"),
    "user_number": N_("12 digits"),
    "company_id": N_("10 digits"),
    "number": N_("the digits of the voucher"),
    "phone": N_("digits, spaces and + ( ) . / - only"),
}
NOT_VALID = N_("not valid")
CHECK_THE_FIELDS = N_("Check the fields marked.")


class Speech:
    """Texts, labels and dates in one language of the Jobtracker."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._catalogue = i18n.translations(language, DOMAIN)

    @classmethod
    def of(cls, request: Request) -> Speech:
        return cls(i18n.negotiate(request.headers.get("accept-language"), LANGUAGES))

    def __call__(self, message: str, **values: object) -> str:
        text: str = self._catalogue.gettext(message)
        return text.format(**values) if values else text

    def day(self, value: date | str) -> str:
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return dates.format_date(day, format="medium", locale=self.language)

    def refusal(self, text: str) -> str:
        """An upstream text in this language (a field's ``field: reason`` too)."""
        field, colon, reason = text.partition(": ")
        if colon and " " not in field:
            return f"{field}: {self.refusal(reason)}"
        for pattern, message in PATTERNS:
            if pattern.match(text):
                return self(message)
        return self(text)

    def problem(self, body: dict[str, Any]) -> dict[str, Any]:
        translated = {**body}
        for member in ("title", "detail"):
            if isinstance(body.get(member), str):
                translated[member] = self.refusal(body[member])
        if isinstance(body.get("errors"), list):
            translated["errors"] = [
                {**error, "reason": self.refusal(str(error.get("reason", "")))}
                for error in body["errors"]
            ]
        return translated

    def invalid(self, errors: Sequence[Any]) -> Problem:
        """The request's own checks refused it: each field with its reason."""
        fields = [self._field_error(error) for error in errors]
        return Problem(422, self("Invalid request"), self(CHECK_THE_FIELDS), errors=fields)

    def _field_error(self, error: Any) -> dict[str, str]:
        where = [str(p) for p in error["loc"] if p not in ("body", "query", "path", "header")]
        field = ".".join(where) or "body"
        kind = str(error["type"])
        context = error.get("ctx") or {}
        if kind == "string_pattern_mismatch":
            reason = self(PATTERN_REASONS.get(where[-1] if where else "", NOT_VALID))
        elif kind == "value_error":
            reason = self(str(context.get("error", NOT_VALID)))
        elif kind in CHECKS:
            limit = next(
                (context[k] for k in ("le", "ge", "min_length", "max_length") if k in context), ""
            )
            reason = self(CHECKS[kind], limit=limit)
        else:
            reason = self(NOT_VALID)
        return {"field": field, "reason": reason}


class LocalizedRoute(APIRoute):
    """A route of the Jobtracker API: its refusals in the caller's language, whoever raised
    them (the request's checks, the gateway, the service behind it)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def localized(request: Request) -> Response:
            speech = Speech.of(request)
            try:
                response = await handler(request)
            except RequestValidationError as error:
                response = problem_response(speech.invalid(error.errors()))
            except Problem as problem:
                wait = str(problem.retry_after) if problem.retry_after else None
                response = _translated(speech, problem.status, problem.body(), wait)
            else:
                if response.status_code >= 400 and _is_problem(response):
                    body = json.loads(bytes(response.body))
                    wait = response.headers.get("retry-after")
                    response = _translated(speech, response.status_code, body, wait)
            response.headers["Content-Language"] = speech.language
            return response

        return localized


def _is_problem(response: Response) -> bool:
    return PROBLEM_JSON in response.headers.get("content-type", "")


def _translated(
    speech: Speech, status: int, body: dict[str, Any], retry_after: str | None
) -> Response:
    headers = {"Retry-After": retry_after} if retry_after else None
    return JSONResponse(
        speech.problem(body), status_code=status, media_type=PROBLEM_JSON, headers=headers
    )
