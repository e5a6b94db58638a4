"""Property-based: random sequences of orders, services, allocations, reimbursements, payouts,
expiries, time passing and retried activities, against the real activities, desk and SQLite.

Orders and requests go through the desk, whose WalletChange runs at once (``PlayingStarter``);
some orders are recorded as the earlier API did (``LegacyOrder``: written first, their
allocate-pending WalletChange run later), as orders still in flight at a deploy are.

After every step: vouchers conserved, no service over-paid, money adding up to the cent, every
status change following the rules, and each allocation spending the vouchers that expire first
on the services of highest priority.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings, target
from hypothesis import strategies as st

from dc_common.problems import Problem
from dc_wallet import repository
from dc_wallet.domain import (
    OrderRejected,
    Refused,
    WalletPolicy,
    add_months,
    brussels_date,
    check_order,
    order_reference_used,
    order_refused,
    past_window,
)
from dc_workflows.contracts.payments import (
    AllocatePending,
    ExpiryRun,
    PaymentUpdates,
    WalletChange,
    WalletChangeKind,
)
from services.wallet.tests.wallet_support import (
    COMPANY,
    OTHER_COMPANY,
    OTHER_USER,
    USER,
    Wallets,
    check_allocation_run,
    check_heard,
    check_invariants,
    run_change,
    snapshot,
    wallets,
)

USERS = [USER, OTHER_USER]
COMPANIES = [COMPANY, OTHER_COMPANY]
#: A small cap so that sequences reach it; small orders so that services are paid in steps.
POLICY = WalletPolicy(yearly_cap=70, minimum_order=3)


@dataclass(frozen=True)
class PlaceOrder:
    user: int
    quantity: int
    reference: int


@dataclass(frozen=True)
class LegacyOrder:
    """An order as the earlier API recorded it: written, its allocation started to run later."""

    user: int
    quantity: int
    reference: int


@dataclass(frozen=True)
class NewService:
    user: int
    company: int
    hours: int
    days_ago: int


@dataclass(frozen=True)
class RunChanges:
    pass


@dataclass(frozen=True)
class Reimburse:
    company: int
    picks: tuple[int, ...]
    reference: int


@dataclass(frozen=True)
class PayOut:
    pick: int


@dataclass(frozen=True)
class Week:
    """The company asks reimbursement of everything payable, then maybe is paid out."""

    company: int
    pay: bool


@dataclass(frozen=True)
class Advance:
    days: int
    hours: int
    expire: bool


@dataclass(frozen=True)
class Expire:
    pass


@dataclass(frozen=True)
class Retry:
    pick: int


Step = (
    PlaceOrder
    | LegacyOrder
    | NewService
    | RunChanges
    | Reimburse
    | Week
    | PayOut
    | Advance
    | Expire
    | Retry
)

users = st.sampled_from([0, 0, 0, 1])
quantities = st.sampled_from([2, 3, 4, 5, 10, 12, 20])
orders = st.builds(PlaceOrder, users, quantities, st.integers(0, 8))
legacy_orders = st.builds(LegacyOrder, users, quantities, st.integers(0, 8))
services = st.builds(
    NewService,
    users,
    st.integers(0, 1),
    st.sampled_from([1, 3, 4, 6, 7, 8, 9, 9]),
    st.one_of(st.integers(0, 40), st.integers(0, 40), st.integers(0, 40), st.integers(330, 400)),
)
reimbursements = st.builds(
    Reimburse,
    st.integers(0, 1),
    st.lists(st.integers(0, 50), min_size=1, max_size=4, unique=True).map(tuple),
    st.integers(0, 4),
)
advances = st.builds(
    Advance,
    st.one_of(st.integers(0, 30), st.integers(0, 30), st.integers(60, 400)),
    st.integers(0, 23),
    st.booleans(),
)
#: Each kind of step and how often it comes, out of 28.
WEIGHTED: list[st.SearchStrategy[Step]] = (
    [orders] * 4
    + [legacy_orders] * 3
    + [services] * 6
    + [st.just(RunChanges())] * 3
    + [reimbursements] * 2
    + [st.builds(Week, st.integers(0, 1), st.booleans())] * 2
    + [advances] * 2
    + [st.builds(Retry, st.integers(0, 100))] * 2
    + [st.builds(PayOut, st.integers(0, 20)), st.just(Expire())] * 1
)
steps: st.SearchStrategy[Step] = st.integers(0, len(WEIGHTED) - 1).flatmap(
    lambda index: WEIGHTED[index]
)


@dataclass
class Model:
    """What the test remembers to check the wallet's answers against."""

    services: dict[str, list[str]] = field(default_factory=lambda: {c: [] for c in COMPANIES})
    orders: dict[tuple[str, str], int] = field(default_factory=dict)
    ordered: dict[tuple[str, int], int] = field(default_factory=dict)
    requests: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    request_ids: list[str] = field(default_factory=list)
    calls: list[tuple[Callable[[], Awaitable[PaymentUpdates]], PaymentUpdates]] = field(
        default_factory=list
    )
    next_service: int = 0


