"""The programme's words for codes: status names as the product brief writes them, activity
types. Marked for extraction (``N_``) and translated when a page is rendered."""

from dataclasses import dataclass


def N_(message: str) -> str:
    return message


STATUS_NAMES: dict[int, str] = {
    1: N_("Encoded"),
    2: N_("Validated by the company"),
    3: N_("Contested"),
    4: N_("Modified"),
    5: N_("Cancelled"),
    11: N_("Ready for the allocation of service vouchers"),
    12: N_("Allocated"),
    13: N_("Reimbursement requested"),
    14: N_("Reimbursed"),
    15: N_("Confirmed"),
    16: N_("Partially allocated (1st partial allocation)"),
    17: N_("Partially reimbursed"),
    18: N_("Partially allocated (2nd partial allocation)"),
    19: N_("Partially allocated (last partial allocation)"),
    20: N_("To be paid outside service vouchers"),
}

ACTIVITY_NAMES: dict[int, str] = {
    1: N_("Household help"),
    2: N_("Household shopping"),
    3: N_("Ironing outside the home"),
    4: N_("Transport of persons with reduced mobility"),
}

#: What the company must do something about, first on the dashboard.
WAITING_FOR_COMPANY = (1, 4, 15)
CONTESTED = (3,)
PARTIALLY_PAID = (16, 17, 18, 19)
OUTSIDE_VOUCHERS = (20,)

INBOX_KINDS: dict[str, str] = {
    "validation-requested": N_("New service to validate"),
    "reminder": N_("Validates automatically within a day"),
}


@dataclass(frozen=True)
class Notice:
    """A page that only says something: a heading, a sentence, and a way on (address, text)."""

    heading: str
    text: str
    link: tuple[str, str]


TO_START = ("/", N_("To the start page"))
LOG_IN = ("/login", N_("Log in"))
LOG_IN_AGAIN = ("/login", N_("Log in again"))
LOGIN_FAILED = Notice(
    N_("Login failed"), N_("The login took too long or was started elsewhere."), LOG_IN_AGAIN
)
LOGGED_OUT = Notice(
    N_("You are logged out"), N_("Your session on this device has ended."), LOG_IN_AGAIN
)
NOT_FOUND = Notice(
    N_("Not found"), N_("This page does not exist, or it is not yours to see."), TO_START
)
FORM_EXPIRED = Notice(
    N_("Not allowed"),
    N_("This form has expired. Go back, reload the page and try again."),
    TO_START,
)
NOT_ALLOWED = Notice(N_("Not allowed"), N_("You may not do this here."), TO_START)
UNAVAILABLE = Notice(
    N_("Not available right now"),
    N_("A part of the platform did not answer. Nothing was changed: try again in a moment."),
    TO_START,
)
TOO_MANY_LOGINS = Notice(
    N_("Too many login attempts"),
    N_("Too many logins came from this address. Wait a minute, then log in again."),
    LOG_IN_AGAIN,
)
LINK_INVALID = Notice(
    N_("This link does not work"),
    N_("Open the whole link from the e-mail, or log in to see your services."),
    LOG_IN,
)
LINK_EXPIRED = Notice(
    N_("This link has expired"),
    N_("The links in our e-mails stop working after some days. Log in to see your services."),
    LOG_IN,
)
LINK_USED = Notice(
    N_("This link has been used"),
    N_(
        "The service was confirmed or contested with it, or it changed after the e-mail: "
        "the newest e-mail about it has a link that works."
    ),
    LOG_IN,
)
LINK_DONE: dict[str, Notice] = {
    "confirm": Notice(N_("Thank you"), N_("The service is confirmed."), LOG_IN),
    "contest": Notice(
        N_("Thank you"), N_("The service is contested: the company will correct it."), LOG_IN
    ),
}
COMPANY_WIDE_ONLY = Notice(
    N_("Not allowed"),
    N_("Only staff with the right on the whole company handle its reimbursements."),
    TO_START,
)


#: Who acted, by the kind of party (a service's history).
ROLE_NAMES: dict[str, str] = {
    "company": N_("company staff"),
    "user": N_("household"),
    "worker": N_("worker"),
    "operator": N_("operator"),
    "system": N_("the platform"),
}

#: What to type instead, next to a field the API refused.
FIELD_HELP: dict[str, str] = {
    "service_date": N_("Type a date from 1 January 2016 up to today."),
    "hours": N_("Type a whole number of hours from 1 to 9."),
    "activity_type": N_("Choose one of the activities."),
    "reason": N_("Say in a few words what is wrong (at most 500 characters)."),
    "worker_login": N_("Type the worker's 12-digit login, starting with 980."),
    "user_number": N_("Type the user's 12-digit number."),
    "quantity": N_("Order at least the minimum, and no more than the yearly limit left."),
}

#: What a page says after an action succeeded.
DONE: dict[str, str] = {
    "register": N_("The service is registered: the user is asked to confirm it."),
    "validate": N_("The service is validated."),
    "modify": N_("The service is modified: the user is asked to confirm it again."),
    "confirm": N_("The service is confirmed."),
    "cancel": N_("The service is cancelled."),
    "contest": N_("The service is contested: the company will correct it."),
    "order": N_("Your vouchers are in your wallet."),
    "order-processing": N_("Your order is being processed: it appears here in a moment."),
    "validate-selection": N_("%(done)s of the %(selected)s selected services validated."),
    "reimbursement": N_("The reimbursement is requested: the vouchers are submitted."),
    "manager-appointed": N_("The main access manager is appointed."),
    "right-granted": N_("The right is granted."),
    "right-revoked": N_("The right is revoked."),
    "password-set": N_("The first password is set: the worker changes it at the first login."),
    "unblocked": N_("The account is unblocked."),
    "sessions-ended": N_("The worker is logged out on every phone."),
    "reimbursement-processing": N_(
        "Your request is being processed: it appears in the list in a moment."
    ),
}

#: The changes the audit log of access management records.
AUDIT_ACTIONS: dict[str, str] = {
    "company-created": N_("Company registered"),
    "branch-created": N_("Branch added"),
    "main-access-manager-appointed": N_("Main access manager appointed"),
    "right-granted": N_("Right granted"),
    "right-revoked": N_("Right revoked"),
    "worker-password-set": N_("Worker's first password set"),
    "worker-blocked": N_("Worker's account blocked (three wrong passwords)"),
    "worker-unblocked": N_("Worker's account unblocked"),
}

#: What to type instead, next to a field of access management the API refused.
ACCESS_HELP: dict[str, str] = {
    "national_number": N_(
        "Type the 11 digits of the national number of someone who has logged in here once."
    ),
    "branch_id": N_("Choose the whole company or one of its branches."),
}

#: Where a reimbursement request stands.
REQUEST_STATES: dict[str, str] = {
    "requested": N_("being submitted"),
    "submitted": N_("submitted, waiting for payout"),
    "paid": N_("paid out"),
}

#: The words of the imports: their status, what a file holds, what became of a row.
IMPORT_WORDS: dict[str, str] = {
    "queued": N_("waiting to start"),
    "running": N_("in progress"),
    "done": N_("done"),
    "failed": N_("stopped"),
    "services": N_("Services"),
    "workers": N_("Workers"),
    "accepted": N_("accepted"),
    "registered": N_("registered"),
    "duplicate": N_("duplicate"),
    "rejected": N_("rejected"),
}
IMPORT_KINDS = ("services", "workers")
