"""A database made by the version before imports were scoped by branch (one import per company,
kind and file) is brought up to date when the service starts: its imports are kept, and the same
file then makes an import of its own for each branch (and one for the whole company)."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    JSON,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
)

from dc_common.db import Database
from dc_imports import repository
from dc_imports.models import create_tables
from tests.support.servers import DIALECTS, empty_database

COMPANY = "0712345630"
GENT, ANTWERPEN = "2234567818", "2234567917"
FILE = "ab" * 32


def _imports_before_branch_scope(metadata: MetaData) -> Table:
    """The imports table as the earlier version created it."""
    return Table(
        "imports",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("company_id", String(10), nullable=False),
        Column("branch_id", String(10)),
        Column("kind", String(16), nullable=False),
        Column("content_hash", String(64), nullable=False),
        Column("filename", String(255), nullable=False),
        Column("size", Integer, nullable=False),
        Column("uploaded_by", String(64), nullable=False),
        Column("actor_kind", String(16), nullable=False),
        Column("actor_id", String(64), nullable=False),
        Column("status", String(16), nullable=False),
        Column("workflow_id", String(200), nullable=False),
        Column("service_day", Date, nullable=False),
        Column("file_format", String(8)),
        Column("encoding", String(16)),
        Column("delimiter", String(4)),
        Column("header", JSON),
        Column("failure", Text),
        Column("failure_details", JSON),
        *(
            Column(name, Integer, nullable=False, server_default="0")
            for name in (
                "rows_total",
                "rows_read",
                "accepted",
                "rejected",
                "duplicates",
                "registered",
                "flagged",
            )
        ),
        Column("next_line", Integer, nullable=False, server_default="2"),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("started_at", DateTime(timezone=True)),
        Column("finished_at", DateTime(timezone=True)),
        UniqueConstraint("company_id", "kind", "content_hash", name="uq_imports_file"),
        Index("ix_imports_company_created", "company_id", "created_at", "id"),
    )


def _import(branch_id: str | None, **values: Any) -> dict[str, Any]:
    import_id = str(uuid.uuid4())
    return {
        "id": import_id,
        "company_id": COMPANY,
        "branch_id": branch_id,
        "kind": "services",
        "content_hash": FILE,
        "filename": "services.csv",
        "size": 10,
        "uploaded_by": "93011826786",
        "actor_kind": "company",
        "actor_id": COMPANY,
        "status": "done",
        "workflow_id": f"import-{import_id}",
        "service_day": date(2026, 1, 15),
        "created_at": datetime(2026, 1, 15, 9, 0, tzinfo=UTC),
        **values,
    }


@pytest.fixture(params=DIALECTS)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    async with empty_database(request.param, tmp_path, "imports_schema") as url:
        yield url


async def test_an_earlier_database_takes_the_same_file_for_another_branch(
    database_url: str,
) -> None:
    db = Database(database_url)
    try:
        gent = _import(GENT, rows_read=3, registered=2, accepted=2, rejected=1)
        async with db.engine.begin() as connection:
            old = _imports_before_branch_scope(MetaData())
            await connection.run_sync(old.metadata.create_all)
            await connection.execute(insert(old).values(gent))

        await create_tables(db.engine)
        await create_tables(db.engine)  # every start does it: the second time, nothing to do

        async with db.transaction() as session:
            created = {
                name: await repository.create_import(session, _import(branch))
                for name, branch in (
                    ("antwerpen", ANTWERPEN),
                    ("company", None),
                    ("gent again", GENT),
                    ("antwerpen again", ANTWERPEN),
                    ("company again", None),
                )
            }
        assert created == {
            "antwerpen": True,
            "company": True,
            "gent again": False,
            "antwerpen again": False,
            "company again": False,
        }
        async with db.sessions() as session:
            kept = await repository.find_import(session, COMPANY, GENT, "services", FILE)
            company = await repository.find_import(session, COMPANY, None, "services", FILE)
        assert kept is not None and company is not None
        assert (kept.id, kept.rows_read, kept.registered, kept.uploaded_by_name) == (
            gent["id"],
            3,
            2,
            None,
        )
        assert (kept.retryable, company.branch_id) == (False, None)
    finally:
        await db.dispose()
