"""The columns of the two kinds of import file, with the header names each accepts.

A header cell matches a column when its normalised form equals the normalised form of one of the
column's names: case, accents, spaces, dashes, dots and underscores do not matter, so
"Service date", "service_date" and "SERVICE-DATE" are one name, as are "Activité" and "activite".
"""

import unicodedata
from dataclasses import dataclass
from enum import StrEnum


class FileKind(StrEnum):
    SERVICES = "services"
    WORKERS = "workers"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an import file: its canonical name, the other names accepted, and a
    one-line description for the README and for error messages."""

    name: str
    aliases: tuple[str, ...]
    required: bool
    description: str

    @property
    def accepted(self) -> tuple[str, ...]:
        """Every accepted header name, the canonical one first."""
        return (self.name, *self.aliases)


BRANCH = Column(
    "branch_id",
    ("vestiging", "vestigingseenheid", "vestigingsnummer", "filiaal", "branch", "succursale"),
    required=False,
    description="establishment unit number of the branch: 10 digits, first digit 2 to 8, "
    "mod-97 check; empty for the company's default",
)

SERVICE_COLUMNS: tuple[Column, ...] = (
    Column(
        "worker_login",
        ("werknemer", "login werknemer", "werknemer login", "login", "svi login", "worker"),
        required=True,
        description="the worker's personal login: 12 digits starting with 980",
    ),
    Column(
        "user_number",
        ("gebruikersnummer", "gebruiker", "user", "numero utilisateur", "utilisateur"),
        required=True,
        description="the user's (household's) number: 12 digits",
    ),
    Column(
        "service_date",
        ("datum", "prestatiedatum", "datum prestatie", "date", "date prestation"),
        required=True,
        description="the day of the service: yyyy-mm-dd, dd/mm/yyyy or dd-mm-yyyy (or a date "
        "cell); from 2016-01-01 up to today in Belgium",
    ),
    Column(
        "hours",
        ("uren", "aantal uren", "uur", "heures", "nombre heures"),
        required=True,
        description="whole hours from 1 to 9 (1 voucher pays 1 hour); 4, 4,0 and 4.0 are 4",
    ),
    Column(
        "activity_type",
        (
            "activiteit",
            "type activiteit",
            "activiteitstype",
            "activity",
            "activite",
            "type activite",
        ),
        required=True,
        description="1 household help, 2 household shopping, 3 ironing outside the home, "
        "4 transport of persons with reduced mobility",
    ),
    BRANCH,
)

WORKER_COLUMNS: tuple[Column, ...] = (
    Column(
        "national_number",
        ("rijksregisternummer", "rijksregister", "insz", "niss", "numero national", "national"),
        required=True,
        description="national number (INSZ/NISS): 11 digits with the mod-97 check (also the "
        "check for people born in 2000 or later); dots, dashes and spaces are ignored",
    ),
    Column(
        "first_name",
        ("voornaam", "prenom", "given name"),
        required=True,
        description="first name, at most 100 characters",
    ),
    Column(
        "last_name",
        ("achternaam", "familienaam", "naam", "nom", "nom de famille", "surname", "family name"),
        required=True,
        description="last name, at most 100 characters",
    ),
    Column(
        "login",
        ("worker_login", "werknemer login", "login werknemer", "svi login"),
        required=True,
        description="the worker's personal login: 12 digits starting with 980",
    ),
    BRANCH,
    Column(
        "contract_start",
        (
            "start contract",
            "begin contract",
            "contract begin",
            "startdatum",
            "begindatum",
            "debut contrat",
            "date debut",
        ),
        required=True,
        description="first day of the employment contract (a date)",
    ),
    Column(
        "contract_end",
        ("einde contract", "contract einde", "einddatum", "fin contrat", "date fin"),
        required=False,
        description="last day of the contract (a date, not before contract_start); empty when "
        "open-ended",
    ),
    Column(
        "language",
        ("taal", "langue", "sprache"),
        required=False,
        description="nl, fr, de or en (the Jobtracker's language); empty means nl",
    ),
)

COLUMNS: dict[FileKind, tuple[Column, ...]] = {
    FileKind.SERVICES: SERVICE_COLUMNS,
    FileKind.WORKERS: WORKER_COLUMNS,
}


def normalise_header(name: str) -> str:
    """The form header names are compared in: lower case, no accents, letters and digits only."""
    decomposed = unicodedata.normalize("NFKD", name.strip().lower())
    return "".join(char for char in decomposed if char.isascii() and char.isalnum())


def _lookup(columns: tuple[Column, ...]) -> dict[str, Column]:
    table: dict[str, Column] = {}
    for column in columns:
        for name in column.accepted:
            key = normalise_header(name)
            if key in table and table[key] is not column:
                raise AssertionError(f"header name {name!r} is used by two columns")
            table[key] = column
    return table


HEADER_LOOKUP: dict[FileKind, dict[str, Column]] = {
    kind: _lookup(columns) for kind, columns in COLUMNS.items()
}


def match_column(kind: FileKind, header: str) -> Column | None:
    """The column a header cell names, or None when it names none of this kind's columns."""
    return HEADER_LOOKUP[kind].get(normalise_header(header))