async def play(wallet: Wallets, sequence: list[Step]) -> None:
    model = Model()
    for step in sequence:
        await apply(wallet, model, step)
        state = await snapshot(wallet.db)
        check_invariants(state, wallet.policy)
        check_heard(wallet.lifecycles, state)
    reached = {status for statuses in wallet.lifecycles.history.values() for status in statuses}
    for status in reached:
        event(f"a service reached {status}")
    target(float(len(reached)), label="statuses reached")
    if any(v.state == "refunded" for v in state.vouchers):
        event("vouchers refunded")


async def run_started(wallet: Wallets, model: Model) -> None:
    """Run the changes only started (payouts, and the allocations of legacy orders), as their
    WalletChange workflows would, checking each."""
    clock = wallet.clock
    for change in wallet.starter.take():
        before = await snapshot(wallet.db)
        result = await run_change(wallet.activities, change)
        wallet.lifecycles.hear(result, clock.today, POLICY)
        after = await snapshot(wallet.db)
        if change.kind == WalletChangeKind.ALLOCATE_PENDING and change.allocate:
            check_allocation_run(
                before,
                after,
                clock.today,
                POLICY,
                user=change.allocate.user_number,
                complete=True,
            )
        else:
            # Reimbursements and payouts never move a voucher in or out of a wallet.
            assert {v.number for v in before.vouchers if v.state == "available"} == {
                v.number for v in after.vouchers if v.state == "available"
            }
        model.calls.append((lambda c=change: run_change(wallet.activities, c), result))


async def expire(wallet: Wallets) -> None:
    """The daily expiry run, twice (a retry answers the same)."""
    on = wallet.clock.today
    run = ExpiryRun(on=on)
    result = await wallet.activities.expire_vouchers(run)
    wallet.lifecycles.hear(result, on, POLICY)
    again = await wallet.activities.expire_vouchers(run)
    assert again == result, "the same day's expiry twice answers the same"
    state = await snapshot(wallet.db)
    assert not [v for v in state.vouchers if v.state == "available" and v.expiry_date < on]
    for claim in state.claims:
        if claim.status in {11, 16, 17, 18} and claim.vouchers_allocated < claim.hours:
            # Still waiting past its window only when a usable voucher awaits the allocation
            # that its order started (the expiry does not allocate).
            assert not past_window(claim.service_date, on, POLICY) or any(
                v.user_number == claim.user_number
                and v.state == "available"
                and v.issue_date <= add_months(claim.service_date, POLICY.service_window_months)
                for v in state.vouchers
            ), claim.service_id
    for update in result.updates:
        assert int(update.status) == 20


