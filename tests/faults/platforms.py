"""Platforms whose workers run as processes a fault test kills (SIGKILL) and starts again, each
platform in a Temporal namespace and databases of its own."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from dc_workflows.search_attributes import ensure_registered
from dc_workflows.temporal import TemporalSettings, connect
from tests.support.platform import Platform, running_platform
from tests.support.processes import worker_environment
from tests.support.servers import postgres_database

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
