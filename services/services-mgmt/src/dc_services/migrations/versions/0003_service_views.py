"""Who looked at a household's services: the ``service_views`` table.

An expand step (docs/operations.md, "Changing the schema"): it only adds a table the code before
it never touches.

Revision ID: 4c7e2f9a1d08
Revises: 9d41c0e7a2b3
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import dc_common.db

revision: str = "4c7e2f9a1d08"
down_revision: str | None = "9d41c0e7a2b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "service_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", dc_common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("user_number", sa.String(length=12), nullable=False),
        sa.Column("service_id", sa.String(length=36), nullable=False),
        sa.Column("service_date", sa.Date(), nullable=False),
        sa.Column("company_id", sa.String(length=10), nullable=False),
        sa.Column("viewer_kind", sa.String(length=16), nullable=False),
        sa.Column("viewer_id", sa.String(length=64), nullable=False),
        sa.Column("viewer_person", sa.String(length=64), nullable=True),
        sa.Column("viewer_name", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_service_views_user", "service_views", ["user_number", "id"])


def downgrade() -> None:
    op.drop_index("ix_service_views_user", table_name="service_views")
    op.drop_table("service_views")
