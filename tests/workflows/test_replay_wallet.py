"""Histories of the wallet's workflows, recorded from real runs, must replay on the current code.

WalletChange (every kind: place-order, request-reimbursement, pay-out, expire-vouchers, and the
earlier allocate-pending and submit-reimbursement; a refused order), WalletDailyExpiry and
WalletReconciliation. Fixtures labelled ``before-place-order`` were recorded by the workflows of
the version before orders became one durable step, among them a WalletChange whose signal
Temporal refused (that version logged it and completed; the current one fails the task, and
must still replay that history as it ran). Fixtures come from
`uv run python tests/workflows/record_wallet_histories.py`; never re-record one to make its
replay pass.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from dc_workflows.payments import (
    DailyVoucherExpiryWorkflow,
    WalletChangeWorkflow,
    WalletReconciliationWorkflow,
)
from tests.workflows.record_wallet_histories import (
    ALL_SCENARIOS,
    HISTORIES,
    LEGACY,
    SIGNAL_REFUSED,
    read_fixture,
)

FIXTURES = sorted(HISTORIES.glob("*.json"))
EARLIER = "before-place-order"


def scenario_of(fixture: Path) -> str:
    """`<scenario>.json` or `<scenario>.<label>.json`."""
    return fixture.name.split(".")[0]


def label_of(fixture: Path) -> str | None:
    parts = fixture.name.split(".")
    return parts[1] if len(parts) == 3 else None


def test_every_scenario_has_a_recorded_history() -> None:
    current = {scenario_of(f) for f in FIXTURES if label_of(f) is None}
    earlier = {scenario_of(f) for f in FIXTURES if label_of(f) == EARLIER}
    assert current == set(ALL_SCENARIOS) - set(SIGNAL_REFUSED)
    assert earlier == set(LEGACY) | set(SIGNAL_REFUSED)
    types = {read_fixture(fixture)[1] for fixture in FIXTURES}
    assert types == {"WalletChange", "WalletDailyExpiry", "WalletReconciliation"}


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda fixture: fixture.stem)
async def test_recorded_history_replays_deterministically(fixture: Path) -> None:
    workflow_id, _, history = read_fixture(fixture)
    replayer = Replayer(
        workflows=[WalletChangeWorkflow, DailyVoucherExpiryWorkflow, WalletReconciliationWorkflow],
        data_converter=pydantic_data_converter,
    )
    # Raises temporalio.workflow.NondeterminismError (or any other replay failure).
    result = await replayer.replay_workflow(WorkflowHistory.from_json(workflow_id, history))
    assert result.replay_failure is None
