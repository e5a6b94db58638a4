"""A 100,000-row file streams: reading holds a row at a time, chunks resume where they stopped."""

import tracemalloc
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from dc_imports.columns import FileKind
from dc_imports.formats import iter_chunks, open_rows, read_chunk
from dc_imports.generate import CsvStyle, Expected, generate, write_csv
from dc_imports.validation import FileValidator

ROWS = 100_000
TODAY = date(2026, 1, 15)
S = FileKind.SERVICES


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[Expected, int]]:
    path = tmp_path_factory.mktemp("imports") / "services-100k.csv"
    counts = dict.fromkeys(Expected, 0)

    def values() -> Iterator[dict[str, str]]:
        for row in generate(S, ROWS, seed=11, bad_fraction=0.02, duplicate_fraction=0.01):
            counts[row.expected] += 1
            yield row.values

    with path.open("wb") as out:
        write_csv(out, S, values(), CsvStyle(encoding="cp1252"))
    return path, counts


def peak_while(run: object) -> int:
    tracemalloc.start()
    try:
        assert callable(run)
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_reading_100k_rows_holds_about_one_row_at_a_time(
    big_file: tuple[Path, dict[Expected, int]],
) -> None:
    path, _ = big_file
    assert path.stat().st_size > 4_000_000
    seen = {"rows": 0, "last": 0}

    def read() -> None:
        with open_rows(path, S) as stream:
            for row in stream:
                seen["rows"] += 1
                seen["last"] = row.line

    peak = peak_while(read)
    assert seen == {"rows": ROWS, "last": ROWS + 1}
    # The file is over 4 MB and its rows as objects over 50 MB; reading keeps ~1 MB.
    assert peak < 2_000_000, peak


def test_validating_100k_rows_keeps_only_small_per_key_state(
    big_file: tuple[Path, dict[Expected, int]],
) -> None:
    path, counts = big_file
    validator = FileValidator(S, today=TODAY)

    def validate() -> None:
        with open_rows(path, S) as stream:
            for _ in validator.check_rows(stream):
                pass

    peak = peak_while(validate)
    assert validator.counts.model_dump() == {
        "read": ROWS,
        "accepted": counts[Expected.VALID],
        "rejected": counts[Expected.BAD],
        "duplicates": counts[Expected.DUPLICATE],
    }
    # duplicate keys + plausibility entries: tens of bytes a row, not the rows themselves
    assert peak < 45_000_000, peak


def test_chunks_of_a_big_file_resume_from_their_offset(
    big_file: tuple[Path, dict[Expected, int]],
) -> None:
    path, _ = big_file
    lines = [row.line for chunk in iter_chunks(path, S, size=7_000) for row in chunk.rows]
    assert lines == list(range(2, ROWS + 2))
    # an activity that crashed reads its chunk again: same rows, from the line alone or the offset
    middle = read_chunk(path, S, start_line=50_002, size=1000)
    first = read_chunk(path, S, start_line=2, size=50_000)
    resumed = read_chunk(
        path, S, start_line=first.next_line, size=1000, start_offset=first.next_offset
    )
    assert [(r.line, r.cells) for r in middle.rows] == [(r.line, r.cells) for r in resumed.rows]
    assert middle.next_offset == resumed.next_offset


def test_one_validator_across_chunks_gives_what_one_pass_gives(
    big_file: tuple[Path, dict[Expected, int]],
) -> None:
    path, _ = big_file
    whole = FileValidator(S, today=TODAY)
    with open_rows(path, S) as stream:
        expected = [(r.line, r.outcome, r.duplicate_of) for r in whole.check_rows(stream)]
    chunked = FileValidator(S, today=TODAY)
    got = [
        (r.line, r.outcome, r.duplicate_of)
        for chunk in iter_chunks(path, S, size=9_999)
        for r in chunked.check_rows(chunk.rows)
    ]
    assert got == expected
    assert chunked.counts == whole.counts
    assert chunked.flags() == whole.flags()
