"""Histories recorded from earlier code must replay on the current ServiceLifecycleWorkflow.

A change that makes the workflow issue different commands for the same history (another
activity, a timer more or less, a different order) breaks every running service on deploy;
this test fails on it. Fixtures come from `uv run python tests/workflows/record_histories.py`.

A history is checked only up to its last event: commands the new code would add after it
(e.g. at the very end of a history that stops at 11) go unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from tests.workflows.record_histories import HISTORIES, SCENARIOS, history_workflow_id

FIXTURES = sorted(HISTORIES.glob("*.json"))


def scenario_of(fixture: Path) -> str:
    """`<scenario>.json` or `<scenario>.<label>.json`."""
    return fixture.name.split(".")[0]


def test_every_scenario_has_a_recorded_history() -> None:
    assert {scenario_of(fixture) for fixture in FIXTURES} == set(SCENARIOS)


def recorded_history(fixture: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(history_workflow_id(scenario_of(fixture)), fixture.read_text())


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda fixture: fixture.stem)
async def test_recorded_history_replays_deterministically(fixture: Path) -> None:
    replayer = Replayer(
        workflows=[ServiceLifecycleWorkflow], data_converter=pydantic_data_converter
    )
    # Raises temporalio.workflow.NondeterminismError (or any other replay failure).
    result = await replayer.replay_workflow(recorded_history(fixture))
    assert result.replay_failure is None
