"""Heartbeats for activities that may run long: a dead worker is noticed within the heartbeat
timeout the workflow set, not after the whole start-to-close timeout."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta

from temporalio import activity


@asynccontextmanager
async def heartbeating(*details: object) -> AsyncIterator[None]:
    """Heartbeat in the background (three times per heartbeat timeout) while the block runs.

    Outside an activity, or without a heartbeat timeout, it does nothing.
    """
    try:
        timeout = activity.info().heartbeat_timeout
    except RuntimeError:
        timeout = None
    if not timeout:
        yield
        return
    interval = max(timeout / 3, timedelta(milliseconds=100)).total_seconds()

    async def beat() -> None:
        while True:
            activity.heartbeat(*details)
            await asyncio.sleep(interval)

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
