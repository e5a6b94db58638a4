"""The service status codes as they appear in exports (see DOMAIN.md)."""

from enum import IntEnum


class ServiceStatus(IntEnum):
    ENCODED = 1
    VALIDATED = 2
    CONTESTED = 3
    MODIFIED = 4
    CANCELLED = 5
    READY_FOR_ALLOCATION = 11
    ALLOCATED = 12
    REIMBURSEMENT_REQUESTED = 13
    REIMBURSED = 14
    CONFIRMED = 15
    PARTIALLY_ALLOCATED_FIRST = 16
    PARTIALLY_REIMBURSED = 17
    PARTIALLY_ALLOCATED_SECOND = 18
    PARTIALLY_ALLOCATED_LAST = 19
    PAY_OUTSIDE_VOUCHERS = 20

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS: dict[ServiceStatus, str] = {
    ServiceStatus.ENCODED: "encoded",
    ServiceStatus.VALIDATED: "validated by company",
    ServiceStatus.CONTESTED: "contested",
    ServiceStatus.MODIFIED: "modified",
    ServiceStatus.CANCELLED: "cancelled",
    ServiceStatus.READY_FOR_ALLOCATION: "ready for voucher allocation",
    ServiceStatus.ALLOCATED: "allocated",
    ServiceStatus.REIMBURSEMENT_REQUESTED: "reimbursement requested",
    ServiceStatus.REIMBURSED: "reimbursed",
    ServiceStatus.CONFIRMED: "confirmed",
    ServiceStatus.PARTIALLY_ALLOCATED_FIRST: "partially allocated, first",
    ServiceStatus.PARTIALLY_REIMBURSED: "partially reimbursed",
    ServiceStatus.PARTIALLY_ALLOCATED_SECOND: "partially allocated, second",
    ServiceStatus.PARTIALLY_ALLOCATED_LAST: "partially allocated, last",
    ServiceStatus.PAY_OUTSIDE_VOUCHERS: "to be paid outside vouchers",
}
