"""Liveness and readiness: ``/healthz`` says a process runs, ``/readyz`` whether it can work now.
The gateway is not ready while the identity service (the directory and, here, the identity
provider) is down, and becomes ready once it is up, without a restart; every internal API names
its database and Temporal; a worker's operations port answers the same, and its metrics."""

from pathlib import Path

import httpx

from dc_common.ops import operations_port
from dc_common.readiness import database_check
from dc_gateway.api import create_app as create_gateway
from dc_gateway.settings import GatewaySettings
from dc_identity.api import create_app as create_identity
from dc_identity.settings import IdentitySettings
from tests.support.platform import Platform
from tests.support.servers import free_port, serving
from tests.support.waiting import eventually


async def readiness(client: httpx.AsyncClient) -> tuple[int, dict[str, str]]:
    response = await client.get("/readyz")
    return response.status_code, response.json()["checks"]


async def test_the_gateway_is_ready_only_while_identity_is_up(
    platform: Platform, tmp_path: Path
) -> None:
    identity_port = free_port()
    identity_url = f"http://127.0.0.1:{identity_port}"
    identity_settings = IdentitySettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'identity.db'}",
        dev_idp=True,
        dev_idp_issuer=identity_url,
        dev_idp_key_file=tmp_path / "dev-idp-key.json",
        jobtracker_issuer=f"{identity_url}/jobtracker",
        jobtracker_key_file=tmp_path / "jobtracker-key.json",
    )
    gateway_settings = GatewaySettings(
        identity_url=identity_url,
        oidc_issuer=identity_url,
        jobtracker_issuer=identity_settings.jobtracker_issuer,
        services_url=platform.internal_urls["services-mgmt"],
        wallet_url=platform.internal_urls["wallet"],
        imports_url=platform.internal_urls["imports"],
    )
    async with (
        serving(create_gateway(gateway_settings)) as gateway_url,
        httpx.AsyncClient(base_url=gateway_url) as gateway,
    ):
        assert (await gateway.get("/healthz")).status_code == 200
        status, checks = await readiness(gateway)
        assert status == 503
        assert {name for name, outcome in checks.items() if outcome != "ok"} == {
            "identity",
            "identity provider",
            "jobtracker issuer",
        }

        async with serving(create_identity(identity_settings), identity_port):

            async def ready() -> bool:
                return (await readiness(gateway))[0] == 200

            await eventually(ready)
            assert set((await readiness(gateway))[1].values()) == {"ok"}

        status, checks = await readiness(gateway)
        assert status == 503 and checks["identity"] != "ok"


async def test_every_internal_api_names_its_database_and_temporal(platform: Platform) -> None:
    expected = {
        "identity": {"database"},
        "services-mgmt": {"database", "temporal"},
        "wallet": {"database", "temporal"},
        "imports": {"database", "temporal"},
    }
    for name, url in platform.internal_urls.items():
        async with httpx.AsyncClient(base_url=url) as client:
            status, checks = await readiness(client)
        assert status == 200, (name, checks)
        assert set(checks) == expected[name] and set(checks.values()) == {"ok"}, name


async def test_a_worker_s_operations_port_answers_health_readiness_and_metrics(
    platform: Platform,
) -> None:
    port = free_port()
    checks = {"database": database_check(platform.services_db.engine)}
    async with (
        operations_port("127.0.0.1", port, checks),
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as ops,
    ):

        async def listening() -> bool:
            try:
                return (await ops.get("/healthz")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(listening)
        assert await readiness(ops) == (200, {"database": "ok"})
        metrics = await ops.get("/metrics")
        assert metrics.status_code == 200
        assert "dc_http_requests_total" in metrics.text
