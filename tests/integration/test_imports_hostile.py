"""Hostile files uploaded through the gateway: each import ends failed, with the reason on its
status and in its error report, and not one row or service stored; a file of a million empty
lines is read in one chunk and its one row registered."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from dc_identity.demo import DEMO, SCHELDE, SCHELDE_STAFF
from tests.integration.imports_support import all_rows, error_report, imported
from tests.support.hostile_files import Hostile, csv_header, hostile_files
from tests.support.platform import Platform

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

ROW = (DEMO.workers[0].login, DEMO.users[2].user_number, "17/10/2023", "3", "1", "")
THROUGH_THE_API = {
    "zip bomb (a 300 MB cell packed into 300 KB)",
    "billion laughs (entity expansion)",
    "external entity (XXE) reading /etc/passwd",
    "workbook with a broken sheet",
    "10,000 columns",
    "a 20 MB header line",
}
HOSTILE = [hostile for hostile in hostile_files(ROW) if hostile.name in THROUGH_THE_API]


@pytest.fixture(scope="module")
async def staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with platform.as_person(SCHELDE_STAFF.national_number) as client:
        yield client


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
async def test_a_hostile_upload_fails_with_its_reason_and_stores_nothing(
    staff: httpx.AsyncClient, hostile: Hostile
) -> None:
    body = await imported(staff, hostile.content, company_id=SCHELDE, filename="hostile.xlsx")

    assert body["status"] == "failed", body
    failure = body["failure"]
    said = [failure["reason"], *(error["reason"] for error in failure.get("errors") or [])]
    assert any(hostile.refusal in reason for reason in said), failure
    counts = (body["rows_read"], body["accepted"], body["registered"], body["rejected"])
    assert counts == (0, 0, 0, 0), body
    assert await all_rows(staff, body["id"]) == []
    report = await error_report(staff, body["id"])
    assert report[0]["field"] == "file"
    assert any(hostile.refusal in row["reason"] for row in report), report[:3]


async def test_a_million_empty_lines_before_a_row_are_passed_over_in_one_chunk(
    staff: httpx.AsyncClient,
) -> None:
    content = csv_header() + b"\r\n" * 1_000_000 + (";".join(ROW) + "\r\n").encode()

    body = await imported(staff, content, company_id=SCHELDE, filename="blank.csv")

    assert body["status"] == "done", body
    assert (body["rows_read"], body["rejected"]) == (1, 0), body
    assert [row["line"] for row in await all_rows(staff, body["id"])] == [1_000_002]
