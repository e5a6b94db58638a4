"""Driving the portal in a real browser: Debian's Chromium through Playwright, headless.

Every page a test visits can be looked at afterwards: ``look_at`` saves it at desktop and
phone size under ``var/screenshots/`` and checks it with axe-core (no serious or critical
violation of WCAG 2.2 AA).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from playwright.async_api import TimeoutError as PlaywrightTimeout

from dc_identity.demo import DemoPerson

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def browsing(
    browser: Browser, *, language: str = "nl-BE", phone: bool = False
) -> AsyncIterator[BrowserContext]:
    context = await browser.new_context(
        viewport=PHONE if phone else DESKTOP, locale=language, is_mobile=phone, has_touch=phone
    )
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        await context.close()


@asynccontextmanager
async def signed_in(
    browser: Browser, gateway_url: str, person: DemoPerson, path: str = "/", **options: Any
) -> AsyncIterator[Page]:
    """A page of a fresh browser, logged in as this person, opened at ``path``."""
    async with browsing(browser, **options) as context:
        page = await context.new_page()
        await log_in(page, gateway_url, person, path)
        yield page


async def log_in(page: Page, gateway_url: str, person: DemoPerson, path: str = "/") -> None:
    """Open the portal, pass the identity provider's page as this person, come back logged in."""
    await page.goto(f"{gateway_url}{path}")
    await pass_the_provider(page, gateway_url, person, path)


async def pass_the_provider(
    page: Page, gateway_url: str, person: DemoPerson, path: str = "/"
) -> None:
    """On the identity provider's page: pick this person, come back to ``path`` logged in."""
    await page.locator(f'button[value="{person.national_number}"]').click()
    try:
        await page.wait_for_url(f"{gateway_url}{path}")
    except PlaywrightTimeout as error:
        seen = await page.locator("body").inner_text()
        raise AssertionError(f"the login ended on {page.url}, showing: {seen[:400]}") from error


#: The elements that stick out of the phone's screen (none when the page fits), innermost first.
WIDER_THAN_THE_SCREEN = """() => {
  if (document.documentElement.scrollWidth <= window.innerWidth) return null;
  return [...document.querySelectorAll("body *")]
    .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1)
    .reverse().slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
         (e.className ? "." + String(e.className).split(" ").join(".") : ""));
}"""


async def look_at(page: Page, name: str) -> list[dict[str, Any]]:
    """Save the page at desktop and phone size, and return its serious or critical axe-core
    violations (each with the rule and where)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    await page.screenshot(path=SCREENSHOTS / f"{name}-desktop.png", full_page=True)
    await page.set_viewport_size(PHONE)
    await page.screenshot(path=SCREENSHOTS / f"{name}-phone.png", full_page=True)
    wide = await page.evaluate(WIDER_THAN_THE_SCREEN)
    if size is not None:
        await page.set_viewport_size(size)
    results = await Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG}})
    found = [
        {"rule": v["id"], "impact": v["impact"], "where": [n["target"] for n in v["nodes"]]}
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    if wide:
        found.append({"rule": "scrolls sideways on a phone", "impact": "serious", "where": wide})
    return found
