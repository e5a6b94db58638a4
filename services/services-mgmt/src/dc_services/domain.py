"""Pure rules of services: the natural key that makes two services the same one, and the
position of a page in a list."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime

from dc_workflows.contracts.lifecycle import ServiceDetails, ServiceParties


@dataclass(frozen=True, slots=True)
class NaturalKey:
    """Worker, user, date, activity and hours: a service with the same key as one that is not
    cancelled is a duplicate, whichever channel it comes from."""

    worker_login: str
    user_number: str
    service_date: date
    activity_type: int
    hours: int

    @classmethod
    def of(cls, parties: ServiceParties, details: ServiceDetails) -> NaturalKey:
        return cls(
            parties.worker_login,
            parties.user_number,
            details.service_date,
            details.activity_type,
            details.hours,
        )

    @classmethod
    def parse(cls, text: str) -> NaturalKey:
        """The key as imports write it: ``worker:user:yyyy-mm-dd:activity:hours``."""
        worker, user, day, activity_type, hours = text.split(":")
        return cls(worker, user, date.fromisoformat(day), int(activity_type), int(hours))

    def text(self) -> str:
        return (
            f"{self.worker_login}:{self.user_number}:{self.service_date.isoformat()}"
            f":{self.activity_type}:{self.hours}"
        )

    def columns(self) -> dict[str, object]:
        return {
            "worker_login": self.worker_login,
            "user_number": self.user_number,
            "service_date": self.service_date,
            "activity_type": self.activity_type,
            "hours": self.hours,
        }


@dataclass(frozen=True, slots=True)
class ListPosition:
    """Where a page of a list of services begins or ends: the entry time and id of the row there
    (the list's order), written for the caller as an opaque cursor."""

    registered_at: datetime
    service_id: str

    def cursor(self) -> str:
        text = f"{self.registered_at.isoformat()}|{self.service_id}"
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def of_cursor(cls, cursor: str) -> ListPosition:
        """The position a cursor names; ValueError for a text that is no cursor of a list."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            at, _, service_id = base64.urlsafe_b64decode(padded).decode().partition("|")
            moment = datetime.fromisoformat(at)
        except (ValueError, UnicodeDecodeError) as error:
            raise ValueError("not a cursor of this list") from error
        if not service_id or moment.tzinfo is None:
            raise ValueError("not a cursor of this list")
        return cls(moment, service_id)
