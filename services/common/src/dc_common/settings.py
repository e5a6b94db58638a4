"""The settings every service shares; each service extends them with its own."""

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from dc_common.internal import TOKEN_VARIABLE
from dc_common.mail_links import MailLinks, link_secret


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DC_", extra="ignore", populate_by_name=True)

    log_json: bool = False
    log_level: str = "INFO"
    ops_host: str = Field(
        default="127.0.0.1",
        validation_alias="DC_OPS_HOST",
        description="Where the operations endpoints listen (0.0.0.0 in a container)",
    )
    ops_port: int | None = Field(
        default=None,
        validation_alias="DC_OPS_PORT",
        description="The port of this process's /healthz, /readyz and /metrics; none when unset",
    )
    internal_token: SecretStr | None = Field(
        default=None,
        validation_alias=TOKEN_VARIABLE,
        description="The secret the internal APIs share with the gateway and the workers",
    )
    mail_link_secret: SecretStr | None = Field(
        default=None,
        validation_alias="DC_MAIL_LINK_SECRET",
        description="Signs the links in the e-mails to households (services-mgmt signs, the "
        "gateway reads); derived from DC_INTERNAL_TOKEN when unset",
    )
    mail_link_days: int = Field(
        default=14,
        ge=1,
        le=90,
        validation_alias="DC_MAIL_LINK_DAYS",
        description="How long a link in an e-mail to a household opens its service",
    )

    def mail_links(self) -> MailLinks:
        return MailLinks(
            link_secret(self.mail_link_secret, self.internal_token),
            lifetime=timedelta(days=self.mail_link_days),
        )
