"""Pure rules of services: the natural key that makes two services the same one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
