"""Readiness: whether a process can do its work now, for ``GET /readyz`` (a Kubernetes
readiness probe, ``make run`` before it seeds). Liveness, ``GET /healthz``, only says that the
process runs: a process whose database is down stays alive (restarting it would not help) but
is not ready (no traffic is sent to it until it is).

A process names its checks (its database, Temporal, the services it calls) in
``app.state.readiness`` while it starts; every check runs at once, each within
:data:`CHECK_SECONDS`, and the answer names each one's outcome.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

#: A check raises (or returns False) when what it checks cannot be used now.
Check = Callable[[], Awaitable[object]]
CHECK_SECONDS = 2.0


def database_check(engine: AsyncEngine) -> Check:
    async def check() -> None:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    return check


def http_check(client: httpx.AsyncClient, path: str = "/healthz") -> Check:
    """Another service answers its liveness path (with the client's base URL and headers)."""

    async def check() -> None:
        response = await client.get(path, timeout=CHECK_SECONDS)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")

    return check


async def outcomes(checks: Mapping[str, Check]) -> dict[str, str]:
    """Each check's outcome: ``ok``, or why not."""
    results = await asyncio.gather(*(_outcome(check) for check in checks.values()))
    return dict(zip(checks, results, strict=True))


async def _outcome(check: Check) -> str:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            result = await check()
    except TimeoutError:
        return f"no answer within {CHECK_SECONDS:g} s"
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:300]
    return "not serving" if result is False else "ok"


def add_readiness_route(app: FastAPI) -> None:
    """``GET /readyz``: 200 when every check of ``app.state.readiness`` is ok, else 503; both
    with each check's outcome. Open, like ``/healthz`` (it names no data, only dependencies)."""

    @app.get("/readyz", tags=["health"], include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        return await readiness_answer(getattr(request.app.state, "readiness", {}))


async def readiness_answer(checks: Mapping[str, Check]) -> JSONResponse:
    found = await outcomes(checks)
    ready = all(outcome == "ok" for outcome in found.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": found},
        status_code=200 if ready else 503,
        headers={"Cache-Control": "no-store"},
    )
