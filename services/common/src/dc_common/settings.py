"""The settings every service shares; each service extends them with its own."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DC_", extra="ignore", populate_by_name=True)

    log_json: bool = False
    log_level: str = "INFO"
