"""Configuration of the gateway, from the environment (prefix DC_)."""

from pydantic import Field

from dc_common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    host: str = Field(default="127.0.0.1", validation_alias="DC_GATEWAY_HOST")
    port: int = Field(default=8000, validation_alias="DC_GATEWAY_PORT")
    services_url: str = Field(default="http://127.0.0.1:8002", validation_alias="DC_SERVICES_URL")
    upstream_timeout_seconds: float = Field(default=30.0, gt=0)
