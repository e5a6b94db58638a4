"""Configuration of services-mgmt, from the environment (prefix DC_)."""

from pydantic import Field

from dc_common.settings import ServiceSettings
from dc_workflows.contracts.lifecycle import LifecyclePolicy, WindowUnit


class ServicesSettings(ServiceSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///var/services.db", validation_alias="DC_SERVICES_DATABASE_URL"
    )
    identity_url: str = Field(default="http://127.0.0.1:8001", validation_alias="DC_IDENTITY_URL")
    host: str = Field(default="127.0.0.1", validation_alias="DC_SERVICES_HOST")
    port: int = Field(default=8002, validation_alias="DC_SERVICES_PORT")
    smtp_host: str = Field(default="127.0.0.1", validation_alias="DC_SMTP_HOST")
    smtp_port: int = Field(default=1025, validation_alias="DC_SMTP_PORT")
    mail_from: str = Field(
        default="Dienstencheques <noreply@dienstencheques.example>", validation_alias="DC_MAIL_FROM"
    )
    portal_url: str = Field(default="http://127.0.0.1:8000", validation_alias="DC_PORTAL_URL")
    validation_window_days: int = Field(
        default=5, ge=1, validation_alias="DC_VALIDATION_WINDOW_DAYS"
    )
    validation_window_unit: WindowUnit = Field(
        default=WindowUnit.CALENDAR,
        validation_alias="DC_VALIDATION_WINDOW_UNIT",
        description="calendar (the product brief) or working (Belgian working days, since 2025)",
    )
    reminder_lead_hours: int = Field(default=24, ge=0, validation_alias="DC_REMINDER_LEAD_HOURS")

    def lifecycle_policy(self) -> LifecyclePolicy:
        """The policy a service is registered under (fixed for its whole life)."""
        return LifecyclePolicy(
            validation_window_days=self.validation_window_days,
            window_unit=self.validation_window_unit,
            reminder_lead_hours=self.reminder_lead_hours,
        )
