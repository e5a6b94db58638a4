"""The e-mails to users: recorded with the notification that asks for them, then delivered by the
mail relay until the relay server takes them, whatever stops on the way; a rare second delivery
carries the same Message-ID. Against a real SMTP server (aiosmtpd) on a loopback port, on SQLite
and on PostgreSQL."""

from __future__ import annotations

import asyncio
import email
import re
import threading
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from pydantic import SecretStr
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

from dc_common.db import Database
from dc_common.mail_links import MailLink, MailLinks
from dc_services.activities import ServicesActivities
from dc_services.identity_client import IdentityClient
from dc_services.mail import HouseholdLinks, MailRelay, SmtpMailer, confirmation_request
from dc_services.models import OutboxMessage
from dc_workflows.contracts.lifecycle import NotificationRequest, ServiceDetails, ServiceParties
from tests.support.servers import free_port
from tests.support.waiting import eventually

DIALECTS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
SENDER = "Dienstencheques <noreply@dienstencheques.example>"
USER = {"user_number": "100000000001", "name": "An", "email": "an@example.org", "language": "nl"}


class RelayServer:
    """The SMTP relay: takes messages, or answers as told (451: later, 550: never)."""

    def __init__(self) -> None:
        self.received: list[Message] = []
        self.answers: list[str] = []
        """What to answer the next DATA commands, one each, before taking messages again."""
        self.hold = threading.Event()
        self.hold.set()
        self.holding = threading.Event()

    async def handle_DATA(self, _server: SMTP, _session: Session, envelope: Envelope) -> str:
        if not self.hold.is_set():
            self.holding.set()
            await asyncio.to_thread(self.hold.wait)
        if self.answers:
            return self.answers.pop(0)
        assert isinstance(envelope.content, bytes)
        self.received.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def relay_server(smtp_port: int) -> AsyncIterator[RelayServer]:
    server = RelayServer()
    controller = Controller(server, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    yield server
    server.hold.set()
    controller.stop()


def identity() -> IdentityClient:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=USER)

    return IdentityClient(
        "http://identity", token=SecretStr("test"), transport=httpx.MockTransport(answer)
    )


LINKS = MailLinks("test-link-secret", lifetime=timedelta(days=14))


def activities(db: Database, relay: MailRelay) -> ServicesActivities:
    return ServicesActivities(db, identity(), relay, HouseholdLinks("http://portal.example", LINKS))


def notification(service_id: str = "svc-1") -> NotificationRequest:
    return NotificationRequest(
        service_id=service_id,
        version=1,
        parties=ServiceParties(
            company_id="0712345630", worker_login="980100000001", user_number="100000000001"
        ),
        details=ServiceDetails(service_date=date(2026, 11, 30), hours=3, activity_type=1),
        validation_deadline=datetime(2026, 12, 5, 9, 0, tzinfo=UTC),
    )


