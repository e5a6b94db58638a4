"""Plausibility flags over the accepted services of a file: shown to the company before it
validates, never a reason to reject a row.

- a worker with more than 9 hours on one day (all that worker's rows of that day are flagged);
- the same user served more than once on one date (all those rows);
- a service on a date the worker's contract does not cover (when the contracts are given).

Services carry no times, so overlapping services cannot be seen and are not flagged.
Memory: one small entry per worker-day and per user-date, not per row.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum

from dc_imports.records import Frozen, ServiceRecord, WorkerRecord

MAX_HOURS_PER_DAY = 9

Contract = tuple[date, date | None]
"""First and last day of a worker's contract; None as the last day when it is open-ended."""


class FlagCode(StrEnum):
    WORKER_OVER_MAX_HOURS = "worker-over-max-hours"
    USER_SERVED_TWICE = "user-served-twice"
    OUTSIDE_CONTRACT = "outside-contract"


class Flag(Frozen):
    """A remark on one accepted row; ``lines`` are all the rows concerned, this one included."""

    line: int
    code: FlagCode
    message: str
    lines: tuple[int, ...] = ()


def _add_line(table: dict[int, int | list[int]], key: int, line: int) -> None:
    lines = table.get(key)
    if lines is None:
        table[key] = line
    elif isinstance(lines, int):
        table[key] = [lines, line]
    else:
        lines.append(line)


class Plausibility:
    """Collects accepted services of one file and flags what looks wrong."""

    def __init__(
        self, contracts: Mapping[str, Contract] | None = None, *, max_hours: int = MAX_HOURS_PER_DAY
    ) -> None:
        self.contracts = contracts or {}
        self.max_hours = max_hours
        self._worker_hours: dict[int, int] = {}
        self._worker_lines: dict[int, int | list[int]] = {}
        self._user_lines: dict[int, int | list[int]] = {}
        self._contract_flags: list[Flag] = []

    def add(self, record: ServiceRecord) -> None:
        day = record.service_date.toordinal()
        worker_day = int(record.worker_login) * 10**6 + day
        self._worker_hours[worker_day] = self._worker_hours.get(worker_day, 0) + record.hours
        _add_line(self._worker_lines, worker_day, record.line)
        _add_line(self._user_lines, int(record.user_number) * 10**6 + day, record.line)
        contract = self.contracts.get(record.worker_login)
        if contract is not None and (reason := _outside(record.service_date, contract)):
            message = f"worker {record.worker_login}: {reason}"
            self._contract_flags.append(
                Flag(line=record.line, code=FlagCode.OUTSIDE_CONTRACT, message=message)
            )

    def flags(self) -> list[Flag]:
        """Every flag so far, by line (a row may have several)."""
        flags = list(self._contract_flags)
        for key, total in self._worker_hours.items():
            if total > self.max_hours:
                login, day = divmod(key, 10**6)
                lines = _lines(self._worker_lines[key])
                message = (
                    f"worker {login:012d} has {total} hours on {date.fromordinal(day).isoformat()} "
                    f"(more than {self.max_hours}; lines {_join(lines)})"
                )
                flags += [
                    Flag(
                        line=line, code=FlagCode.WORKER_OVER_MAX_HOURS, message=message, lines=lines
                    )
                    for line in lines
                ]
        for key, entry in self._user_lines.items():
            if isinstance(entry, int):
                continue
            user, day = divmod(key, 10**6)
            lines = _lines(entry)
            message = (
                f"user {user:012d} is served {len(lines)} times on "
                f"{date.fromordinal(day).isoformat()} (lines {_join(lines)})"
            )
            flags += [
                Flag(line=line, code=FlagCode.USER_SERVED_TWICE, message=message, lines=lines)
                for line in lines
            ]
        flags.sort(key=lambda flag: (flag.line, flag.code))
        return flags


def _lines(entry: int | list[int]) -> tuple[int, ...]:
    return (entry,) if isinstance(entry, int) else tuple(sorted(entry))


def _join(lines: tuple[int, ...]) -> str:
    return ", ".join(str(line) for line in lines)


def _outside(day: date, contract: Contract) -> str | None:
    start, end = contract
    if day < start:
        return f"{day.isoformat()} is before the contract starts ({start.isoformat()})"
    if end is not None and day > end:
        return f"{day.isoformat()} is after the contract ended ({end.isoformat()})"
    return None


def plausibility_flags(
    records: Iterable[ServiceRecord], contracts: Mapping[str, Contract] | None = None
) -> list[Flag]:
    """The flags of a set of accepted services (see :class:`Plausibility`)."""
    check = Plausibility(contracts)
    for record in records:
        check.add(record)
    return check.flags()


def contracts_of(workers: Iterable[WorkerRecord]) -> dict[str, Contract]:
    """The contracts of workers (e.g. those of a workers file), by login."""
    return {worker.login: (worker.contract_start, worker.contract_end) for worker in workers}
