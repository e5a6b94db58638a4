"""A service behind the gateway goes down, or hangs without answering, while the gateway stays
up: the gateway answers a 503 problem with ``Retry-After`` within its upstream timeout, and once
the service is back the same gateway answers again, without a restart. Each of identity,
services-mgmt, the wallet and imports is put behind a relay that can be switched."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import httpx
import pytest

from dc_gateway.api import create_app
from dc_identity.demo import DEMO, SCHELDE, SCHELDE_STAFF, USER_HOLDERS
from tests.support.platform import Platform, second_gateway
from tests.support.servers import serving

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

#: The gateway's limit on every upstream call in this test, in seconds.
UPSTREAM_TIMEOUT = 1.0


class Mode(StrEnum):
    UP = "up"
    DOWN = "down"
    """Every connection dropped at once (a crashed process, a closed port behind a proxy)."""
    HANGING = "hanging"
    """Connections accepted and never answered (a process stuck, a network black hole)."""


class Relay:
    """A TCP relay in front of one service, switched between :class:`Mode` s; switching drops
    the connections open at that moment, as a restart of the service would."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self.mode = Mode.UP
        self.url = ""
        self._open: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Relay:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *_: object) -> None:
        self.switch(Mode.DOWN)
        assert self._server is not None
        self._server.close()

    def switch(self, mode: Mode) -> None:
        self.mode = mode
        for writer in list(self._open):
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._open.add(writer)
        try:
            if self.mode is Mode.DOWN:
                return
            if self.mode is Mode.HANGING:
                await reader.read()  # until the caller gives up and closes
                return
            up_reader, up_writer = await asyncio.open_connection(self._host, self._port)
            self._open.add(up_writer)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                self._open.discard(up_writer)
                up_writer.close()
        finally:
            self._open.discard(writer)
            writer.close()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(ConnectionError, OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.close()


@dataclass
class Behind:
    """A gateway whose four upstreams each pass through a relay."""

    gateway: str
    relays: dict[str, Relay]


@pytest.fixture
async def behind_relays(platform: Platform) -> AsyncIterator[Behind]:
    names = {"identity": platform.identity_url, **platform.internal_urls}
    async with contextlib.AsyncExitStack() as stack:
        relays = {
            name: await stack.enter_async_context(Relay(url))
            for name, url in names.items()
            if name in ("identity", "services-mgmt", "wallet", "imports")
        }
        settings = second_gateway(
            platform,
            services_url=relays["services-mgmt"].url,
            imports_url=relays["imports"].url,
            wallet_url=relays["wallet"].url,
            identity_url=relays["identity"].url,
            upstream_timeout_seconds=UPSTREAM_TIMEOUT,
        )
        gateway = await stack.enter_async_context(serving(create_app(settings)))
        yield Behind(gateway, relays)


USER = DEMO.users[0]
#: A read through each upstream, and whose token it takes.
READS = {
    "identity": (f"/api/v1/companies/{SCHELDE}", SCHELDE_STAFF.national_number),
    "services-mgmt": ("/api/v1/services", SCHELDE_STAFF.national_number),
    "wallet": (f"/api/v1/users/{USER.user_number}/wallet", USER_HOLDERS[0].national_number),
    "imports": ("/api/v1/imports", SCHELDE_STAFF.national_number),
}


@pytest.mark.parametrize("service", sorted(READS))
async def test_a_service_down_or_hanging_is_a_prompt_503_and_its_return_needs_no_restart(
    platform: Platform, behind_relays: Behind, service: str
) -> None:
    path, national_number = READS[service]
    token = await platform.token(national_number)
    relay = behind_relays.relays[service]
    async with httpx.AsyncClient(
        base_url=behind_relays.gateway, headers={"Authorization": f"Bearer {token}"}
    ) as client:

        async def read() -> httpx.Response:
            # Bounded: the gateway answers within its upstream timeout, never later.
            return await asyncio.wait_for(
                client.get(path, params={"company_id": SCHELDE}), UPSTREAM_TIMEOUT * 10
            )

        assert (await read()).status_code == 200
        for mode in (Mode.DOWN, Mode.HANGING):
            relay.switch(mode)
            answer = await read()
            assert answer.status_code == 503, (mode, answer.text)
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["title"] in ("Service unavailable", "Identity service unavailable")
            assert answer.headers["retry-after"] == "5"
            relay.switch(Mode.UP)
            back = await read()
            assert back.status_code == 200, (mode, back.text)
