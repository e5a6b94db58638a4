"""The rules of a service's life before payment: which party may do what, in which status.

Pure domain logic, free of Temporal, so the workflow and its tests share one truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dc_workflows.contracts.common import SYSTEM, WALLET, Actor, ActorKind
from dc_workflows.contracts.lifecycle import (
    HistoryEntry,
    LifecyclePolicy,
    Modification,
    RegisterService,
    ServiceDetails,
    ServiceState,
    Transition,
    WindowUnit,
)
from dc_workflows.contracts.payments import PaymentUpdate
from dc_workflows.deadline import add_calendar_days, add_working_days
from dc_workflows.status import ServiceStatus as S


class TransitionRejected(Exception):
    """A party asked for a change that the service's status does not allow."""


#: Statuses in which the service is still being agreed on by company and user.
OPEN_FOR_AGREEMENT = frozenset({S.ENCODED, S.VALIDATED, S.CONTESTED, S.MODIFIED, S.CONFIRMED})
#: Statuses in which the wallet pays the service; the wallet alone changes them.
IN_PAYMENT = frozenset(
    {
        S.READY_FOR_ALLOCATION,
        S.ALLOCATED,
        S.PARTIALLY_ALLOCATED_FIRST,
        S.PARTIALLY_REIMBURSED,
        S.PARTIALLY_ALLOCATED_SECOND,
        S.PARTIALLY_ALLOCATED_LAST,
        S.REIMBURSEMENT_REQUESTED,
    }
)
#: Where a service's life ends.
CLOSED = frozenset({S.CANCELLED, S.REIMBURSED, S.PAY_OUTSIDE_VOUCHERS})


def validation_deadline(registered_at: datetime, policy: LifecyclePolicy) -> datetime:
    """When a service nobody touched validates by itself, by the policy's unit of days."""
    if policy.window_unit is WindowUnit.WORKING:
        return add_working_days(registered_at, policy.validation_window_days)
    return add_calendar_days(registered_at, policy.validation_window_days)


