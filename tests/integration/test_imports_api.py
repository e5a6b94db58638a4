"""Imports through the gateway, on the Temporal dev server and PostgreSQL: real files of both
kinds in every encoding, bad rows of every kind, duplicates in the file and against services
already known, the same file twice, two companies' files at once, a file refused as a whole,
plausibility flags, and what a branch-scoped staff member may do.

The platform runs the imports in chunks of 5 rows and continues each workflow as new every two
chunks (see conftest), so every file here crosses chunks and runs.
"""

import asyncio
import io
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from dc_common.belgian_numbers import with_national_check
from dc_identity.demo import (
    DEMO,
    LEIE,
    LEIE_KORTRIJK,
    LEIE_STAFF,
    SCHELDE,
    SCHELDE_ANTWERPEN,
    SCHELDE_GENT,
    SCHELDE_GENT_STAFF,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
)
from dc_imports.columns import FileKind
from dc_imports.generate import write_xlsx
from dc_workflows.imports import PROGRESS_MEMO
from tests.integration.imports_support import (
    SERVICES_HEADER,
    all_rows,
    count_with_key,
    csv_bytes,
    error_report,
    finished,
    imported,
    projected,
    services_of_import,
    started,
    stored_lines,
    upload,
)
from tests.support.platform import Platform
from tests.support.servers import internal_client

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SOFIE, MOHAMED, MARIE, JAN, KATRIN, ANA = DEMO.workers
USERS = [user.user_number for user in DEMO.users]


@pytest.fixture(scope="module")
async def staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """Tom: the right on the whole of Schelde."""
    async with platform.as_person(SCHELDE_STAFF.national_number) as client:
        yield client


@pytest.fixture(scope="module")
async def leie_staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    async with platform.as_person(LEIE_STAFF.national_number) as client:
        yield client


@pytest.fixture(scope="module")
async def gent_staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """Lotte: the right on Schelde's Gent branch only."""
    async with platform.as_person(SCHELDE_GENT_STAFF.national_number) as client:
        yield client


ANTWERPEN_STAFF = with_national_check("860707123")


@pytest.fixture(scope="module")
async def antwerpen_staff(platform: Platform) -> AsyncIterator[httpx.AsyncClient]:
    """Joris Peeters: the right on Schelde's Antwerpen branch only, granted by Els, the main
    access manager, through the gateway."""
    await platform.register_person(ANTWERPEN_STAFF, "Joris", "Peeters")
    async with platform.as_person(SCHELDE_MAIN_ACCESS_MANAGER.national_number) as manager:
        grant = await manager.post(
            f"/api/v1/companies/{SCHELDE}/grants",
            json={"national_number": ANTWERPEN_STAFF, "branch_id": SCHELDE_ANTWERPEN},
        )
    assert grant.status_code == 201, grant.text
    async with platform.as_person(ANTWERPEN_STAFF) as client:
        yield client


