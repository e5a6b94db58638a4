"""E-mails to users: the texts, in the user's language, and their delivery over SMTP."""

import asyncio
import hashlib
import smtplib
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import parseaddr

import structlog

from dc_common.db import Database
from dc_common.mail_links import MailLink, MailLinks
from dc_services import repository
from dc_services.models import OutboxMessage
from dc_workflows.contracts.lifecycle import NotificationRequest
from dc_workflows.deadline import BRUSSELS

#: Per language: the subject, what happened (registered, or changed after registration: a
#: contest corrected), what to do, and when it validates by itself (while it can).
_TEXTS = {
    "nl": (
        "Bevestig uw prestatie van {date}",
        "Uw huishoudhulp registreerde een prestatie van {hours} uur op {date}.",
        "Uw dienstenchequeonderneming wijzigde de prestatie van {date}: nu {hours} uur.",
        "Bevestig of betwist ze hier, ook zonder account:\n{link}",
        "Zonder reactie wordt ze automatisch gevalideerd op {deadline}.",
    ),
    "fr": (
        "Confirmez votre prestation du {date}",
        "Votre aide ménagère a enregistré une prestation de {hours} heures le {date}.",
        "Votre entreprise de titres-services a modifié la prestation du {date} : "
        "{hours} heures désormais.",
        "Confirmez-la ou contestez-la ici, même sans compte :\n{link}",
        "Sans réaction, elle sera validée automatiquement le {deadline}.",
    ),
    "de": (
        "Bestätigen Sie Ihre Leistung vom {date}",
        "Ihre Haushaltshilfe hat eine Leistung von {hours} Stunden am {date} registriert.",
        "Ihr Dienstleistungsscheck-Unternehmen hat die Leistung vom {date} geändert: "
        "jetzt {hours} Stunden.",
        "Bestätigen oder beanstanden Sie sie hier, auch ohne Konto:\n{link}",
        "Ohne Reaktion wird sie am {deadline} automatisch validiert.",
    ),
    "en": (
        "Confirm your service of {date}",
        "Your household helper registered a service of {hours} hours on {date}.",
        "Your service-voucher company changed the service of {date}: now {hours} hours.",
        "Confirm or contest it here, also without an account:\n{link}",
        "Without a reaction it validates automatically on {deadline}.",
    ),
}
_REMINDER_PREFIX = {
    "nl": "Herinnering: ",
    "fr": "Rappel : ",
    "de": "Erinnerung: ",
    "en": "Reminder: ",
}


log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    body: str


@dataclass(frozen=True)
class HouseholdLinks:
    """Where the e-mail sends the household: its service in the portal, opened by a signed
    link, without a login (households without an online account)."""

    portal_url: str
    links: MailLinks

    def to(self, request: NotificationRequest) -> str:
        link = MailLink(request.service_id, request.parties.user_number, request.version)
        return f"{self.portal_url.rstrip('/')}/link/{self.links.sign(link)}"


def confirmation_request(
    request: NotificationRequest, *, recipient: str, language: str, link: str, reminder: bool
) -> Mail:
    language = language if language in _TEXTS else "nl"
    subject, registered, changed, asked, by_itself = _TEXTS[language]
    deadline = request.validation_deadline
    values = {
        "date": request.details.service_date.strftime("%d/%m/%Y"),
        "hours": request.details.hours,
        "link": link,
        "deadline": deadline.astimezone(BRUSSELS).strftime("%d/%m/%Y %H:%M") if deadline else "",
    }
    lines = [changed if request.modified else registered, asked]
    if deadline is not None:
        lines.append(by_itself)
    prefix = _REMINDER_PREFIX[language] if reminder else ""
    body = "\n".join(lines).format(**values) + "\n"
    return Mail(recipient, prefix + subject.format(**values), body)


class MailRefused(Exception):
    """The relay server refused the message for good (a 5xx answer): sending it again is
    pointless."""


class SmtpMailer:
    def __init__(self, host: str, port: int, sender: str, *, timeout: float = 10.0) -> None:
        self._host, self._port, self._sender, self._timeout = host, port, sender, timeout
        self._domain = parseaddr(sender)[1].rpartition("@")[2] or "dienstencheques"

    def message_id(self, key: str) -> str:
        """The same for every delivery of one outbox message, so a mail client drops the rare
        second copy a relay makes after a crash between sending and recording it."""
        return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{self._domain}>"

    async def send(self, mail: Mail, *, key: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message["Message-ID"] = self.message_id(key)
        message.set_content(mail.body)
        await asyncio.to_thread(self._deliver, message)

    def _deliver(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            if all(code >= 500 for code, _ in error.recipients.values()):
                raise MailRefused(str(error)) from error
            raise
        except smtplib.SMTPResponseException as error:
            if error.smtp_code >= 500:
                raise MailRefused(f"{error.smtp_code} {error.smtp_error!r}") from error
            raise


Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class MailRelay:
    """Delivers the outbox: every message recorded is sent, whatever stopped before.

    A relay leases a batch of due messages (another relay skips them meanwhile, and takes them
    over when the lease ends), sends each and records the outcome; a failure that may pass is
    tried again later and later, a refusal for good is recorded with its reason. The
    notifications only record their mail and ``nudge`` the relay of their process.
    """

    def __init__(
        self,
        db: Database,
        mailer: SmtpMailer,
        *,
        batch: int = 50,
        lease: timedelta = timedelta(minutes=2),
        idle_seconds: float = 5.0,
        clock: Clock = _utc_now,
    ) -> None:
        self._db = db
        self._mailer = mailer
        self._batch = batch
        self._lease = lease
        self._idle = idle_seconds
        self._clock = clock
        self._wake = asyncio.Event()

    def nudge(self) -> None:
        """New mail is recorded: deliver it now rather than at the next round."""
        self._wake.set()

    async def run(self) -> None:
        while True:
            self._wake.clear()  # a nudge during the round below makes the next one start at once
            try:
                delivered = await self.deliver_due()
            except Exception:
                log.exception("mail relay round failed")
                delivered = 0
            if delivered < self._batch:
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self._idle)

    async def deliver_due(self) -> int:
        """One round: send what is due now; how many were taken."""
        now = self._clock()
        async with self._db.transaction() as session:
            leased = await repository.lease_due_mail(
                session, now=now, until=now + self._lease, limit=self._batch
            )
        for message in leased:
            await self._deliver(message)
        return len(leased)

    async def _deliver(self, message: OutboxMessage) -> None:
        mail = Mail(message.recipient, message.subject, message.body)
        try:
            await self._mailer.send(mail, key=message.key)
        except MailRefused as refused:
            await self._record_failure(message, str(refused), retry_at=None)
            log.warning("mail refused", key=message.key, reason=str(refused))
            return
        except (OSError, smtplib.SMTPException) as error:
            backoff = min(timedelta(seconds=10) * 2 ** (message.attempts - 1), timedelta(hours=1))
            await self._record_failure(message, repr(error), retry_at=self._clock() + backoff)
            log.info("mail not sent yet", key=message.key, attempts=message.attempts)
            return
        async with self._db.transaction() as session:
            await repository.mark_sent(session, message.id, self._clock())
        log.info("mail sent", key=message.key, service_id=message.key.split(":")[0])

    async def _record_failure(
        self, message: OutboxMessage, reason: str, *, retry_at: datetime | None
    ) -> None:
        async with self._db.transaction() as session:
            await repository.mark_not_sent(
                session, message.id, reason=reason, retry_at=retry_at, now=self._clock()
            )
