"""Shared by the wallet tests: a clock that tests move, a starter that plays Temporal's part (it
runs each WalletChange's activity as the workflow would), the acting parties, and the invariants
every wallet state must satisfy.

Import it as ``services.wallet.tests.wallet_support`` (the repository root is on the path).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from dc_common.actors import Actor, ActorKind
from dc_common.db import Database, create_schema
from dc_wallet import repository
from dc_wallet.activities import Clock, WalletActivities
from dc_wallet.api import create_app
from dc_wallet.domain import WalletPolicy, add_months, brussels_date
from dc_wallet.models import (
    Allocation,
    Base,
    Claim,
    LedgerEntry,
    Order,
    ReimbursementRequest,
    Voucher,
)
from dc_wallet.service import PayoutStarted, Placed, Requested, WalletDesk
from dc_wallet.settings import WalletSettings
from dc_wallet.starter import (
    ChangeNotStarted,
    ChangeOutcome,
    ChangeRefused,
    WorkflowStarter,
    refusal_of,
)
from dc_workflows.contracts.payments import (
    ExpiryRun,
    PaymentUpdate,
    PaymentUpdates,
    RecordedChange,
    ServiceClaim,
    WalletChange,
    WalletChangeKind,
)
from dc_workflows.ids import wallet_change_workflow_id
from tests.support.servers import empty_database, in_process

COMPANY = "0403170701"
OTHER_COMPANY = "0412004332"
USER = "100000000011"
OTHER_USER = "100000000022"
START = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
#: The acting parties, as the gateway names them (X-Actor-*).
HOUSEHOLD = Actor(kind=ActorKind.USER, id=USER, person="85073003328", name="Anna De Smet")
STAFF = Actor(kind=ActorKind.COMPANY, id=COMPANY, person="79100812345", name="Bram Peeters")
OPERATOR = Actor(kind=ActorKind.OPERATOR, id="platform", person="70010112345", name="Nora V.")


def actor_headers(actor: Actor) -> dict[str, str]:
    """The X-Actor-* headers the gateway sends for ``actor``."""
    headers = {"X-Actor-Kind": actor.kind.value, "X-Actor-Id": actor.id}
    if actor.person:
        headers["X-Actor-Person"] = actor.person
    if actor.name:
        headers["X-Actor-Name"] = actor.name
    return headers


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, days: int = 0, hours: int = 0) -> None:
        self.now += timedelta(days=days, hours=hours)

    @property
    def today(self) -> date:
        return brussels_date(self.now)


class PlayingStarter:
    """Plays Temporal for the API's desk, without a server.

    A change the API waits for (an order, a request) runs at once: its activity, as
    WalletChangeWorkflow runs it, and ``listener`` hears the result (the lifecycles told). Its id
    behaves as "allow duplicate failed only": after a completed run the same id answers that
    run's result, after a refusal it runs again. A change only started (a payout) waits in
    ``started`` until ``take()`` (reject duplicate: once per id). ``unavailable`` makes every
    start fail as an unreachable Temporal does."""

    def __init__(self, activities: WalletActivities | None = None) -> None:
        self.activities = activities
        self.started: list[WalletChange] = []
        self.ran: list[WalletChange] = []
        self.outcomes: list[tuple[WalletChange, RecordedChange]] = []
        """Each change run, with what it answered."""
        self.listener: Callable[[PaymentUpdates], None] | None = None
        self.unavailable = False
        self.hold = False
        """While set, a change the API waits for is taken but not run (a workflow that has not
        finished within the wait); :meth:`release` runs them."""
        self.held: dict[str, WalletChange] = {}
        self._ids: set[str] = set()
        self._completed: dict[str, RecordedChange] = {}
        self._running: dict[str, asyncio.Future[RecordedChange]] = {}

    async def start(self, change: WalletChange) -> None:
        if self.unavailable:
            raise ChangeNotStarted("Temporal is unreachable")
        workflow_id = wallet_change_workflow_id(change.kind.value, change.key)
        if workflow_id not in self._ids:
            self._ids.add(workflow_id)
            self.started.append(change)

    async def run(self, change: WalletChange, *, wait: timedelta) -> ChangeOutcome:
        if self.unavailable:
            raise ChangeNotStarted("Temporal is unreachable")
        workflow_id = wallet_change_workflow_id(change.kind.value, change.key)
        if workflow_id in self._completed:
            return ChangeOutcome(False, self._completed[workflow_id])
        if workflow_id in self._running:  # started by another call: wait for its result
            return ChangeOutcome(False, await asyncio.shield(self._running[workflow_id]))
        if workflow_id in self.held or self.hold:
            started = workflow_id not in self.held
            self.held[workflow_id] = change
            return ChangeOutcome(started, None)
        assert self.activities is not None, "a PlayingStarter that runs changes needs activities"
        running = self._running[workflow_id] = asyncio.get_running_loop().create_future()
        try:
            result = await run_change(self.activities, change)
        except Exception as error:
            refusal = refusal_of(error)
            failure = error if refusal is None else ChangeRefused(refusal)
            running.set_exception(failure)
            running.exception()  # retrieved: no warning when nobody else waited
            if refusal is None:
                raise
            raise failure from None
        finally:
            del self._running[workflow_id]
        recorded = RecordedChange.model_validate(result.model_dump())
        running.set_result(recorded)
        self._completed[workflow_id] = recorded
        self.ran.append(change)
        self.outcomes.append((change, recorded))
        if self.listener is not None:
            self.listener(recorded)
        return ChangeOutcome(True, recorded)

    def take(self) -> list[WalletChange]:
        changes, self.started = self.started, []
        return changes

    async def release(self) -> None:
        """The held changes run to their end (their workflows finish)."""
        held, self.held = self.held, {}
        self.hold = False
        for change in held.values():
            await self.run(change, wait=timedelta(0))


@asynccontextmanager
async def temporary_database(
    dialect: str, tmp_path: Path, name: str = "wallet"
) -> AsyncIterator[str]:
    """A fresh, empty database URL (see tests.support.servers.empty_database)."""
    async with empty_database(dialect, tmp_path, name) as url:
        yield url


async def run_change(activities: WalletActivities, change: WalletChange) -> PaymentUpdates:
    """What WalletChangeWorkflow does with the wallet: run the change's one activity."""
    if change.kind == WalletChangeKind.PLACE_ORDER and change.order:
        return await activities.place_order(change.order)
    if change.kind == WalletChangeKind.REQUEST_REIMBURSEMENT and change.request:
        return await activities.request_reimbursement(change.request)
    if change.kind == WalletChangeKind.ALLOCATE_PENDING and change.allocate:
        return await activities.allocate_pending(change.allocate)
    if change.kind == WalletChangeKind.SUBMIT_REIMBURSEMENT and change.reimbursement:
        return await activities.submit_reimbursement(change.reimbursement)
    if change.kind == WalletChangeKind.PAY_OUT and change.payout:
        return await activities.pay_out(change.payout)
    if change.kind == WalletChangeKind.EXPIRE_VOUCHERS and change.expiry:
        return await activities.expire_vouchers(change.expiry)
    raise AssertionError(f"malformed change {change}")