async def test_a_services_file_with_bad_rows_duplicates_and_flags(
    platform: Platform, staff: httpx.AsyncClient
) -> None:
    known = await staff.post(
        "/api/v1/services",
        json={
            "company_id": SCHELDE,
            "worker_login": MOHAMED.login,
            "user_number": USERS[1],
            "service_date": "2023-10-10",
            "hours": 2,
            "activity_type": 1,
        },
    )
    assert known.status_code == 201, known.text
    rows = [
        [SOFIE.login, USERS[0], "02/10/2023", "6", "1", SCHELDE_GENT],  # 2: 11 h that day
        [SOFIE.login, USERS[1], "2/10/2023", "5", "1", ""],  # 3
        [MOHAMED.login, USERS[2], "03/10/2023", "4", "1", ""],  # 4: user served twice
        [MARIE.login, USERS[2], "03-10-2023", "3,0", "3", SCHELDE_ANTWERPEN],  # 5
        [JAN.login, USERS[3], "04/09/2024", "2", "2", ""],  # 6: contract ended 2024-06-30
        [MOHAMED.login, USERS[2], "3/10/2023", "4", "1", ""],  # 7: duplicate of 4
        [SOFIE.login, USERS[0], "05/10/2023", "4,5", "7", ""],  # 8: hours, activity
        ["98010000001", USERS[0], "05/10/2023", "4", "1", ""],  # 9: login
        [SOFIE.login, "10000000001", "31/12/2015", "4", "1", ""],  # 10: user, date
        [SOFIE.login, USERS[0], "01/01/2099", "", "1", ""],  # 11: future, hours missing
        [SOFIE.login, USERS[0], "06/10/2023", "4", "1", "2234567819"],  # 12: branch check
        ["980100000099", USERS[0], "06/10/2023", "4", "1", ""],  # 13: unknown worker
        [KATRIN.login, USERS[0], "06/10/2023", "4", "1", ""],  # 14: worker of Leie
        [SOFIE.login, "100000000099", "07/10/2023", "4", "1", ""],  # 15: unknown user
        [SOFIE.login, USERS[4], "09/10/2023", "3", "1", LEIE_KORTRIJK],  # 16: Leie's branch
        ['=HYPERLINK("http://x")', USERS[0], "09/10/2023", "3", "1", ""],  # 17: injection
        [SOFIE.login, USERS[4], "10/10/2023", "3", "1", "", "stray"],  # 18: no header
        [MOHAMED.login, USERS[1], "10/10/2023", "2", "1", ""],  # 19: known service
        [],  # 20: blank
    ]
    body = await imported(staff, csv_bytes(SERVICES_HEADER, rows), company_id=SCHELDE)

    assert body["status"] == "done", body
    counts = {key: body[key] for key in ("rows_total", "rows_read", "accepted", "rejected")}
    assert counts == {"rows_total": 18, "rows_read": 18, "accepted": 5, "rejected": 11}
    assert (body["duplicates"], body["registered"], body["flagged"]) == (2, 5, 5)
    assert (body["encoding"], body["delimiter"], body["progress_percent"]) == (
        "utf-8-sig",
        ";",
        100,
    )

    report = await error_report(staff, body["id"])
    assert Counter((int(r["line"]), r["field"]) for r in report) == Counter(
        {
            (7, "row"): 1,
            (8, "hours"): 1,
            (8, "activity_type"): 1,
            (9, "worker_login"): 1,
            (10, "user_number"): 1,
            (10, "service_date"): 1,
            (11, "service_date"): 1,
            (11, "hours"): 1,
            (12, "branch_id"): 1,
            (13, "worker_login"): 1,
            (14, "worker_login"): 1,
            (15, "user_number"): 1,
            (16, "branch_id"): 1,
            (17, "worker_login"): 1,
            (18, "row"): 1,
            (19, "row"): 1,
        }
    )
    reasons = {(int(r["line"]), r["field"]): r["reason"] for r in report}
    assert reasons[(7, "row")] == "duplicate of line 4"
    assert reasons[(13, "worker_login")] == "unknown worker"
    assert reasons[(14, "worker_login")] == f"not a worker of company {SCHELDE}"
    assert reasons[(15, "user_number")] == "unknown user"
    assert reasons[(16, "branch_id")] == f"not a branch of company {SCHELDE}"
    assert reasons[(19, "row")] == f"already registered as service {known.json()['id']}"
    injected = next(r for r in report if r["line"] == "17")
    assert injected["Werknemer"] == '\'=HYPERLINK("http://x")', "a formula is shown as text"
    assert next(r for r in report if r["line"] == "8")["Uren"] == "4,5"

    flagged = await all_rows(staff, body["id"], flagged="true")
    codes = {row["line"]: sorted(flag["code"] for flag in row["flags"]) for row in flagged}
    assert codes == {
        2: ["worker-over-max-hours"],
        3: ["worker-over-max-hours"],
        4: ["user-served-twice"],
        5: ["user-served-twice"],
        6: ["outside-contract"],
    }
    assert flagged[0]["flags"][0]["lines"] == [2, 3]
    assert flagged[0]["values"]["Werknemer"] == SOFIE.login

    registered = await all_rows(staff, body["id"], outcome="registered")
    assert [row["line"] for row in registered] == [2, 3, 4, 5, 6]
    service_ids = [row["service_id"] for row in registered]
    await projected(platform, service_ids)
    services = {s.id: s for s in await services_of_import(platform, service_ids)}
    line_3 = services[registered[1]["service_id"]]
    assert (line_3.branch_id, line_3.hours, line_3.status) == (SOFIE.branch_id, 5, 1)
    assert services[registered[3]["service_id"]].hours == 3, "3,0 hours"
    assert await count_with_key(platform, MOHAMED.login, USERS[1], date(2023, 10, 10)) == 1
    assert await count_with_key(platform, MOHAMED.login, USERS[2], date(2023, 10, 3)) == 1
    assert await stored_lines(platform, body["id"]) == list(range(2, 20))

    handle = platform.temporal.get_workflow_handle(body["workflow_id"])
    progress = await handle.query("progress")
    assert progress["status"] == "done" and progress["counts"]["registered"] == 5
    assert progress["chunks_done"] == 4, "18 lines and a blank one in chunks of 5"
    description = await handle.describe()
    memo = await description.memo_value(PROGRESS_MEMO)
    assert memo["status"] == "done"
    assert description.run_id != description.raw_description.workflow_execution_info.first_run_id


