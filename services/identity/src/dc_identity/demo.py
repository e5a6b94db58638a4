"""The deterministic demo directory, loaded at start-up when ``DC_DEMO_DATA`` is true.

Every number here is valid by the rules of :mod:`dc_identity.domain` (the identity tests check
it). Other services must not import these values: they ask the identity service over HTTP.
Loading is idempotent: rows that already exist (by primary key) are left as they are.
"""

from dataclasses import asdict, dataclass
from datetime import date

from dc_common.db import Database
from dc_identity import repository
from dc_identity.models import Branch, Company, User, Worker


@dataclass(frozen=True, slots=True)
class DemoCompany:
    enterprise_number: str
    recognition_number: str
    name: str


@dataclass(frozen=True, slots=True)
class DemoBranch:
    establishment_unit_number: str
    company_id: str
    name: str


@dataclass(frozen=True, slots=True)
class DemoWorker:
    login: str
    national_number: str
    first_name: str
    last_name: str
    company_id: str
    branch_id: str | None
    contract_start: date
    contract_end: date | None
    language: str


@dataclass(frozen=True, slots=True)
class DemoUser:
    user_number: str
    name: str
    email: str
    language: str


@dataclass(frozen=True, slots=True)
class DemoDirectory:
    companies: tuple[DemoCompany, ...]
    branches: tuple[DemoBranch, ...]
    workers: tuple[DemoWorker, ...]
    users: tuple[DemoUser, ...]


SCHELDE = "0712345630"
LEIE = "0823456754"
SCHELDE_GENT = "2234567818"
SCHELDE_ANTWERPEN = "2234567917"
LEIE_KORTRIJK = "2345678942"

DEMO = DemoDirectory(
    companies=(
        DemoCompany(SCHELDE, "10501", "Huishoudhulp Schelde bv"),
        DemoCompany(LEIE, "20734", "Poetsdienst Leie vzw"),
    ),
    branches=(
        DemoBranch(SCHELDE_GENT, SCHELDE, "Huishoudhulp Schelde Gent"),
        DemoBranch(SCHELDE_ANTWERPEN, SCHELDE, "Huishoudhulp Schelde Antwerpen"),
        DemoBranch(LEIE_KORTRIJK, LEIE, "Poetsdienst Leie Kortrijk"),
    ),
    workers=(
        DemoWorker(
            "980100000001",
            "85031212461",
            "Sofie",
            "Janssens",
            SCHELDE,
            SCHELDE_GENT,
            date(2018, 3, 1),
            None,
            "nl",
        ),
        DemoWorker(
            "980100000002",
            "79110403727",
            "Mohamed",
            "El Amrani",
            SCHELDE,
            SCHELDE_GENT,
            date(2016, 9, 15),
            None,
            "nl",
        ),
        DemoWorker(
            "980100000003",
            "90072126277",
            "Marie",
            "Dubois",
            SCHELDE,
            SCHELDE_ANTWERPEN,
            date(2021, 1, 4),
            None,
            "fr",
        ),
        DemoWorker(
            "980100000004",
            "75090931187",
            "Jan",
            "De Smet",
            SCHELDE,
            SCHELDE_ANTWERPEN,
            date(2017, 2, 1),
            date(2024, 6, 30),
            "nl",
        ),
        DemoWorker(
            "980200000001",
            "68013008859",
            "Katrin",
            "Schmitz",
            LEIE,
            LEIE_KORTRIJK,
            date(2019, 5, 6),
            None,
            "de",
        ),
        DemoWorker(
            "980200000002",
            "01051714611",  # born 2001: check digits over "2" + the first nine digits
            "Ana",
            "Pereira",
            LEIE,
            LEIE_KORTRIJK,
            date(2023, 10, 2),
            None,
            "en",
        ),
    ),
    users=(
        DemoUser("100000000001", "An Peeters", "an.peeters@example.org", "nl"),
        DemoUser("100000000002", "Luc Maes", "luc.maes@example.org", "nl"),
        DemoUser("100000000003", "Claire Lambert", "claire.lambert@example.org", "fr"),
        DemoUser("100000000004", "Jürgen Weber", "juergen.weber@example.org", "de"),
        DemoUser("100000000005", "Emma Wilson", "emma.wilson@example.org", "en"),
    ),
)


async def load_demo(database: Database, directory: DemoDirectory = DEMO) -> None:
    """Insert the demo directory's rows that are missing, in one transaction."""
    async with database.transaction() as session:
        await repository.insert_missing(session, Company, [asdict(c) for c in directory.companies])
        await repository.insert_missing(session, Branch, [asdict(b) for b in directory.branches])
        await repository.insert_missing(session, Worker, [asdict(w) for w in directory.workers])
        await repository.insert_missing(session, User, [asdict(u) for u in directory.users])
