"""Belgian identification numbers: companies, branches, people, logins and user numbers.

Pure functions, shared by every service that checks these numbers (identity's API and directory,
the imports' row validation). Every ``*_error`` function returns ``None`` for a valid value, or
the reason it is not valid, worded to follow the field name in an error message ("login: must
start with 980"). The ``is_valid_*`` functions are the boolean shorthands.
"""

import re
from datetime import date

_DIGITS = re.compile(r"[0-9]+")


def mod97_check(base: int) -> int:
    """The two check digits of the Belgian mod-97 scheme: 97 minus the remainder (1..97)."""
    return 97 - base % 97


def _digits_error(value: str, length: int) -> str | None:
    if len(value) != length or not _DIGITS.fullmatch(value):
        return f"must be exactly {length} digits"
    return None


def enterprise_number_error(value: str) -> str | None:
    """KBO/BCE enterprise number: 10 digits, last two = 97 - (first 8 mod 97)."""
    if reason := _digits_error(value, 10):
        return reason
    if int(value[8:]) != mod97_check(int(value[:8])):
        return "check digits do not match (mod 97)"
    return None


def establishment_unit_number_error(value: str) -> str | None:
    """Establishment unit (branch) number: 10 digits, first digit 2 to 8, mod-97 check."""
    if reason := _digits_error(value, 10):
        return reason
    if value[0] not in "2345678":
        return "must start with a digit from 2 to 8"
    if int(value[8:]) != mod97_check(int(value[:8])):
        return "check digits do not match (mod 97)"
    return None


def national_number_error(value: str) -> str | None:
    """National number (INSZ/NISS): 11 digits, mod-97 check over the first 9.

    For people born in 2000 or later the check is computed over "2" followed by the first 9
    digits; a number is valid when either check matches.
    """
    if reason := _digits_error(value, 11):
        return reason
    if national_number_century(value) is None:
        return "check digits do not match (mod 97)"
    return None


def national_number_century(value: str) -> int | None:
    """1900 or 2000 according to which check digits match; None when neither (or malformed)."""
    if _digits_error(value, 11):
        return None
    check = int(value[9:])
    if check == mod97_check(int(value[:9])):
        return 1900
    if check == mod97_check(int("2" + value[:9])):
        return 2000
    return None


def national_number_birth_date(value: str) -> date | None:
    """The birth date a national number encodes, when it encodes a full one.

    None for an invalid number and for numbers whose month or day is unknown (00) or shifted
    (BIS numbers add 20 or 40 to the month).
    """
    century = national_number_century(value)
    if century is None:
        return None
    try:
        return date(century + int(value[0:2]), int(value[2:4]), int(value[4:6]))
    except ValueError:
        return None


def worker_login_error(value: str) -> str | None:
    """The worker's personal login (phone line and Jobtracker): 12 digits starting with 980."""
    if reason := _digits_error(value, 12):
        return reason
    if not value.startswith("980"):
        return "must start with 980"
    return None


def user_number_error(value: str) -> str | None:
    """A user's (household's) number: 12 digits."""
    return _digits_error(value, 12)


def is_valid_enterprise_number(value: str) -> bool:
    return enterprise_number_error(value) is None


def is_valid_establishment_unit_number(value: str) -> bool:
    return establishment_unit_number_error(value) is None


def is_valid_national_number(value: str) -> bool:
    return national_number_error(value) is None


def is_valid_worker_login(value: str) -> bool:
    return worker_login_error(value) is None


def is_valid_user_number(value: str) -> bool:
    return user_number_error(value) is None


def with_enterprise_check(first_eight: str) -> str:
    """Complete 8 digits into a valid enterprise or establishment unit number."""
    if _digits_error(first_eight, 8):
        raise ValueError("need exactly 8 digits")
    return f"{first_eight}{mod97_check(int(first_eight)):02d}"


def with_national_check(first_nine: str, *, born_2000_or_later: bool = False) -> str:
    """Complete 9 digits (YYMMDD + serial) into a valid national number."""
    if _digits_error(first_nine, 9):
        raise ValueError("need exactly 9 digits")
    base = int(("2" if born_2000_or_later else "") + first_nine)
    return f"{first_nine}{mod97_check(base):02d}"