async def test_the_same_file_again_is_the_same_import(staff: httpx.AsyncClient) -> None:
    content = csv_bytes(SERVICES_HEADER, [[SOFIE.login, USERS[3], "11/10/2023", "2", "1", ""]])
    first = await started(staff, content, company_id=SCHELDE)
    again = await upload(staff, content, company_id=SCHELDE, filename="renamed.csv")

    assert again.status_code == 200, again.text
    assert again.json()["id"] == first["id"]
    done = await finished(staff, first["id"])
    assert (done["registered"], done["filename"]) == (1, "services.csv")
    once_more = await upload(staff, content, company_id=SCHELDE)
    assert (once_more.status_code, once_more.json()["id"]) == (200, first["id"])
    listed = await staff.get("/api/v1/imports", params={"company_id": SCHELDE})
    assert [item["id"] for item in listed.json()["items"]].count(first["id"]) == 1


async def test_windows_1252_comma_csv_and_xlsx_files(
    platform: Platform, staff: httpx.AsyncClient
) -> None:
    french = ("Werknemer", "Numéro utilisateur", "Date prestation", "Heures", "Activité")
    cp1252 = csv_bytes(
        french,
        [
            [MARIE.login, USERS[4], "2023-10-16", "3,0", "1"],
            [MARIE.login, USERS[3], "2023-10-17", "4", "4"],
        ],
        delimiter=",",
        encoding="cp1252",
        newline="\n",
    )
    assert "é".encode("cp1252") in cp1252
    workbook = io.BytesIO()
    write_xlsx(
        workbook,
        FileKind.SERVICES,
        [
            {
                "worker_login": SOFIE.login,
                "user_number": USERS[0],
                "service_date": "2023-10-18",
                "hours": "4",
                "activity_type": "1",
                "branch_id": SCHELDE_GENT,
            },
            {
                "worker_login": SOFIE.login,
                "user_number": USERS[0],
                "service_date": "2023-10-18",
                "hours": "10",
                "activity_type": "1",
            },
        ],
    )
    text_import, excel_import = await asyncio.gather(
        imported(staff, cp1252, company_id=SCHELDE, filename="prestations.csv"),
        imported(staff, workbook.getvalue(), company_id=SCHELDE, filename="services.xlsx"),
    )
    assert (text_import["encoding"], text_import["delimiter"]) == ("cp1252", ",")
    assert (text_import["registered"], text_import["rejected"]) == (2, 0)
    assert excel_import["file_format"] == "xlsx"
    assert (excel_import["registered"], excel_import["rejected"]) == (1, 1)
    report = await error_report(staff, excel_import["id"])
    assert [(r["line"], r["field"], r["reason"]) for r in report] == [
        ("3", "hours", "must be between 1 and 9")
    ]