async def legacy_order(wallet: Wallets, user: str, reference: str, quantity: int) -> bool:
    """What the earlier API did with an order: check and record it under the wallet lock, then
    start its allocate-pending WalletChange (here: queued until RunChanges). Created or not."""
    policy = wallet.policy
    if quantity < policy.minimum_order:
        raise order_refused(f"order too small: at least {policy.minimum_order} vouchers")
    now = wallet.clock()
    async with repository.writing(wallet.db) as session:
        await repository.lock_wallets(session, [user], now)
        existing = await repository.find_order(session, user, reference)
        if existing is not None:
            if existing.quantity != quantity:
                raise order_reference_used(reference, existing.quantity)
            created = False
        else:
            today = brussels_date(now)
            ordered = await repository.ordered_in_year(session, user, today.year)
            try:
                check_order(quantity, ordered, policy)
            except OrderRejected as rejected:
                raise order_refused(rejected.reason, conflict=rejected.conflict) from None
            await repository.place_order(
                session,
                user_number=user,
                reference=reference,
                quantity=quantity,
                issue_date=today,
                policy=policy,
                now=now,
            )
            created = True
    await wallet.starter.start(
        WalletChange(
            kind=WalletChangeKind.ALLOCATE_PENDING,
            key=f"{user}-{reference}",
            allocate=AllocatePending(user_number=user, trigger=reference),
        )
    )
    return created


def remember_runs(wallet: Wallets, model: Model, since: int) -> None:
    """The changes the desk ran since ``since``: a retry of their activity must answer the
    same and change nothing."""
    for change, result in wallet.starter.outcomes[since:]:
        model.calls.append((lambda c=change: run_change(wallet.activities, c), result))


