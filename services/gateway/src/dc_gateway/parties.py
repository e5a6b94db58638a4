"""The caller's part in one service, and the acting party the services-mgmt API is told of."""

from __future__ import annotations

from enum import StrEnum
from typing import Any
from urllib.parse import quote

from dc_gateway.access import Caller
from dc_gateway.policy import forbidden, not_found

#: The party an operator acts for: the platform (their national number is the person, never the
#: party's id).
PLATFORM = "platform"


class Part(StrEnum):
    STAFF = "staff"
    WORKER = "worker"
    USER = "user"
    OPERATOR = "operator"


def parts_in(caller: Caller, service: dict[str, Any]) -> set[Part]:
    parts: set[Part] = set()
    scope = caller.staff.get(service["company_id"])
    if scope is not None and scope.covers(service["branch_id"]):
        parts.add(Part.STAFF)
    if caller.worker_logins.get(service["worker_login"]) == service["company_id"]:
        parts.add(Part.WORKER)
    if service["user_number"] in caller.user_numbers:
        parts.add(Part.USER)
    if caller.operator:
        parts.add(Part.OPERATOR)
    return parts


def require_part(caller: Caller, service: dict[str, Any] | None, part: Part) -> dict[str, Any]:
    """The service, if the caller plays ``part`` in it; 404 if they play none, 403 otherwise."""
    parts = parts_in(caller, service) if service else set()
    if not parts:
        raise not_found("such service")
    if part not in parts:
        raise forbidden(f"only the service's {part} may do this")
    assert service is not None
    return service


def reader(caller: Caller, kind: str) -> dict[str, str]:
    """The reader's role, for an answer that names people: an operator sees national numbers,
    anyone else names only (``kind``: the part the reader plays)."""
    return {"X-Actor-Kind": "operator" if caller.operator else kind}


def acting_as(caller: Caller, kind: str, party_id: str) -> dict[str, str]:
    """Headers naming the acting party for an internal API (believed because the gateway holds
    the internal secret): the party, and the person acting for it by national number and name
    (percent-encoded: a header carries ASCII only)."""
    headers = {"X-Actor-Kind": kind, "X-Actor-Id": party_id}
    if caller.national_number:  # a household from its e-mail's link is no known person
        headers["X-Actor-Person"] = caller.national_number
    if caller.name and caller.name != caller.national_number:  # a person without a name yet
        headers["X-Actor-Name"] = quote(caller.name, safe=" ")
    return headers