async def test_workers_files_create_and_update_workers_in_identity(
    platform: Platform, leie_staff: httpx.AsyncClient
) -> None:
    header = (
        "Rijksregisternummer",
        "Voornaam",
        "Achternaam",
        "Login",
        "Vestiging",
        "Start contract",
        "Einde contract",
        "Taal",
    )
    rows = [
        [
            "02031416292",
            "Françoise",
            "Lefèvre",
            "980200000003",
            LEIE_KORTRIJK,
            "01/12/2025",
            "",
            "fr",
        ],
        [ANA.national_number, "Ana", "Pereira", ANA.login, LEIE_KORTRIJK, "02/10/2023", "", "de"],
        ["85.07.30-033.28", "Jürgen", "Müller", "980200000004", "", "01/03/2024", "", ""],
        ["02031416292", "Françoise", "Lefèvre", "980200000005", "", "01/12/2025", "", "fr"],
        [SOFIE.national_number, "Sofie", "Janssens", SOFIE.login, "", "01/03/2018", "", "nl"],
        ["77020212345", "Bad", "Number", "980200000006", "", "01/03/2018", "", "nl"],
        ["91020300188", "Wrong", "Branch", "980200000007", SCHELDE_GENT, "01/03/2018", "", ""],
    ]
    body = await imported(
        leie_staff,
        csv_bytes(header, rows, encoding="cp1252"),
        kind="workers",
        company_id=LEIE,
        filename="werknemers.csv",
    )
    assert body["status"] == "done", body
    # Sofie works for Schelde: Leie's file makes Leie her second employer.
    assert (body["rows_read"], body["registered"], body["duplicates"]) == (7, 4, 1)
    assert body["rejected"] == 2
    report = {
        (int(r["line"]), r["field"]): r["reason"]
        for r in await error_report(leie_staff, body["id"])
    }
    assert report == {
        (5, "national_number"): "duplicate of line 2 (same national_number)",
        (7, "national_number"): "check digits do not match (mod 97)",
        (8, "branch_id"): "is not a branch of this company",
    }
    async with internal_client(platform.identity_url) as identity:
        new = (await identity.get("/v1/workers/980200000003")).json()
        updated = (await identity.get(f"/v1/workers/{ANA.login}")).json()
        dotted = (await identity.get("/v1/workers/980200000004")).json()
    assert (new["first_name"], new["last_name"], new["company_id"]) == (
        "Françoise",
        "Lefèvre",
        LEIE,
    )
    assert updated["language"] == "de"
    assert (dotted["national_number"], dotted["branch_id"]) == ("85073003328", None)
    async with internal_client(platform.identity_url) as identity:
        sofie = (await identity.get(f"/v1/workers/{SOFIE.login}")).json()
    assert [e["company_id"] for e in sofie["employers"]] == [SCHELDE, LEIE]

    services = await imported(
        leie_staff,
        csv_bytes(SERVICES_HEADER, [["980200000003", USERS[1], "02/12/2025", "3", "1", ""]]),
        company_id=LEIE,
    )
    assert (services["registered"], services["rejected"]) == (1, 0), "the new worker works"

    workbook = io.BytesIO()
    write_xlsx(
        workbook,
        FileKind.WORKERS,
        [
            {
                "national_number": "02031416292",
                "first_name": "Françoise",
                "last_name": "Lefèvre-Dubois",
                "login": "980200000003",
                "branch_id": LEIE_KORTRIJK,
                "contract_start": "2025-12-01",
                "contract_end": "2026-06-30",
                "language": "fr",
            },
            {
                "national_number": "1051714611",  # Ana's, its leading zero dropped by Excel
                "first_name": "Ana",
                "last_name": "Pereira",
                "login": ANA.login,
                "branch_id": LEIE_KORTRIJK,
                "contract_start": "2023-10-02",
                "language": "de",
            },
        ],
    )
    excel = await imported(
        leie_staff, workbook.getvalue(), kind="workers", company_id=LEIE, filename="w.xlsx"
    )
    assert (excel["file_format"], excel["registered"], excel["rejected"]) == ("xlsx", 2, 0)
    async with internal_client(platform.identity_url) as identity:
        renamed = (await identity.get("/v1/workers/980200000003")).json()
    assert (renamed["last_name"], renamed["contract_end"]) == ("Lefèvre-Dubois", "2026-06-30")


