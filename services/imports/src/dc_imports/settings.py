"""Configuration of the imports service, from the environment (prefix DC_)."""

from pydantic import Field

from dc_common.settings import ServiceSettings
from dc_workflows.contracts.imports import ImportTuning


class ImportsSettings(ServiceSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///var/imports.db", validation_alias="DC_IMPORTS_DATABASE_URL"
    )
    identity_url: str = Field(default="http://127.0.0.1:8001", validation_alias="DC_IDENTITY_URL")
    host: str = Field(default="127.0.0.1", validation_alias="DC_IMPORTS_HOST")
    port: int = Field(default=8004, ge=1, le=65535, validation_alias="DC_IMPORTS_PORT")
    chunk_size: int = Field(
        default=1000,
        ge=1,
        le=50_000,
        validation_alias="DC_IMPORTS_CHUNK_SIZE",
        description="Rows read and validated by one activity call",
    )
    chunks_per_run: int = Field(
        default=10,
        ge=1,
        validation_alias="DC_IMPORTS_CHUNKS_PER_RUN",
        description="Chunks an import workflow handles before it continues as new",
    )
    register_concurrency: int = Field(
        default=32,
        ge=1,
        le=256,
        validation_alias="DC_IMPORTS_REGISTER_CONCURRENCY",
        description="Lifecycle workflows started at a time for one chunk",
    )
    heartbeat_seconds: int = Field(
        default=30,
        ge=1,
        validation_alias="DC_IMPORTS_HEARTBEAT_SECONDS",
        description="A worker that dies is noticed after this long, and its work retried",
    )
    activity_attempts: int = Field(
        default=10,
        ge=1,
        validation_alias="DC_IMPORTS_ACTIVITY_ATTEMPTS",
        description="Attempts of one step (1 s, 2 s, 4 s ... at most a minute apart) before the "
        "import stops, failed, until an operator retries it",
    )
    retry_wait_seconds: int = Field(
        default=7 * 24 * 3600,
        ge=1,
        validation_alias="DC_IMPORTS_RETRY_WAIT_SECONDS",
        description="How long a stopped import's workflow waits for an operator's retry (a "
        "retry later starts a new run)",
    )
    max_file_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, validation_alias="DC_IMPORTS_MAX_FILE_BYTES"
    )

    @property
    def tuning(self) -> ImportTuning:
        return ImportTuning(
            chunk_size=self.chunk_size,
            chunks_per_run=self.chunks_per_run,
            register_concurrency=self.register_concurrency,
            heartbeat_seconds=self.heartbeat_seconds,
            activity_attempts=self.activity_attempts,
            retry_wait_seconds=self.retry_wait_seconds,
        )
