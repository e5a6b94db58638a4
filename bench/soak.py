"""The soak test (``make soak``): the platform held at a steady rate for ``--minutes`` (ten by
default), loopback only. Not part of ``make test`` or ``make bench``.

The platform runs as ``make run`` runs it on PostgreSQL (every API and worker a process of its
own, :func:`bench.lifecycle.running_site`). A bounded asyncio client starts one call every
``1 / --rate`` seconds, in turn:

- ``portal``: the company's staff open the services page of the portal (their session made by
  the portal's own login);
- ``api-list``: the staff read the first page of the services list with its totals;
- ``api-register``: the staff register a service and validate it;
- ``jobtracker-resend``: a worker's phone registers a service under a fresh Idempotency-Key,
  then resends the same queue entry twice, as an offline phone does; all three answers must
  name the same service.

At most ``--concurrency`` calls are in flight; a call that finds the limit reached is counted
as ``skipped`` (the client never queues up work it cannot do). Every minute the resident memory
of each of the platform's processes is read (``/proc/<pid>/status``). The run fails when any call
answered otherwise than expected, or when a process grew by more than ``--max-growth`` percent
between the end of minute ``--warm-minutes`` (warm) and the end of the run. Warm means full
caches: the services-mgmt worker keeps up to 1,000 lifecycles in its workflow cache (Temporal's
default), about 0.2 MB each, which at the default rate fills in about four minutes.

Prints per flow the calls, errors and p50/p95/p99 latency, per process the memory, and writes
them to ``bench/results/``.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.imports import dev_server
from bench.lifecycle import SCHELDE, Site, percentiles, site_on_postgres
from bench.portal import portal_session
from bench.report import RESULTS, machine, platform_environment, write_result
from dc_identity.demo import DEMO, SCHELDE_STAFF

PHONE_WORKER = DEMO.workers[0]
OFFICE_WORKER = DEMO.workers[1]
FIRST_PASSWORD = "Soak first 2026"
OWN_PASSWORD = "Soak own password 7"


class UnexpectedAnswer(Exception):
    pass


@dataclass
class Tally:
    """What the soak saw: per flow the latencies, the errors and the skipped starts."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    first_errors: list[str] = field(default_factory=list)

    def failed(self, flow: str, reason: str) -> None:
        self.errors[flow] += 1
        if len(self.first_errors) < 20:
            self.first_errors.append(f"{flow}: {reason}")


def expect(answer: httpx.Response, *statuses: int) -> dict[str, Any]:
    if answer.status_code not in statuses:
        raise UnexpectedAnswer(
            f"{answer.request.url.path} {answer.status_code} {answer.text[:200]}"
        )
    if answer.headers.get("content-type", "").startswith("application/json"):
        body: dict[str, Any] = answer.json()
        return body
    return {}


