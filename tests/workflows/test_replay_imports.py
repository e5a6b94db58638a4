"""Import histories recorded from real runs must replay on the current ImportWorkflow.

An import of 100,000 rows runs for the better part of an hour, and a stopped one waits days for
an operator: a deploy always finds imports in the middle of their work. A change that makes the
workflow issue different commands for a recorded history (another activity, one more or less, a
different order) would break them all; this test fails on it. Fixtures come from
`uv run python tests/workflows/record_import_histories.py`, one file per run of the workflow
(`<scenario>[.<label>].<run>.json`): the unlabelled ones were recorded on the code before the
imports could stop and be retried (`failed-for-good.1.json`: a step failed with a non-retryable
error, which failed that workflow; the change that now stops the import instead is guarded by
`workflow.patched`, and this history is what proves the guard), the `retry` ones on the code
after.

A history is checked only up to its last event: commands the new code would add after it go
unnoticed.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from dc_workflows.imports import ImportWorkflow
from tests.workflows.record_import_histories import HISTORIES, SCENARIOS

FIXTURES = sorted(HISTORIES.glob("*.json"))


def scenario_of(fixture: Path) -> str:
    return fixture.name.split(".")[0]


def test_every_scenario_has_a_recorded_history() -> None:
    assert {scenario_of(fixture) for fixture in FIXTURES} == set(SCENARIOS)


def recorded_history(fixture: Path) -> WorkflowHistory:
    return WorkflowHistory.from_json(f"import-{fixture.stem}", fixture.read_text())


@pytest.mark.parametrize("fixture", FIXTURES, ids=lambda fixture: fixture.stem)
async def test_recorded_import_history_replays_deterministically(fixture: Path) -> None:
    history = recorded_history(fixture)
    replayer = Replayer(workflows=[ImportWorkflow], data_converter=pydantic_data_converter)
    # Raises temporalio.workflow.NondeterminismError (or any other replay failure).
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None
