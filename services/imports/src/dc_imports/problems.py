"""A file refused as a whole, as the HTTP problem document the API answers with."""

from dc_common.problems import Problem
from dc_imports.formats import FileError


def file_problem(error: FileError) -> Problem:
    """422 naming every column concerned (or the file) and why."""
    errors = [{"field": issue.column, "reason": issue.reason} for issue in error.issues]
    return Problem(
        422,
        "File cannot be imported",
        str(error),
        errors=errors or [{"field": "file", "reason": error.reason}],
    )
