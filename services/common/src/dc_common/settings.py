"""The settings every service shares; each service extends them with its own."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dc_common.internal import TOKEN_VARIABLE


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DC_", extra="ignore", populate_by_name=True)

    log_json: bool = False
    log_level: str = "INFO"
    internal_token: SecretStr | None = Field(
        default=None,
        validation_alias=TOKEN_VARIABLE,
        description="The secret the internal APIs share with the gateway and the workers",
    )
