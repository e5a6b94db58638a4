"""Reading one cell as a typed value, or the reason it cannot be one.

Each parser takes a :data:`~dc_imports.formats.Cell` (text from CSV, typed from XLSX) and returns
the value or raises :class:`Invalid` with a reason worded to follow the field name in a report
("hours: must be a whole number").
"""

import re
from datetime import date, datetime, time, timedelta

from dc_imports.formats import Cell, cell_text, is_blank

_EXCEL_EPOCH = date(1899, 12, 30)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]0{1,2}:00(?::00(?:\.0+)?)?)?")
_DMY = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?: 0{1,2}:00(?::00)?)?")
_DMY_SHORT_YEAR = re.compile(r"\d{1,2}([/.-])\d{1,2}\1\d{2}")
_WHOLE = re.compile(r"([+-]?\d+)(?:[.,]0*)?")
_DECIMAL = re.compile(r"[+-]?\d*[.,]\d+")
_NUMBER_SEPARATORS = re.compile("[ \u00a0\u202f./-]")  # not line breaks: those are errors
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Invalid(ValueError):
    """The reason a cell is not a valid value."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def text(cell: Cell) -> str:
    """The cell as trimmed text (empty for a blank cell)."""
    if type(cell) is str:  # every CSV cell: the fast path
        return cell.strip()
    return cell_text(cell).strip()


def required_text(cell: Cell, *, max_length: int) -> str:
    """A name: required, one line, at most ``max_length`` characters, inner spaces collapsed."""
    value = text(cell)
    if not value:
        raise Invalid("is required")
    if _CONTROL.search(value):
        raise Invalid("must be on one line, without control characters")
    if "\ufffd" in value:
        raise Invalid("holds characters that cannot be read: save the file as CSV UTF-8")
    value = " ".join(value.split())
    if len(value) > max_length:
        raise Invalid(f"must be at most {max_length} characters")
    if not any(char.isalpha() for char in value):
        raise Invalid("must contain a letter")
    return value


def number_text(cell: Cell, *, separators: bool = False) -> str:
    """An identification number as its digits. A number cell (XLSX) gives its digits as they
    are: leading zeros a spreadsheet dropped are not guessed back here (only a check digit can
    tell, see the national number). With ``separators``, spaces, dots, slashes and dashes are
    removed (``85.03.12-124.61``). The check of the digits is left to the caller."""
    if isinstance(cell, bool):
        return cell_text(cell)
    if isinstance(cell, int) or (isinstance(cell, float) and cell.is_integer()):
        return str(int(cell))
    value = text(cell)
    if separators and not (value.isascii() and value.isdigit()):
        value = _NUMBER_SEPARATORS.sub("", value)
    return value


def whole_number(cell: Cell, *, unit: str = "") -> int:
    """A whole number: 4, "4", "4,0" and "4.0" are 4; "4,5" is not whole."""
    if type(cell) is str and cell.isascii() and cell.isdigit():
        return int(cell)
    suffix = f" of {unit}" if unit else ""
    if isinstance(cell, bool):
        raise Invalid(f"must be a whole number{suffix}")
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        if not cell.is_integer():
            raise Invalid(f"must be a whole number{suffix}")
        return int(cell)
    value = text(cell)
    if not value:
        raise Invalid("is required")
    match = _WHOLE.fullmatch(value)
    if match:
        return int(match.group(1))
    if _DECIMAL.fullmatch(value):
        raise Invalid(f"must be a whole number{suffix}")
    raise Invalid("must be a number")


def a_date(cell: Cell) -> date:
    """A date: a date cell, an Excel serial number, or text as yyyy-mm-dd, dd/mm/yyyy,
    dd-mm-yyyy or dd.mm.yyyy (day and month may have one digit)."""
    if type(cell) is str:
        return _date_text(cell.strip())
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, bool | time | timedelta):
        raise Invalid("must be a date (yyyy-mm-dd or dd/mm/yyyy)")
    if isinstance(cell, int | float):
        if float(cell).is_integer() and 1 <= cell <= 2958465:  # Excel's 1900-01-01 .. 9999-12-31
            return _EXCEL_EPOCH + timedelta(days=int(cell))
        raise Invalid("must be a date (yyyy-mm-dd or dd/mm/yyyy)")
    return _date_text(text(cell))


def _date_text(value: str) -> date:
    if not value:
        raise Invalid("is required")
    if match := _ISO.fullmatch(value):
        year, month, day = (int(part) for part in match.groups())
    elif match := _DMY.fullmatch(value):
        day, month, year = int(match.group(1)), int(match.group(3)), int(match.group(4))
    elif _DMY_SHORT_YEAR.fullmatch(value):
        raise Invalid("must have a year of 4 digits (dd/mm/yyyy)")
    else:
        raise Invalid("must be a date (yyyy-mm-dd or dd/mm/yyyy)")
    try:
        return date(year, month, day)
    except ValueError:
        raise Invalid("is not a day of the calendar") from None


def optional(cell: Cell) -> bool:
    """True when an optional cell holds something to read."""
    return not is_blank(cell)
