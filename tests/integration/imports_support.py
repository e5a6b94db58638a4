"""Shared by the imports tests: files as spreadsheets write them, uploads, waiting for the end."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import httpx
from sqlalchemy import func, select

from dc_imports.models import ImportRow
from dc_services.models import Service
from tests.support.platform import Platform
from tests.support.spreadsheets import downloaded_csv
from tests.support.waiting import eventually

SERVICES_HEADER = ("Werknemer", "Gebruikersnummer", "Datum", "Uren", "Activiteit", "Vestiging")


def csv_bytes(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    delimiter: str = ";",
    encoding: str = "utf-8-sig",
    newline: str = "\r\n",
) -> bytes:
    """A CSV file as a spreadsheet saves it (Belgian Excel by default: BOM, ``;``, CRLF)."""
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue().encode(encoding)


async def upload(
    client: httpx.AsyncClient,
    content: bytes,
    *,
    kind: str = "services",
    company_id: str,
    branch_id: str | None = None,
    filename: str = "services.csv",
) -> httpx.Response:
    data = {"kind": kind, "company_id": company_id}
    if branch_id is not None:
        data["branch_id"] = branch_id
    return await client.post(
        "/api/v1/imports", files={"file": (filename, content, "text/csv")}, data=data
    )


async def started(client: httpx.AsyncClient, content: bytes, **options: Any) -> dict[str, Any]:
    response = await upload(client, content, **options)
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert body["status"] in ("queued", "running", "done", "failed")
    return body


async def import_of(client: httpx.AsyncClient, import_id: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/imports/{import_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def reached(
    client: httpx.AsyncClient, import_id: str, statuses: Sequence[str], *, within: float = 90.0
) -> dict[str, Any]:
    """The import once its status is one of ``statuses`` (polled through the API)."""
    last: dict[str, Any] = {}

    async def there() -> bool:
        nonlocal last
        last = await import_of(client, import_id)
        return last["status"] in statuses

    try:
        await eventually(there, within=within)
    except AssertionError as error:
        raise AssertionError(f"import {import_id} not {'/'.join(statuses)}: {last}") from error
    return last


async def finished(
    client: httpx.AsyncClient, import_id: str, *, within: float = 90.0
) -> dict[str, Any]:
    """The import once it is done or failed."""
    return await reached(client, import_id, ("done", "failed"), within=within)


async def imported(client: httpx.AsyncClient, content: bytes, **options: Any) -> dict[str, Any]:
    """Upload and wait for the end."""
    return await finished(client, (await started(client, content, **options))["id"])


async def all_rows(client: httpx.AsyncClient, import_id: str, **query: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await client.get(
            f"/api/v1/imports/{import_id}/rows",
            params={**query, "page": str(page), "page_size": "500"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        rows += body["items"]
        if len(rows) >= body["total"]:
            return rows
        page += 1


async def error_report(client: httpx.AsyncClient, import_id: str) -> list[dict[str, str]]:
    """errors.csv as a list of dicts (checks it is Belgian Excel's CSV: BOM, ``;``, CRLF)."""
    return downloaded_csv(await client.get(f"/api/v1/imports/{import_id}/errors.csv"))


async def services_of_import(platform: Platform, service_ids: Sequence[str]) -> list[Service]:
    async with platform.services_db.sessions() as session:
        result = await session.scalars(select(Service).where(Service.id.in_(service_ids)))
        return list(result)


async def projected(platform: Platform, service_ids: Sequence[str], *, within: float = 60) -> None:
    """Every one of these services is in the read model (the lifecycles project themselves)."""

    async def all_there() -> bool:
        return len(await services_of_import(platform, service_ids)) == len(set(service_ids))

    await eventually(all_there, within=within)


async def count_with_key(
    platform: Platform, worker_login: str, user_number: str, service_date: Any
) -> int:
    async with platform.services_db.sessions() as session:
        return int(
            await session.scalar(
                select(func.count())
                .select_from(Service)
                .where(
                    Service.worker_login == worker_login,
                    Service.user_number == user_number,
                    Service.service_date == service_date,
                )
            )
            or 0
        )


async def stored_lines(platform: Platform, import_id: str) -> list[int]:
    assert platform.imports_db is not None
    async with platform.imports_db.sessions() as session:
        result = await session.scalars(
            select(ImportRow.line).where(ImportRow.import_id == import_id).order_by(ImportRow.line)
        )
        return list(result)