async def outbox(db: Database) -> list[OutboxMessage]:
    async with db.sessions() as session:
        return list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_a_mail_asked_while_the_relay_server_is_down_arrives_once_it_is_up(
    db: Database, smtp_port: int
) -> None:
    clock = FakeClock()
    mailer = SmtpMailer("127.0.0.1", smtp_port, SENDER, timeout=5)
    relay = MailRelay(db, mailer, clock=clock)

    # The notification completes: it records the mail, it does not need the relay server.
    await ActivityEnvironment().run(activities(db, relay).request_validation, notification())
    assert await relay.deliver_due() == 1  # nobody listens on the port yet
    [waiting] = await outbox(db)
    assert (waiting.sent_at, waiting.failed_at, waiting.attempts) == (None, None, 1)
    assert waiting.next_attempt_at is not None and waiting.next_attempt_at > clock.now

    server = RelayServer()
    controller = Controller(server, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        assert await relay.deliver_due() == 0, "not before its next attempt"
        clock.now = waiting.next_attempt_at
        assert await relay.deliver_due() == 1
    finally:
        controller.stop()

    [mail] = server.received
    assert (mail["To"], mail["Message-ID"]) == (USER["email"], mailer.message_id(waiting.key))
    body = mail.get_payload(decode=True).decode()
    [token] = re.findall(r"^http://portal\.example/link/(\S+)\s*$", body, re.M)
    assert LINKS.read(token) == MailLink("svc-1", "100000000001", 1), "the service of the mail"
    [sent] = await outbox(db)
    assert sent.sent_at == clock.now
    assert await relay.deliver_due() == 0, "sent once, not again"


async def test_overlapping_attempts_and_relays_lose_no_mail(
    db: Database, relay_server: RelayServer, smtp_port: int
) -> None:
    """A second attempt of the notification (a retry after a timeout) and a second relay, while
    the first delivery is still with the relay server and then fails: the mail still arrives,
    once."""
    clock = FakeClock()
    relay = MailRelay(db, SmtpMailer("127.0.0.1", smtp_port, SENDER, timeout=5), clock=clock)
    other_relay = MailRelay(db, SmtpMailer("127.0.0.1", smtp_port, SENDER), clock=clock)
    relay_server.answers = ["451 4.3.0 try again later"]
    relay_server.hold.clear()  # the first delivery waits in the relay server
    notify = activities(db, relay).request_validation

    await ActivityEnvironment().run(notify, notification())
    first_delivery = asyncio.create_task(relay.deliver_due())

    async def with_the_relay_server() -> bool:
        return relay_server.holding.is_set()

    await eventually(with_the_relay_server)
    await ActivityEnvironment().run(notify, notification())  # the retried attempt
    assert await other_relay.deliver_due() == 0, "taken by the first relay: not sent twice"
    relay_server.hold.set()
    await first_delivery
    assert relay_server.received == [], "the first delivery failed"

    clock.now += timedelta(minutes=5)
    assert await other_relay.deliver_due() == 1

    [mail] = relay_server.received
    assert mail["To"] == USER["email"]
    assert len(await outbox(db)) == 1, "the retried attempt recorded nothing twice"


async def test_a_mail_refused_for_good_is_recorded_and_not_tried_again(
    db: Database, relay_server: RelayServer, smtp_port: int
) -> None:
    clock = FakeClock()
    relay = MailRelay(db, SmtpMailer("127.0.0.1", smtp_port, SENDER, timeout=5), clock=clock)
    relay_server.answers = ["550 5.1.1 mailbox unavailable"]
    await ActivityEnvironment().run(activities(db, relay).send_reminder, notification())

    assert await relay.deliver_due() == 1
    clock.now += timedelta(days=1)
    assert await relay.deliver_due() == 0

    [refused] = await outbox(db)
    assert (refused.sent_at, refused.failed_at) == (None, datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    assert refused.failure is not None and "550" in refused.failure
    assert relay_server.received == []


async def test_every_delivery_of_one_mail_carries_the_same_message_id(
    relay_server: RelayServer, smtp_port: int
) -> None:
    mailer = SmtpMailer("127.0.0.1", smtp_port, SENDER, timeout=5)
    mail: Any = type("Mail", (), {"recipient": "an@example.org", "subject": "S", "body": "B"})

    await mailer.send(mail, key="svc-1:validation-requested:1")
    await mailer.send(mail, key="svc-1:validation-requested:1")
    await mailer.send(mail, key="svc-1:reminder:1")

    first, again, other = (message["Message-ID"] for message in relay_server.received)
    assert first == again != other
    assert first.endswith("@dienstencheques.example>")


def test_a_mail_about_a_corrected_service_says_it_changed_and_promises_no_deadline() -> None:
    corrected = notification().model_copy(
        update={"version": 3, "validation_deadline": None, "modified": True}
    )
    reminded = notification().model_copy(update={"version": 2})  # validated, then reminded
    first = confirmation_request(
        notification(), recipient="an@example.org", language="nl", link="L1", reminder=False
    )
    again = confirmation_request(
        corrected, recipient="an@example.org", language="nl", link="L3", reminder=False
    )
    assert "registreerde" in first.body and "05/12/2026 10:00" in first.body
    assert "wijzigde" in again.body and "automatisch" not in again.body
    assert again.body.splitlines()[2] == "L3", "the link on a line of its own"
    reminder = confirmation_request(
        reminded, recipient="an@example.org", language="nl", link="L2", reminder=True
    )
    assert "registreerde" in reminder.body and reminder.subject.startswith("Herinnering")