async def test_two_companies_import_at_the_same_time(
    platform: Platform, staff: httpx.AsyncClient, leie_staff: httpx.AsyncClient
) -> None:
    def services(worker: str, days: range) -> bytes:
        rows = [[worker, USERS[day % 5], f"{day:02d}/11/2023", "2", "1", ""] for day in days]
        return csv_bytes(SERVICES_HEADER, rows)

    schelde, leie = await asyncio.gather(
        imported(staff, services(MARIE.login, range(1, 13)), company_id=SCHELDE),
        imported(leie_staff, services(KATRIN.login, range(1, 10)), company_id=LEIE),
    )
    assert (schelde["registered"], leie["registered"]) == (12, 9)
    schelde_rows = await all_rows(staff, schelde["id"], outcome="registered")
    leie_rows = await all_rows(leie_staff, leie["id"], outcome="registered")
    await projected(platform, [row["service_id"] for row in schelde_rows + leie_rows])
    by_company = Counter(
        s.company_id
        for s in await services_of_import(
            platform, [row["service_id"] for row in schelde_rows + leie_rows]
        )
    )
    assert by_company == {SCHELDE: 12, LEIE: 9}
    assert (await leie_staff.get(f"/api/v1/imports/{schelde['id']}")).status_code == 404


async def test_a_file_with_a_wrong_header_is_refused_as_a_whole(staff: httpx.AsyncClient) -> None:
    content = csv_bytes(
        ("Werknemer", "Gebruikersnummer", "Datum", "Opmerking", "Activiteit"),
        [[SOFIE.login, USERS[0], "01/10/2023", "hi", "1"]],
    )
    body = await imported(staff, content, company_id=SCHELDE, filename="wrong.csv")

    assert body["status"] == "failed"
    assert body["failure"]["reason"].startswith("the header (line 1) is not that of a services")
    assert {e["field"] for e in body["failure"]["errors"]} == {"Opmerking", "hours"}
    assert (body["rows_read"], body["registered"]) == (0, 0)
    report = await error_report(staff, body["id"])
    assert [(r["line"], r["field"]) for r in report] == [
        ("1", "file"),
        ("1", "Opmerking"),
        ("1", "hours"),
    ]


async def test_branch_staff_import_for_their_branch_and_see_only_theirs(
    staff: httpx.AsyncClient, gent_staff: httpx.AsyncClient
) -> None:
    whole = await started(
        staff,
        csv_bytes(SERVICES_HEADER, [[MOHAMED.login, USERS[3], "21/10/2023", "2", "1", ""]]),
        company_id=SCHELDE,
    )
    rows = [
        [MOHAMED.login, USERS[0], "20/10/2023", "2", "1", ""],
        [MOHAMED.login, USERS[1], "20/10/2023", "2", "1", SCHELDE_GENT],
        [MARIE.login, USERS[2], "20/10/2023", "2", "1", SCHELDE_ANTWERPEN],
    ]
    content = csv_bytes(SERVICES_HEADER, rows)
    assert (await upload(gent_staff, content, company_id=SCHELDE)).status_code == 403
    refused = await upload(gent_staff, content, company_id=SCHELDE, branch_id=SCHELDE_ANTWERPEN)
    assert refused.status_code == 403
    assert (await upload(gent_staff, content, company_id=LEIE)).status_code == 404

    body = await imported(gent_staff, content, company_id=SCHELDE, branch_id=SCHELDE_GENT)
    assert (body["branch_id"], body["registered"], body["rejected"]) == (SCHELDE_GENT, 2, 1)
    report = await error_report(gent_staff, body["id"])
    assert [(r["line"], r["field"], r["reason"]) for r in report] == [
        ("4", "branch_id", f"not the branch of this import ({SCHELDE_GENT})")
    ]
    listed = (await gent_staff.get("/api/v1/imports")).json()
    assert listed["items"] and {item["branch_id"] for item in listed["items"]} == {SCHELDE_GENT}
    assert (await gent_staff.get(f"/api/v1/imports/{whole['id']}")).status_code == 404
    assert (await gent_staff.get(f"/api/v1/imports/{whole['id']}/errors.csv")).status_code == 404
    assert (await staff.get(f"/api/v1/imports/{body['id']}")).status_code == 200


