"""Histories recorded from earlier code must replay on the current ServiceLifecycleWorkflow.

A change that makes the workflow issue different commands for the same history (another
activity, a timer more or less, a different order) breaks every running service on deploy;
this test fails on it. Fixtures come from `uv run python tests/workflows/record_histories.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from tests.workflows.record_histories import SCENARIOS, history_workflow_id

HISTORIES = Path(__file__).parent / "histories"


def test_every_scenario_has_a_recorded_history() -> None:
    assert sorted(path.stem for path in HISTORIES.glob("*.json")) == sorted(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_recorded_history_replays_deterministically(scenario: str) -> None:
    history = WorkflowHistory.from_json(
        history_workflow_id(scenario), (HISTORIES / f"{scenario}.json").read_text()
    )
    replayer = Replayer(
        workflows=[ServiceLifecycleWorkflow], data_converter=pydantic_data_converter
    )
    # Raises temporalio.workflow.NondeterminismError (or any other replay failure).
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
