"""The Jobtracker's API as the worker's phone uses it: customers, services, the services the
company encoded, paper vouchers, employers, all in the worker's language; and none of it reaches
another worker or another company."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from dc_identity.demo import DEMO, LEIE, LEIE_STAFF, OPERATOR, SCHELDE, SCHELDE_STAFF
from tests.support.platform import Platform
from tests.support.services import fresh_service_date

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

MOHAMED = DEMO.workers[1]  # Schelde Gent, and Leie Kortrijk
JAN = DEMO.workers[3]  # Schelde Antwerpen
AN, LUC, EMMA = DEMO.users[0], DEMO.users[1], DEMO.users[4]


@dataclass
class Phone:
    """A worker's phone, logged in: its calls carry the token and the phone's language."""

    http: httpx.AsyncClient
    session: dict[str, Any]
    language: str = "nl"

    def _headers(self, **more: str) -> dict[str, str]:
        token = self.session["access_token"]
        return {"Authorization": f"Bearer {token}", "Accept-Language": self.language, **more}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(
            f"/api/v1/jobtracker{path}", headers=self._headers(), params=params
        )

    async def send(
        self, method: str, path: str, body: Any = None, **headers: str
    ) -> httpx.Response:
        return await self.http.request(
            method, f"/api/v1/jobtracker{path}", json=body, headers=self._headers(**headers)
        )

    async def register(self, **service: Any) -> httpx.Response:
        body = {"hours": 2, "activity_type": 1, **service}
        key = f"phone-{uuid.uuid4()}"
        return await self.send("POST", "/services", body, **{"Idempotency-Key": key})


async def logged_in(platform: Platform, login: str, password: str) -> Phone:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        answer = await staff.put(f"/api/v1/workers/{login}/password", json={"password": password})
        assert answer.status_code == 204, answer.text
    session = await platform.anonymous.post(
        "/api/v1/jobtracker/sessions", json={"login": login, "password": password}
    )
    assert session.status_code == 200, session.text
    return Phone(platform.anonymous, session.json())


@pytest.fixture
async def jan(platform: Platform) -> AsyncIterator[Phone]:
    yield await logged_in(platform, JAN.login, "jan-zijn-2026-gsm")


async def test_a_worker_keeps_customers_the_platform_knows(jan: Phone) -> None:
    added = await jan.send("PUT", f"/customers/{AN.user_number}", {"name": "Mevrouw Peeters"})
    assert added.status_code == 200, added.text
    changed = await jan.send(
        "PUT",
        f"/customers/{AN.user_number}",
        {"name": "An Peeters", "phone": "+32 470 12 34 56", "note": "sleutel bij de buren"},
    )
    assert changed.status_code == 200
    unknown = await jan.send("PUT", "/customers/199999999999", {"name": "Niemand"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"field": "user_number", "reason": "onbekende gebruiker"}]

    listed = (await jan.get("/customers")).json()["items"]
    assert listed == [
        {
            "user_number": AN.user_number,
            "name": "An Peeters",
            "phone": "+32 470 12 34 56",
            "note": "sleutel bij de buren",
        }
    ]


async def test_a_worker_s_services_newest_first_with_labels_in_their_language(
    jan: Phone,
) -> None:
    await jan.send("PUT", f"/customers/{LUC.user_number}", {"name": "Luc"})
    first = await jan.register(
        user_number=LUC.user_number, service_date=fresh_service_date(JAN.login, LUC.user_number)
    )
    second = await jan.register(
        user_number=LUC.user_number,
        service_date=fresh_service_date(JAN.login, LUC.user_number),
        activity_type=3,
        voucher="paper",
    )
    assert (first.status_code, second.status_code) == (201, 201), second.text
    jan.language = "de"
    page = (await jan.get("/services")).json()
    newest = page["items"][0]
    assert [s["id"] for s in page["items"][:2]] == [second.json()["id"], first.json()["id"]]
    assert newest["status"] == 1
    assert newest["status_label"] == "erfasst, wartet auf die Firma und den Haushalt"
    assert (newest["activity_label"], newest["voucher"], newest["voucher_label"]) == (
        "Bügeln außer Haus",
        "paper",
        "Papier",
    )
    assert newest["customer_name"] == "Luc"
    assert "." in newest["service_date_label"]  # "03.12.2026": the German way


async def test_the_worker_answers_what_the_company_encoded(platform: Platform, jan: Phone) -> None:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        encoded = []
        for _ in range(2):
            answer = await staff.post(
                "/api/v1/services",
                json={
                    "company_id": SCHELDE,
                    "worker_login": JAN.login,
                    "user_number": EMMA.user_number,
                    "service_date": fresh_service_date(JAN.login, EMMA.user_number),
                    "hours": 4,
                    "activity_type": 1,
                },
            )
            assert answer.status_code == 201, answer.text
            encoded.append(answer.json()["id"])
        own = await jan.register(
            user_number=EMMA.user_number,
            service_date=fresh_service_date(JAN.login, EMMA.user_number),
        )
        waiting = {s["id"] for s in (await jan.get("/to-validate")).json()["items"]}
        assert waiting >= set(encoded) and own.json()["id"] not in waiting

        confirmed = await jan.send("POST", f"/services/{encoded[0]}/confirm")
        assert confirmed.json()["worker_answer"]["answer"] == "confirmed", confirmed.text
        empty = await jan.send("POST", f"/services/{encoded[1]}/correction", {"reason": ""})
        assert empty.status_code == 422
        corrected = await jan.send(
            "POST", f"/services/{encoded[1]}/correction", {"reason": "Het waren 3 uren"}
        )
        assert corrected.status_code == 200, corrected.text
        mine = await jan.send("POST", f"/services/{own.json()['id']}/confirm")
        assert mine.status_code == 409
        assert mine.json()["detail"] == "u hebt deze prestatie zelf geregistreerd"

        waiting = {s["id"] for s in (await jan.get("/to-validate")).json()["items"]}
        assert not waiting & set(encoded)
        seen = (await staff.get(f"/api/v1/services/{encoded[1]}")).json()
        assert seen["worker_answer"]["answer"] == "correction"
        assert seen["worker_answer"]["reason"] == "Het waren 3 uren"

        # The company changes the service: the worker is asked again.
        await staff.patch(f"/api/v1/services/{encoded[1]}", json={"hours": 3, "reason": "Jan"})
        waiting = {s["id"] for s in (await jan.get("/to-validate")).json()["items"]}
        assert encoded[1] in waiting


async def test_a_worker_with_two_employers_picks_the_one_to_work_for(
    platform: Platform,
) -> None:
    phone = await logged_in(platform, MOHAMED.login, "mohamed-2026-twee")
    employers = [e["company_id"] for e in phone.session["employers"]]
    assert employers == [SCHELDE, LEIE] and phone.session["worker"]["company_id"] == SCHELDE
    for_leie = await platform.anonymous.post(
        "/api/v1/jobtracker/sessions/refresh",
        json={"refresh_token": phone.session["refresh_token"], "company_id": LEIE},
    )
    assert for_leie.status_code == 200, for_leie.text
    leie = Phone(platform.anonymous, for_leie.json())
    assert leie.session["worker"]["company_id"] == LEIE
    service = await leie.register(
        user_number=AN.user_number, service_date=fresh_service_date(MOHAMED.login, AN.user_number)
    )
    assert service.status_code == 201, service.text
    async with platform.as_person(LEIE_STAFF.national_number) as staff:
        seen = (await staff.get(f"/api/v1/services/{service.json()['id']}")).json()
    assert (seen["company_id"], seen["worker_login"]) == (LEIE, MOHAMED.login)

    # The next refresh keeps the employer; Schelde's tokens do not reach Leie's services.
    again = await platform.anonymous.post(
        "/api/v1/jobtracker/sessions/refresh", json={"refresh_token": leie.session["refresh_token"]}
    )
    assert again.json()["worker"]["company_id"] == LEIE
    schelde = await logged_in(platform, MOHAMED.login, "mohamed-2026-drie")
    assert service.json()["id"] not in {
        s["id"] for s in (await schelde.get("/services")).json()["items"]
    }
    refused = await schelde.send("POST", f"/services/{service.json()['id']}/confirm")
    assert refused.status_code == 404
    elsewhere = await platform.anonymous.post(
        "/api/v1/jobtracker/sessions/refresh",
        json={"refresh_token": schelde.session["refresh_token"], "company_id": "0403170701"},
    )
    assert elsewhere.status_code == 422


async def test_a_worker_does_not_reach_another_worker_s_service_or_customers(
    platform: Platform, jan: Phone
) -> None:
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        other = await staff.post(
            "/api/v1/services",
            json={
                "company_id": SCHELDE,
                "worker_login": DEMO.workers[2].login,
                "user_number": AN.user_number,
                "service_date": fresh_service_date(DEMO.workers[2].login, AN.user_number),
                "hours": 1,
                "activity_type": 2,
            },
        )
    other_id = other.json()["id"]
    assert (await jan.send("POST", f"/services/{other_id}/confirm")).status_code == 404
    assert other_id not in {s["id"] for s in (await jan.get("/services")).json()["items"]}
    assert other_id not in {s["id"] for s in (await jan.get("/to-validate")).json()["items"]}
    marie = await logged_in(platform, DEMO.workers[2].login, "marie-2026-autre")
    await marie.send("PUT", f"/customers/{EMMA.user_number}", {"name": "Emma chez Marie"})
    assert "Emma chez Marie" not in {
        c["name"] for c in (await jan.get("/customers")).json()["items"]
    }


async def test_a_paper_voucher_is_valid_expired_used_or_unknown(
    platform: Platform, jan: Phone
) -> None:
    today = date.today()
    vouchers = {
        "4000000001": {
            "issue_date": str(today - timedelta(days=30)),
            "expiry_date": str(today + timedelta(days=200)),
        },
        "4000000002": {"issue_date": "2024-01-01", "expiry_date": str(today - timedelta(days=2))},
        "4000000003": {
            "issue_date": str(today - timedelta(days=30)),
            "expiry_date": str(today + timedelta(days=200)),
            "used_on": str(today - timedelta(days=1)),
        },
    }
    async with platform.as_person(OPERATOR.national_number) as operator:
        for number, body in vouchers.items():
            saved = await operator.put(f"/api/v1/paper-vouchers/{number}", json=body)
            assert saved.status_code == 204, saved.text
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        refused = await staff.put("/api/v1/paper-vouchers/4000000009", json=vouchers["4000000001"])
        assert refused.status_code == 403
    jan.language = "fr"
    states = {}
    for number in (*vouchers, "4000000004"):
        checked = (await jan.get(f"/paper-vouchers/{number}")).json()
        states[number] = (checked["state"], checked["state_label"])
    assert states == {
        "4000000001": ("valid", "valable"),
        "4000000002": ("expired", "expiré"),
        "4000000003": ("used", "déjà utilisé"),
        "4000000004": ("unknown", "inconnu"),
    }


@pytest.mark.parametrize(
    ("language", "wrong_password", "too_many_hours"),
    [
        ("fr", "identifiant ou mot de passe erroné", "au maximum 9"),
        ("de", "Falsche Anmeldung oder falsches Passwort", "höchstens 9"),
        ("en", "wrong login or password", "at most 9"),
        ("nl", "verkeerde login of verkeerd wachtwoord", "hoogstens 9"),
    ],
)
async def test_refusals_speak_the_phone_s_language(
    platform: Platform, jan: Phone, language: str, wrong_password: str, too_many_hours: str
) -> None:
    jan.language = language
    wrong = await platform.anonymous.post(
        "/api/v1/jobtracker/sessions",
        json={"login": JAN.login, "password": "niet-het-juiste-1"},
        headers={"Accept-Language": language},
    )
    assert wrong.status_code == 401
    assert wrong.json()["detail"].startswith(wrong_password), wrong.text
    assert wrong.headers["content-language"] == language
    await platform.anonymous.post(  # the wrong password above counted: start again at zero
        "/api/v1/jobtracker/sessions",
        json={"login": JAN.login, "password": "jan-zijn-2026-gsm"},
    )
    refused = await jan.register(user_number=AN.user_number, service_date="2026-01-02", hours=12)
    assert refused.status_code == 422
    assert refused.json()["errors"] == [{"field": "hours", "reason": too_many_hours}]
