"""Configuration of the gateway, from the environment (prefix DC_)."""

from pydantic import Field, SecretStr

from dc_common.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    host: str = Field(default="127.0.0.1", validation_alias="DC_GATEWAY_HOST")
    port: int = Field(default=8000, validation_alias="DC_GATEWAY_PORT")
    services_url: str = Field(default="http://127.0.0.1:8002", validation_alias="DC_SERVICES_URL")
    identity_url: str = Field(default="http://127.0.0.1:8001", validation_alias="DC_IDENTITY_URL")
    wallet_url: str = Field(default="http://127.0.0.1:8003", validation_alias="DC_WALLET_URL")
    imports_url: str = Field(default="http://127.0.0.1:8004", validation_alias="DC_IMPORTS_URL")
    oidc_issuer: str = Field(
        default="http://127.0.0.1:8001",
        validation_alias="DC_OIDC_ISSUER",
        description="The OpenID Connect issuer whose tokens the gateway accepts",
    )
    jobtracker_issuer: str = Field(
        default="http://127.0.0.1:8001/jobtracker",
        validation_alias="DC_JOBTRACKER_ISSUER",
        description="Identity's issuer of the workers' Jobtracker tokens (the same value as "
        "identity's); such a token acts as the worker only",
    )
    oidc_audience: str = Field(
        default="dienstencheques-platform", validation_alias="DC_OIDC_AUDIENCE"
    )
    oidc_keys_refresh_seconds: float = Field(
        default=10.0,
        ge=0,
        validation_alias="DC_OIDC_KEYS_REFRESH_SECONDS",
        description="At most one JWKS refetch per this many seconds for tokens of unknown key id",
    )
    upstream_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        description="No call to a service waits longer: past it the caller gets a 503",
    )
    max_body_bytes: int = Field(
        default=1 << 20,
        ge=1024,
        validation_alias="DC_MAX_BODY_BYTES",
        description="The largest request body the gateway reads (a form, a JSON document)",
    )
    max_upload_bytes: int = Field(
        default=51 << 20,
        ge=1024,
        validation_alias="DC_MAX_UPLOAD_BYTES",
        description="The largest upload of an import file, with its form (the imports service "
        "refuses files over DC_IMPORTS_MAX_FILE_BYTES, 50 MiB by default)",
    )
    login_attempts_per_address: str = Field(
        default="30/minute",
        validation_alias="DC_LOGIN_ATTEMPTS_PER_ADDRESS",
        description="Logins from one address (the Jobtracker's logins, refreshes and password "
        "changes, the portal's logins) past this rate are refused with 429 until the window "
        "moves on; generous, for an office of workers behind one address",
    )
    rate_limit_storage: str = Field(
        default="async+memory://",
        validation_alias="DC_RATE_LIMIT_STORAGE",
        description="Where the login attempts are counted: in the process by default; "
        "async+redis://host:6379 to share the count between several gateways",
    )
    portal_url: str = Field(
        default="http://127.0.0.1:8000",
        validation_alias="DC_PORTAL_URL",
        description="Where people open the portal (its login callback is under it); https in "
        "production, which makes the session cookie Secure",
    )
    portal_client_id: str = Field(
        default="dc-portal",
        validation_alias="DC_PORTAL_CLIENT_ID",
        description="The portal's client id at the OpenID Connect issuer",
    )
    portal_session_secret: SecretStr | None = Field(
        default=None,
        validation_alias="DC_PORTAL_SESSION_SECRET",
        description="Signs the portal's session cookie; derived from DC_INTERNAL_TOKEN when unset",
    )
    temporal_ui_url: str = Field(
        default="http://127.0.0.1:8233",
        validation_alias="DC_TEMPORAL_UI_URL",
        description="The Temporal UI operators follow a service's workflow in",
    )

    @property
    def portal_https(self) -> bool:
        return self.portal_url.startswith("https://")
