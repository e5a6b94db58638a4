"""The grant flow end to end through the gateway: the legal representative appoints a main access
manager, who grants a branch right; the grantee sees that branch only; after the revoke, nothing."""

import httpx
import pytest

from dc_identity.demo import (
    DEMO,
    SCHELDE,
    SCHELDE_ANTWERPEN,
    SCHELDE_GENT,
    SCHELDE_LEGAL_REPRESENTATIVE,
    SCHELDE_STAFF,
)
from tests.support.platform import Platform
from tests.support.services import fresh_service_date

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]


async def register_in(staff: httpx.AsyncClient, branch_id: str, worker_login: str) -> str:
    response = await staff.post(
        "/api/v1/services",
        json={
            "company_id": SCHELDE,
            "branch_id": branch_id,
            "worker_login": worker_login,
            "user_number": DEMO.users[1].user_number,
            "service_date": fresh_service_date(worker_login, DEMO.users[1].user_number),
            "hours": 3,
            "activity_type": 1,
        },
    )
    assert response.status_code == 201, response.text
    service_id: str = response.json()["id"]
    return service_id


async def test_appoint_grant_see_revoke(platform: Platform) -> None:
    manager = await platform.new_person("Mia")
    grantee = await platform.new_person("Gert")
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        in_gent = await register_in(staff, SCHELDE_GENT, DEMO.workers[0].login)
        in_antwerpen = await register_in(staff, SCHELDE_ANTWERPEN, DEMO.workers[2].login)

    async with platform.as_person(SCHELDE_LEGAL_REPRESENTATIVE.national_number) as legal:
        appointed = await legal.post(
            f"/api/v1/companies/{SCHELDE}/main-access-managers",
            json={"national_number": manager},
        )
        assert appointed.status_code == 201, appointed.text

    async with platform.as_person(manager) as mia:
        granted = await mia.post(
            f"/api/v1/companies/{SCHELDE}/grants",
            json={"national_number": grantee, "branch_id": SCHELDE_GENT},
        )
        assert granted.status_code == 201, granted.text
        grant_id = granted.json()["id"]

        async with platform.as_person(grantee) as gert:
            me = (await gert.get("/api/v1/me")).json()
            assert me["rights"] == [
                {"grant_id": grant_id, "company_id": SCHELDE, "branch_id": SCHELDE_GENT}
            ]
            listed = (await gert.get("/api/v1/services", params={"page_size": 200})).json()
            branches = {service["branch_id"] for service in listed["items"]}
            assert branches == {SCHELDE_GENT}
            assert (await gert.get(f"/api/v1/services/{in_gent}")).status_code == 200
            assert (await gert.get(f"/api/v1/services/{in_antwerpen}")).status_code == 404
            assert (await gert.post(f"/api/v1/services/{in_gent}/validate")).status_code == 200
            assert (await gert.post(f"/api/v1/services/{in_antwerpen}/validate")).status_code == 404

            revoked = await mia.delete(f"/api/v1/companies/{SCHELDE}/grants/{grant_id}")
            assert revoked.status_code == 204

            assert (await gert.get("/api/v1/me")).json()["rights"] == []
            assert (await gert.get("/api/v1/services")).status_code == 403
            assert (await gert.get(f"/api/v1/services/{in_gent}")).status_code == 404
            assert (await gert.get(f"/api/v1/companies/{SCHELDE}/inbox")).status_code == 404

        audit = (await mia.get(f"/api/v1/companies/{SCHELDE}/audit-log")).json()
        grants = f"/api/v1/companies/{SCHELDE}/grants"
        active = (await mia.get(grants)).json()
        every = (await mia.get(grants, params={"include_revoked": "true"})).json()
        latest = await mia.get(f"/api/v1/companies/{SCHELDE}/audit-log", params={"limit": 1})
        before = await mia.get(
            f"/api/v1/companies/{SCHELDE}/audit-log",
            params={"limit": 1, "before_id": audit[0]["id"]},
        )
    assert grant_id not in {g["id"] for g in active}
    [revoked_grant] = [g for g in every if g["id"] == grant_id]
    assert revoked_grant["revoked_by"] == manager and revoked_grant["name"] == "Gert Grantflow"
    assert [e["id"] for e in latest.json()] == [audit[0]["id"]]
    assert [e["id"] for e in before.json()] == [audit[1]["id"]]
    mine = [entry for entry in audit if entry["subject"] in (manager, grantee)]
    assert [(entry["action"], entry["actor"], entry["subject"]) for entry in mine] == [
        ("right-revoked", manager, grantee),
        ("right-granted", manager, grantee),
        ("main-access-manager-appointed", SCHELDE_LEGAL_REPRESENTATIVE.national_number, manager),
    ]
    assert mine[1]["branch_id"] == SCHELDE_GENT
    assert (mine[1]["actor_name"], mine[1]["subject_name"]) == ("Mia Grantflow", "Gert Grantflow")


async def test_tokens_of_a_rotated_key_are_accepted_at_once(platform: Platform) -> None:
    """The identity provider rotates its signing key; the gateway fetches the new key the first
    time a token names it, and tokens of the previous key stay valid until they expire."""
    from dc_identity.dev_idp import KeyStore

    before = await platform.token(SCHELDE_STAFF.national_number)
    store = KeyStore(platform.state_dir / "dev-idp-key.json")
    store.load_or_create()
    rotated = store.rotate()
    after = await platform.token(SCHELDE_STAFF.national_number)

    assert _kid(after) == rotated.kid != _kid(before)
    for token in (after, before):
        response = await platform.anonymous.get(
            "/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 200, response.text


def _kid(token: str) -> str:
    import base64
    import json

    header = token.split(".")[0]
    kid: str = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    return kid
