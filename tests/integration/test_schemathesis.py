"""schemathesis over the gateway's whole OpenAPI, as each kind of caller: every operation, with
valid and invalid data (examples, coverage, fuzzing) and the stateful links between operations.
No answer may be a server error, and every error must be a problem document
(``schemathesis_checks.py``). The platform it fuzzes is its own (own databases, own Temporal
namespace), so what it registers, blocks or changes reaches no other test.

The report of each run (JUnit and the JSON run report) is kept under
``var/reports/schemathesis/<caller>/``."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.client import Client

from dc_identity.demo import DEMO, OPERATOR, SCHELDE_GENT_STAFF, SCHELDE_STAFF
from tests.support.platform import Platform, running_platform
from tests.support.servers import postgres_database

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

ROOT = Path(__file__).resolve().parents[2]
REPORTS = ROOT / "var" / "reports" / "schemathesis"
#: Test cases per operation and phase; the six runs stay within about two minutes.
EXAMPLES = int(os.environ.get("DC_FUZZ_EXAMPLES", "6"))
#: Every phase for a company's staff, who pass the rules of most operations; the others without
#: the coverage phase, whose negative case for each parameter does not depend on who calls (and
#: which takes half a minute a caller): ``DC_FUZZ_ALL_PHASES=1`` runs every phase for every
#: caller.
ALL_PHASES = "examples,coverage,fuzzing,stateful"
FEWER_PHASES = "examples,fuzzing,stateful"
EVERY_PHASE_FOR_ALL = os.environ.get("DC_FUZZ_ALL_PHASES") == "1"
SEED = int(os.environ.get("DC_FUZZ_SEED", "20261206"))
CALLERS_OF_EVERY_PHASE = ("staff",)
WORKER = DEMO.workers[3]
WORKER_PASSWORD = "fuzz-2026-sleutel"


@pytest.fixture(scope="module")
async def fuzzed(
    fuzz_dev_server: Client, postgres: None, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Platform]:
    async with (
        postgres_database("dc_identity_fuzz") as identity_db,
        postgres_database("dc_services_fuzz") as services_db,
        postgres_database("dc_imports_fuzz") as imports_db,
        postgres_database("dc_wallet_fuzz") as wallet_db,
        running_platform(
            fuzz_dev_server,
            identity_db_url=identity_db,
            services_db_url=services_db,
            imports_db_url=imports_db,
            wallet_db_url=wallet_db,
            state_dir=tmp_path_factory.mktemp("fuzzed"),
        ) as running,
    ):
        yield running


async def worker_token(platform: Platform) -> str:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        answer = await staff.put(
            f"/api/v1/workers/{WORKER.login}/password", json={"password": WORKER_PASSWORD}
        )
        assert answer.status_code == 204, answer.text
    session = await platform.anonymous.post(
        "/api/v1/jobtracker/sessions", json={"login": WORKER.login, "password": WORKER_PASSWORD}
    )
    assert session.status_code == 200, session.text
    token: str = session.json()["access_token"]
    return token


async def token_of(platform: Platform, caller: str) -> str | None:
    people = {
        "staff": SCHELDE_STAFF.national_number,
        "branch-staff": SCHELDE_GENT_STAFF.national_number,
        "household": DEMO.users[0].holder_national_number,
        "operator": OPERATOR.national_number,
    }
    if caller == "worker":
        return await worker_token(platform)
    if caller == "anonymous":
        return None
    return await platform.token(people[caller])


def phases_for(caller: str) -> str:
    return ALL_PHASES if EVERY_PHASE_FOR_ALL or caller in CALLERS_OF_EVERY_PHASE else FEWER_PHASES


async def run_schemathesis(
    gateway_url: str, token: str | None, phases: str, reports: Path
) -> tuple[int, str]:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{gateway_url}/openapi.json",
        "--checks",
        "not_a_server_error,every_error_is_a_problem_document",
        "--phases",
        phases,
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "2",
        "--no-shrink",
        "--continue-on-failure",
        "--request-timeout",
        "30",
        "--report",
        "junit,json",
        "--report-junit-path",
        str(reports / "junit.xml"),
        "--report-json-path",
        str(reports / "report.json"),
        "--output-truncate",
        "true",
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    process = await asyncio.create_subprocess_exec(
        *command,
        cwd=ROOT,
        env={**os.environ, "SCHEMATHESIS_HOOKS": "tests.integration.schemathesis_checks"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode(errors="replace")


@pytest.mark.parametrize(
    "caller", ["staff", "branch-staff", "household", "operator", "worker", "anonymous"]
)
async def test_no_generated_request_gets_a_server_error_or_an_answer_that_is_not_a_problem(
    fuzzed: Platform, caller: str
) -> None:
    token = await token_of(fuzzed, caller)
    reports = REPORTS / caller
    reports.mkdir(parents=True, exist_ok=True)
    code, output = await run_schemathesis(fuzzed.gateway_url, token, phases_for(caller), reports)
    assert code == 0, output
    report = json.loads((reports / "report.json").read_text())
    assert report["operations"]["tested"] == report["operations"]["total"] > 60, report
    # Several cases an operation: at least five each (or EXAMPLES, when fewer are asked).
    least = report["operations"]["tested"] * min(EXAMPLES, 5)
    assert report["test_cases"]["generated"] >= least, report["test_cases"]
    print(f"{caller}: {report['test_cases']['generated']} requests, no failure")
