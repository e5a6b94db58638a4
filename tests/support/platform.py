"""The whole platform in one test process: identity (with its development identity provider),
services-mgmt, gateway, workers, mail sink.

Every part talks to the others the way it does in production: over HTTP, with real signed tokens,
and through a real Temporal server. Only the process boundaries are folded into one event loop.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
from temporalio.client import Client

from dc_common.belgian_numbers import with_national_check
from dc_common.db import Database
from dc_common.mail_links import MailLinks
from dc_gateway.api import create_app as create_gateway
from dc_gateway.settings import GatewaySettings
from dc_identity.api import create_app as create_identity
from dc_identity.demo import OPERATOR
from dc_identity.settings import IdentitySettings
from dc_imports import worker as imports_worker
from dc_imports.api import create_app as create_imports
from dc_imports.settings import ImportsSettings
from dc_services import mailsink
from dc_services import worker as services_worker
from dc_services.api import create_app as create_services
from dc_services.bulk import bulk_activities
from dc_services.settings import ServicesSettings
from dc_wallet import worker as wallet_worker
from dc_wallet.api import create_app as create_wallet
from dc_wallet.settings import WalletSettings
from dc_workflows import worker as lifecycle_worker
from dc_workflows.temporal import TemporalSettings
from tests.support.servers import free_port, internal_client, serving


@dataclass
class Platform:
    gateway_url: str
    identity_url: str
    temporal: Client
    services_db: Database
    services_settings: ServicesSettings
    temporal_settings: TemporalSettings
    maildir: Path
    state_dir: Path
    anonymous: httpx.AsyncClient
    """The gateway without a token."""
    imports_settings: ImportsSettings | None = None
    wallet_settings: WalletSettings | None = None
    imports_db: Database | None = None
    internal_urls: dict[str, str] = field(default_factory=dict)
    """The internal APIs by service name: only the gateway and the workers may call them."""
    _people: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    async def token(self, national_number: str) -> str:
        return await dev_token(self.identity_url, national_number)

    async def new_person(self, first_name: str, last_name: str = "Grantflow") -> str:
        """Someone who just logged in for the first time (registered in the directory), with a
        national number no other test of this platform uses."""
        national_number = with_national_check(f"8512{next(self._people):05d}")
        await self.register_person(national_number, first_name, last_name)
        return national_number

    async def register_person(self, national_number: str, first_name: str, last_name: str) -> None:
        """Someone who just logged in for the first time, registered in the directory by an
        operator (as identity's internal API lets the gateway do)."""
        operator = OPERATOR.national_number
        async with internal_client(self.identity_url) as identity:
            response = await identity.put(
                "/v1/people",
                json={
                    "national_number": national_number,
                    "first_name": first_name,
                    "last_name": last_name,
                },
                headers={
                    "X-Actor-Kind": "operator",
                    "X-Actor-Id": operator,
                    "X-Actor-Person": operator,
                },
            )
        assert response.status_code in (200, 201), response.text

    def as_person(self, national_number: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        return as_person(self.identity_url, self.gateway_url, national_number)

    def mails_to(self, recipient: str, *, about: str = "") -> list[Message]:
        """Messages the mail sink received for ``recipient`` whose text, or the service its
        link opens, mentions ``about``."""
        links = self.services_settings.mail_links()
        return [
            message
            for message in mailsink.read_messages(self.maildir)
            if message["To"] == recipient and about in _what_it_says(message, links)
        ]


async def dev_token(identity_url: str, national_number: str) -> str:
    """A token from the development identity provider, as the login page gives one."""
    async with httpx.AsyncClient(base_url=identity_url) as identity:
        response = await identity.post("/dev/token", json={"national_number": national_number})
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


@asynccontextmanager
async def as_person(
    identity_url: str, gateway_url: str, national_number: str
) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway, as that person logged in."""
    headers = {"Authorization": f"Bearer {await dev_token(identity_url, national_number)}"}
    async with httpx.AsyncClient(base_url=gateway_url, headers=headers, timeout=60) as client:
        yield client


def _what_it_says(message: Message, links: MailLinks) -> str:
    text = text_of(message)
    opened = [
        links.read(token).service_id for token in re.findall(r"/link/(\S+)", text, re.MULTILINE)
    ]
    return "\n".join([text, *opened])


def text_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(message.get_content_charset() or "utf-8")


def second_gateway(platform: Platform, **settings: Any) -> GatewaySettings:
    """The settings of another gateway in front of the platform's services, with ``settings``
    changed (a limit, an upstream's address)."""
    upstreams: dict[str, Any] = {
        "services_url": platform.internal_urls["services-mgmt"],
        "imports_url": platform.internal_urls["imports"],
        "wallet_url": platform.internal_urls["wallet"],
        "identity_url": platform.identity_url,
        "oidc_issuer": platform.identity_url,
    }
    return GatewaySettings(**{**upstreams, **settings})


def temporal_settings_for(client: Client) -> TemporalSettings:
    return TemporalSettings(
        address=client.service_client.config.target_host, namespace=client.namespace
    )


@asynccontextmanager
async def running_platform(
    temporal: Client,
    *,
    identity_db_url: str,
    services_db_url: str,
    state_dir: Path,
    with_workers: bool = True,
    imports_db_url: str | None = None,
    imports_overrides: dict[str, Any] | None = None,
    wallet_db_url: str | None = None,
    wallet_overrides: dict[str, Any] | None = None,
) -> AsyncIterator[Platform]:
    temporal_settings = temporal_settings_for(temporal)
    maildir = state_dir / "mail"
    async with AsyncExitStack() as stack:
        smtp_port = free_port()
        sink = mailsink.start("127.0.0.1", smtp_port, maildir)
        stack.callback(sink.stop)
        identity_port = free_port()
        identity_url = f"http://127.0.0.1:{identity_port}"
        identity_settings = IdentitySettings(
            database_url=identity_db_url,
            demo_data=True,
            dev_idp=True,
            dev_idp_issuer=identity_url,
            dev_idp_key_file=state_dir / "dev-idp-key.json",
            jobtracker_issuer=f"{identity_url}/jobtracker",
            jobtracker_key_file=state_dir / "jobtracker-key.json",
        )
        await stack.enter_async_context(serving(create_identity(identity_settings), identity_port))
        gateway_port = free_port()
        portal_url = f"http://127.0.0.1:{gateway_port}"
        services_settings = ServicesSettings(
            database_url=services_db_url,
            identity_url=identity_url,
            smtp_port=smtp_port,
            portal_url=portal_url,
        )
        services_url = await stack.enter_async_context(
            serving(create_services(services_settings, temporal_settings))
        )
        imports_settings = ImportsSettings(
            database_url=imports_db_url or f"sqlite+aiosqlite:///{state_dir / 'imports.db'}",
            identity_url=identity_url,
            **(imports_overrides or {}),
        )
        imports_url = await stack.enter_async_context(
            serving(create_imports(imports_settings, temporal_settings))
        )
        wallet_settings = WalletSettings(
            database_url=wallet_db_url or f"sqlite+aiosqlite:///{state_dir / 'wallet.db'}",
            **(wallet_overrides or {}),
        )
        wallet_url = await stack.enter_async_context(
            serving(create_wallet(wallet_settings, temporal_settings))
        )
        gateway_settings = GatewaySettings(
            portal_url=portal_url,
            jobtracker_issuer=identity_settings.jobtracker_issuer,
            wallet_url=wallet_url,
            imports_url=imports_url,
            services_url=services_url,
            identity_url=identity_url,
            oidc_issuer=identity_url,
            oidc_audience=identity_settings.oidc_audience,
            upstream_timeout_seconds=90,
            oidc_keys_refresh_seconds=0,
            # Every test logs in from 127.0.0.1; the limit itself has tests of its own.
            login_attempts_per_address="10000/minute",
        )
        gateway_url = await stack.enter_async_context(
            serving(create_gateway(gateway_settings), gateway_port)
        )
        if with_workers:
            await stack.enter_async_context(lifecycle_worker.build_worker(temporal))
            activities = await stack.enter_async_context(
                services_worker.activities(services_settings)
            )
            bulk = await stack.enter_async_context(bulk_activities(services_settings))
            await stack.enter_async_context(
                services_worker.build_worker(temporal, activities, bulk)
            )
            await stack.enter_async_context(
                services_worker.build_lifecycle_worker(temporal, activities)
            )
            wallet = await stack.enter_async_context(wallet_worker.activities(wallet_settings))
            await stack.enter_async_context(wallet_worker.build_worker(temporal, wallet))
            imports = await stack.enter_async_context(imports_worker.activities(imports_settings))
            await stack.enter_async_context(imports_worker.build_worker(temporal, imports))
        services_db = Database(services_db_url)
        stack.push_async_callback(services_db.dispose)
        imports_db = Database(imports_settings.database_url)
        stack.push_async_callback(imports_db.dispose)
        anonymous = await stack.enter_async_context(
            httpx.AsyncClient(base_url=gateway_url, timeout=60)
        )
        yield Platform(
            gateway_url=gateway_url,
            identity_url=identity_url,
            temporal=temporal,
            services_db=services_db,
            services_settings=services_settings,
            temporal_settings=temporal_settings,
            maildir=maildir,
            state_dir=state_dir,
            anonymous=anonymous,
            imports_settings=imports_settings,
            imports_db=imports_db,
            wallet_settings=wallet_settings,
            internal_urls={
                "identity": identity_url,
                "services-mgmt": services_url,
                "wallet": wallet_url,
                "imports": imports_url,
            },
        )
