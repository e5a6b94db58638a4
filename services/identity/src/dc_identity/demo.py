"""The deterministic demo directory, loaded at start-up when ``DC_DEMO_DATA`` is true.

Every number here is valid by the rules of :mod:`dc_identity.domain` (the identity tests check
it). Other services must not import these values: they ask the identity service over HTTP
(tests may import them).
Loading is idempotent: rows that already exist (by primary key) are left as they are. The
appointments and grants go through :mod:`dc_identity.service`, so they obey the same rules and
leave the same audit-log entries as through the API; each is made once (a grant that was made
and revoked since is not made again).
"""

from dataclasses import asdict, dataclass
from datetime import date

from sqlalchemy import select

from dc_common.db import Database
from dc_identity import repository, service
from dc_identity.models import (
    Branch,
    Company,
    Employment,
    Grant,
    LegalRepresentative,
    Person,
    User,
    Worker,
)


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
class DemoEmployment:
    """A further employer of a demo worker."""

    login: str
    company_id: str
    branch_id: str | None
    contract_start: date
    contract_end: date | None = None


@dataclass(frozen=True, slots=True)
class DemoUser:
    user_number: str
    name: str
    email: str
    language: str
    holder_national_number: str


@dataclass(frozen=True, slots=True)
class DemoPerson:
    national_number: str
    first_name: str
    last_name: str
    email: str
    is_operator: bool = False

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True, slots=True)
class DemoLegalRepresentative:
    company_id: str
    national_number: str


@dataclass(frozen=True, slots=True)
class DemoAppointment:
    """A main access manager, appointed by ``appointed_by``."""

    company_id: str
    national_number: str
    appointed_by: str


@dataclass(frozen=True, slots=True)
class DemoGrant:
    """The right for ``national_number`` on a company (``branch_id`` None) or a branch."""

    company_id: str
    branch_id: str | None
    national_number: str
    granted_by: str


@dataclass(frozen=True, slots=True)
class DemoDirectory:
    companies: tuple[DemoCompany, ...]
    branches: tuple[DemoBranch, ...]
    workers: tuple[DemoWorker, ...]
    users: tuple[DemoUser, ...]
    people: tuple[DemoPerson, ...] = ()
    legal_representatives: tuple[DemoLegalRepresentative, ...] = ()
    main_access_managers: tuple[DemoAppointment, ...] = ()
    grants: tuple[DemoGrant, ...] = ()
    employments: tuple[DemoEmployment, ...] = ()


SCHELDE = "0712345630"
LEIE = "0823456754"
SCHELDE_GENT = "2234567818"
SCHELDE_ANTWERPEN = "2234567917"
LEIE_KORTRIJK = "2345678942"


def _person(national_number: str, first: str, last: str, *, operator: bool = False) -> DemoPerson:
    email = f"{first}.{last}@example.org".lower().replace(" ", "").replace("ü", "ue")
    return DemoPerson(national_number, first, last, email, operator)


# The people who log in (through the development identity provider), by what they may do.
OPERATOR = _person("78021512312", "Nora", "Vermeulen", operator=True)
SCHELDE_LEGAL_REPRESENTATIVE = _person("82060723459", "Pieter", "Claes")
SCHELDE_MAIN_ACCESS_MANAGER = _person("87092314585", "Els", "Wouters")  # appointed by Pieter
SCHELDE_STAFF = _person("91041205668", "Tom", "Mertens")  # the right on the whole company
SCHELDE_GENT_STAFF = _person("93011826786", "Lotte", "Jacobs")  # the right on Gent only
LEIE_LEGAL_REPRESENTATIVE = _person("76053017868", "Bart", "Goossens")  # also main access manager
LEIE_STAFF = _person("80010128910", "Inge", "Willems")  # the right on the whole company
NO_RIGHTS = _person("88080839013", "Wim", "Aerts")  # known, holds nothing

# The people who log in for the demo users (households), in the order of DEMO.users.
USER_HOLDERS = (
    _person("72031440133", "An", "Peeters"),
    _person("84072051222", "Luc", "Maes"),
    _person("69090562360", "Claire", "Lambert"),
    _person("95022873447", "Jürgen", "Weber"),
    _person("83031184507", "Emma", "Wilson"),
)

STAFF_PEOPLE = (
    OPERATOR,
    SCHELDE_LEGAL_REPRESENTATIVE,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
    SCHELDE_GENT_STAFF,
    LEIE_LEGAL_REPRESENTATIVE,
    LEIE_STAFF,
    NO_RIGHTS,
)

