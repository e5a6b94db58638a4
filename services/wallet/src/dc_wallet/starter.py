"""Starting WalletChangeWorkflow: the one way the API hands a wallet change to Temporal.

The API depends on the small :class:`WorkflowStarter` protocol, so its tests can pass a fake that
records the changes; in production :class:`TemporalStarter` starts the workflow on the lifecycle
task queue (the lifecycle worker hosts WalletChangeWorkflow, which calls the wallet's activity and
tells every affected service's lifecycle).
"""

from contextlib import suppress
from typing import Protocol

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.payments import WalletChange
from dc_workflows.ids import wallet_change_workflow_id
from dc_workflows.payments import WalletChangeWorkflow


class WorkflowStarter(Protocol):
    async def start(self, change: WalletChange) -> None:
        """Start the change's workflow once: starting it again is harmless."""


class TemporalStarter:
    def __init__(self, client: Client) -> None:
        self._client = client

    async def start(self, change: WalletChange) -> None:
        # Started before (a repeated order, request or payout): nothing to do.
        with suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                WalletChangeWorkflow.run,
                change,
                id=wallet_change_workflow_id(change.kind.value, change.key),
                task_queue=TaskQueue.LIFECYCLE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