@dataclass
class Wallets:
    """The wallet's activities and desk on one database, with a clock and a change queue."""

    db: Database
    policy: WalletPolicy
    clock: FakeClock
    starter: PlayingStarter
    activities: WalletActivities
    desk: WalletDesk
    lifecycles: Lifecycles = field(default_factory=lambda: Lifecycles())

    def __post_init__(self) -> None:
        self.starter.activities = self.activities
        self.starter.listener = lambda result: self.lifecycles.hear(
            result, self.clock.today, self.policy
        )

    async def order(self, user: str, reference: str, quantity: int) -> Placed:
        """The household's order, through the desk (its WalletChange runs at once)."""
        return await self.desk.order(
            user, reference, quantity, ordered_by=HOUSEHOLD.model_copy(update={"id": user})
        )

    async def request_reimbursement(
        self, company: str, reference: str, service_ids: list[str]
    ) -> Requested:
        return await self.desk.request_reimbursement(
            company,
            reference,
            service_ids,
            requested_by=STAFF.model_copy(update={"id": company}),
        )

    async def payout(self, request_id: str) -> PayoutStarted:
        return await self.desk.payout(request_id, paid_by=OPERATOR)

    async def claim(
        self,
        service_id: str,
        *,
        hours: int,
        service_date: date | None = None,
        user: str = USER,
        company: str = COMPANY,
    ) -> PaymentUpdates:
        claim = ServiceClaim(
            service_id=service_id,
            user_number=user,
            company_id=company,
            branch_id=None,
            service_date=service_date or self.clock.today,
            hours=hours,
            ready_at=self.clock.now,
        )
        result = await self.activities.claim_payment(claim)
        self.lifecycles.hear(result, self.clock.today, self.policy)
        return result

    async def expire(self, on: date | None = None) -> PaymentUpdates:
        """The daily expiry run (of today by default), its updates told to the lifecycles."""
        day = on or self.clock.today
        result = await self.activities.expire_vouchers(ExpiryRun(on=day))
        self.lifecycles.hear(result, day, self.policy)
        return result

    async def run_changes(self) -> list[PaymentUpdates]:
        """Run every change the API only started (payouts), in order, as their WalletChange
        workflows would."""
        results = []
        while changes := self.starter.take():
            for change in changes:
                result = await run_change(self.activities, change)
                self.lifecycles.hear(result, self.clock.today, self.policy)
                results.append(result)
        return results


