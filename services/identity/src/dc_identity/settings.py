"""Configuration of the identity service, from the environment (prefix DC_)."""

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from dc_common.settings import ServiceSettings


class IdentitySettings(ServiceSettings):
    """``DC_IDENTITY_DATABASE_URL``, ``DC_DEMO_DATA``, ``DC_IDENTITY_HOST``, ``DC_IDENTITY_PORT``;
    the development identity provider: ``DC_DEV_IDP``, ``DC_DEV_IDP_ISSUER``,
    ``DC_DEV_IDP_KEY_FILE``, ``DC_DEV_IDP_TOKEN_MINUTES``; and ``DC_OIDC_AUDIENCE``, the audience
    the platform's tokens are for (the gateway checks the same value).

    Fields may also be given by name in code (``IdentitySettings(database_url=...)``).
    """

    model_config = SettingsConfigDict(populate_by_name=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///var/identity.db", validation_alias="DC_IDENTITY_DATABASE_URL"
    )
    demo_data: bool = Field(default=False, validation_alias="DC_DEMO_DATA")
    host: str = Field(default="127.0.0.1", validation_alias="DC_IDENTITY_HOST")
    port: int = Field(default=8001, ge=1, le=65535, validation_alias="DC_IDENTITY_PORT")

    dev_idp: bool = Field(default=False, validation_alias="DC_DEV_IDP")
    dev_idp_issuer: str = Field(
        default="http://127.0.0.1:8001", min_length=1, validation_alias="DC_DEV_IDP_ISSUER"
    )
    dev_idp_key_file: Path = Field(
        default=Path("var/dev-idp-key.json"), validation_alias="DC_DEV_IDP_KEY_FILE"
    )
    dev_idp_token_minutes: int = Field(
        default=60, ge=1, le=24 * 60, validation_alias="DC_DEV_IDP_TOKEN_MINUTES"
    )
    oidc_audience: str = Field(
        default="dienstencheques-platform", min_length=1, validation_alias="DC_OIDC_AUDIENCE"
    )

    jobtracker_issuer: str = Field(
        default="http://127.0.0.1:8001/jobtracker",
        min_length=1,
        validation_alias="DC_JOBTRACKER_ISSUER",
        description="The issuer of the workers' Jobtracker tokens: identity's own address "
        "followed by /jobtracker (its discovery document and keys are public there)",
    )
    jobtracker_key_file: Path = Field(
        default=Path("var/jobtracker-key.json"), validation_alias="DC_JOBTRACKER_KEY_FILE"
    )
    jobtracker_token_minutes: int = Field(
        default=15, ge=1, le=60, validation_alias="DC_JOBTRACKER_TOKEN_MINUTES"
    )
    jobtracker_refresh_days: int = Field(
        default=30, ge=1, le=365, validation_alias="DC_JOBTRACKER_REFRESH_DAYS"
    )
