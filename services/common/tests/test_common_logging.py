"""The logging safety net: whatever a process logs through structlog or the standard library
(uvicorn's access log, httpx...) reaches stderr with every national number masked, and nothing
else changed; pseudonyms follow a person without naming them."""

import json
import subprocess
import sys
import textwrap

import pytest

from dc_common.belgian_numbers import with_national_check
from dc_common.logging import MASK, mask_text

SOFIE = "85031212461"  # born 1985
ANA = "01051714611"  # born 2001: the check over "2" + the first nine digits
NOT_A_NUMBER = "85031212462"  # 11 digits, wrong check digits
USER_NUMBER = "100000000001"
LOGIN = "980100000001"
COMPANY = "0712345630"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (SOFIE, MASK),
        (ANA, MASK),
        ("85.03.12-124.61", MASK),
        ("85.03.12.124.61", MASK),
        (f"GET /v1/people/{SOFIE}/access HTTP/1.1", f"GET /v1/people/{MASK}/access HTTP/1.1"),
        (f"sub={SOFIE} and {ANA}.", f"sub={MASK} and {MASK}."),
        (f'{{"actor": "{ANA}"}}', f'{{"actor": "{MASK}"}}'),
        # Not a national number: left exactly as it is.
        (NOT_A_NUMBER, NOT_A_NUMBER),
        (f"user {USER_NUMBER} worker {LOGIN} company {COMPANY}", None),
        (f"0{SOFIE}", None),  # 12 digits
        (f"{SOFIE}0", None),
        (f"service 3f2a9c1e-77b0-4f4e-9a1d-a{SOFIE}", None),  # inside an id
        (f"hash e3b0{SOFIE}c442", None),
        ("2026-11-27T10:15:00Z took 12.5 ms", None),
    ],
)
def test_mask_text(text: str, expected: str | None) -> None:
    assert mask_text(text) == (text if expected is None else expected)


def test_every_valid_number_is_masked_and_no_other() -> None:
    for serial in range(0, 1000, 7):
        first_nine = f"790615{serial:03d}"
        for born_2000 in (False, True):
            number = with_national_check(first_nine, born_2000_or_later=born_2000)
            assert mask_text(number) == MASK
            wrong = f"{number[:9]}{(int(number[9:]) % 97) + 1:02d}"
            if wrong not in (
                with_national_check(first_nine),
                with_national_check(first_nine, born_2000_or_later=True),
            ):
                assert mask_text(wrong) == wrong


PROCESS = textwrap.dedent(
    """
    import logging, sys
    import structlog
    from pydantic import SecretStr
    from dc_common.logging import configure_logging, pseudonym

    configure_logging(json=sys.argv[1] == "json", pseudonym_key=SecretStr(sys.argv[2]))
    log = structlog.get_logger("story")
    log.info(
        "token issued",
        sub=SOFIE,
        written="85.03.12-124.61",
        people=[SOFIE, {"holder": ANA}],
        as_int=int(SOFIE),
        not_personal=NOT_A_NUMBER,
        user_number=USER_NUMBER,
        login=LOGIN,
        company_id=COMPANY,
        hours=3,
    )
    try:
        raise ValueError(f"no person {ANA}")
    except ValueError:
        log.exception("lookup failed")
        logging.getLogger("dc.stdlib").exception("lookup of %s failed", SOFIE)
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/1.1" %d', "127.0.0.1:5000", "GET", f"/v1/people/{ANA}/access", 200
    )
    logging.getLogger("httpx").info("HTTP Request: POST /v1/people/access (%s)", USER_NUMBER)
    print(pseudonym(SOFIE), pseudonym(ANA), pseudonym(SOFIE))
    """
)


def run_process(renderer: str, key: str = "the-internal-secret") -> tuple[str, str]:
    """A fresh process that configures logging as the services do, then logs; (stdout, stderr)."""
    constants = (
        f"SOFIE, ANA, NOT_A_NUMBER = {SOFIE!r}, {ANA!r}, {NOT_A_NUMBER!r}\n"
        f"USER_NUMBER, LOGIN, COMPANY = {USER_NUMBER!r}, {LOGIN!r}, {COMPANY!r}\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", constants + PROCESS, renderer, key],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout, done.stderr


@pytest.mark.parametrize("renderer", ["json", "console"])
def test_no_national_number_reaches_the_output(renderer: str) -> None:
    _, output = run_process(renderer)
    for number in (SOFIE, ANA, "85.03.12-124.61"):
        assert number not in output
    lines = output.splitlines()
    # Every line is there, the non-personal ids as they were.
    for wanted in ("token issued", "lookup failed", "lookup of", "GET /v1/people/", "POST"):
        assert any(wanted in line for line in lines), wanted
    for kept in (NOT_A_NUMBER, USER_NUMBER, LOGIN, COMPANY, "ValueError: no person"):
        assert kept in output
    assert f'"GET /v1/people/{MASK}/access HTTP/1.1" 200' in output
    assert f"lookup of {MASK} failed" in output
    assert f"no person {MASK}" in output
    if renderer == "json":
        event = json.loads(next(line for line in lines if "token issued" in line))
        assert event["sub"] == event["written"] == event["as_int"] == MASK
        assert event["people"] == [MASK, {"holder": MASK}]
        assert (event["user_number"], event["hours"]) == (USER_NUMBER, 3)


def test_pseudonyms_follow_a_person_without_naming_them() -> None:
    sofie, ana, sofie_again = run_process("json")[0].split()
    assert sofie == sofie_again != ana
    assert SOFIE not in sofie and mask_text(sofie) == sofie
    # Another process with the same key writes the same pseudonym; with another key, not.
    assert run_process("json")[0].split()[0] == sofie
    assert run_process("json", key="another-secret")[0].split()[0] != sofie