@asynccontextmanager
async def wallets(url: str, policy: WalletPolicy | None = None) -> AsyncIterator[Wallets]:
    policy = policy or WalletPolicy()
    db = repository.open_database(url)
    await create_schema(db.engine, Base.metadata)
    clock = FakeClock()
    starter = PlayingStarter()
    try:
        yield Wallets(
            db=db,
            policy=policy,
            clock=clock,
            starter=starter,
            activities=WalletActivities(db, policy, clock),
            desk=WalletDesk(db=db, policy=policy, starter=starter, clock=clock),
        )
    finally:
        await db.dispose()


def settings_for(database_url: str, **overrides: Any) -> WalletSettings:
    return WalletSettings(database_url=database_url, **overrides)


def running(
    settings: WalletSettings, starter: WorkflowStarter, clock: Clock
) -> AbstractAsyncContextManager[httpx.AsyncClient]:
    """The wallet app, its lifespan run, called in this process."""
    app = create_app(settings, starter=starter, clock=clock)
    return in_process(app, "http://wallet", settings.internal_token)


# -- what the lifecycles hear -----------------------------------------------------------------


@dataclass
class Lifecycles:
    """Every service's payment as its lifecycle would follow it: each update applied once, in
    version order, checked against the status rules as the brief states them."""

    last: dict[str, PaymentUpdate] = field(default_factory=dict)
    history: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def hear(self, result: PaymentUpdates, today: date, policy: WalletPolicy) -> None:
        for update in result.updates:
            previous = self.last.get(update.service_id)
            if previous is not None and update.payment_version <= previous.payment_version:
                continue  # a repeated answer: the lifecycle ignores it
            expected_version = 1 if previous is None else previous.payment_version + 1
            assert update.payment_version == expected_version, (previous, update)
            check_transition(previous, update, today, policy)
            self.last[update.service_id] = update
            self.history[update.service_id].append(int(update.status))


def check_transition(
    previous: PaymentUpdate | None, update: PaymentUpdate, today: date, policy: WalletPolicy
) -> None:
    n = update.vouchers_needed
    before = (
        (11, 0, 0, 0)
        if previous is None
        else (
            int(previous.status),
            previous.vouchers_allocated,
            previous.vouchers_submitted,
            previous.vouchers_reimbursed,
        )
    )
    status, a0, s0, r0 = before
    a, s, r = update.vouchers_allocated, update.vouchers_submitted, update.vouchers_reimbursed
    assert 0 <= r <= s <= a <= n, update
    assert status != 20, f"a service at 20 changed: {update}"
    if update.event == "allocated":
        assert (s, r) == (s0, r0) and a > a0, update
        expected = (12 if a0 == 0 else 19) if a == n else (16 if a0 == 0 else 18)
    elif update.event == "reimbursement-requested":
        assert (a, r) == (a0, r0) and s > s0, update
        expected = 17 if a < n else 13 if s == n else status
    elif update.event == "reimbursed":
        assert (a, s) == (a0, s0) and r > r0, update
        expected = 14 if a == n and r == n else status
    elif update.event == "unpayable":
        assert (a, s, r) == (a0, s0, r0) and a < n, update
        expected = 20
    else:
        raise AssertionError(f"unknown event {update.event}")
    assert int(update.status) == expected, (before, update)