async def apply(wallet: Wallets, model: Model, step: Step) -> None:
    clock = wallet.clock
    ran = len(wallet.starter.outcomes)
    if isinstance(step, PlaceOrder | LegacyOrder):
        user, reference = USERS[step.user], f"order-{step.reference}"
        year = clock.today.year
        before = await snapshot(wallet.db)
        try:
            if isinstance(step, PlaceOrder):
                created = (await wallet.order(user, reference, step.quantity)).created
            else:
                created = await legacy_order(wallet, user, reference, step.quantity)
        except (Problem, Refused) as problem:
            first = model.orders.get((user, reference))
            assert problem.detail is not None
            if step.quantity < POLICY.minimum_order:
                assert problem.status == 422 and "order too small" in problem.detail
            elif first is not None:
                assert problem.status == 409 and first != step.quantity
            else:
                left = POLICY.yearly_cap - model.ordered.get((user, year), 0)
                assert problem.status == 409, problem.detail
                assert f"yearly cap exceeded: {left} left this year" in problem.detail
                assert step.quantity > left
            event(f"order refused {problem.status}")
            return
        first = model.orders.get((user, reference))
        if first is None:
            assert created
            assert model.ordered.get((user, year), 0) + step.quantity <= POLICY.yearly_cap
            model.orders[(user, reference)] = step.quantity
            model.ordered[(user, year)] = model.ordered.get((user, year), 0) + step.quantity
        else:
            assert not created and first == step.quantity
        if isinstance(step, PlaceOrder) and len(wallet.starter.outcomes) > ran:
            # The order's change ran (not a repeat answered by the change that ran before): it
            # allocated at once, to every service waiting in the wallet.
            after = await snapshot(wallet.db)
            check_allocation_run(before, after, clock.today, POLICY, user=user, complete=True)
            remember_runs(wallet, model, ran)
    elif isinstance(step, NewService):
        model.next_service += 1
        service_id = f"S{model.next_service:03d}"
        user, company = USERS[step.user], COMPANIES[step.company]
        before = await snapshot(wallet.db)
        claim_date = clock.today - timedelta(days=step.days_ago)
        result = await wallet.claim(
            service_id, hours=step.hours, service_date=claim_date, user=user, company=company
        )
        after = await snapshot(wallet.db)
        check_allocation_run(before, after, clock.today, POLICY, user=user, complete=False)
        assert all(update.service_id == service_id for update in result.updates)
        model.services[company].append(service_id)
        claim = wallet.claim
        model.calls.append(
            (
                lambda c=claim, s=service_id, u=user, h=step.hours, d=claim_date: c(
                    s, hours=h, service_date=d, user=u, company=company
                ),
                result,
            )
        )
    elif isinstance(step, RunChanges):
        await run_started(wallet, model)
    elif isinstance(step, Week):
        company = COMPANIES[step.company]
        await run_started(wallet, model)
        state = await snapshot(wallet.db)
        payable = sorted(
            {
                v.service_id or ""
                for v in state.vouchers
                if v.state == "allocated"
                and v.reimbursement_request_id is None
                and state.claim[v.service_id or ""].company_id == company
            }
        )
        if payable:
            reference = f"week {len(model.request_ids)}"
            requested = await wallet.request_reimbursement(company, reference, payable)
            assert requested.created
            assert requested.request.submitted_at is not None  # recorded and submitted at once
            model.requests[(company, reference)] = frozenset(payable)
            model.request_ids.append(requested.request.id)
            remember_runs(wallet, model, ran)
        if step.pay:
            for request in state.requests + ([requested.request] if payable else []):
                if request.company_id == company and request.paid_at is None:
                    assert (await wallet.payout(request.id)).started
            await run_started(wallet, model)
    elif isinstance(step, Reimburse):
        company = COMPANIES[step.company]
        known = model.services[company][-6:]  # the recent ones, more likely payable
        if not known:
            return
        chosen = sorted({known[pick % len(known)] for pick in step.picks})
        reference = f"ref {step.reference}"
        before = await snapshot(wallet.db)
        payable = {
            v.service_id
            for v in before.vouchers
            if v.state == "allocated" and v.reimbursement_request_id is None
        }
        earlier = model.requests.get((company, reference))
        try:
            requested = await wallet.request_reimbursement(company, reference, chosen)
        except Problem as problem:
            if earlier is not None:
                assert problem.status == 409 and earlier != frozenset(chosen)
            else:
                assert problem.status == 422 and not set(chosen) <= payable, problem.detail
                assert problem.detail and "service not payable" in problem.detail
            return
        if earlier is not None:
            assert not requested.created and earlier == frozenset(chosen)
        else:
            assert requested.created and set(chosen) <= payable
            event("reimbursement requested")
            model.requests[(company, reference)] = frozenset(chosen)
            model.request_ids.append(requested.request.id)
        after = await snapshot(wallet.db)
        # A reimbursement never moves a voucher in or out of a wallet.
        assert {v.number for v in before.vouchers if v.state == "available"} == {
            v.number for v in after.vouchers if v.state == "available"
        }
        remember_runs(wallet, model, ran)
    elif isinstance(step, PayOut):
        if not model.request_ids:
            return
        request_id = model.request_ids[step.pick % len(model.request_ids)]
        try:
            payout = await wallet.payout(request_id)
        except Problem as problem:
            assert problem.status == 409  # not submitted yet: its change has not run
            return
        assert payout.started == (payout.request.paid_at is None)
        event("payout started" if payout.started else "payout repeated")
    elif isinstance(step, Advance):
        clock.advance(days=step.days, hours=step.hours)
        if step.expire:
            await expire(wallet)
    elif isinstance(step, Expire):
        await expire(wallet)
    elif isinstance(step, Retry):
        if not model.calls:
            return
        call, first = model.calls[step.pick % len(model.calls)]
        event("retried")
        before = await snapshot(wallet.db)
        assert await call() == first, "a retried activity answers as the first time"
        after = await snapshot(wallet.db)
        assert fingerprint(before) == fingerprint(after), "a retried activity changed something"


def fingerprint(state: object) -> tuple[object, ...]:
    from services.wallet.tests.wallet_support import Snapshot

    assert isinstance(state, Snapshot)
    return (
        tuple(
            (v.number, v.state, v.service_id, v.reimbursement_request_id) for v in state.vouchers
        ),
        tuple(
            sorted(
                (c.service_id, c.status, c.payment_version, c.vouchers_allocated)
                for c in state.claims
            )
        ),
        len(state.ledger),
        len(state.allocations),
    )