class Keys:
    """Service details no other registration of the soak has (a duplicate would be a 409)."""

    def __init__(self) -> None:
        self._numbers = itertools.count()

    def service(self, worker_login: str) -> dict[str, Any]:
        n = next(self._numbers)
        user = DEMO.users[n % len(DEMO.users)]
        return {
            "worker_login": worker_login,
            "user_number": user.user_number,
            "service_date": (date.today() - timedelta(days=1 + n % 300)).isoformat(),
            "hours": 1 + (n // 300) % 9,
            "activity_type": 1 + (n // 2700) % 4,
        }


@dataclass
class Phone:
    """The worker's phone: its client, with the access token, and its refresh token."""

    client: httpx.AsyncClient
    refresh_token: str = ""

    def holds(self, session: dict[str, Any]) -> None:
        self.client.headers["Authorization"] = f"Bearer {session['access_token']}"
        self.refresh_token = session["refresh_token"]

    async def refresh(self) -> None:
        """A new access token from the refresh token, as the app does before the old one ends."""
        answer = await self.client.post(
            "/api/v1/jobtracker/sessions/refresh", json={"refresh_token": self.refresh_token}
        )
        self.holds(expect(answer, 200))


@dataclass
class Clients:
    portal: httpx.AsyncClient
    staff: httpx.AsyncClient
    phone: Phone


async def phone_of_the_worker(site: Site, staff: httpx.AsyncClient) -> Phone:
    """The worker's phone, logged in with the password the worker chose."""
    login = PHONE_WORKER.login
    expect(
        await staff.put(f"/api/v1/workers/{login}/password", json={"password": FIRST_PASSWORD}),
        204,
    )
    phone = Phone(httpx.AsyncClient(base_url=site.gateway_url, timeout=60))
    answer = await phone.client.post(
        "/api/v1/jobtracker/password",
        json={"login": login, "password": FIRST_PASSWORD, "new_password": OWN_PASSWORD},
    )
    phone.holds(expect(answer, 200))
    return phone


def flows(clients: Clients, keys: Keys) -> dict[str, Callable[[], Awaitable[None]]]:
    async def portal() -> None:
        page = await clients.portal.get("/services")
        expect(page, 200)
        if "<table" not in page.text:
            raise UnexpectedAnswer("the services page shows no table")

    async def api_list() -> None:
        body = expect(
            await clients.staff.get("/api/v1/services", params={"company_id": SCHELDE}), 200
        )
        if body["total_services"] < len(body["items"]):
            raise UnexpectedAnswer("totals smaller than the page")

    async def api_register() -> None:
        service = {"company_id": SCHELDE, **keys.service(OFFICE_WORKER.login)}
        created = expect(await clients.staff.post("/api/v1/services", json=service), 201)
        expect(await clients.staff.post(f"/api/v1/services/{created['id']}/validate"), 200)

    async def jobtracker_resend() -> None:
        service = keys.service(PHONE_WORKER.login)
        del service["worker_login"]
        key = {"Idempotency-Key": str(uuid.uuid4())}
        sent = [
            expect(
                await clients.phone.client.post(
                    "/api/v1/jobtracker/services", json=service, headers=key
                ),
                200,
                201,
            )
            for _ in range(3)
        ]
        if len({answer["id"] for answer in sent}) != 1:
            raise UnexpectedAnswer(f"one queue entry, several services: {sent}")

    return {
        "portal": portal,
        "api-list": api_list,
        "api-register": api_register,
        "jobtracker-resend": jobtracker_resend,
    }


def process_name(child: subprocess.Popen[bytes]) -> str:
    """The module a process of the site runs (``python -m <module> ...``)."""
    arguments = child.args if isinstance(child.args, list) else [child.args]
    return str(arguments[2] if len(arguments) > 2 else arguments[0])


def resident_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


async def soak(site: Site, clients: Clients, args: argparse.Namespace) -> dict[str, Any]:
    tally = Tally()
    calls = flows(clients, Keys())
    names = itertools.cycle(calls)
    in_flight: set[asyncio.Task[None]] = set()
    memory: dict[str, list[float | None]] = {process_name(child): [] for child in site.children}
    gate = asyncio.Semaphore(args.concurrency)

    async def one(name: str) -> None:
        began = time.perf_counter()
        try:
            await calls[name]()
        except (UnexpectedAnswer, httpx.HTTPError) as error:
            tally.failed(name, f"{type(error).__name__}: {error}")
        else:
            tally.latencies[name].append((time.perf_counter() - began) * 1000)
        finally:
            gate.release()

    def sample_memory() -> None:
        for child, samples in zip(site.children, memory.values(), strict=True):
            samples.append(resident_mib(child.pid))

    started = time.perf_counter()
    ends_at = started + args.minutes * 60
    next_minute, next_refresh, tick = started + 60, started + 300, 0
    while (now := time.perf_counter()) < ends_at:
        site.check_alive()
        if now >= next_minute:
            sample_memory()
            next_minute += 60
        if now >= next_refresh:
            await clients.phone.refresh()
            next_refresh += 300
        name = next(names)
        if gate.locked():
            tally.skipped[name] += 1
        else:
            await gate.acquire()
            task = asyncio.create_task(one(name))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
        tick += 1
        await asyncio.sleep(max(0.0, started + tick / args.rate - time.perf_counter()))
    await asyncio.gather(*in_flight)
    sample_memory()
    seconds = time.perf_counter() - started
    return summary(tally, memory, seconds, args)


def summary(
    tally: Tally, memory: dict[str, list[float | None]], seconds: float, args: argparse.Namespace
) -> dict[str, Any]:
    per_flow = {
        name: {
            "calls": len(samples) + tally.errors[name],
            "errors": tally.errors[name],
            "skipped": tally.skipped[name],
            "latency_ms": percentiles(samples) if len(samples) > 1 else None,
        }
        for name, samples in sorted(tally.latencies.items())
    }
    growth: dict[str, Any] = {}
    for process, samples in memory.items():
        known = [s for s in samples[max(0, int(args.warm_minutes) - 1) :] if s is not None]
        if len(known) >= 2:
            warm, last = known[0], known[-1]
            growth[process] = {
                "warm_mib": warm,
                "last_mib": last,
                "peak_mib": max(s for s in samples if s is not None),
                "growth_percent": round((last - warm) * 100 / warm, 1),
            }
    return {
        "benchmark": "soak",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.soak", *sys.argv[1:]]),
        "machine": machine(),
        "settings": {
            "minutes": args.minutes,
            "rate_per_second": args.rate,
            "concurrency": args.concurrency,
            "warm_after_minutes": args.warm_minutes,
            "topology": "every API and worker a process of its own, PostgreSQL per service",
        },
        "seconds": round(seconds, 1),
        "flows": per_flow,
        "errors": sum(tally.errors.values()),
        "first_errors": tally.first_errors,
        "memory": growth,
        "memory_samples_mib": memory,
    }


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    state: Path = args.state_dir
    async with (
        dev_server(state / "temporal.db") as env,
        site_on_postgres(env.client, state, "soak") as site,
        site.as_person(SCHELDE_STAFF.national_number) as staff,
    ):
        phone = await phone_of_the_worker(site, staff)
        portal = await portal_session(site.gateway_url, SCHELDE_STAFF)
        try:
            clients = Clients(portal=portal, staff=staff, phone=phone)
            print(f"soaking {args.minutes} min at {args.rate}/s ...", flush=True)
            return await soak(site, clients, args)
        finally:
            await phone.client.aclose()
            await portal.aclose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=8, help="calls started per second")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-growth", type=float, default=10, help="percent, warm to last")
    parser.add_argument("--warm-minutes", type=float, default=5, help="when caches are full")
    parser.add_argument("--state-dir", type=Path, default=Path("var/bench-soak"))
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    platform_environment()
    args.state_dir = args.state_dir.resolve()
    shutil.rmtree(args.state_dir, ignore_errors=True)
    args.state_dir.mkdir(parents=True)
    result = asyncio.run(benchmark(args))
    print()
    for name, flow in result["flows"].items():
        print(
            f"{name:18} {flow['calls']:>6} calls {flow['errors']:>4} errors "
            f"{flow['skipped']:>4} skipped  ms {flow['latency_ms']}"
        )
    for process, figures in result["memory"].items():
        print(
            f"{process:28} {figures['warm_mib']:>7} -> {figures['last_mib']:>7} MiB "
            f"({figures['growth_percent']:+} %)"
        )
    write_result(result, "soak", int(args.minutes), args.out)
    problems = (
        [f"{result['errors']} calls failed: {result['first_errors'][:3]}"]
        if result["errors"]
        else []
    )
    problems += [
        f"{process} grew {figures['growth_percent']} %"
        for process, figures in result["memory"].items()
        if figures["growth_percent"] > args.max_growth
    ]
    for problem in problems:
        print(f"FAILED: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
