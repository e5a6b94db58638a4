"""Starting WalletChangeWorkflow: the one way the API hands a wallet change to Temporal.

An order and a reimbursement request are *run*: the workflow is started first (its activity
checks and writes them) and the API waits for its result, so a start that fails has written
nothing. Their workflow id comes from the business key, with the reuse policy "allow duplicate
failed only": a call under a key whose workflow runs or ran waits for (or reads) that one's
result, and only after a refusal (the workflow failed, nothing was written) does the same key
start anew. A payout is only *started* (reject duplicate): the wallet recorded nothing before it.

The API depends on the small :class:`WorkflowStarter` protocol, so its tests can pass one that
plays the workflow; in production :class:`TemporalStarter` starts it on the lifecycle task queue.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from temporalio.client import Client, WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.payments import (
    CHANGE_REFUSED,
    ChangeRefusal,
    RecordedChange,
    WalletChange,
)
from dc_workflows.ids import wallet_change_workflow_id
from dc_workflows.payments import WALLET_CHANGE, WalletChangeWorkflow


class ChangeNotStarted(Exception):
    """Temporal did not take the change: nothing was recorded, the caller may try again."""


class ChangeRefused(Exception):
    """The wallet refused the change: nothing was recorded."""

    def __init__(self, refusal: ChangeRefusal) -> None:
        super().__init__(refusal.detail)
        self.refusal = refusal


@dataclass(frozen=True)
class ChangeOutcome:
    started: bool
    """True when this call started the change; False when it found it started before."""
    result: RecordedChange | None
    """What the change did; None when it had not finished within the wait."""


class WorkflowStarter(Protocol):
    async def start(self, change: WalletChange) -> None:
        """Start the change's workflow once: starting it again is harmless. Raises
        :class:`ChangeNotStarted` when Temporal cannot be reached."""

    async def run(self, change: WalletChange, *, wait: timedelta) -> ChangeOutcome:
        """Start the change's workflow (or find it started under its key) and wait up to
        ``wait`` for its result. Raises :class:`ChangeNotStarted` when it could not be started
        and :class:`ChangeRefused` when the wallet refused it."""


def refusal_of(error: BaseException | None) -> ChangeRefusal | None:
    """The refusal an ApplicationError of type ``CHANGE_REFUSED`` carries, else None."""
    if isinstance(error, ApplicationError) and error.type == CHANGE_REFUSED and error.details:
        return ChangeRefusal.model_validate(error.details[0])
    return None


class TemporalStarter:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def start(self, change: WalletChange) -> None:
        try:
            await self._client.start_workflow(
                WalletChangeWorkflow.run,
                change,
                id=wallet_change_workflow_id(change.kind.value, change.key),
                task_queue=TaskQueue.LIFECYCLE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return  # started before (a repeated payout): nothing to do
        except Exception as error:
            raise ChangeNotStarted(str(error)) from error

    async def run(self, change: WalletChange, *, wait: timedelta) -> ChangeOutcome:
        workflow_id = wallet_change_workflow_id(change.kind.value, change.key)
        started = True
        try:
            handle = await self._client.start_workflow(
                WALLET_CHANGE,
                change,
                id=workflow_id,
                task_queue=TaskQueue.LIFECYCLE,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                result_type=RecordedChange,
            )
        except WorkflowAlreadyStartedError:
            started = False
            handle = self._client.get_workflow_handle(workflow_id, result_type=RecordedChange)
        except Exception as error:
            raise ChangeNotStarted(str(error)) from error
        try:
            async with asyncio.timeout(wait.total_seconds()):
                result = await handle.result()
        except (TimeoutError, RPCError):
            return ChangeOutcome(started, None)  # it runs: its outcome is asked for again
        except WorkflowFailureError as failure:
            refusal = refusal_of(failure.cause)
            if refusal is None:
                # Ended otherwise (terminated by an operator, ...): the same key asked again
                # starts it anew, and its activity finishes what this one may have begun.
                return ChangeOutcome(started, None)
            raise ChangeRefused(refusal) from None
        return ChangeOutcome(started, RecordedChange.model_validate(result))
