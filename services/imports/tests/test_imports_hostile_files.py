"""Hostile and broken files (zip bombs, entity expansion, broken XML, giant cells and headers,
wrong encodings, a million empty lines): each is refused with a reason a clerk can act on, or
read, in bounded memory, and never ends in anything but :class:`FileError`."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from dc_imports.columns import FileKind
from dc_imports.formats import (
    MAX_HEADER_ISSUES,
    Chunk,
    FileError,
    iter_chunks,
    read_header,
)
from tests.support.hostile_files import (
    SERVICES_HEADER,
    SHEET,
    Hostile,
    csv_header,
    hostile_files,
    rezipped,
    workbook,
)

S = FileKind.SERVICES
ROW = ("980100000001", "100000000001", "03/11/2025", "4", "1", "")
HOSTILE = hostile_files(ROW)
MiB = 1024 * 1024


class Peak:
    bytes = 0


@contextmanager
def peak_memory() -> Iterator[Peak]:
    """The most Python memory held at once inside the block."""
    peak = Peak()
    tracemalloc.start()
    try:
        yield peak
    finally:
        peak.bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def chunks_of(content: bytes) -> list[Chunk]:
    return list(iter_chunks(content, S, size=1000))


@pytest.mark.parametrize("hostile", HOSTILE, ids=[h.name for h in HOSTILE])
def test_a_hostile_file_is_refused_with_its_reason_in_bounded_memory(hostile: Hostile) -> None:
    with peak_memory() as peak, pytest.raises(FileError) as refused:
        read_header(hostile.content, S)
        chunks_of(hostile.content)

    assert hostile.refusal in str(refused.value)
    assert len(str(refused.value)) < 2_000, "a message a person can read"
    # Whatever the file unpacks to, no more than twice what was uploaded is held at once.
    assert peak.bytes < 2 * len(hostile.content) + 16 * MiB, peak.bytes


def test_a_header_of_thousands_of_columns_names_the_first_and_counts_the_rest() -> None:
    columns = ";".join(f"kolom {n}" for n in range(10_000))
    with pytest.raises(FileError) as refused:
        read_header(f"{columns}\r\n".encode(), S)

    issues = refused.value.issues
    assert len(issues) == MAX_HEADER_ISSUES + 1
    assert issues[0].column == "kolom 0" and issues[0].reason == "unknown column"
    # 10,000 unknown columns and the 5 required ones missing, of which 20 are named.
    assert issues[-1].reason == f"{10_000 + 5 - MAX_HEADER_ISSUES} more columns like these"


def test_a_million_empty_lines_cost_one_chunk_and_the_row_after_them_is_read() -> None:
    content = csv_header() + b"\r\n" * 1_000_000 + (";".join(ROW) + "\r\n").encode()

    with peak_memory() as peak:
        chunks = chunks_of(content)

    assert len(chunks) == 1 and chunks[0].done
    assert [row.line for row in chunks[0].rows] == [1_000_002]
    assert peak.bytes < 16 * MiB, peak.bytes


def test_a_workbook_formatted_down_to_its_last_row_costs_one_chunk() -> None:
    last = 1_048_576
    content = rezipped(
        workbook([SERVICES_HEADER, ROW]),
        SHEET,
        lambda xml: xml.replace(
            b"</sheetData>",
            b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>end</t></is></c></row></sheetData>'
            % (last, last),
        ),
    )

    chunks = chunks_of(content)

    assert len(chunks) == 1 and chunks[0].done
    assert [row.line for row in chunks[0].rows] == [2, last]


def test_chunks_after_blank_runs_resume_where_the_previous_one_stopped() -> None:
    rows = [(";".join(ROW) + "\r\n").encode()] * 5
    content = csv_header() + (b"\r\n" * 3).join(rows)

    chunks = list(iter_chunks(content, S, size=2))

    assert [[row.line for row in chunk.rows] for chunk in chunks] == [[2, 6], [10, 14], [18]]
    assert [chunk.next_line for chunk in chunks[:-1]] == [10, 18]


def test_formula_cells_arrive_as_their_cached_values_or_empty() -> None:
    content = workbook([SERVICES_HEADER, ('=HYPERLINK("http://evil.example")', *ROW[1:3], "=2+2")])

    (chunk,) = chunks_of(content)

    (row,) = chunk.rows
    # openpyxl stores no cached value: what a formula would compute is never imported as such.
    assert (row.get("worker_login"), row.get("hours")) == (None, None)
