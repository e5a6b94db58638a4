"""Configuration of the identity service, from the environment (prefix DC_)."""

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dc_common.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    """``DC_IDENTITY_DATABASE_URL``, ``DC_DEMO_DATA``, ``DC_IDENTITY_HOST``, ``DC_IDENTITY_PORT``.

    Fields may also be given by name in code (``IdentitySettings(database_url=...)``).
    """

    model_config = SettingsConfigDict(populate_by_name=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/identity.db", validation_alias="DC_IDENTITY_DATABASE_URL"
    )
    demo_data: bool = Field(default=False, validation_alias="DC_DEMO_DATA")
    host: str = Field(default="127.0.0.1", validation_alias="DC_IDENTITY_HOST")
    port: int = Field(default=8001, ge=1, le=65535, validation_alias="DC_IDENTITY_PORT")
