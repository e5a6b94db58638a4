"""Languages of the portal: Dutch (the default), French and English, from gettext catalogues.

The catalogues (``locale/<lang>/LC_MESSAGES/messages.po``) are compiled in memory when first
used; ``make messages`` extracts new strings from the templates and code into them (Babel).
Dates, numbers and amounts are formatted per locale with Babel too.
"""

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import dates, numbers
from babel.messages import mofile, pofile
from babel.support import Translations

from dc_workflows.deadline import BRUSSELS

LANGUAGES = ("nl", "fr", "en")
DEFAULT_LANGUAGE = "nl"
LANGUAGE_NAMES = {"nl": "Nederlands", "fr": "Français", "en": "English"}
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def translations(language: str, domain: str = "messages") -> Translations:
    """The language's catalogue of the domain (the portal's ``messages``, the Jobtracker's
    ``jobtracker``), compiled from its .po file."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{domain}.po").open("rb") as po:
        catalog = pofile.read_po(po, locale=language, domain=domain)
    compiled = BytesIO()
    mofile.write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(fp=compiled, domain=domain)


def negotiate(accept_language: str | None, languages: tuple[str, ...] = LANGUAGES) -> str:
    """The first of the browser's languages (by weight, then order) among ``languages`` (the
    portal's by default); Dutch otherwise."""
    weighted: list[tuple[float, str]] = []
    for part in (accept_language or "").split(","):
        tag, _, quality = part.strip().partition(";q=")
        try:
            weighted.append((float(quality) if quality else 1.0, tag.strip()))
        except ValueError:
            continue
    for _, tag in sorted(weighted, key=lambda item: -item[0]):  # a stable sort keeps the order
        language = tag.split("-")[0].lower()
        if language in languages:
            return language
    return DEFAULT_LANGUAGE


class Formats:
    """Dates, times and numbers written as the language writes them."""

    def __init__(self, language: str) -> None:
        self.language = language

    def date(self, value: date | str | None) -> str:
        if value is None or value == "":
            return ""
        day = date.fromisoformat(value) if isinstance(value, str) else value
        return dates.format_date(day, format="short", locale=self.language)

    def date_time(self, value: datetime | str | None) -> str:
        if value is None or value == "":
            return ""
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return dates.format_datetime(moment, format="short", tzinfo=BRUSSELS, locale=self.language)

    def time_left(self, deadline: datetime | str, now: datetime) -> str:
        """How long until a moment, in words ("in 3 days")."""
        moment = datetime.fromisoformat(deadline) if isinstance(deadline, str) else deadline
        return dates.format_timedelta(
            moment - now, granularity="hour", add_direction=True, locale=self.language
        )

    def number(self, value: int | float | Decimal) -> str:
        return numbers.format_decimal(value, locale=self.language)

    def euros(self, cents: int) -> str:
        return numbers.format_currency(Decimal(cents) / 100, "EUR", locale=self.language)
