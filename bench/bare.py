"""The baselines the Temporal benchmarks are measured against: what the same server does with
workflows that do nothing of the platform's work.

- :class:`ThreeActivities`: a workflow of three ordinary activities that do nothing, one after
  the other (each a round trip through the server), the floor of a lifecycle's cost.
- :class:`LocalThenTimer`: a workflow that runs one local activity and then waits on a timer, as
  a lifecycle does once started: the bare start rate of the server.

Their worker runs in the benchmark's process, on a task queue of its own.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

TASK_QUEUE = "bench-bare"
STEP = timedelta(seconds=30)


@activity.defn(name="bench.nothing")
async def nothing(step: int) -> int:
    return step


@workflow.defn(name="BenchThreeActivities")
class ThreeActivities:
    @workflow.run
    async def run(self) -> None:
        for step in range(3):
            await workflow.execute_activity(nothing, step, start_to_close_timeout=STEP)


@workflow.defn(name="BenchLocalThenTimer")
class LocalThenTimer:
    @workflow.run
    async def run(self) -> None:
        await workflow.execute_local_activity(nothing, 0, start_to_close_timeout=STEP)
        await workflow.sleep(timedelta(days=5))


def worker(client: Client) -> Worker:
    return Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=[ThreeActivities, LocalThenTimer],
        activities=[nothing],
    )


async def per_second(count: int, concurrency: int, one: Callable[[], Awaitable[None]]) -> float:
    """How many of ``one`` complete per second, ``concurrency`` at a time."""
    limit = asyncio.Semaphore(concurrency)

    async def limited() -> None:
        async with limit:
            await one()

    started = time.perf_counter()
    await asyncio.gather(*(limited() for _ in range(count)))
    return count / (time.perf_counter() - started)


async def three_activities_per_second(client: Client, count: int, concurrency: int) -> float:
    async def one() -> None:
        await client.execute_workflow(
            ThreeActivities.run, id=f"bench-three-{uuid.uuid4()}", task_queue=TASK_QUEUE
        )

    async with worker(client):
        return await per_second(count, concurrency, one)


async def starts_per_second(client: Client, count: int, concurrency: int) -> float:
    async def one() -> None:
        await client.start_workflow(
            LocalThenTimer.run, id=f"bench-start-{uuid.uuid4()}", task_queue=TASK_QUEUE
        )

    async with worker(client):
        return await per_second(count, concurrency, one)
