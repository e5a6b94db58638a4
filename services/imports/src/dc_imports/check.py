"""Check a file from the command line: read and validate it, print the counts and the rate.

``python -m dc_imports.check services.csv --kind services [--errors errors.csv] [--today D]``

Prints one JSON line: how the file was read, rows read / accepted / rejected / duplicates, the
plausibility flags by code, and the seconds and rows per second of reading plus validating.
Exit code 0 when the file could be read (whatever its rows), 2 when it was refused as a whole.
"""

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from dc_imports.columns import FileKind
from dc_imports.formats import FileError, open_rows
from dc_imports.records import RowResult
from dc_imports.report import file_error_report, write_error_report
from dc_imports.validation import FileValidator


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dc_imports.check", description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--kind", type=FileKind, choices=list(FileKind), required=True)
    parser.add_argument("--errors", type=Path, help="write the error report (CSV) here")
    parser.add_argument("--today", type=date.fromisoformat, help="today in Belgium (default: now)")
    args = parser.parse_args(argv)

    validator = FileValidator(args.kind, today=args.today)
    rejected: list[RowResult] = []
    started = time.perf_counter()
    try:
        with open_rows(args.file, args.kind) as rows:
            info, names = rows.info, rows.header.names
            for result in validator.check_rows(rows):
                if result.errors:
                    rejected.append(result)
    except FileError as error:
        if args.errors:
            args.errors.write_bytes(file_error_report(error))
        print(json.dumps({"file": str(args.file), "refused": str(error)}), file=sys.stdout)
        return 2
    flags = validator.flags()
    seconds = time.perf_counter() - started
    if args.errors:
        with args.errors.open("wb") as out:
            write_error_report(out, names, rejected)
    counts = validator.counts
    summary = {
        "file": str(args.file),
        "format": info.format.value,
        "encoding": info.encoding,
        "delimiter": info.delimiter,
        **counts.model_dump(),
        "flags": dict(Counter(flag.code.value for flag in flags)),
        "seconds": round(seconds, 3),
        "rows_per_second": round(counts.read / seconds) if seconds else None,
    }
    print(json.dumps(summary), file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
