"""Configuration of the imports service, from the environment (prefix DC_)."""

from pydantic import Field

from dc_common.settings import ServiceSettings


class ImportsSettings(ServiceSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///var/imports.db", validation_alias="DC_IMPORTS_DATABASE_URL"
    )
    host: str = Field(default="127.0.0.1", validation_alias="DC_IMPORTS_HOST")
    port: int = Field(default=8004, ge=1, le=65535, validation_alias="DC_IMPORTS_PORT")
    chunk_size: int = Field(
        default=1000,
        ge=1,
        le=50_000,
        validation_alias="DC_IMPORTS_CHUNK_SIZE",
        description="Rows read and validated by one activity call",
    )
    max_file_bytes: int = Field(
        default=50 * 1024 * 1024, ge=1, validation_alias="DC_IMPORTS_MAX_FILE_BYTES"
    )
