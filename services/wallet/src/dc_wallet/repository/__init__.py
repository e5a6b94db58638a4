"""Reads and writes of the wallet database, by concern.

Every change of a user's vouchers or claims happens in one transaction that first locks the
user's wallet (:func:`lock_wallets`), and every activity records its result in the same
transaction (:func:`record`), so a retry changes nothing and answers the same.

- :mod:`.locking`: the database, its transactions, the wallet lock, the recorded results of
  idempotent operations;
- :mod:`.ledger`: the movements of a wallet;
- :mod:`.orders`: orders and the vouchers they issue;
- :mod:`.allocation`: claims of services and the allocation of vouchers to them;
- :mod:`.reimbursement`: reimbursement requests, their submission and payout;
- :mod:`.expiry`: the daily expiry;
- :mod:`.reconciliation`: its runs, and the claims changed in a window;
- :mod:`.paper`: the issuer's list of paper vouchers;
- :mod:`.views`: what the API shows (the wallet, statements, lists of requests).

Callers use the names re-exported here (``repository.lock_wallets``, ...).
"""

from dc_wallet.repository.allocation import (
    allocate,
    available_vouchers,
    changed,
    claim_view,
    register_claim,
    voucher_view,
    waiting_claims,
)
from dc_wallet.repository.expiry import expire_wallet, wallets_to_expire
from dc_wallet.repository.ledger import ledger_entry
from dc_wallet.repository.locking import (
    READ_ONLY,
    ConcurrentWalletChange,
    lock_wallets,
    open_database,
    reading,
    record,
    record_change,
    recorded,
    recorded_change,
    recorded_with_prefix,
    writing,
)
from dc_wallet.repository.orders import (
    MAX_VOUCHERS_PER_ORDER,
    find_order,
    ordered_in_year,
    orders_in_year,
    place_order,
    voucher_number,
)
from dc_wallet.repository.paper import paper_voucher, save_paper_voucher
from dc_wallet.repository.reconciliation import (
    begin_run,
    changed_payments,
    finish_run,
    latest_run,
    latest_update,
)
from dc_wallet.repository.reimbursement import (
    claims_by_ids,
    create_request,
    pay_out_request,
    payable_counts,
    request_services,
    request_users,
    submit_request,
)
from dc_wallet.repository.views import (
    ExpiryGroup,
    StatementLine,
    WalletView,
    list_requests,
    statement_lines,
    wallet_view,
)

__all__ = [
    "MAX_VOUCHERS_PER_ORDER",
    "READ_ONLY",
    "ConcurrentWalletChange",
    "ExpiryGroup",
    "StatementLine",
    "WalletView",
    "allocate",
    "available_vouchers",
    "begin_run",
    "changed",
    "changed_payments",
    "claim_view",
    "claims_by_ids",
    "create_request",
    "expire_wallet",
    "find_order",
    "finish_run",
    "latest_run",
    "latest_update",
    "ledger_entry",
    "list_requests",
    "lock_wallets",
    "open_database",
    "ordered_in_year",
    "orders_in_year",
    "paper_voucher",
    "pay_out_request",
    "payable_counts",
    "place_order",
    "reading",
    "record",
    "record_change",
    "recorded",
    "recorded_change",
    "recorded_with_prefix",
    "register_claim",
    "request_services",
    "request_users",
    "save_paper_voucher",
    "statement_lines",
    "submit_request",
    "voucher_number",
    "voucher_view",
    "waiting_claims",
    "wallet_view",
    "wallets_to_expire",
    "writing",
]
