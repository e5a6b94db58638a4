"""Platforms whose workers run as processes a fault test kills (SIGKILL) and starts again, each
platform in a Temporal namespace and databases of its own; and the client a fault test is: one
that sends again on a 503, as the problem's ``Retry-After`` says it may."""

from __future__ import annotations

import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx

from dc_identity.demo import DEMO, SCHELDE
from dc_workflows.search_attributes import ensure_registered
from dc_workflows.temporal import TemporalSettings, connect
from tests.support.platform import Platform, running_platform
from tests.support.processes import worker_environment
from tests.support.servers import postgres_database
from tests.support.waiting import eventually

#: The worker processes of a platform, by what they run.
WORKERS = {
    "lifecycle": ["-m", "dc_workflows.worker"],
    "imports": ["-m", "dc_imports.worker"],
    "services-mgmt": ["-m", "dc_services.worker"],
    "wallet": ["-m", "dc_wallet.worker"],
}


class Workers:
    """The worker processes of a platform; any one of them killed and started again."""

    def __init__(self, environment: dict[str, str], names: Sequence[str]) -> None:
        self._environment = environment
        self.running = {name: self._start(name) for name in names}
        self.kills = 0

    def _start(self, name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, *WORKERS[name]], env=self._environment)

    def kill_and_restart(self, name: str) -> None:
        child = self.running[name]
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
        self.kills += 1
        self.running[name] = self._start(name)

    def stop(self) -> None:
        for child in self.running.values():
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)


@contextmanager
def workers_of(platform: Platform, names: Sequence[str] = tuple(WORKERS)) -> Iterator[Workers]:
    workers = Workers(worker_environment(platform), names)
    try:
        yield workers
    finally:
        workers.stop()


@asynccontextmanager
async def platform_in(
    namespace: str, address: str, tmp_path: Path, **options: Any
) -> AsyncIterator[Platform]:
    """A platform without workers (its APIs in this process) in ``namespace``, on databases of
    its own; ``options`` go to :func:`running_platform`."""
    client = await connect(TemporalSettings(address=address, namespace=namespace))
    await ensure_registered(client)
    name = namespace.replace("-", "_")
    async with (
        postgres_database(f"dc_identity_{name}") as identity_db,
        postgres_database(f"dc_services_{name}") as services_db,
        postgres_database(f"dc_imports_{name}") as imports_db,
        postgres_database(f"dc_wallet_{name}") as wallet_db,
        running_platform(
            client,
            identity_db_url=identity_db,
            services_db_url=services_db,
            imports_db_url=imports_db,
            wallet_db_url=wallet_db,
            state_dir=tmp_path / name,
            with_workers=False,
            **options,
        ) as platform,
    ):
        yield platform


async def until_answered(
    send: Callable[[], Awaitable[httpx.Response]], *, accepted: tuple[int, ...]
) -> httpx.Response:
    """Send again while the platform answers 503 (with ``Retry-After``), as a client should."""
    answers: list[httpx.Response] = []

    async def answered() -> bool:
        answer = await send()
        answers.append(answer)
        if answer.status_code == 503:
            assert answer.headers.get("retry-after"), answer.text
            return False
        assert answer.status_code in accepted, answer.text
        return True

    await eventually(answered, within=90)
    return answers[-1]


async def agreed_service(
    staff: httpx.AsyncClient, household: httpx.AsyncClient, user_number: str, day: date
) -> str:
    """A service of Schelde's first worker for the household on ``day``: registered (under an
    Idempotency-Key), validated and confirmed, each sent again while the platform answers 503."""
    body = {
        "company_id": SCHELDE,
        "worker_login": DEMO.workers[0].login,
        "user_number": user_number,
        "service_date": day.isoformat(),
        "hours": 1,
        "activity_type": 1,
    }
    key = {"Idempotency-Key": str(uuid.uuid4())}
    created = await until_answered(
        lambda: staff.post("/api/v1/services", json=body, headers=key), accepted=(200, 201)
    )
    service_id: str = created.json()["id"]
    url = f"/api/v1/services/{service_id}"
    # A 409: an attempt whose answer was lost had been carried out.
    await until_answered(lambda: staff.post(f"{url}/validate"), accepted=(200, 409))
    await until_answered(lambda: household.post(f"{url}/confirm"), accepted=(200, 409))
    return service_id


def days_from(first: date, count: int) -> list[date]:
    return [first + timedelta(days=n) for n in range(count)]
