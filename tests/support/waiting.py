"""Waiting for what happens asynchronously (mails, visibility), with a bound."""

import asyncio
from collections.abc import Awaitable, Callable


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 15.0) -> None:
    """Poll ``check`` until it holds; fail the test when it does not within ``within`` seconds."""
    loop = asyncio.get_running_loop()
    give_up_at = loop.time() + within
    while not await check():
        if loop.time() > give_up_at:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.1)
