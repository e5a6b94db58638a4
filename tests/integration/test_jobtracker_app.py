"""The Jobtracker app on a phone, in Dutch, French and German: the company sets a first
password, the worker logs in, chooses their own, adds a customer, registers a service without a
connection and sees it sent once the connection is back; the office sees it once, encoded. Then
the other screens: my services, to validate (confirm, ask a correction), a paper voucher, log out.

Every screen is looked at (screenshots and axe-core: no serious or critical violation of WCAG 2.2
AA, nothing wider than the phone), and every text on it is a translation of its language's
``jobtracker`` catalogue: no English or Dutch leftover.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from babel.messages import pofile
from playwright.async_api import Locator, Page, expect

from dc_gateway.jobtracker_app import app as jobtracker_app
from dc_gateway.jobtracker_app.words import LABELS, PLURALS
from dc_gateway.portal.i18n import LOCALE_DIR
from dc_identity.demo import (
    DEMO,
    LEIE_STAFF,
    OPERATOR,
    SCHELDE_STAFF,
    DemoPerson,
    DemoUser,
    DemoWorker,
)
from tests.integration.jobtracker_support import Words, phone, untranslated
from tests.integration.portal_support import chromium, look_at
from tests.support.platform import Platform
from tests.support.services import fresh_service_date


@dataclass(frozen=True)
class Story:
    worker: DemoWorker
    staff: DemoPerson
    customer: DemoUser


# A phone's screen fills in as its calls come back; on a busy CI machine that takes longer.
expect.set_options(timeout=15_000)

#: One worker a language, so that the runs do not meet (each its own password and services).
STORIES = {
    "nl": Story(DEMO.workers[1], SCHELDE_STAFF, DEMO.users[0]),  # Mohamed, An Peeters
    "fr": Story(DEMO.workers[2], SCHELDE_STAFF, DEMO.users[2]),  # Marie, Claire Lambert
    "de": Story(DEMO.workers[4], LEIE_STAFF, DEMO.users[3]),  # Katrin, Jürgen Weber
}

#: A paper voucher on the issuer's list, one a language.
PAPER_VOUCHERS = {"nl": "7100000000001", "fr": "7100000000002", "de": "7100000000003"}

#: The phone's access token made unusable (its signature reversed), as one that ran out.
#: Resolves once the service worker controls the page. (Not wait_for_function: its polling
#: evaluates a string in the page, which the app's CSP, without 'unsafe-eval', refuses.)
UNTIL_A_SERVICE_WORKER_CONTROLS = """() => navigator.serviceWorker.controller !== null
  || new Promise((resolve) => navigator.serviceWorker.addEventListener(
       "controllerchange", () => resolve(true), { once: true }))"""
SPOIL_THE_ACCESS_TOKEN = """() => new Promise((resolve) => {
  const open = indexedDB.open("jobtracker");
  open.onsuccess = () => {
    const transaction = open.result.transaction("kv", "readwrite");
    const kv = transaction.objectStore("kv");
    const read = kv.get("session");
    read.onsuccess = () => {
      const [header, payload, signature] = read.result.access_token.split(".");
      const spoilt = [header, payload, [...signature].reverse().join("")].join(".");
      kv.put({ ...read.result, access_token: spoilt }, "session");
    };
    transaction.oncomplete = () => { open.result.close(); resolve(); };
  };
})"""


class Screens:
    """Each screen looked at and read: its screenshots and accessibility, its words."""

    def __init__(self, page: Page, words: Words) -> None:
        self.page = page
        self.words = words
        self.problems: dict[str, list[object]] = {}

    async def check(self, name: str) -> None:
        found: list[object] = list(
            await look_at(self.page, f"jobtracker-{name}-{self.words.language}")
        )
        leftovers = await untranslated(self.page, self.words)
        if leftovers:
            found.append({"rule": "not in the catalogue", "where": leftovers})
        if found:
            self.problems[name] = found

    def heading(self, message_id: str, **values: object) -> Locator:
        return self.page.get_by_role("heading", level=1, name=self.words.said(message_id, **values))


@pytest.mark.parametrize("language", ["nl", "fr", "de"])
@pytest.mark.postgres
@pytest.mark.devserver
async def test_a_worker_registers_offline_and_the_service_arrives_once(
    platform: Platform, language: str
) -> None:
    story = STORIES[language]
    worker, user = story.worker, story.customer
    first, own = f"eerste-{language}-2026", f"mijn-eigen-{language}-2077"
    async with platform.as_person(story.staff.national_number) as office:
        answer = await office.put(
            f"/api/v1/workers/{worker.login}/password", json={"password": first}
        )
        assert answer.status_code == 204, answer.text
    words = Words(language)
    service_date = fresh_service_date(worker.login, user.user_number)

    async with chromium() as browser, phone(browser, language, service_workers="allow") as context:
        page = await context.new_page()
        screens = Screens(page, words)

        # Log in with the first password, then choose one's own.
        await page.goto(f"{platform.gateway_url}/app/")
        await expect(screens.heading("Log in")).to_be_visible()
        await screens.check("login")
        await page.get_by_label(words["Login"], exact=True).fill(worker.login)
        await page.get_by_label(words["Password"], exact=True).fill("niet-het-goede-1")
        await page.get_by_role("button", name=words["Log in"]).click()
        await expect(page.get_by_role("alert")).not_to_be_empty()
        await screens.check("login-refused")
        await page.get_by_label(words["Password"], exact=True).fill(first)
        await page.get_by_role("button", name=words["Log in"]).click()
        await expect(screens.heading("Choose your own password")).to_be_visible()
        await page.get_by_label(words["New password"], exact=True).fill("kort1")
        await page.get_by_role("button", name=words["Save the password"]).click()
        await expect(page.get_by_text(words["Use at least 10 characters."])).to_be_visible()
        await screens.check("password")
        await page.get_by_label(words["New password"], exact=True).fill(own)
        await page.get_by_label(words["Repeat the new password"], exact=True).fill(own)
        await page.get_by_role("button", name=words["Save the password"]).click()
        if any(e.login == worker.login for e in DEMO.employments):  # works for two companies
            await expect(screens.heading("Pick the employer")).to_be_visible()
            await screens.check("employer")
            [employer] = [
                c.name for c in DEMO.companies if c.enterprise_number == worker.company_id
            ]
            await page.get_by_role("button", name=employer).click()
        else:
            await expect(page.locator("#notice")).to_have_text(words["Your new password is saved."])
        await expect(screens.heading("Hello {name}", name=worker.first_name)).to_be_visible()
        await screens.check("home")

        # Add the household as a customer (an unknown user number is refused at the field).
        await page.get_by_role("link", name=words["Customers"], exact=True).click()
        await expect(screens.heading("Customers")).to_be_visible()
        await page.get_by_role("link", name=words["Add a customer"]).click()
        await expect(screens.heading("Add a customer")).to_be_visible()
        await page.get_by_label(words["User number"], exact=True).fill("999999999999")
        await page.get_by_label(words["Name"], exact=True).fill(user.name)
        await page.get_by_role("button", name=words["Save"], exact=True).click()
        number = page.get_by_label(words["User number"], exact=True)
        await expect(number).to_have_attribute("aria-invalid", "true")
        await screens.check("customer-refused")
        await number.fill(user.user_number)
        await page.get_by_label(words["Note (optional)"], exact=True).fill(
            "sleutel / clé / Schlüssel"
        )
        await page.get_by_role("button", name=words["Save"], exact=True).click()
        await expect(screens.heading("Customers")).to_be_visible()
        await expect(page.get_by_role("link", name=user.name)).to_be_visible()
        await screens.check("customers")

        # Without a connection: register; it waits on the phone.
        await context.set_offline(True)
        await expect(page.locator("#banner")).to_have_text(words[LABELS["offline"]])
        await page.get_by_role("link", name=words["To the start"]).click()
        await page.get_by_role("link", name=user.name).click()
        await expect(screens.heading("Register a service")).to_be_visible()
        assert await page.get_by_role("radio", name="3", exact=True).is_checked()
        assert await page.get_by_role("radio", name=words["Household help"]).is_checked()
        assert await page.get_by_role("radio", name=words["Electronic"]).is_checked()
        await page.get_by_label(words["Date"], exact=True).fill(service_date)
        await page.get_by_role("radio", name="2", exact=True).check()
        register = page.get_by_role("button", name=words["Register"], exact=True)
        within = await register.bounding_box()
        assert within and within["y"] + within["height"] <= 844, "Register is on the first screen"
        await screens.check("register")
        await register.click()
        await expect(screens.heading("Hello {name}", name=worker.first_name)).to_be_visible()
        waiting = page.get_by_role("link", name=words["Waiting to be sent"])
        await expect(waiting).to_contain_text("1")
        await screens.check("home-offline")
        await waiting.click()
        await expect(page.get_by_text(words["Waiting"], exact=True)).to_be_visible()
        await expect(page.get_by_text(words.plural("{count} hour", 2))).to_be_visible()
        await screens.check("queue")

        # The connection is back: the queue empties by itself.
        await context.set_offline(False)
        await expect(page.get_by_text(words[LABELS["queue_empty"]])).to_be_visible()
        await screens.check("queue-empty")

        async with platform.as_person(story.staff.national_number) as office:
            listed = await office.get(
                "/api/v1/services",
                params={
                    "company_id": worker.company_id,
                    "worker_login": worker.login,
                    "user_number": user.user_number,
                    "page_size": 200,
                },
            )
        assert listed.status_code == 200, listed.text
        arrived = [s for s in listed.json()["items"] if s["service_date"] == service_date]
        assert [(s["status"], s["hours"], s["activity_type"]) for s in arrived] == [(1, 2, 1)]

        # The same service once more: the platform refuses it, the phone says why.
        await page.get_by_role("link", name=words["To the start"]).click()
        await page.get_by_role("link", name=user.name).click()
        await page.get_by_label(words["Date"], exact=True).fill(service_date)
        await expect(page.get_by_role("radio", name="2", exact=True)).to_be_checked()
        await page.get_by_role("button", name=words["Register"], exact=True).click()
        await expect(screens.heading("Waiting to be sent")).to_be_visible()
        await expect(page.get_by_text(words["Refused"], exact=True)).to_be_visible()
        await expect(page.locator(".reason")).to_have_text(
            words["this service was registered before"]
        )
        await screens.check("queue-refused")
        await page.get_by_role("button", name=words["Remove"]).click()
        await expect(page.get_by_text(words[LABELS["queue_empty"]])).to_be_visible()

        # My services: the one just sent, its status in the worker's language; the access
        # token has run out meanwhile (spoilt here): the app gets the next one and goes on.
        await page.get_by_role("link", name=words["To the start"]).click()
        await page.evaluate(SPOIL_THE_ACCESS_TOKEN)
        await page.reload()
        await page.get_by_role("link", name=words["My services"]).click()
        await expect(screens.heading("My services")).to_be_visible()
        sent = page.locator(f'[data-id="{arrived[0]["id"]}"]')
        await expect(sent).to_contain_text(
            words["encoded, waiting for the company and the household"]
        )
        await screens.check("services")

        # To validate: what the office encoded for the worker; confirm one, correct the other.
        await _to_validate(page, screens, platform, story)

        # Paper vouchers: one on the issuer's list, one the platform does not know.
        paper = PAPER_VOUCHERS[language]
        async with platform.as_person(OPERATOR.national_number) as operator:
            listed_paper = await operator.put(
                f"/api/v1/paper-vouchers/{paper}",
                json={
                    "issue_date": (date.today() - timedelta(days=30)).isoformat(),
                    "expiry_date": (date.today() + timedelta(days=200)).isoformat(),
                },
            )
            assert listed_paper.status_code == 204, listed_paper.text
        await page.get_by_role("link", name=words["To the start"]).click()
        await page.get_by_role("link", name=words["Check a paper voucher"]).click()
        await expect(screens.heading("Check a paper voucher")).to_be_visible()
        number = page.get_by_label(words["Voucher number"], exact=True)
        result = page.locator("#voucher-result")
        await number.fill(paper)
        await page.get_by_role("button", name=words["Check"], exact=True).click()
        await expect(result.locator(".verdict")).to_have_text(words["valid"])
        await expect(result).to_contain_text(words["Valid until {date}"].split("{")[0].strip())
        await screens.check("voucher-valid")
        await number.fill("12345678901")
        await page.get_by_role("button", name=words["Check"], exact=True).click()
        await expect(result.locator(".verdict")).to_have_text(words["unknown"])
        await screens.check("voucher")

        # Log out: back to the login; the password now is one's own.
        await page.get_by_role("link", name=words["To the start"]).click()
        await page.get_by_role("link", name=words["Log out"]).click()
        await expect(screens.heading("Log out")).to_be_visible()
        await screens.check("logout")
        await page.get_by_role("button", name=words["Log out"]).click()
        await expect(screens.heading("Log in")).to_be_visible()
        await expect(page.locator("#notice")).to_have_text(words["You are logged out."])
        kept = await page.evaluate(
            """() => new Promise((resolve) => {
              const open = indexedDB.open("jobtracker");
              open.onsuccess = () => {
                const keys = open.result.transaction("kv").objectStore("kv").getAllKeys();
                keys.onsuccess = () => resolve(keys.result);
              };
            })"""
        )
        assert kept == [], "the phone forgets the session and the lists"

    assert screens.problems == {}


async def _to_validate(page: Page, screens: Screens, platform: Platform, story: Story) -> None:
    words, worker, user = screens.words, story.worker, story.customer
    encoded: list[str] = []
    async with platform.as_person(story.staff.national_number) as office:
        for _ in range(2):
            answer = await office.post(
                "/api/v1/services",
                json={
                    "company_id": worker.company_id,
                    "worker_login": worker.login,
                    "user_number": user.user_number,
                    "service_date": fresh_service_date(worker.login, user.user_number),
                    "hours": 4,
                    "activity_type": 1,
                },
            )
            assert answer.status_code == 201, answer.text
            encoded.append(answer.json()["id"])
    await page.get_by_role("link", name=words["To the start"]).click()
    await page.get_by_role("link", name=words["To validate"]).click()
    await expect(screens.heading("To validate")).to_be_visible()
    to_confirm, to_correct = (page.locator(f'#validate-list li[data-id="{i}"]') for i in encoded)
    await expect(to_correct).to_be_visible()
    await screens.check("validate")
    await to_confirm.get_by_role("button", name=words["Confirm"]).click()
    await expect(to_confirm).to_have_count(0)
    await to_correct.get_by_role("button", name=words["Ask a correction"]).click()
    await to_correct.get_by_role("button", name=words["Send the correction"]).click()
    reason = to_correct.get_by_role("textbox")
    await expect(reason).to_have_attribute("aria-invalid", "true")
    await screens.check("validate-correction")
    await reason.fill("3 h")
    await to_correct.get_by_role("button", name=words["Send the correction"]).click()
    await expect(to_correct).to_have_count(0)
    await expect(page.locator("#notice")).to_have_text(
        words["Your correction was sent to the office."]
    )


@pytest.mark.postgres
@pytest.mark.devserver
async def test_the_app_installs_and_opens_without_a_connection(platform: Platform) -> None:
    """The manifest makes it installable; the service worker keeps the shell, its assets and
    (the app itself) the labels, so the app opens on a phone with no connection."""
    anonymous = platform.anonymous
    manifest = (await anonymous.get("/app/manifest.webmanifest")).json()
    assert (manifest["start_url"], manifest["scope"], manifest["display"]) == (
        "/app/",
        "/app/",
        "standalone",
    )
    sizes = {icon["sizes"]: icon for icon in manifest["icons"] if icon["type"] == "image/png"}
    assert {"192x192", "512x512"} <= set(sizes)
    for icon in sizes.values():
        answer = await anonymous.get(icon["src"])
        assert (answer.status_code, answer.headers["content-type"]) == (200, "image/png")
    worker_script = await anonymous.get("/app/sw.js")
    assert worker_script.headers["content-type"].startswith("application/javascript")
    assert worker_script.headers["service-worker-allowed"] == "/app/"
    assert worker_script.headers["cache-control"] == "no-cache"
    assert "__VERSION__" not in worker_script.text

    words = Words("fr")
    async with chromium() as browser, phone(browser, "fr", service_workers="allow") as context:
        page = await context.new_page()
        await page.goto(f"{platform.gateway_url}/app/")
        await expect(page.get_by_role("heading", name=words["Log in"])).to_be_visible()
        await page.evaluate(UNTIL_A_SERVICE_WORKER_CONTROLS)
        switch = page.locator("#language-switch")
        await expect(page.get_by_label(words["Language"])).to_be_visible()
        await switch.select_option("de")
        await expect(page.get_by_role("heading", name=Words("de")["Log in"])).to_be_visible()
        assert await page.evaluate("document.documentElement.lang") == "de"
        await switch.select_option("fr")
        await expect(page.get_by_role("heading", name=words["Log in"])).to_be_visible()
        [service_worker] = context.service_workers
        await context.set_offline(True)
        reached = await service_worker.evaluate(
            "fetch('/healthz', {cache: 'no-store'}).then(() => 'network', () => 'none')"
        )
        assert reached == "none", "offline, the service worker reaches no network either"
        shell = await page.reload()
        assert shell is not None and shell.from_service_worker
        await expect(page.get_by_role("heading", name=words["Log in"])).to_be_visible()
        await expect(page.locator("#banner")).to_have_text(words[LABELS["offline"]])
        assert await untranslated(page, words) == []


def test_every_label_is_translated_in_every_language() -> None:
    for language in jobtracker_app.LANGUAGES:
        with (LOCALE_DIR / language / "LC_MESSAGES" / "jobtracker.po").open("rb") as po:
            catalog = pofile.read_po(po, locale=language)
        missing = [
            text
            for text in [*LABELS.values(), *(one for one, _ in PLURALS.values())]
            if (m := catalog.get(text)) is None
            or m.fuzzy
            or not all(m.string if isinstance(m.string, tuple) else [m.string])
        ]
        assert missing == [], f"not translated in {language}"
        assert catalog.num_plurals == (3 if language == "fr" else 2)


@pytest.mark.parametrize("language", ["nl", "fr", "de", "en"])
def test_the_labels_are_served_with_every_plural_form(language: str) -> None:
    labels = jobtracker_app.messages(language)
    assert set(labels) == set(LABELS) | set(PLURALS)
    expected = {"fr": {"one", "many", "other"}}.get(language, {"one", "other"})
    for key in PLURALS:
        assert set(labels[key]) == expected
    assert all(isinstance(labels[key], str) and labels[key] for key in LABELS)


@pytest.mark.parametrize(
    ("header", "language"),
    [(None, "nl"), ("de-AT,de;q=0.9", "de"), ("it, fr;q=0.5", "fr"), ("en-GB", "en")],
)
def test_the_labels_language_comes_from_the_browser(header: str | None, language: str) -> None:
    assert jobtracker_app.negotiate(header) == language
