"""The totals by month of the service date, and the indexes the partitioned lists use.

An expand step (docs/operations.md, "Changing the schema"): it only adds. The code before it
neither reads nor writes ``month_totals``; the code after it reads them only once this revision
has filled them from the services already there, in the same transaction, so a selection's
totals are exact from the first request the new code answers. Nothing to contract: no column or
table is given up.

Revision ID: 9d41c0e7a2b3
Revises: b5324d244ecf
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d41c0e7a2b3"
down_revision: str | None = "b5324d244ecf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MONTH = {
    "postgresql": "date_trunc('month', service_date)::date",
    "sqlite": "date(service_date, 'start of month')",
}


def upgrade() -> None:
    op.create_table(
        "month_totals",
        sa.Column("company_id", sa.String(length=10), nullable=False),
        sa.Column("service_month", sa.Date(), nullable=False),
        sa.Column("branch_id", sa.String(length=10), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("activity_type", sa.Integer(), nullable=False),
        sa.Column("services", sa.Integer(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "company_id", "service_month", "branch_id", "status", "activity_type"
        ),
    )
    month = _MONTH[op.get_bind().dialect.name]
    # The month's expression is a constant per dialect, no input.
    op.execute(
        "INSERT INTO month_totals (company_id, service_month, branch_id, status, activity_type, "  # nosec B608
        f"services, hours) SELECT company_id, {month}, coalesce(branch_id, ''), status, "
        "activity_type, count(*), sum(hours) FROM services GROUP BY 1, 2, 3, 4, 5"
    )
    op.create_index(
        "ix_service_totals_company_date", "service_totals", ["company_id", "service_date"]
    )
    op.create_index(
        "ix_services_company_status", "services", ["company_id", "status", "registered_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_services_company_status", table_name="services")
    op.drop_index("ix_service_totals_company_date", table_name="service_totals")
    op.drop_table("month_totals")
