"""Every text of the portal exists in Dutch and French, and the browser's language is honoured."""

from pathlib import Path

import pytest
from babel.messages import pofile
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from dc_gateway.portal import i18n

GATEWAY = Path(__file__).resolve().parents[1]


def extracted() -> set[str]:
    """The messages of the templates and the code, as ``make messages`` extracts them."""
    with (GATEWAY / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    messages: set[str] = set()
    for _, _, message, _, _ in extract_from_dir(GATEWAY, method_map, options_map):
        messages.add(message[0] if isinstance(message, tuple) else message)
    return messages


def _every_form(string: str | tuple[str, ...]) -> str:
    """The translation, empty where one of its plural forms is (French has three: an empty
    one shows as nothing for "8 titres")."""
    forms = string if isinstance(string, tuple) else (string,)
    return "" if not all(forms) else forms[0]


@pytest.mark.parametrize("language", ["nl", "fr"])
def test_every_text_is_translated(language: str) -> None:
    path = i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        catalog = pofile.read_po(po)
    translated = {
        (m.id[0] if isinstance(m.id, tuple) else m.id): _every_form(m.string)
        for m in catalog
        if m.id and not m.fuzzy
    }
    texts = extracted()
    assert len(texts) > 100
    missing = sorted(t for t in texts if not translated.get(t))
    assert missing == [], f"not in the {language} catalogue (run make messages, then translate)"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        (None, "nl"),
        ("", "nl"),
        ("fr-BE,fr;q=0.9,nl;q=0.8", "fr"),
        ("de-DE,de;q=0.9,en;q=0.5", "en"),
        ("en;q=0.2,nl-BE;q=0.9", "nl"),
        ("de, it", "nl"),
        ("fr;q=bad, en", "en"),
    ],
)
def test_the_language_comes_from_the_browser(header: str | None, language: str) -> None:
    assert i18n.negotiate(header) == language


def test_dates_and_amounts_are_written_per_language() -> None:
    assert i18n.Formats("nl").euros(123456) == "€\xa01.234,56"
    assert i18n.Formats("fr").euros(123456) == "1\u202f234,56\xa0€"
    assert i18n.Formats("nl").date("2026-03-04") == "04-03-2026"
    assert i18n.Formats("fr").date("2026-03-04") == "04/03/2026"
