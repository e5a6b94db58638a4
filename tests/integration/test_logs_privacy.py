"""No national number in any log line: a whole story through the running platform (login through
the development identity provider, a service registered, validated and confirmed, a right granted
and revoked, a services file and a workers file imported) while every log record is captured, the
structlog events as the code emits them and the standard-library records (uvicorn's access log,
httpx, temporalio), before any masking. Not one of them may carry the national number of a person
of the demo, whether written as 11 digits or as ``YY.MM.DD-SSS.CC``."""

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import structlog

from dc_identity.demo import (
    DEMO,
    NO_RIGHTS,
    SCHELDE,
    SCHELDE_ANTWERPEN,
    SCHELDE_GENT,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
    USER_HOLDERS,
)
from tests.integration.imports_support import SERVICES_HEADER, csv_bytes, imported
from tests.support.platform import Platform

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SOFIE = DEMO.workers[0]  # Schelde, Gent
MARIE = DEMO.workers[2]  # Schelde, Antwerpen
AN, AN_HOLDER = DEMO.users[0], USER_HOLDERS[0]
#: A day no other test of this platform registers services on.
SERVICE_DATE = "2021-06-14"
WORKERS_HEADER = (
    "Rijksregisternummer",
    "Voornaam",
    "Achternaam",
    "Login",
    "Vestiging",
    "Start contract",
    "Einde contract",
    "Taal",
)


def _written_forms(national_number: str) -> tuple[str, ...]:
    n = national_number
    return (n, f"{n[0:2]}.{n[2:4]}.{n[4:6]}-{n[6:9]}.{n[9:11]}")


NATIONAL_NUMBERS = re.compile(
    "|".join(re.escape(form) for p in DEMO.people for form in _written_forms(p.national_number))
)


@dataclass
class Captured:
    events: list[dict[str, Any]] = field(default_factory=list)
    """structlog events, as the code emitted them."""
    records: list[logging.LogRecord] = field(default_factory=list)
    """Standard-library records of every logger, at INFO and above."""

    def lines(self) -> list[str]:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        return [repr(event) for event in self.events] + [
            formatter.format(record) for record in self.records
        ]


@contextmanager
def every_log_record(caplog: pytest.LogCaptureFixture) -> Iterator[Captured]:
    captured = Captured()
    with caplog.at_level(logging.INFO), structlog.testing.capture_logs() as events:
        captured.events = events
        yield captured
        captured.records = list(caplog.records)


async def login_through_the_form(platform: Platform, national_number: str) -> str:
    """The browser's way: the provider's login page, pick the person, follow the redirect."""
    redirect_uri = "http://127.0.0.1:8000/callback"
    async with httpx.AsyncClient(base_url=platform.identity_url) as provider:
        page = await provider.get("/dev/login", params={"redirect_uri": redirect_uri, "state": "s"})
        assert page.status_code == 200 and national_number in page.text
        answer = await provider.post(
            "/dev/login",
            data={"redirect_uri": redirect_uri, "state": "s", "national_number": national_number},
        )
    assert answer.status_code == 303, answer.text
    fragment = parse_qs(urlsplit(answer.headers["location"]).fragment)
    assert fragment["state"] == ["s"]
    return fragment["access_token"][0]


async def tell_the_story(platform: Platform) -> None:
    token = await login_through_the_form(platform, SCHELDE_STAFF.national_number)
    async with (
        httpx.AsyncClient(
            base_url=platform.gateway_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=60,
        ) as tom,
        platform.as_person(AN_HOLDER.national_number) as an,
        platform.as_person(SCHELDE_MAIN_ACCESS_MANAGER.national_number) as els,
        platform.as_person(NO_RIGHTS.national_number) as wim,
    ):
        me = (await tom.get("/api/v1/me")).json()
        assert me["national_number"] == SCHELDE_STAFF.national_number

        # A service registered by the company, validated by it and confirmed by the household.
        registered = await tom.post(
            "/api/v1/services",
            json={
                "company_id": SCHELDE,
                "branch_id": SCHELDE_ANTWERPEN,
                "worker_login": MARIE.login,
                "user_number": AN.user_number,
                "service_date": SERVICE_DATE,
                "hours": 2,
                "activity_type": 1,
            },
        )
        assert registered.status_code == 201, registered.text
        service_id = registered.json()["id"]
        assert (await tom.post(f"/api/v1/services/{service_id}/validate")).status_code == 200
        confirmed = await an.post(f"/api/v1/services/{service_id}/confirm")
        assert confirmed.status_code == 200, confirmed.text
        assert (await tom.get(f"/api/v1/services/{service_id}")).status_code == 200

        # A right granted to Wim on the Gent branch, used, and revoked.
        granted = await els.post(
            f"/api/v1/companies/{SCHELDE}/grants",
            json={"national_number": NO_RIGHTS.national_number, "branch_id": SCHELDE_GENT},
        )
        assert granted.status_code == 201, granted.text
        grant_id = granted.json()["id"]
        assert [r["grant_id"] for r in (await wim.get("/api/v1/me")).json()["rights"]] == [grant_id]
        assert (await wim.get("/api/v1/services")).status_code == 200
        revoked = await els.delete(f"/api/v1/companies/{SCHELDE}/grants/{grant_id}")
        assert revoked.status_code == 204, revoked.text
        assert (await wim.get("/api/v1/me")).json()["rights"] == []
        assert (await els.get(f"/api/v1/companies/{SCHELDE}/audit-log")).status_code == 200

        # A services file, and a workers file naming a worker as the directory knows her.
        services = await imported(
            tom,
            csv_bytes(SERVICES_HEADER, [[MARIE.login, AN.user_number, "15/06/2021", "3", "1", ""]]),
            company_id=SCHELDE,
            branch_id=SCHELDE_ANTWERPEN,
            filename="diensten.csv",
        )
        assert (services["status"], services["registered"]) == ("done", 1), services
        workers = await imported(
            tom,
            csv_bytes(
                WORKERS_HEADER,
                [
                    [
                        SOFIE.national_number,
                        SOFIE.first_name,
                        SOFIE.last_name,
                        SOFIE.login,
                        SCHELDE_GENT,
                        SOFIE.contract_start.strftime("%d/%m/%Y"),
                        "",
                        SOFIE.language,
                    ]
                ],
            ),
            kind="workers",
            company_id=SCHELDE,
            filename="werknemers.csv",
        )
        assert (workers["status"], workers["registered"]) == ("done", 1), workers


async def test_no_national_number_in_any_log_line(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    with every_log_record(caplog) as captured:
        await tell_the_story(platform)

    # The capture saw the story: identity's events and every process's access log lines.
    assert {"identity.right_granted", "identity.right_revoked", "dev_idp.token_issued"} <= {
        event["event"] for event in captured.events
    }
    assert any(record.name == "uvicorn.access" for record in captured.records)
    leaks = [line for line in captured.lines() if NATIONAL_NUMBERS.search(line)]
    assert leaks == [], "\n".join(leaks)
