"""Every label of the Jobtracker app, by the key the app's JavaScript asks for.

The English text is the gettext message id of the domain ``jobtracker``; ``N_`` and ``Nn_`` only
mark them for extraction (see ``services/gateway/babel-jobtracker.cfg``). Placeholders in
braces (``{name}``) are filled in by the app. A plural label has a singular and a plural id; the
app picks the form with ``Intl.PluralRules`` for the count.

Texts that come from the API (status and activity labels of services, errors) are translated by
the API itself, from the ``Accept-Language`` the app sends.
"""


def N_(message: str) -> str:
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    return singular, plural


LABELS: dict[str, str] = {
    # Everywhere
    "app_name": N_("Jobtracker"),
    "language": N_("Language"),
    "to_start": N_("To the start"),
    "back": N_("Back"),
    "cancel": N_("Cancel"),
    "save": N_("Save"),
    "loading": N_("Loading…"),
    "offline": N_(
        "You are offline. What you register stays on this phone and is sent as soon as there "
        "is a connection."
    ),
    "offline_saved": N_("You are offline: this is what the phone saved on {when}."),
    "no_connection": N_("There is no connection. Try again when you are online."),
    "unavailable": N_("The platform did not answer. Nothing was changed: try again in a moment."),
    "failed": N_("That did not work. Try again."),
    "fill_in": N_("Fill this in."),
    # Log in
    "login_title": N_("Log in"),
    "login_intro": N_("Log in with the login and the password your employer gave you."),
    "login": N_("Login"),
    "login_hint": N_("12 digits, starting with 980"),
    "login_invalid": N_("Type the 12 digits of your login: it starts with 980."),
    "password": N_("Password"),
    "show_password": N_("Show the password"),
    "log_in": N_("Log in"),
    "logged_out": N_("You are logged out."),
    "log_in_again": N_("Your session has ended: log in again."),
    # Change the password
    "password_title": N_("Choose your own password"),
    "password_intro": N_("Your employer set a first password. Choose your own before you go on."),
    "password_change_title": N_("Change my password"),
    "current_password": N_("Current password"),
    "new_password": N_("New password"),
    "repeat_password": N_("Repeat the new password"),
    "rules_intro": N_("The new password:"),
    "rule_length": N_("has at least 10 characters"),
    "rule_mix": N_("has letters and digits"),
    "rule_not_login": N_("is not your login"),
    "too_short": N_("Use at least 10 characters."),
    "letters_and_digits": N_("Use letters and digits."),
    "not_the_login": N_("Do not use your login as the password."),
    "passwords_differ": N_("The two new passwords differ: type the same one twice."),
    "save_password": N_("Save the password"),
    "password_saved": N_("Your new password is saved."),
    # Employers
    "employer_title": N_("Pick the employer"),
    "employer_intro": N_("You work for more than one company. For which one do you work now?"),
    "employer": N_("Employer"),
    "other_employer": N_("Other employer"),
    "employer_chosen": N_("You now work for {name}."),
    # Home
    "hello": N_("Hello {name}"),
    "register_service": N_("Register a service"),
    "waiting": N_("Waiting to be sent"),
    "to_validate": N_("To validate"),
    "my_services": N_("My services"),
    "customers": N_("Customers"),
    "check_voucher": N_("Check a paper voucher"),
    "log_out": N_("Log out"),
    "what_now": N_("For you today"),
    "more": N_("More"),
    "tap_customer": N_("Tap a customer to register a service for them."),
    "no_customers": N_("No customers yet: add the households you work for."),
    "add_customer": N_("Add a customer"),
    # Register a service
    "pick_customer": N_("Pick the customer"),
    "customer": N_("Customer"),
    "date": N_("Date"),
    "date_invalid": N_("Pick the date of the service: today or a day before."),
    "activity": N_("Activity"),
    "activity_1": N_("Household help"),
    "activity_2": N_("Household shopping"),
    "activity_3": N_("Ironing outside the home"),
    "activity_4": N_("Transport of persons with reduced mobility"),
    "hours": N_("Hours"),
    "voucher": N_("Voucher"),
    "electronic": N_("Electronic"),
    "paper": N_("Paper"),
    "register": N_("Register"),
    "sent": N_("Sent: {customer}, {date}."),
    "queued": N_(
        "Kept on this phone: {customer}, {date}. It is sent as soon as there is a connection."
    ),
    # The queue
    "queue_intro": N_(
        "These services are on this phone only. They are sent by themselves when there is a "
        "connection."
    ),
    "queue_empty": N_("Nothing is waiting: everything has been sent."),
    "state_waiting": N_("Waiting"),
    "state_sending": N_("Sending…"),
    "state_refused": N_("Refused"),
    "send_now": N_("Send now"),
    "remove": N_("Remove"),
    "removed": N_("Removed from this phone."),
    "for_employer": N_("For {name}: choose that employer to send it."),
    # My services
    "services_empty": N_("No services yet."),
    "status": N_("Status"),
    "you_confirmed": N_("You confirmed it."),
    "you_asked_correction": N_("You asked a correction: {reason}"),
    # To validate
    "validate_intro": N_(
        "Your office encoded these services for you. Check each: confirm it, or ask a correction."
    ),
    "validate_empty": N_("Nothing to validate."),
    "confirm": N_("Confirm"),
    "ask_correction": N_("Ask a correction"),
    "correction_reason": N_("What is not right?"),
    "correction_hint": N_("For example: it was 2 hours, not 3."),
    "reason_required": N_("Say what is not right, so the office can correct it."),
    "send_correction": N_("Send the correction"),
    "confirmed": N_("Confirmed: {customer}, {date}."),
    "correction_sent": N_("Your correction was sent to the office."),
    # Customers
    "customer_new": N_("Add a customer"),
    "customer_edit": N_("Edit the customer"),
    "user_number": N_("User number"),
    "user_number_hint": N_("12 digits, as on the customer's voucher account"),
    "user_number_invalid": N_("Type the 12 digits of the user number."),
    "name": N_("Name"),
    "name_required": N_("Type the customer's name."),
    "phone": N_("Phone (optional)"),
    "note": N_("Note (optional)"),
    "note_hint": N_("For example: the key is with the neighbours."),
    "edit": N_("Edit"),
    "customer_saved": N_("Saved: {name}."),
    # Paper vouchers
    "voucher_number": N_("Voucher number"),
    "voucher_number_hint": N_("The number printed on the voucher, digits only"),
    "voucher_number_invalid": N_("Type the number printed on the voucher, digits only."),
    "check": N_("Check"),
    "voucher_valid_until": N_("Valid until {date}"),
    "voucher_expired_on": N_("Expired on {date}"),
    # Log out
    "log_out_title": N_("Log out"),
    "log_out_confirm": N_(
        "After logging out, this phone forgets your customers and services. You need your "
        "password to log in again."
    ),
}

PLURALS: dict[str, tuple[str, str]] = {
    "hours_count": Nn_("{count} hour", "{count} hours"),
    "refused_count": Nn_("{count} refused", "{count} refused"),
    "log_out_waiting": Nn_(
        "{count} service is still waiting to be sent. It stays on this phone and is sent when "
        "you log in again.",
        "{count} services are still waiting to be sent. They stay on this phone and are sent "
        "when you log in again.",
    ),
}
