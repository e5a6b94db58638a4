"""E-mails to users: the texts, in the user's language, and their delivery over SMTP."""

import asyncio
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from dc_workflows.contracts.lifecycle import NotificationRequest
from dc_workflows.deadline import BRUSSELS

_TEXTS = {
    "nl": (
        "Bevestig uw prestatie van {date}",
        "Uw huishoudhulp registreerde een prestatie van {hours} uur op {date}.\n"
        "Bevestig of betwist ze op {link}.\n"
        "Zonder reactie wordt ze automatisch gevalideerd op {deadline}.",
    ),
    "fr": (
        "Confirmez votre prestation du {date}",
        "Votre aide ménagère a enregistré une prestation de {hours} heures le {date}.\n"
        "Confirmez-la ou contestez-la sur {link}.\n"
        "Sans réaction, elle sera validée automatiquement le {deadline}.",
    ),
    "de": (
        "Bestätigen Sie Ihre Leistung vom {date}",
        "Ihre Haushaltshilfe hat eine Leistung von {hours} Stunden am {date} registriert.\n"
        "Bestätigen oder beanstanden Sie sie auf {link}.\n"
        "Ohne Reaktion wird sie am {deadline} automatisch validiert.",
    ),
    "en": (
        "Confirm your service of {date}",
        "Your household helper registered a service of {hours} hours on {date}.\n"
        "Confirm or contest it at {link}.\n"
        "Without a reaction it validates automatically on {deadline}.",
    ),
}
_REMINDER_PREFIX = {
    "nl": "Herinnering: ",
    "fr": "Rappel : ",
    "de": "Erinnerung: ",
    "en": "Reminder: ",
}


@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    body: str


def confirmation_request(
    request: NotificationRequest, *, recipient: str, language: str, portal_url: str, reminder: bool
) -> Mail:
    language = language if language in _TEXTS else "nl"
    subject, body = _TEXTS[language]
    deadline = (
        request.validation_deadline.astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M")
        if request.validation_deadline
        else "-"
    )
    values = {
        "date": request.details.service_date.strftime("%d/%m/%Y"),
        "hours": request.details.hours,
        "link": f"{portal_url}/services/{request.service_id}",
        "deadline": deadline,
    }
    prefix = _REMINDER_PREFIX[language] if reminder else ""
    return Mail(recipient, prefix + subject.format(**values), body.format(**values))


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self._host, self._port, self._sender = host, port, sender

    async def send(self, mail: Mail, *, idempotency_key: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        # A stable Message-ID lets mail clients drop the rare copy a crash makes us send twice.
        message["Message-ID"] = make_msgid(idstring=idempotency_key, domain="dienstencheques")
        message.set_content(mail.body)
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self._host, self._port, timeout=10) as smtp:
            smtp.send_message(message)