@dataclass
class Lifecycle:
    """Mutable state of one service, changed only through the methods below."""

    state: ServiceState
    policy: LifecyclePolicy
    reminded: bool = field(default=False)
    wallet_pays: bool = field(default=False)
    """From 11 on, the wallet pays the service (histories from before the wallet, and services
    paid with paper vouchers: False)."""
    payment_claimed: bool = field(default=False)
    payment_version: int = field(default=0)

    @classmethod
    def register(cls, request: RegisterService, now: datetime) -> Lifecycle:
        deadline = validation_deadline(now, request.policy)
        state = ServiceState(
            service_id=request.service_id,
            version=1,
            status=S.ENCODED,
            parties=request.parties,
            details=request.details,
            registered_at=now,
            updated_at=now,
            validation_deadline=deadline,
            company_validated=False,
            user_confirmed=False,
            auto_validation_possible=True,
            history=(
                HistoryEntry(
                    seq=1,
                    at=now,
                    event="registered",
                    status=S.ENCODED,
                    actor=request.registered_by,
                    details=request.details,
                ),
            ),
        )
        return cls(state, request.policy)

    # -- checks: raise TransitionRejected with the reason, change nothing ----------------------

    def check_validate(self, request: Transition) -> None:
        self._require_company(request.actor, "validate")
        self._require_open("validate")
        if self.state.status in (S.CONTESTED,):
            raise TransitionRejected("the user contested this service: modify it first")
        if self.state.company_validated:
            raise TransitionRejected("the company already validated this service")

    def check_confirm(self, request: Transition) -> None:
        self._require_user(request.actor, "confirm")
        self._require_open("confirm")
        if self.state.status == S.CONTESTED:
            raise TransitionRejected("the user contested this service: it waits for the company")
        if self.state.user_confirmed:
            raise TransitionRejected("the user already confirmed this service")

    def check_contest(self, request: Transition) -> None:
        self._require_user(request.actor, "contest")
        self._require_open("contest")
        if self.state.status == S.CONTESTED:
            raise TransitionRejected("the service is already contested")
        if self.state.user_confirmed:
            raise TransitionRejected("the user already confirmed this service")
        if not request.reason:
            raise TransitionRejected("a contest needs a reason for the company")

    def check_modify(self, request: Modification) -> None:
        self._require_company(request.actor, "modify")
        self._require_open("modify")
        if request.applied_to(self.state.details) == self.state.details:
            raise TransitionRejected("the modification changes nothing")

    def check_cancel(self, request: Transition) -> None:
        self._require_company(request.actor, "cancel")
        cancellable = self.state.status in OPEN_FOR_AGREEMENT or (
            self.state.status == S.READY_FOR_ALLOCATION and not self.wallet_pays
        )
        if not cancellable:
            raise TransitionRejected(f"cannot cancel a service that is {self.state.status.label}")

    def _require_company(self, actor: Actor, action: str) -> None:
        if actor.kind == ActorKind.OPERATOR:
            return
        if actor.kind != ActorKind.COMPANY or actor.id != self.state.parties.company_id:
            raise TransitionRejected(f"only the company of this service may {action} it")

    def _require_user(self, actor: Actor, action: str) -> None:
        if actor.kind == ActorKind.OPERATOR:
            return
        if actor.kind != ActorKind.USER or actor.id != self.state.parties.user_number:
            raise TransitionRejected(f"only the user of this service may {action} it")

    def _require_open(self, action: str) -> None:
        if self.state.status not in OPEN_FOR_AGREEMENT:
            raise TransitionRejected(f"cannot {action} a service that is {self.state.status.label}")

    # -- transitions: check, then change ----------------------------------------------------

    def validate(self, request: Transition, now: datetime) -> None:
        self.check_validate(request)
        status = S.READY_FOR_ALLOCATION if self.state.user_confirmed else S.VALIDATED
        self._record(now, "validated", status, request, company_validated=True)

    def confirm(self, request: Transition, now: datetime) -> None:
        self.check_confirm(request)
        status = S.READY_FOR_ALLOCATION if self.state.company_validated else S.CONFIRMED
        self._record(now, "confirmed", status, request, user_confirmed=True)

    def contest(self, request: Transition, now: datetime) -> None:
        self.check_contest(request)
        self._record(
            now,
            "contested",
            S.CONTESTED,
            request,
            company_validated=False,
            auto_validation_possible=False,
        )

    def modify(self, request: Modification, now: datetime) -> None:
        self.check_modify(request)
        self._record(
            now,
            "modified",
            S.MODIFIED,
            request,
            details=request.applied_to(self.state.details),
            company_validated=False,
            user_confirmed=False,
            auto_validation_possible=False,
        )

    def cancel(self, request: Transition, now: datetime) -> None:
        self.check_cancel(request)
        self._record(now, "cancelled", S.CANCELLED, request, auto_validation_possible=False)

    def auto_validate(self, now: datetime) -> None:
        """The deadline passed with nobody changing or contesting the service."""
        if not self.auto_validation_due(now):
            raise TransitionRejected("automatic validation is not due")
        self._record(
            now,
            "auto-validated",
            S.READY_FOR_ALLOCATION,
            Transition(actor=SYSTEM, reason="no reaction within the validation window"),
            company_validated=True,
            user_confirmed=True,
            auto_validation_possible=False,
        )

    def apply_payment(self, update: PaymentUpdate, now: datetime) -> bool:
        """Reflect a change in the wallet; a repeated or out-of-date update changes nothing."""
        if update.payment_version <= self.payment_version:
            return False
        if self.state.status not in IN_PAYMENT:
            raise TransitionRejected(f"a service that is {self.state.status.label} is not paid")
        self.payment_version = update.payment_version
        self._record(
            now,
            update.event,
            update.status,
            Transition(actor=WALLET, reason=update.reason),
        )
        self.state = self.state.model_copy(
            update={
                "vouchers_allocated": update.vouchers_allocated,
                "vouchers_submitted": update.vouchers_submitted,
                "vouchers_reimbursed": update.vouchers_reimbursed,
            }
        )
        return True

    # -- questions the workflow asks -------------------------------------------------------

    def auto_validation_due(self, now: datetime) -> bool:
        deadline = self.state.validation_deadline
        return self.awaits_automatic_validation and deadline is not None and now >= deadline

    def next_wake_up(self) -> datetime | None:
        """When the workflow must act by itself: the reminder, then the automatic validation."""
        deadline = self.state.validation_deadline
        if not self.awaits_automatic_validation or deadline is None:
            return None
        if self.policy.reminder_lead_hours and not self.reminded:
            reminder_at = deadline - timedelta(hours=self.policy.reminder_lead_hours)
            if reminder_at > self.state.registered_at:
                return reminder_at
        return deadline

    def reminder_due(self, now: datetime) -> bool:
        wake_up = self.next_wake_up()
        return (
            not self.reminded
            and wake_up is not None
            and wake_up != self.state.validation_deadline
            and now >= wake_up
        )

    @property
    def awaits_automatic_validation(self) -> bool:
        return self.state.auto_validation_possible and self.state.status in OPEN_FOR_AGREEMENT

    @property
    def awaits_payment_claim(self) -> bool:
        return (
            self.wallet_pays
            and not self.payment_claimed
            and self.state.status == S.READY_FOR_ALLOCATION
        )

    @property
    def is_closed(self) -> bool:
        """Nothing can change the service any more."""
        return self.state.status in CLOSED

    def _record(
        self,
        now: datetime,
        event: str,
        status: S,
        request: Transition,
        *,
        details: ServiceDetails | None = None,
        **flags: bool,
    ) -> None:
        state = self.state
        version = state.version + 1
        entry = HistoryEntry(
            seq=version,
            at=now,
            event=event,
            status=status,
            actor=request.actor,
            reason=request.reason,
            details=details,
        )
        self.state = state.model_copy(
            update={
                "version": version,
                "status": status,
                "details": details or state.details,
                "updated_at": now,
                "history": (*state.history, entry),
                **flags,
            }
        )
        if status not in OPEN_FOR_AGREEMENT or not self.state.auto_validation_possible:
            # The automatic path is gone for good: agreed, cancelled, modified or contested.
            self.state = self.state.model_copy(
                update={"validation_deadline": None, "auto_validation_possible": False}
            )
