"""Workers in bulk (``PUT /v1/companies/{id}/workers``, a workers file's import), on SQLite and
PostgreSQL: created, updated, unchanged or rejected one by one; only staff of the company (or of
the workers' branches) and operators."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dc_common.belgian_numbers import with_national_check
from dc_identity.demo import (
    DEMO,
    LEIE,
    LEIE_KORTRIJK,
    NO_RIGHTS,
    OPERATOR,
    SCHELDE,
    SCHELDE_ANTWERPEN,
    SCHELDE_GENT,
    SCHELDE_GENT_STAFF,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
)
from services.identity.tests.identity_support import as_, demo_identity, lookup
from tests.support.problems import assert_problem
from tests.support.servers import DIALECTS

SOFIE, MOHAMED = DEMO.workers[0], DEMO.workers[1]
KATRIN = DEMO.workers[4]
PATH = f"/v1/companies/{SCHELDE}/workers"


@pytest.fixture(params=DIALECTS)
async def identity(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    async with demo_identity(request.param, tmp_path) as client:
        yield client


def worker(login: str, serial: int, **overrides: Any) -> dict[str, Any]:
    values = {
        "login": login,
        "national_number": with_national_check(f"900101{serial:03d}"),
        "first_name": "Nieuwe",
        "last_name": f"Werknemer {serial}",
        "branch_id": SCHELDE_GENT,
        "contract_start": "2024-01-01",
        "contract_end": None,
        "language": "nl",
    }
    return {**values, **overrides}


def outcomes(response: httpx.Response) -> list[tuple[str, str, list[tuple[str, str]]]]:
    assert response.status_code == 200, response.text
    return [
        (r["login"], r["outcome"], [(e["field"], e["reason"]) for e in r["errors"]])
        for r in response.json()["results"]
    ]


async def test_workers_are_created_updated_or_left_as_they_are(
    identity: httpx.AsyncClient,
) -> None:
    sofie = {
        "login": SOFIE.login,
        "national_number": SOFIE.national_number,
        "first_name": SOFIE.first_name,
        "last_name": SOFIE.last_name,
        "branch_id": SOFIE.branch_id,
        "contract_start": SOFIE.contract_start.isoformat(),
        "contract_end": None,
        "language": SOFIE.language,
    }
    mohamed = {**sofie, "login": MOHAMED.login, "national_number": MOHAMED.national_number}
    mohamed |= {"first_name": MOHAMED.first_name, "last_name": MOHAMED.last_name}
    mohamed |= {"contract_start": MOHAMED.contract_start.isoformat(), "language": "fr"}
    body = {"workers": [worker("980100000101", 1), sofie, mohamed]}

    answer = await identity.put(PATH, json=body, headers=as_(SCHELDE_STAFF))

    assert outcomes(answer) == [
        ("980100000101", "created", []),
        (SOFIE.login, "unchanged", []),
        (MOHAMED.login, "updated", []),
    ]
    created = (await identity.get("/v1/workers/980100000101")).json()
    assert (created["company_id"], created["branch_id"], created["last_name"]) == (
        SCHELDE,
        SCHELDE_GENT,
        "Werknemer 1",
    )
    assert (await identity.get(f"/v1/workers/{MOHAMED.login}")).json()["language"] == "fr"
    person = await lookup(identity, created["national_number"])
    assert person.status_code == 200, "a new worker can log in"
    again = await identity.put(PATH, json=body, headers=as_(SCHELDE_STAFF))
    assert [outcome for _, outcome, _ in outcomes(again)] == ["unchanged"] * 3


async def test_each_bad_worker_is_rejected_on_its_own(identity: httpx.AsyncClient) -> None:
    body = {
        "workers": [
            worker("980100000201", 2, national_number="90010100299"),
            worker("970100000202", 3, branch_id=LEIE_KORTRIJK),
            worker(KATRIN.login, 4),
            worker("980100000204", 5, national_number=SOFIE.national_number),
            worker("980100000205", 6, contract_end="2023-12-31", language="xx"),
            worker("980100000206", 7, first_name=" "),
            worker("980100000207", 8),
            worker("980100000207", 9),
        ]
    }
    answer = await identity.put(PATH, json=body, headers=as_(SCHELDE_STAFF))

    assert outcomes(answer) == [
        ("980100000201", "rejected", [("national_number", "check digits do not match (mod 97)")]),
        (
            "970100000202",
            "rejected",
            [("login", "must start with 980"), ("branch_id", "is not a branch of this company")],
        ),
        (KATRIN.login, "rejected", [("login", "is the login of a worker of another company")]),
        (
            "980100000204",
            "rejected",
            [("national_number", f"is the national number of worker {SOFIE.login}")],
        ),
        (
            "980100000205",
            "rejected",
            [
                ("contract_end", "must not be before contract_start (2024-01-01)"),
                ("language", "must be nl, fr, de or en"),
            ],
        ),
        ("980100000206", "rejected", [("first_name", "is required")]),
        ("980100000207", "created", []),
        ("980100000207", "rejected", [("login", "appears twice (worker 7)")]),
    ]
    assert (await identity.get("/v1/workers/980100000201")).status_code == 404


async def test_who_may_upsert_workers(identity: httpx.AsyncClient) -> None:
    gent = worker("980100000301", 11)
    antwerpen = worker("980100000302", 12, branch_id=SCHELDE_ANTWERPEN)
    body = {"workers": [gent, antwerpen]}

    assert_problem(await identity.put(PATH, json=body), 401)
    for nobody in (NO_RIGHTS, SCHELDE_MAIN_ACCESS_MANAGER):
        assert_problem(await identity.put(PATH, json=body, headers=as_(nobody)), 403)
    unknown = "/v1/companies/0403170701/workers"
    assert_problem(await identity.put(unknown, json=body, headers=as_(OPERATOR)), 404)

    branch_only = await identity.put(PATH, json=body, headers=as_(SCHELDE_GENT_STAFF))
    assert outcomes(branch_only) == [
        ("980100000301", "created", []),
        (
            "980100000302",
            "rejected",
            [("branch_id", f"outside your rights (branches {SCHELDE_GENT})")],
        ),
    ]
    by_operator = await identity.put(PATH, json=body, headers=as_(OPERATOR))
    assert [outcome for _, outcome, _ in outcomes(by_operator)] == ["unchanged", "created"]
    leie = await identity.put(
        f"/v1/companies/{LEIE}/workers", json={"workers": [gent]}, headers=as_(SCHELDE_STAFF)
    )
    assert_problem(leie, 403)
