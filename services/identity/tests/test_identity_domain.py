"""The numbering rules of the directory, and the demo directory obeying them."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dc_identity import domain
from dc_identity.demo import DEMO

# --- enterprise numbers -------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "0712345630",
        "0823456754",
        "0403170701",  # a real-world style number: 04031707 mod 97 = 96 -> check 01
        "0000000097",  # base divisible by 97: check digits are 97, not 00
    ],
)
def test_valid_enterprise_numbers(number: str) -> None:
    assert domain.is_valid_enterprise_number(number)
    assert domain.enterprise_number_error(number) is None


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("0712345631", "check digits do not match (mod 97)"),
        ("0000000000", "check digits do not match (mod 97)"),
        ("071234563", "must be exactly 10 digits"),
        ("07123456300", "must be exactly 10 digits"),
        ("0712.345.630", "must be exactly 10 digits"),
        ("BE0712345630", "must be exactly 10 digits"),
        ("07123456٣0", "must be exactly 10 digits"),  # a non-ASCII digit
        ("", "must be exactly 10 digits"),
    ],
)
def test_invalid_enterprise_numbers(number: str, reason: str) -> None:
    assert not domain.is_valid_enterprise_number(number)
    assert domain.enterprise_number_error(number) == reason


@given(st.from_regex(r"[0-9]{8}", fullmatch=True))
def test_completed_enterprise_numbers_are_valid(first_eight: str) -> None:
    assert domain.is_valid_enterprise_number(domain.with_enterprise_check(first_eight))


@given(
    st.from_regex(r"[0-9]{8}", fullmatch=True),
    st.integers(min_value=0, max_value=9),
    st.integers(min_value=1, max_value=9),
)
def test_any_single_digit_error_is_detected(first_eight: str, position: int, shift: int) -> None:
    number = domain.with_enterprise_check(first_eight)
    wrong = str((int(number[position]) + shift) % 10)
    typo = number[:position] + wrong + number[position + 1 :]
    assert not domain.is_valid_enterprise_number(typo)


def test_completing_needs_eight_digits() -> None:
    with pytest.raises(ValueError, match="8 digits"):
        domain.with_enterprise_check("1234567")


# --- establishment unit numbers -------------------------------------------------------------


@pytest.mark.parametrize("number", ["2234567818", "2234567917", "2345678942", "8000000071"])
def test_valid_establishment_unit_numbers(number: str) -> None:
    assert domain.is_valid_establishment_unit_number(number)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("0712345630", "must start with a digit from 2 to 8"),  # an enterprise number
        ("1234567819", "must start with a digit from 2 to 8"),
        ("9234567890", "must start with a digit from 2 to 8"),
        ("2234567819", "check digits do not match (mod 97)"),
        ("223456781", "must be exactly 10 digits"),
        ("22345678a8", "must be exactly 10 digits"),
    ],
)
def test_invalid_establishment_unit_numbers(number: str, reason: str) -> None:
    assert not domain.is_valid_establishment_unit_number(number)
    assert domain.establishment_unit_number_error(number) == reason


def test_the_check_for_first_digit_nine_and_one_is_otherwise_right() -> None:
    # Same mod-97 arithmetic, rejected only for the first digit.
    assert domain.is_valid_enterprise_number(domain.with_enterprise_check("92345678"))
    assert not domain.is_valid_establishment_unit_number(domain.with_enterprise_check("92345678"))


# --- national numbers (INSZ) ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "century", "born"),
    [
        ("85031212461", 1900, date(1985, 3, 12)),
        ("79110403727", 1900, date(1979, 11, 4)),
        ("01051714611", 2000, date(2001, 5, 17)),  # born 2001: check over 2010517146
        ("00010100105", 2000, date(2000, 1, 1)),  # born on 1 January 2000
    ],
)
def test_valid_national_numbers(number: str, century: int, born: date) -> None:
    assert domain.is_valid_national_number(number)
    assert domain.national_number_century(number) == century
    assert domain.national_number_birth_date(number) == born


def test_born_after_2000_check_is_not_the_old_check() -> None:
    first_nine = "010517146"
    new = domain.with_national_check(first_nine, born_2000_or_later=True)
    old = domain.with_national_check(first_nine)
    assert new != old
    assert domain.is_valid_national_number(new)
    assert domain.is_valid_national_number(old)
    assert domain.national_number_century(new) == 2000
    assert domain.national_number_century(old) == 1900


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("85031212462", "check digits do not match (mod 97)"),
        ("01051714612", "check digits do not match (mod 97)"),
        ("8503121246", "must be exactly 11 digits"),
        ("850312124611", "must be exactly 11 digits"),
        ("85.03.12-124.61", "must be exactly 11 digits"),
    ],
)
def test_invalid_national_numbers(number: str, reason: str) -> None:
    assert not domain.is_valid_national_number(number)
    assert domain.national_number_error(number) == reason
    assert domain.national_number_century(number) is None
    assert domain.national_number_birth_date(number) is None


def test_birth_date_unknown_for_bis_numbers() -> None:
    bis = domain.with_national_check("854312124")  # month + 40: a BIS number
    assert domain.is_valid_national_number(bis)
    assert domain.national_number_birth_date(bis) is None


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2099, 12, 31)), st.integers(1, 998))
def test_every_birth_date_round_trips(born: date, serial: int) -> None:
    first_nine = f"{born:%y%m%d}{serial:03d}"
    number = domain.with_national_check(first_nine, born_2000_or_later=born.year >= 2000)
    assert domain.is_valid_national_number(number)
    assert domain.national_number_birth_date(number) == born


# --- logins and user numbers ----------------------------------------------------------------


@pytest.mark.parametrize("login", ["980100000001", "980000000000", "980999999999"])
def test_valid_worker_logins(login: str) -> None:
    assert domain.is_valid_worker_login(login)


@pytest.mark.parametrize(
    ("login", "reason"),
    [
        ("981100000001", "must start with 980"),
        ("100000000001", "must start with 980"),
        ("98010000001", "must be exactly 12 digits"),
        ("9801000000011", "must be exactly 12 digits"),
        ("98010000000x", "must be exactly 12 digits"),
        (" 980100000001", "must be exactly 12 digits"),
    ],
)
def test_invalid_worker_logins(login: str, reason: str) -> None:
    assert not domain.is_valid_worker_login(login)
    assert domain.worker_login_error(login) == reason


def test_user_numbers() -> None:
    assert domain.is_valid_user_number("100000000001")
    assert domain.is_valid_user_number("980100000001")
    assert domain.user_number_error("10000000001") == "must be exactly 12 digits"
    assert domain.user_number_error("1000000000011") == "must be exactly 12 digits"
    assert domain.user_number_error("10000000000a") == "must be exactly 12 digits"


# --- the demo directory ---------------------------------------------------------------------


def test_demo_directory_is_valid_and_consistent() -> None:
    companies = {company.enterprise_number for company in DEMO.companies}
    branches = {branch.establishment_unit_number: branch.company_id for branch in DEMO.branches}
    assert len(companies) == 2
    assert len(branches) == 3
    assert all(domain.is_valid_enterprise_number(number) for number in companies)
    assert all(domain.is_valid_establishment_unit_number(number) for number in branches)
    assert set(branches.values()) == companies
    assert len({company.recognition_number for company in DEMO.companies}) == 2

    assert len({worker.login for worker in DEMO.workers}) == len(DEMO.workers) == 6
    assert len({worker.national_number for worker in DEMO.workers}) == len(DEMO.workers)
    for worker in DEMO.workers:
        assert domain.is_valid_worker_login(worker.login), worker
        assert domain.is_valid_national_number(worker.national_number), worker
        assert worker.company_id in companies
        assert worker.branch_id is not None
        assert branches[worker.branch_id] == worker.company_id
        assert worker.language in {"nl", "fr", "de", "en"}
        assert worker.contract_end is None or worker.contract_end > worker.contract_start
    assert any(worker.contract_end is not None for worker in DEMO.workers)
    assert any(domain.national_number_century(w.national_number) == 2000 for w in DEMO.workers)

    assert len({user.user_number for user in DEMO.users}) == len(DEMO.users) == 5
    for user in DEMO.users:
        assert domain.is_valid_user_number(user.user_number), user
        assert user.email.endswith("@example.org")
        assert user.language in {"nl", "fr", "de", "en"}
    assert {user.language for user in DEMO.users} == {"nl", "fr", "de", "en"}
