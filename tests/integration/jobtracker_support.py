"""Driving the Jobtracker app on a phone: a phone-sized browser context, the app's words in a
language (from its gettext catalogue), and the texts on a screen that are in no catalogue
entry of that language (English or Dutch leftovers)."""

from __future__ import annotations

import gettext
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from typing import Any, Literal

from babel.messages import pofile
from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

from dc_gateway.portal.i18n import LOCALE_DIR
from tests.integration.portal_support import PHONE

#: The browser's language for each language of the app.
LOCALES = {"nl": "nl-BE", "fr": "fr-BE", "de": "de-DE", "en": "en-GB"}


@asynccontextmanager
async def phone(
    browser: Browser, language: str, *, service_workers: Literal["allow", "block"] = "block"
) -> AsyncIterator[BrowserContext]:
    """A phone (390 by 844, touch) whose browser speaks ``language``."""
    context = await browser.new_context(
        viewport=ViewportSize(width=PHONE["width"], height=PHONE["height"]),
        locale=LOCALES[language],
        is_mobile=True,
        has_touch=True,
        service_workers=service_workers,
    )
    context.set_default_timeout(20_000)
    try:
        yield context
    finally:
        await context.close()


class Words:
    """The ``jobtracker`` catalogue of one language: the text of a message id, and whether a
    text on the screen is one of its translations (placeholders standing for anything)."""

    def __init__(self, language: str) -> None:
        self.language = language
        path = LOCALE_DIR / language / "LC_MESSAGES" / "jobtracker.po"
        with path.open("rb") as po:
            self.catalog = pofile.read_po(po, locale=language)

    def __getitem__(self, message_id: str) -> str:
        message = self.catalog.get(message_id)
        assert message is not None and message.string, f"{message_id!r} not in {self.language}"
        text = message.string
        return str(text[0] if isinstance(text, (tuple, list)) else text)

    def said(self, message_id: str, **values: Any) -> str:
        return self[message_id].format(**values)

    def plural(self, singular: str, count: int, **values: Any) -> str:
        message = self.catalog.get(singular)
        assert message is not None and isinstance(message.string, tuple)
        index = gettext.c2py(self.catalog.plural_expr)(count)
        form: str = message.string[index]
        return form.format(count=count, **values)

    @cached_property
    def patterns(self) -> list[re.Pattern[str]]:
        found: list[re.Pattern[str]] = []
        for message in self.catalog:
            if not message.id:
                continue
            text = message.string
            forms = text if isinstance(text, (tuple, list)) else (text,)
            for form in forms:
                if form:
                    parts = re.split(r"\{\w+\}", " ".join(str(form).split()))
                    found.append(re.compile(".+".join(re.escape(part) for part in parts)))
        return found

    def knows(self, text: str) -> bool:
        return any(pattern.fullmatch(text) for pattern in self.patterns)


#: Every text node a person sees or hears on the page (visually hidden ones too), but the
#: worker's data (``translate="no"``: names, numbers, dates) and what is marked as another
#: language (the language names in the switch).
SHOWN_TEXTS = """() => {
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.replace(/\\s+/g, " ").trim();
    const element = node.parentElement;
    if (!text || element.closest("[translate=no], script, style, option")) continue;
    const marked = element.closest("[lang]");
    if (marked && marked !== document.documentElement) continue;
    if (!element.checkVisibility({ visibilityProperty: true })) continue;
    texts.push(text);
  }
  return texts;
}"""


async def untranslated(page: Page, words: Words) -> list[str]:
    """The texts on the screen that are no translation in the catalogue of ``words``."""
    texts: list[str] = await page.evaluate(SHOWN_TEXTS)
    return [text for text in texts if not words.knows(text)]
