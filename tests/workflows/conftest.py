"""One time-skipping Temporal per session: the workflow worker and the fake services-mgmt and
wallet activities run for the whole session; every test registers services under ids of its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.testing import WorkflowEnvironment

from tests.workflows.lifecycle_harness import (
    Handle,
    ServicesMgmtFake,
    StartService,
    WalletFake,
    running_workers,
    time_skipping_env,
)
from tests.workflows.lifecycle_harness import start_service as start


@pytest.fixture(scope="session")
def fake() -> ServicesMgmtFake:
    return ServicesMgmtFake()


@pytest.fixture(scope="session")
def wallet() -> WalletFake:
    return WalletFake()


@pytest.fixture(scope="session")
async def env(fake: ServicesMgmtFake, wallet: WalletFake) -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as env, running_workers(env.client, fake, wallet):
        yield env


@pytest.fixture
def start_service(env: WorkflowEnvironment, request: pytest.FixtureRequest) -> StartService:
    """`await start_service(details=..., policy=...)` registers a service with a fresh id.

    The services stay open after the test (their timers fire during later time skips, which is
    harmless): terminating them can leave the test server's time-skipping lock held, after which
    every time skip hangs (see lifecycle_harness.skip_time).
    """
    test_name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")[:60]
    started = 0

    async def start_one(**kwargs: Any) -> Handle:
        nonlocal started
        started += 1
        service_id = f"{test_name}-{started}-{uuid.uuid4().hex[:8]}"
        return await start(env.client, service_id, **kwargs)

    return start_one