# -- the whole database, and what must hold of it --------------------------------------------------


@dataclass
class Snapshot:
    orders: list[Order]
    vouchers: list[Voucher]
    claims: list[Claim]
    allocations: list[Allocation]
    requests: list[ReimbursementRequest]
    ledger: list[LedgerEntry]
    lines: dict[str, list[repository.StatementLine]]

    @property
    def voucher(self) -> dict[str, Voucher]:
        return {voucher.number: voucher for voucher in self.vouchers}

    @property
    def claim(self) -> dict[str, Claim]:
        return {claim.service_id: claim for claim in self.claims}


async def snapshot(db: Database) -> Snapshot:
    async with repository.reading(db) as session:
        requests = list(await session.scalars(select(ReimbursementRequest)))
        return Snapshot(
            orders=list(await session.scalars(select(Order))),
            vouchers=list(await session.scalars(select(Voucher).order_by(Voucher.number))),
            claims=list(await session.scalars(select(Claim))),
            allocations=list(await session.scalars(select(Allocation))),
            requests=requests,
            ledger=list(await session.scalars(select(LedgerEntry))),
            lines={
                request.id: await repository.statement_lines(session, request.id)
                for request in requests
            },
        )


SPENT = {"allocated", "submitted", "reimbursed"}
STATES = SPENT | {"available", "expired", "refunded"}