_WORKERS = (
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
)

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
    workers=_WORKERS,
    # Mohamed works for Leie too: in the Jobtracker he picks the employer.
    employments=(DemoEmployment("980100000002", LEIE, LEIE_KORTRIJK, date(2022, 1, 10)),),
    users=(
        DemoUser("100000000001", "An Peeters", "an.peeters@example.org", "nl", "72031440133"),
        DemoUser("100000000002", "Luc Maes", "luc.maes@example.org", "nl", "84072051222"),
        DemoUser(
            "100000000003", "Claire Lambert", "claire.lambert@example.org", "fr", "69090562360"
        ),
        DemoUser("100000000004", "Jürgen Weber", "juergen.weber@example.org", "de", "95022873447"),
        DemoUser("100000000005", "Emma Wilson", "emma.wilson@example.org", "en", "83031184507"),
    ),
    people=(
        *STAFF_PEOPLE,
        *USER_HOLDERS,
        *(
            DemoPerson(
                w.national_number,
                w.first_name,
                w.last_name,
                f"{w.first_name}.{w.last_name}@example.org".lower().replace(" ", ""),
            )
            for w in _WORKERS
        ),
    ),
    legal_representatives=(
        DemoLegalRepresentative(SCHELDE, SCHELDE_LEGAL_REPRESENTATIVE.national_number),
        DemoLegalRepresentative(LEIE, LEIE_LEGAL_REPRESENTATIVE.national_number),
    ),
    main_access_managers=(
        DemoAppointment(
            SCHELDE,
            SCHELDE_MAIN_ACCESS_MANAGER.national_number,
            appointed_by=SCHELDE_LEGAL_REPRESENTATIVE.national_number,
        ),
        DemoAppointment(
            LEIE,
            LEIE_LEGAL_REPRESENTATIVE.national_number,
            appointed_by=LEIE_LEGAL_REPRESENTATIVE.national_number,
        ),
    ),
    grants=(
        DemoGrant(
            SCHELDE,
            None,
            SCHELDE_STAFF.national_number,
            granted_by=SCHELDE_MAIN_ACCESS_MANAGER.national_number,
        ),
        DemoGrant(
            SCHELDE,
            SCHELDE_GENT,
            SCHELDE_GENT_STAFF.national_number,
            granted_by=SCHELDE_MAIN_ACCESS_MANAGER.national_number,
        ),
        DemoGrant(
            LEIE,
            None,
            LEIE_STAFF.national_number,
            granted_by=LEIE_LEGAL_REPRESENTATIVE.national_number,
        ),
    ),
)


async def load_demo(database: Database, directory: DemoDirectory = DEMO) -> None:
    """Insert the demo directory's rows that are missing, in one transaction."""
    async with database.transaction() as session:
        await repository.insert_missing(session, Person, [asdict(p) for p in directory.people])
        await repository.insert_missing(session, Company, [asdict(c) for c in directory.companies])
        await repository.insert_missing(session, Branch, [asdict(b) for b in directory.branches])
        await repository.insert_missing(session, Worker, [asdict(w) for w in directory.workers])
        await repository.insert_missing(
            session, Employment, [asdict(e) for e in directory.employments]
        )
        await repository.insert_missing(session, User, [asdict(u) for u in directory.users])
        # Users stored before they had holders get theirs; a holder set since is kept.
        await repository.fill_in_holders(
            session, {u.user_number: u.holder_national_number for u in directory.users}
        )
        await repository.insert_missing(
            session, LegalRepresentative, [asdict(r) for r in directory.legal_representatives]
        )
        for appointment in directory.main_access_managers:
            if not await repository.get_main_access_manager(
                session, appointment.company_id, appointment.national_number
            ):
                await service.add_main_access_manager(
                    session,
                    by=appointment.appointed_by,
                    company_id=appointment.company_id,
                    national_number=appointment.national_number,
                )
        for grant in directory.grants:
            made_before = await session.scalar(
                select(Grant.id).where(
                    Grant.company_id == grant.company_id,
                    Grant.national_number == grant.national_number,
                    Grant.branch_id.is_(None)
                    if grant.branch_id is None
                    else Grant.branch_id == grant.branch_id,
                )
            )
            if made_before is None:
                await service.add_grant(
                    session,
                    by=grant.granted_by,
                    company_id=grant.company_id,
                    national_number=grant.national_number,
                    branch_id=grant.branch_id,
                )
