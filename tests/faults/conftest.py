"""Fault fixtures: a Temporal dev server this suite may kill and restart from its SQLite file,
and PostgreSQL (the integration tests' check)."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from temporalio.client import Client

from dc_workflows.search_attributes import ensure_registered
from dc_workflows.temporal import TemporalSettings, connect
from tests.integration.conftest import postgres  # noqa: F401 (a fixture of this suite too)
from tests.support.servers import BIN, free_port


@dataclass
class RestartableTemporal:
    """The Temporal dev server on a SQLite file and a fixed port: killed (SIGKILL, as a crash
    or an OOM kill would) and started again on the same file, it keeps every workflow."""

    database: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        assert self.process is None, "already running"
        self.process = subprocess.Popen(
            [
                str(BIN / "temporal"),
                "server",
                "start-dev",
                "--headless",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--db-filename",
                str(self.database),
                "--sqlite-pragma",
                "journal_mode=wal",
                "--log-level",
                "error",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.starts += 1

    def kill(self) -> None:
        assert self.process is not None, "not running"
        self.process.kill()
        self.process.wait(timeout=30)
        self.process = None

    async def client(self) -> Client:
        """A client as the platform's processes make theirs (it waits for the server)."""
        return await connect(TemporalSettings(address=self.address))

    async def answering(self, client: Client) -> None:
        """Wait until the restarted server answers this (existing) client."""
        give_up_at = asyncio.get_running_loop().time() + 60
        while True:
            try:
                await client.service_client.check_health()
                return
            except Exception:
                if asyncio.get_running_loop().time() > give_up_at:
                    raise
                await asyncio.sleep(0.2)


@contextlib.contextmanager
def _killed_at_the_end(server: RestartableTemporal) -> Iterator[RestartableTemporal]:
    try:
        yield server
    finally:
        if server.process is not None:
            server.kill()


@pytest.fixture
async def restartable_temporal(tmp_path: Path) -> AsyncIterator[tuple[RestartableTemporal, Client]]:
    with _killed_at_the_end(RestartableTemporal(tmp_path / "temporal.db")) as server:
        server.start()
        client = await server.client()
        await ensure_registered(client)
        yield server, client
