"""Fault injection: the real imports worker, except that it dies like a killed process right
after committing one chosen chunk, before Temporal hears that the chunk is done."""

import asyncio
import os

from temporalio import activity
from temporalio.worker import Worker

from dc_imports import worker as imports_worker
from dc_imports.settings import ImportsSettings
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.imports import ChunkRequest, ChunkResult, ImportActivity
from dc_workflows.temporal import connect

CRASH_AFTER_LINE = int(os.environ["CRASH_AFTER_CHUNK_AT_LINE"])


async def main() -> None:
    client = await connect()
    async with imports_worker.activities(ImportsSettings()) as imports:

        @activity.defn(name=ImportActivity.PROCESS_CHUNK)
        async def process_then_die(request: ChunkRequest) -> ChunkResult:
            result = await imports.process_chunk(request)
            if request.start_line == CRASH_AFTER_LINE:
                os._exit(137)
            return result

        activities = [process_then_die, imports.record_outcomes, imports.upsert_workers]
        print("crashing imports worker ready", flush=True)
        await Worker(
            client, task_queue=TaskQueue.IMPORTS, activities=[*activities, imports.finish]
        ).run()


if __name__ == "__main__":
    asyncio.run(main())
