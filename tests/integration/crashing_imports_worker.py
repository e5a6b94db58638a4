"""Fault injection: the real imports worker, except for one chosen chunk (by its first line).

- ``CRASH_AFTER_CHUNK_AT_LINE``: it dies like a killed process right after committing that
  chunk, before Temporal hears that the chunk is done.
- ``POISONED_CHUNK_AT_LINE``: the step ``POISONED_STEP`` (``process_chunk``, the default, or
  ``record_outcomes``) keeps failing for that chunk, as a bug on some input would: every attempt,
  for every import, until the worker is replaced.
"""

import asyncio
import os

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from dc_imports import worker as imports_worker
from dc_imports.settings import ImportsSettings
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.imports import (
    ChunkOutcomes,
    ChunkRequest,
    ChunkResult,
    ImportActivity,
    ImportCounts,
)
from dc_workflows.temporal import connect

CRASH_AFTER_LINE = int(os.environ.get("CRASH_AFTER_CHUNK_AT_LINE", "0"))
POISONED_LINE = int(os.environ.get("POISONED_CHUNK_AT_LINE", "0"))
POISONED_STEP = os.environ.get("POISONED_STEP", "process_chunk")


def poison(step: str, line: int) -> None:
    if step == POISONED_STEP and line == POISONED_LINE:
        raise ApplicationError(f"{step} cannot handle the chunk at line {line}", type="Poisoned")


async def main() -> None:
    client = await connect()
    async with imports_worker.activities(ImportsSettings()) as imports:

        @activity.defn(name=ImportActivity.PROCESS_CHUNK)
        async def process_chunk(request: ChunkRequest) -> ChunkResult:
            poison("process_chunk", request.start_line)
            result = await imports.process_chunk(request)
            if request.start_line == CRASH_AFTER_LINE:
                os._exit(137)
            return result

        @activity.defn(name=ImportActivity.RECORD_OUTCOMES)
        async def record_outcomes(outcomes: ChunkOutcomes) -> ImportCounts:
            poison("record_outcomes", outcomes.start_line)
            return await imports.record_outcomes(outcomes)

        replaced = {"process_chunk", "record_outcomes"}
        others = [fn for fn in imports.all if fn.__name__ not in replaced]
        print("fault-injecting imports worker ready", flush=True)
        await Worker(
            client,
            task_queue=TaskQueue.IMPORTS,
            activities=[process_chunk, record_outcomes, *others],
        ).run()


if __name__ == "__main__":
    asyncio.run(main())
