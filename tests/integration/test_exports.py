"""Every list exports to CSV through the API with the list's own filters and scoping, as
Belgian Excel opens it, and says the same as the list it exports."""

from typing import Any

import httpx
import pytest

from dc_identity.demo import (
    DEMO,
    SCHELDE,
    SCHELDE_GENT_STAFF,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
    USER_HOLDERS,
)
from tests.integration.imports_support import SERVICES_HEADER, all_rows, csv_bytes, imported
from tests.support.platform import Platform
from tests.support.services import fresh_service_date
from tests.support.spreadsheets import downloaded_csv

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

SOFIE, MARIE = DEMO.workers[0], DEMO.workers[2]  # Gent, Antwerpen


async def test_services_by_worker_export_holds_the_view_s_totals_and_names(
    platform: Platform,
) -> None:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        for worker in (SOFIE, MARIE):
            user_number = DEMO.users[1].user_number
            registered = await staff.post(
                "/api/v1/services",
                json={
                    "company_id": SCHELDE,
                    "worker_login": worker.login,
                    "user_number": user_number,
                    "service_date": fresh_service_date(worker.login, user_number),
                    "hours": 2,
                    "activity_type": 1,
                },
            )
            assert registered.status_code == 201, registered.text
        query = {"company_id": SCHELDE, "status": "1"}
        view = (await staff.get("/api/v1/services/worker-totals", params=query)).json()
        rows = downloaded_csv(await staff.get("/api/v1/services/worker-totals.csv", params=query))
        named = downloaded_csv(
            await staff.get(
                "/api/v1/services/worker-totals.csv", params={**query, "name": SOFIE.first_name}
            )
        )
    totals = {w["worker_login"]: (w["services"], w["hours"]) for w in view["workers"]}
    assert {r["worker_login"]: (int(r["services"]), int(r["hours"])) for r in rows} == totals
    names = [r["worker"] for r in rows]
    assert names == sorted(names, key=str.casefold)
    assert [r["worker_login"] for r in named] == [SOFIE.login]
    assert named[0]["worker"] == f"{SOFIE.first_name} {SOFIE.last_name}"


async def test_the_imports_and_an_import_s_rows_export_as_listed(platform: Platform) -> None:
    date = fresh_service_date(SOFIE.login, DEMO.users[1].user_number)
    rows = [
        (SOFIE.login, DEMO.users[1].user_number, date, "3", "1", ""),
        (SOFIE.login, "12", date, "3", "1", ""),  # not a user number
        ("=HYPERLINK(1)", DEMO.users[1].user_number, date, "3", "1", ""),
    ]
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        done = await imported(staff, csv_bytes(SERVICES_HEADER, rows), company_id=SCHELDE)
        listed = downloaded_csv(
            await staff.get("/api/v1/imports/export.csv", params={"company_id": SCHELDE})
        )
        exported = downloaded_csv(await staff.get(f"/api/v1/imports/{done['id']}/rows.csv"))
        rejected = downloaded_csv(
            await staff.get(
                f"/api/v1/imports/{done['id']}/rows.csv", params={"outcome": "rejected"}
            )
        )
        api_rows = await all_rows(staff, done["id"])
    [mine] = [r for r in listed if r["import_id"] == done["id"]]
    assert (mine["rows_total"], mine["rejected"]) == ("3", str(done["rejected"]))
    assert [int(r["line"]) for r in exported] == [row["line"] for row in api_rows]
    assert [r["outcome"] for r in exported] == [row["outcome"] for row in api_rows]
    assert {r["line"] for r in rejected} == {"3", "4"}
    assert all(r["errors"] for r in rejected)


async def test_a_branch_s_staff_export_only_their_branch_s_imports(platform: Platform) -> None:
    async with platform.as_person(SCHELDE_GENT_STAFF.national_number) as gent:
        listed = downloaded_csv(
            await gent.get("/api/v1/imports/export.csv", params={"company_id": SCHELDE})
        )
    assert {r["branch_id"] for r in listed} <= {DEMO.workers[0].branch_id}


async def test_the_audit_log_exports_whole_and_by_name(platform: Platform) -> None:
    grantee = await platform.new_person("Kim", "Export")
    async with platform.as_person(SCHELDE_MAIN_ACCESS_MANAGER.national_number) as manager:
        grants = f"/api/v1/companies/{SCHELDE}/grants"
        granted = await manager.post(grants, json={"national_number": grantee})
        assert granted.status_code == 201, granted.text
        assert (await manager.delete(f"{grants}/{granted.json()['id']}")).status_code == 204
        log: list[dict[str, Any]] = (
            await manager.get(f"/api/v1/companies/{SCHELDE}/audit-log", params={"limit": 500})
        ).json()
        exported = downloaded_csv(await manager.get(f"/api/v1/companies/{SCHELDE}/audit-log.csv"))
    assert [int(r["entry_id"]) for r in exported] == [e["id"] for e in log]
    kim = [r for r in exported if r["subject"] == grantee]
    assert [(r["action"], r["subject_name"]) for r in kim] == [
        ("right-revoked", "Kim Export"),
        ("right-granted", "Kim Export"),
    ]


async def test_an_export_is_refused_like_its_list(platform: Platform) -> None:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        audit = await staff.get(f"/api/v1/companies/{SCHELDE}/audit-log.csv")
    async with platform.as_person(SCHELDE_GENT_STAFF.national_number) as gent:
        requests = await gent.get(
            "/api/v1/reimbursement-requests/export.csv", params={"company_id": SCHELDE}
        )
    assert (audit.status_code, requests.status_code) == (403, 403)
    assert platform.anonymous is not None
    anonymous: httpx.Response = await platform.anonymous.get("/api/v1/imports/export.csv")
    assert anonymous.status_code == 401


async def test_the_grants_and_a_household_s_payments_export_as_listed(
    platform: Platform,
) -> None:
    async with platform.as_person(SCHELDE_MAIN_ACCESS_MANAGER.national_number) as manager:
        grants = (await manager.get(f"/api/v1/companies/{SCHELDE}/grants")).json()
        exported = downloaded_csv(await manager.get(f"/api/v1/companies/{SCHELDE}/grants.csv"))
    assert [int(r["grant_id"]) for r in exported] == [g["id"] for g in grants]
    assert {r["name"] for r in exported} >= {SCHELDE_STAFF.name, SCHELDE_GENT_STAFF.name}
    user = DEMO.users[0].user_number
    async with platform.as_person(USER_HOLDERS[0].national_number) as household:
        wallet = (await household.get(f"/api/v1/users/{user}/wallet")).json()
        paid = downloaded_csv(await household.get(f"/api/v1/users/{user}/wallet/payments.csv"))
    assert [r["service_id"] for r in paid] == [a["service_id"] for a in wallet["allocations"]]
