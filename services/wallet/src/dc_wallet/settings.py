"""Configuration of the wallet service, from the environment (prefix DC_WALLET_).

Every value here that is policy (price, validity, minimum order, yearly cap, reimbursement value)
is read once per process and handed to the domain as a :class:`~dc_wallet.domain.WalletPolicy`.
"""

from datetime import date, timedelta

from pydantic import Field

from dc_common.settings import ServiceSettings
from dc_wallet.domain import WalletPolicy


class WalletSettings(ServiceSettings):
    database_url: str = Field(
        default="sqlite+aiosqlite:///var/wallet.db", validation_alias="DC_WALLET_DATABASE_URL"
    )
    host: str = Field(default="127.0.0.1", validation_alias="DC_WALLET_HOST")
    port: int = Field(default=8003, validation_alias="DC_WALLET_PORT")
    voucher_price_cents: int = Field(
        default=1000, ge=1, validation_alias="DC_WALLET_VOUCHER_PRICE_CENTS"
    )
    voucher_validity_months: int = Field(
        default=12, ge=1, validation_alias="DC_WALLET_VOUCHER_VALIDITY_MONTHS"
    )
    service_window_months: int = Field(
        default=12,
        ge=1,
        validation_alias="DC_WALLET_SERVICE_WINDOW_MONTHS",
        description="a voucher pays only services performed at most this long before its issue",
    )
    minimum_order: int = Field(default=10, ge=1, validation_alias="DC_WALLET_MINIMUM_ORDER")
    yearly_cap: int = Field(default=500, ge=1, validation_alias="DC_WALLET_YEARLY_CAP")
    reimbursement_value_cents: int = Field(
        default=2752, ge=1, validation_alias="DC_WALLET_REIMBURSEMENT_VALUE_CENTS"
    )
    refund_expired_from: date = Field(
        default=date(2025, 1, 1),
        validation_alias="DC_WALLET_REFUND_EXPIRED_FROM",
        description="vouchers expiring on a run from this date on are refunded to the user",
    )

    change_wait_seconds: float = Field(
        default=10.0,
        gt=0,
        validation_alias="DC_WALLET_CHANGE_WAIT_SECONDS",
        description="how long the API waits for an order's or a request's WalletChange before "
        "it answers 202 (being processed: ask again with the same reference)",
    )
    reconciliation_settle_seconds: int = Field(
        default=300,
        ge=0,
        validation_alias="DC_WALLET_RECONCILIATION_SETTLE_SECONDS",
        description="the reconciliation leaves the changes of the last moments before its run "
        "to the next run (their lifecycles may still be being told)",
    )
    reconciliation_first_window_days: int = Field(
        default=31,
        ge=1,
        validation_alias="DC_WALLET_RECONCILIATION_FIRST_WINDOW_DAYS",
        description="how far back the first reconciliation run looks (later runs start where "
        "the previous finished run ended)",
    )

    @property
    def change_wait(self) -> timedelta:
        return timedelta(seconds=self.change_wait_seconds)

    def policy(self) -> WalletPolicy:
        return WalletPolicy(
            voucher_price_cents=self.voucher_price_cents,
            voucher_validity_months=self.voucher_validity_months,
            service_window_months=self.service_window_months,
            minimum_order=self.minimum_order,
            yearly_cap=self.yearly_cap,
            reimbursement_value_cents=self.reimbursement_value_cents,
            refund_expired_from=self.refund_expired_from,
        )
