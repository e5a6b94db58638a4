"""One time-skipping Temporal per session: the workflow worker and fake services-mgmt activities
run for the whole session; every test registers services under ids of its own.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from tests.workflows.lifecycle_harness import (
    Handle,
    ServicesMgmtFake,
    StartService,
    running_workers,
    time_skipping_env,
)
from tests.workflows.lifecycle_harness import start_service as start


@pytest.fixture(scope="session")
def fake() -> ServicesMgmtFake:
    return ServicesMgmtFake()


@pytest.fixture(scope="session")
async def env(fake: ServicesMgmtFake) -> AsyncIterator[WorkflowEnvironment]:
    async with time_skipping_env() as env, running_workers(env.client, fake):
        yield env


@pytest.fixture
async def start_service(
    env: WorkflowEnvironment, request: pytest.FixtureRequest
) -> AsyncIterator[StartService]:
    """`await start_service(details=..., policy=...)` registers a service with a fresh id.

    Services still open at the end of the test are terminated, so their timers do not fire
    during the time skips of later tests.
    """
    handles: list[Handle] = []
    test_name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name).strip("-")

    async def start_one(**kwargs: Any) -> Handle:
        service_id = f"{test_name[:60]}-{len(handles) + 1}-{uuid.uuid4().hex[:8]}"
        handle = await start(env.client, service_id, **kwargs)
        handles.append(handle)
        return handle

    yield start_one
    for handle in handles:
        if (await handle.describe()).status == WorkflowExecutionStatus.RUNNING:
            await handle.terminate("test finished")