async def test_the_same_bytes_for_another_branch_are_that_branchs_own_import(
    staff: httpx.AsyncClient,
    gent_staff: httpx.AsyncClient,
    antwerpen_staff: httpx.AsyncClient,
) -> None:
    """One file, sent by the staff of two branches and by the staff of the whole company: each
    branch (and the company as a whole) gets an import of its own, and sees who uploaded it by
    name, never another branch's import nor anyone's national number."""
    content = csv_bytes(SERVICES_HEADER, [[MOHAMED.login, USERS[4], "24/10/2023", "2", "1", ""]])
    gent = await started(gent_staff, content, company_id=SCHELDE, branch_id=SCHELDE_GENT)
    antwerpen_upload = await upload(
        antwerpen_staff, content, company_id=SCHELDE, branch_id=SCHELDE_ANTWERPEN
    )

    assert antwerpen_upload.status_code == 202, antwerpen_upload.text
    antwerpen = antwerpen_upload.json()
    assert antwerpen["id"] != gent["id"]
    assert (antwerpen["branch_id"], antwerpen["uploaded_by"]) == (
        SCHELDE_ANTWERPEN,
        "Joris Peeters",
    )
    assert SCHELDE_GENT_STAFF.national_number not in antwerpen_upload.text
    again = await upload(gent_staff, content, company_id=SCHELDE, branch_id=SCHELDE_GENT)
    assert (again.status_code, again.json()["id"]) == (200, gent["id"])
    for_gent = await upload(staff, content, company_id=SCHELDE, branch_id=SCHELDE_GENT)
    assert (for_gent.status_code, for_gent.json()["id"]) == (200, gent["id"])
    company_wide = await started(staff, content, company_id=SCHELDE)
    assert company_wide["id"] not in (gent["id"], antwerpen["id"])
    assert (company_wide["branch_id"], company_wide["uploaded_by"]) == (None, "Tom Mertens")
    company_again = await upload(staff, content, company_id=SCHELDE)
    assert (company_again.status_code, company_again.json()["id"]) == (200, company_wide["id"])

    done = {
        name: await finished(client, body["id"])
        for name, client, body in (
            ("gent", gent_staff, gent),
            ("antwerpen", antwerpen_staff, antwerpen),
            ("company", staff, company_wide),
        )
    }
    assert {name: body["status"] for name, body in done.items()} == dict.fromkeys(done, "done")
    assert done["gent"]["uploaded_by"] == "Lotte Jacobs"
    assert (await antwerpen_staff.get(f"/api/v1/imports/{gent['id']}")).status_code == 404
    listed = await gent_staff.get("/api/v1/imports")
    assert gent["id"] in {item["id"] for item in listed.json()["items"]}
    assert antwerpen["id"] not in {item["id"] for item in listed.json()["items"]}
    for client, body in ((gent_staff, gent), (staff, company_wide), (staff, antwerpen)):
        seen = await client.get(f"/api/v1/imports/{body['id']}")
        assert SCHELDE_GENT_STAFF.national_number not in seen.text
        assert SCHELDE_STAFF.national_number not in seen.text
        assert ANTWERPEN_STAFF not in seen.text
    assert SCHELDE_GENT_STAFF.national_number not in listed.text