def check_invariants(state: Snapshot, policy: WalletPolicy) -> None:
    """Vouchers conserved, no service over-paid, money adding up to the cent."""
    # Every voucher issued exactly once, by an order, and in exactly one state.
    issued = sum(order.quantity for order in state.orders)
    assert len(state.vouchers) == issued
    by_state = Counter(voucher.state for voucher in state.vouchers)
    assert set(by_state) <= STATES
    assert sum(by_state.values()) == issued
    per_order = Counter(voucher.order_id for voucher in state.vouchers)
    assert all(per_order[order.id] == order.quantity for order in state.orders)
    claims = state.claim
    for voucher in state.vouchers:
        assert voucher.expiry_date == add_months(voucher.issue_date, policy.voucher_validity_months)
        if voucher.state in SPENT:
            assert voucher.service_id is not None and voucher.allocation_step is not None
            claim = claims[voucher.service_id]
            assert claim.user_number == voucher.user_number
            assert voucher.issue_date <= add_months(
                claim.service_date, policy.service_window_months
            ), "a voucher paid a service more than 12 months before its issue"
        else:
            assert voucher.service_id is None and voucher.reimbursement_request_id is None
        if voucher.state in {"submitted", "reimbursed"}:
            assert voucher.reimbursement_request_id is not None

    # Each service: the vouchers it holds are what it says; never more than it needs.
    held = Counter(v.service_id for v in state.vouchers if v.state in SPENT)
    submitted = Counter(
        v.service_id for v in state.vouchers if v.state in {"submitted", "reimbursed"}
    )
    reimbursed = Counter(v.service_id for v in state.vouchers if v.state == "reimbursed")
    steps: dict[str, list[Allocation]] = defaultdict(list)
    for allocation in state.allocations:
        steps[allocation.service_id].append(allocation)
    for claim in state.claims:
        sid = claim.service_id
        assert 0 <= claim.vouchers_reimbursed <= claim.vouchers_submitted
        assert claim.vouchers_submitted <= claim.vouchers_allocated <= claim.hours, "over-paid"
        assert claim.vouchers_allocated == held[sid]
        assert claim.vouchers_submitted == submitted[sid]
        assert claim.vouchers_reimbursed == reimbursed[sid]
        assert sorted(step.step for step in steps[sid]) == list(
            range(1, claim.allocation_steps + 1)
        )
        assert sum(step.vouchers for step in steps[sid]) == claim.vouchers_allocated
        step_sizes = Counter((v.allocation_step) for v in state.vouchers if v.service_id == sid)
        assert {step.step: step.vouchers for step in steps[sid]} == dict(step_sizes)
        check_claim_status(claim)

    # The ledger: wallet movements add up, to the voucher and to the cent.
    totals: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for entry in state.ledger:
        assert entry.vouchers > 0 and entry.amount_cents > 0
        totals[(entry.user_number, entry.kind)][0] += entry.vouchers
        totals[(entry.user_number, entry.kind)][1] += entry.amount_cents
    users = {order.user_number for order in state.orders} | {v.user_number for v in state.vouchers}
    for user in users:
        mine = [v for v in state.vouchers if v.user_number == user]
        orders = [order for order in state.orders if order.user_number == user]

        def ledger(kind: str, user: str = user) -> list[int]:
            return totals.get((user, kind), [0, 0])

        def cents(states: set[str], mine: list[Voucher] = mine) -> int:
            return sum(v.price_cents for v in mine if v.state in states)

        def count(states: set[str], mine: list[Voucher] = mine) -> int:
            return sum(1 for v in mine if v.state in states)

        assert ledger("issued") == [
            sum(o.quantity for o in orders),
            sum(o.amount_cents for o in orders),
        ]
        assert all(o.amount_cents == o.quantity * o.unit_price_cents for o in orders)
        assert ledger("allocated") == [count(SPENT), cents(SPENT)]
        assert ledger("expired") == [
            count({"expired", "refunded"}),
            cents({"expired", "refunded"}),
        ]
        assert ledger("refunded") == [count({"refunded"}), cents({"refunded"})]
        available = ledger("issued")[0] - ledger("allocated")[0] - ledger("expired")[0]
        assert available == count({"available"})
        assert ledger("issued")[1] - ledger("allocated")[1] - ledger("expired")[1] == cents(
            {"available"}
        )

    # Reimbursement requests and their statements.
    in_request = Counter(v.reimbursement_request_id for v in state.vouchers)
    for request in state.requests:
        assert request.vouchers == in_request[request.id]
        assert request.amount_cents == request.vouchers * request.voucher_value_cents
        lines = state.lines[request.id]
        assert sum(line.vouchers for line in lines) == request.vouchers
        assert (
            sum(line.vouchers * request.voucher_value_cents for line in lines)
            == request.amount_cents
        )
        mine = [v for v in state.vouchers if v.reimbursement_request_id == request.id]
        assert all(claims[v.service_id or ""].company_id == request.company_id for v in mine)
        if request.paid_at is not None:
            assert all(v.state == "reimbursed" for v in mine)
        elif request.submitted_at is not None:
            assert all(v.state == "submitted" for v in mine)
        else:
            assert all(v.state == "allocated" for v in mine)


def check_claim_status(claim: Claim) -> None:
    """The status a service's payment may have for its counts."""
    n, a, s, r = (
        claim.hours,
        claim.vouchers_allocated,
        claim.vouchers_submitted,
        claim.vouchers_reimbursed,
    )
    status = claim.status
    if status == 20:
        assert a < n
        return
    if a == 0:
        assert status == 11 and claim.payment_version == 0
    elif a < n:
        assert status in {16, 17, 18}, claim.__dict__
        if status == 17:
            assert s > 0
    else:
        assert status in {12, 19, 13, 14}, claim.__dict__
        if status == 12:
            assert claim.allocation_steps == 1 and s < n
        if status == 13:
            assert s == n and r < n
        if status == 14:
            assert r == n
        if status == 19:
            assert claim.allocation_steps > 1 and s < n


