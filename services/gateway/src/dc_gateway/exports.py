"""Lists as CSV files the way a Belgian Excel opens them (:mod:`dc_common.spreadsheet`),
streamed a page at a time from the service that owns the list: flat memory, any length.

A route checks who may read the list first, then hands the pages to :func:`csv_answer`; the
first page is read before the answer starts, so a failing service is a clear error rather than
a cut-off file.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from fastapi.responses import StreamingResponse

from dc_common.spreadsheet import CONTENT_TYPE, CsvEncoder
from dc_workflows.deadline import BRUSSELS

Row = dict[str, Any]
Pages = AsyncIterator[list[Row]]
#: How many rows the gateway asks of a service at a time.
PAGE = 500
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "UTF-8 with BOM, ';', CRLF"}
}
#: What an export route declares: a streamed CSV answer.
CSV_ROUTE: dict[str, Any] = {"response_class": StreamingResponse, "responses": CSV_RESPONSES}


@dataclass(frozen=True)
class Column:
    name: str
    value: Callable[[Row], object]


def text(name: str, key: str | None = None) -> Column:
    return Column(name, lambda row: row.get(key or name))


def instant(name: str, key: str | None = None) -> Column:
    """A moment, in Brussels time."""

    def value(row: Row) -> object:
        raw = row.get(key or name)
        return datetime.fromisoformat(raw).astimezone(BRUSSELS) if raw else None

    return Column(name, value)


def belgian_day(moment: str) -> str:
    """The day of a moment in Brussels, as Belgian Excel writes a date."""
    return datetime.fromisoformat(moment).astimezone(BRUSSELS).strftime("%d/%m/%Y")


def day(name: str, key: str | None = None) -> Column:
    return Column(
        name, lambda row: date.fromisoformat(row[key or name]) if row.get(key or name) else None
    )


def euros(name: str, key: str) -> Column:
    """An amount in cents, as euros with two decimals."""
    return Column(name, lambda row: (Decimal(row[key]) / 100).quantize(Decimal("0.01")))


async def csv_answer(filename: str, columns: Sequence[Column], pages: Pages) -> StreamingResponse:
    first: list[Row] = await anext(pages, [])

    async def pieces() -> AsyncIterator[bytes]:
        encoder = CsvEncoder()
        yield encoder.header([column.name for column in columns])
        rows = first
        while rows:
            yield encoder.rows([column.value(row) for column in columns] for row in rows)
            rows = await anext(pages, [])

    return StreamingResponse(
        pieces(),
        media_type=CONTENT_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def by_offset(fetch: Callable[[int, int], Awaitable[list[Row]]]) -> Pages:
    """Pages of a list read with ``limit`` and ``offset``."""
    offset = 0
    while rows := await fetch(PAGE, offset):
        yield rows
        if len(rows) < PAGE:
            return
        offset += len(rows)


async def by_page(fetch: Callable[[int, int], Awaitable[Row]], *, size: int = PAGE) -> Pages:
    """Pages of a list read with ``page`` and ``page_size`` (an answer with ``items``)."""
    number = 1
    while rows := (await fetch(number, size))["items"]:
        yield rows
        if len(rows) < size:
            return
        number += 1


async def by_before_id(fetch: Callable[[int, int | None], Awaitable[list[Row]]]) -> Pages:
    """Pages of a list newest first, each read after the last id of the one before."""
    before: int | None = None
    while rows := await fetch(PAGE, before):
        yield rows
        if len(rows) < PAGE:
            return
        before = rows[-1]["id"]


async def one_page(rows: list[Row]) -> Pages:
    yield rows
