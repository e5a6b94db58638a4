"""A reimbursement request's statement as a PDF, in the reader's language (fpdf2).

The PDF's built-in fonts cover Windows-1252, which holds the euro sign and the letters of
Dutch, French, German and English; a letter outside it (a Polish ``ł``) is written without its
accent where it has one, as ``?`` otherwise, rather than refusing the statement.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from fpdf import FPDF

from dc_gateway.portal import i18n, words

ENCODING = "windows-1252"
#: Column widths in millimetres of the lines' table (an A4 page is 210 wide, 15 margins).
COLUMNS = (24, 28, 26, 64, 16, 22)


def printable(text: str) -> str:
    """The text in what the built-in fonts can show."""
    if _fits(text):
        return text
    letters = []
    for letter in text:
        if not _fits(letter):
            bare = "".join(
                c for c in unicodedata.normalize("NFKD", letter) if not unicodedata.combining(c)
            )
            letter = bare if bare and _fits(bare) else "?"
        letters.append(letter)
    return "".join(letters)


def _fits(text: str) -> bool:
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError:
        return False
    return True


class _Sheet(FPDF):
    def __init__(self, footer: str) -> None:
        super().__init__(format="A4")
        self.core_fonts_encoding = ENCODING
        self._footer = footer
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("helvetica", size=8)
        self.cell(0, 5, printable(f"{self._footer} - {self.page_no()}/{{nb}}"), align="C")


def statement_pdf(statement: dict[str, Any], language: str) -> bytes:
    """The statement (the API's ``StatementOut``) on A4 pages: the request, then one line per
    service with its vouchers and amount, then the totals."""
    _ = i18n.translations(language).gettext
    formats = i18n.Formats(language)
    title = _("Reimbursement statement")
    pdf = _Sheet(f"{title} {statement['reference']}")
    pdf.set_title(printable(f"{title} {statement['reference']}"))
    pdf.set_creator("dienstencheques")
    pdf.add_page()
    pdf.set_font("helvetica", style="B", size=16)
    pdf.cell(0, 10, printable(title), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("helvetica", size=10)
    status = _(words.REQUEST_STATES[statement["status"]])
    facts = [
        (_("Company"), statement["company_id"]),
        (_("Reference"), statement["reference"]),
        (_("Request"), statement["id"]),
        (_("Status"), status),
        (_("Asked on"), formats.date_time(statement["created_at"])),
        (_("Submitted on"), formats.date_time(statement["submitted_at"])),
        (_("Paid out on"), formats.date_time(statement["paid_at"])),
        (_("Value of a voucher"), formats.euros(statement["voucher_value_cents"])),
    ]
    for label, value in facts:
        pdf.cell(45, 6, printable(label))
        pdf.cell(0, 6, printable(value or "-"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    heads = (
        _("Service date"),
        _("User number"),
        _("Branch"),
        _("Service"),
        _("Vouchers"),
        _("Amount"),
    )
    lines = [
        (
            formats.date(line["service_date"]),
            line["user_number"],
            line["branch_id"] or "-",
            line["service_id"],
            formats.number(line["vouchers"]),
            formats.euros(line["amount_cents"]),
        )
        for line in statement["services"]
    ]
    total = formats.number(statement["vouchers"]), formats.euros(statement["amount_cents"])
    pdf.set_font("helvetica", size=9)
    with pdf.table(
        col_widths=COLUMNS,
        text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
        borders_layout="HORIZONTAL_LINES",
        line_height=5,
    ) as table:
        for cells in (heads, *lines):
            row = table.row()
            for text in cells:
                row.cell(printable(text))
        row = table.row()
        row.cell(printable(_("Total")), colspan=4)
        for text in total:
            row.cell(printable(text))
    return bytes(pdf.output())
