"""The pure rules of roles and rights, and the demo people obeying them."""

from datetime import UTC, datetime

import pytest

from dc_identity import domain
from dc_identity.demo import (
    DEMO,
    LEIE,
    LEIE_LEGAL_REPRESENTATIVE,
    LEIE_STAFF,
    NO_RIGHTS,
    OPERATOR,
    SCHELDE,
    SCHELDE_ANTWERPEN,
    SCHELDE_GENT,
    SCHELDE_GENT_STAFF,
    SCHELDE_LEGAL_REPRESENTATIVE,
    SCHELDE_MAIN_ACCESS_MANAGER,
    SCHELDE_STAFF,
    USER_HOLDERS,
)
from dc_identity.domain import GrantScope, Roles

NOBODY = Roles()
OPERATOR_ROLES = Roles(operator=True)
REPRESENTATIVE = Roles(legal_representative_of=frozenset({SCHELDE}))
MANAGER = Roles(main_access_manager_of=frozenset({SCHELDE}))
BOTH_OF_LEIE = Roles(
    legal_representative_of=frozenset({LEIE}), main_access_manager_of=frozenset({LEIE})
)

# --- who may do what ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (REPRESENTATIVE, True),  # the legal representative appoints
        (MANAGER, True),  # a main access manager may appoint further ones
        (BOTH_OF_LEIE, False),  # roles in another company count for nothing here
        (OPERATOR_ROLES, False),  # the operator runs the platform, not the company
        (NOBODY, False),
    ],
)
def test_who_may_appoint_a_main_access_manager(actor: Roles, expected: bool) -> None:
    assert domain.may_appoint_main_access_manager(actor, SCHELDE) is expected


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        (MANAGER, True),
        (REPRESENTATIVE, False),  # a legal representative appoints, a manager grants
        (BOTH_OF_LEIE, False),
        (OPERATOR_ROLES, False),
        (NOBODY, False),
    ],
)
def test_who_may_grant_and_revoke(actor: Roles, expected: bool) -> None:
    assert domain.may_manage_rights(actor, SCHELDE) is expected


def test_only_an_operator_administers_companies() -> None:
    assert domain.may_administer_companies(OPERATOR_ROLES)
    for actor in (NOBODY, REPRESENTATIVE, MANAGER, BOTH_OF_LEIE):
        assert not domain.may_administer_companies(actor)


# --- the scope of a grant -------------------------------------------------------------------

SCHELDE_BRANCHES = {SCHELDE_GENT, SCHELDE_ANTWERPEN}


def test_a_grant_is_for_the_whole_company_or_one_of_its_branches() -> None:
    assert domain.grant_branch_error(None, SCHELDE_BRANCHES) is None
    assert domain.grant_branch_error(SCHELDE_GENT, SCHELDE_BRANCHES) is None
    assert domain.grant_branch_error(SCHELDE_ANTWERPEN, SCHELDE_BRANCHES) is None


@pytest.mark.parametrize(
    ("branch_id", "reason"),
    [
        ("2345678942", "is not a branch of this company"),  # Leie Kortrijk: valid, not Schelde's
        ("2234567819", "check digits do not match (mod 97)"),
        ("0712345630", "must start with a digit from 2 to 8"),
        ("", "must be exactly 10 digits"),
    ],
)
def test_a_grant_refuses_a_branch_of_another_company(branch_id: str, reason: str) -> None:
    assert domain.grant_branch_error(branch_id, SCHELDE_BRANCHES) == reason


def test_no_second_active_grant_for_the_same_scope() -> None:
    person = SCHELDE_STAFF.national_number
    whole = GrantScope(SCHELDE, None, person)
    gent = GrantScope(SCHELDE, SCHELDE_GENT, person)
    assert domain.is_duplicate_grant(whole, [whole])
    assert domain.is_duplicate_grant(gent, [whole, gent])
    # The same person on another scope, or another person on the same scope, is new.
    assert not domain.is_duplicate_grant(gent, [whole])
    assert not domain.is_duplicate_grant(whole, [gent])
    assert not domain.is_duplicate_grant(GrantScope(LEIE, None, person), [whole])
    assert not domain.is_duplicate_grant(
        GrantScope(SCHELDE, None, SCHELDE_GENT_STAFF.national_number), [whole]
    )
    assert not domain.is_duplicate_grant(whole, [])
    assert whole.right == domain.RIGHT_DIENSTENCHEQUES_EO == "dienstencheques-eo"