def check_allocation_run(
    before: Snapshot,
    after: Snapshot,
    today: date,
    policy: WalletPolicy,
    *,
    user: str,
    complete: bool,
) -> None:
    """What one allocation in ``user``'s wallet did: only usable vouchers, the ones that expire
    first, and (when it served every waiting service, ``complete``) in priority order, leaving
    nothing usable to a service still short.

    A claim served alone (``complete=False``: a new service's claim, which takes only what the
    services before it in priority leave) may leave vouchers that expire earlier than the ones
    it took, but only as many as the services before it still need, and each of them usable by
    one of those: their shares, kept for the allocation that the order which brought the
    vouchers started (DOMAIN.md: oldest service first, partially paid ones before)."""
    old = before.voucher
    old_claims = before.claim
    taken: dict[str, list[Voucher]] = defaultdict(list)
    for voucher in after.vouchers:
        issued_now = voucher.number not in old  # by an order that allocated in the same change
        if voucher.state in SPENT and (issued_now or old[voucher.number].state == "available"):
            taken[voucher.service_id or ""].append(voucher)
    left = [v for v in after.vouchers if v.state == "available"]
    window = policy.service_window_months
    tier = {17: 0, 16: 1, 18: 1, 11: 2}

    def usable(voucher: Voucher, claim: Claim) -> bool:
        return voucher.expiry_date >= today and voucher.issue_date <= add_months(
            claim.service_date, window
        )

    def rank(claim: Claim) -> tuple[int, date, datetime, str]:
        return (tier.get(claim.status, 2), claim.service_date, claim.ready_at, claim.service_id)

    def waiting_before(claim: Claim) -> list[Claim]:
        """The services of the same wallet still short that come before ``claim`` (as it was
        before this allocation: a new claim at 11)."""
        previous = old_claims.get(claim.service_id)
        key = rank(previous) if previous else (tier[11], *rank(claim)[1:])
        return [
            other
            for other in before.claims
            if other.user_number == claim.user_number
            and other.status in tier
            and other.vouchers_allocated < other.hours
            and other.service_id != claim.service_id
            and rank(other) < key
        ]

    for service_id, vouchers in taken.items():
        claim = old_claims.get(service_id) or after.claim[service_id]  # or a new one
        if service_id in old_claims:
            assert claim.status in {11, 16, 17, 18}, "allocated to a service not waiting"
        assert all(usable(v, claim) for v in vouchers), "expired or too late a voucher spent"
        latest = max(v.expiry_date for v in vouchers)
        earlier = [
            other
            for other in left
            if other.user_number == claim.user_number
            and usable(other, claim)
            and other.expiry_date < latest
        ]
        if complete or not earlier:
            assert not earlier, "a voucher that expires later was spent first"
            continue
        # Served alone: what it left that expires earlier is the share of services before it.
        first = waiting_before(claim)
        assert all(any(usable(v, other) for other in first) for v in earlier), (
            "a voucher that expires later was spent first (no service before it could use "
            "the one left)"
        )
        assert len(earlier) <= sum(c.hours - c.vouchers_allocated for c in first), (
            "a voucher that expires later was spent first (more left than the services "
            "before it need)"
        )
    if not complete:
        return
    now_claims = after.claim
    waiting = [
        c
        for c in before.claims
        if c.user_number == user
        and c.status in tier
        and c.vouchers_allocated < c.hours
        and c.service_id in now_claims
    ]
    for high in waiting:
        high_now = now_claims[high.service_id]
        short = high_now.vouchers_allocated < high_now.hours and high_now.status != 20
        if not short:
            continue
        assert not any(usable(v, high_now) for v in left if v.user_number == high.user_number), (
            "a waiting service was left unpaid with a usable voucher in the wallet"
        )
        for low in waiting:
            high_key = (tier[high.status], high.service_date, high.ready_at, high.service_id)
            low_key = (tier[low.status], low.service_date, low.ready_at, low.service_id)
            if low_key <= high_key:
                continue
            assert not any(usable(v, high) for v in taken.get(low.service_id, [])), (
                "a lower-priority service took a voucher a higher one could use"
            )


def check_heard(lifecycles: Lifecycles, state: Snapshot) -> None:
    """Every service's lifecycle heard its last change (a service at 20 hears no more)."""
    for claim in state.claims:
        last = lifecycles.last.get(claim.service_id)
        if claim.payment_version == 0:
            assert last is None
            continue
        assert last is not None, claim.service_id
        assert last.payment_version == claim.payment_version
        assert int(last.status) == claim.status
        if claim.status != 20:
            assert (
                last.vouchers_allocated,
                last.vouchers_submitted,
                last.vouchers_reimbursed,
            ) == (claim.vouchers_allocated, claim.vouchers_submitted, claim.vouchers_reimbursed)