@settings(
    # 50 sequences in make test (about 40 s); DC_PROPERTY_EXAMPLES=1000 for a deeper search.
    max_examples=int(os.environ.get("DC_PROPERTY_EXAMPLES", "50")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(steps, min_size=10, max_size=40))
# Found by hypothesis (when every order was recorded first and allocated by a later WalletChange,
# as LegacyOrder still is): S001 (1 hour) waits while the allocation of order-1 has not run yet;
# the claim of the newer S002 leaves S001's share (the voucher that expires first) to it and
# takes the next ones, as the priority rule says (oldest service first). The oracle once called
# that "a voucher that expires later was spent first".
@example(
    sequence=[
        LegacyOrder(0, 2, 0),
        Week(0, False),
        Retry(0),
        LegacyOrder(0, 2, 0),
        NewService(0, 0, 1, 0),
        LegacyOrder(0, 4, 1),
        Advance(1, 0, False),
        LegacyOrder(0, 3, 0),
        Expire(),
        NewService(0, 0, 4, 0),
    ]
)
def test_random_sequences_keep_the_wallet_whole(tmp_path: Path, sequence: list[Step]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / f'wallet-{uuid.uuid4().hex}.db'}"

    async def scenario() -> None:
        async with wallets(url, POLICY) as wallet:
            await play(wallet, sequence)

    asyncio.run(scenario())


def test_a_four_hour_service_paid_two_then_one_then_one(tmp_path: Path) -> None:
    """16, 17, 18, 19, 13, 14 for the 4-hour service F; an older partially reimbursed service O
    served before it, and F (18, partially paid) served before an older service P waiting with
    none allocated. Orders of 1 and 2 vouchers (policy: minimum order 1): from an order of 10 a
    service at 17 would take both vouchers it still needs at once, being served first."""

    async def scenario() -> None:
        url = f"sqlite+aiosqlite:///{tmp_path / 'story.db'}"
        async with wallets(url, WalletPolicy(minimum_order=1)) as wallet:
            today: date = wallet.clock.today
            history = wallet.lifecycles.history
            await wallet.claim("O", hours=9, service_date=today - timedelta(days=30))
            await wallet.order(USER, "a", 5)
            await wallet.run_changes()
            await wallet.claim("F", hours=4, service_date=today - timedelta(days=2))
            await wallet.request_reimbursement(COMPANY, "week 1", ["O"])
            await wallet.run_changes()
            assert dict(history) == {"O": [16, 17]}
            await wallet.order(USER, "b", 6)  # O (17) takes its 4 first, F the other 2
            await wallet.run_changes()
            assert history["O"] == [16, 17, 19] and history["F"] == [16]
            second = await wallet.request_reimbursement(COMPANY, "week 2", ["F", "O"])
            await wallet.run_changes()
            assert history["F"] == [16, 17] and history["O"] == [16, 17, 19, 13]
            await wallet.order(USER, "c", 1)
            await wallet.run_changes()
            assert history["F"] == [16, 17, 18]
            await wallet.claim("P", hours=3, service_date=today - timedelta(days=20))
            await wallet.order(USER, "d", 3)  # F (18) before the older P (11)
            await wallet.run_changes()
            assert history["F"] == [16, 17, 18, 19] and history["P"] == [16]
            third = await wallet.request_reimbursement(COMPANY, "week 3", ["F", "P"])
            await wallet.run_changes()
            assert history["F"][-1] == 13 and history["P"] == [16, 17]
            requests = await wallet.desk.requests(COMPANY, limit=10, offset=0)
            assert [request.reference for request in requests] == ["week 3", "week 2", "week 1"]
            for request in reversed(requests):
                await wallet.payout(request.id)
                await wallet.run_changes()
            # A payout that does not complete a service changes its counts, not its status: the
            # lifecycle hears it (event "reimbursed") with the status it had.
            assert history["F"] == [16, 17, 18, 19, 13, 13, 14]
            assert history["O"] == [16, 17, 19, 13, 13, 14]
            assert history["P"] == [16, 17, 17]  # paid out, still partially paid: stays 17
            state = await snapshot(wallet.db)
            check_invariants(state, wallet.policy)
            check_heard(wallet.lifecycles, state)
            statement = await wallet.desk.statement(second.request.id)
            assert {(line.service_id, line.vouchers) for line in statement.lines} == {
                ("F", 2),
                ("O", 4),
            }
            assert statement.request.amount_cents == 6 * 2752
            assert third.request.vouchers == 2 + 2  # F's last 2, P's 2

    asyncio.run(scenario())