def test_a_grant_is_revoked_once() -> None:
    assert domain.revoke_error(None) is None
    assert domain.revoke_error(datetime(2026, 1, 5, 9, 30, tzinfo=UTC)) == (
        "the grant is already revoked"
    )


def test_audit_actions_are_the_documented_names() -> None:
    assert [action.value for action in domain.AuditAction] == [
        "company-created",
        "branch-created",
        "main-access-manager-appointed",
        "right-granted",
        "right-revoked",
        "worker-password-set",
        "worker-blocked",
        "worker-unblocked",
    ]


# --- the demo people ------------------------------------------------------------------------


def test_demo_people_are_valid_and_unique() -> None:
    numbers = [person.national_number for person in DEMO.people]
    assert len(numbers) == len(set(numbers))
    for person in DEMO.people:
        assert domain.is_valid_national_number(person.national_number), person
        assert person.first_name
        assert person.last_name
        assert person.email.endswith("@example.org")
    assert [person for person in DEMO.people if person.is_operator] == [OPERATOR]


def test_workers_and_user_holders_are_people() -> None:
    people = {person.national_number: person for person in DEMO.people}
    for worker in DEMO.workers:
        person = people[worker.national_number]
        assert (person.first_name, person.last_name) == (worker.first_name, worker.last_name)
    assert [user.holder_national_number for user in DEMO.users] == [
        holder.national_number for holder in USER_HOLDERS
    ]
    for user, holder in zip(DEMO.users, USER_HOLDERS, strict=True):
        assert user.name == holder.name
        assert people[user.holder_national_number] == holder


def test_demo_roles_are_as_described() -> None:
    representatives = {(r.company_id, r.national_number) for r in DEMO.legal_representatives}
    assert representatives == {
        (SCHELDE, SCHELDE_LEGAL_REPRESENTATIVE.national_number),
        (LEIE, LEIE_LEGAL_REPRESENTATIVE.national_number),
    }
    managers = {
        (m.company_id, m.national_number, m.appointed_by) for m in DEMO.main_access_managers
    }
    assert managers == {
        (
            SCHELDE,
            SCHELDE_MAIN_ACCESS_MANAGER.national_number,
            SCHELDE_LEGAL_REPRESENTATIVE.national_number,
        ),
        (
            LEIE,
            LEIE_LEGAL_REPRESENTATIVE.national_number,
            LEIE_LEGAL_REPRESENTATIVE.national_number,
        ),
    }
    grants = {(g.company_id, g.branch_id, g.national_number) for g in DEMO.grants}
    assert grants == {
        (SCHELDE, None, SCHELDE_STAFF.national_number),
        (SCHELDE, SCHELDE_GENT, SCHELDE_GENT_STAFF.national_number),
        (LEIE, None, LEIE_STAFF.national_number),
    }
    # Every demo grant is made by a main access manager of its company, within its branches.
    branches = {b.establishment_unit_number: b.company_id for b in DEMO.branches}
    for grant in DEMO.grants:
        assert (grant.company_id, grant.granted_by) in {(m[0], m[1]) for m in managers}
        company_branches = {b for b, c in branches.items() if c == grant.company_id}
        assert domain.grant_branch_error(grant.branch_id, company_branches) is None
    everyone_with_a_role = (
        {r.national_number for r in DEMO.legal_representatives}
        | {m.national_number for m in DEMO.main_access_managers}
        | {g.national_number for g in DEMO.grants}
        | {w.national_number for w in DEMO.workers}
        | {u.holder_national_number for u in DEMO.users}
        | {OPERATOR.national_number}
    )
    assert NO_RIGHTS.national_number not in everyone_with_a_role
