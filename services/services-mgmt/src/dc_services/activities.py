"""Activities of services-mgmt, called by the lifecycle workflow by name on its task queue."""

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from prometheus_client import Counter
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dc_common.db import Database
from dc_services import repository
from dc_services.domain import NaturalKey
from dc_services.identity_client import IdentityClient
from dc_services.mail import HouseholdLinks, MailRelay, confirmation_request
from dc_workflows.contracts.lifecycle import (
    ActivityName,
    KeyHolder,
    KeyMove,
    NotificationRequest,
    ServiceState,
)
from dc_workflows.contracts.payments import ProjectedPayments, ProjectedPaymentsQuery

log = structlog.get_logger(__name__)

PROJECTED = Counter(
    "dc_services_projected", "Service versions written to the read model, by status", ["status"]
)


class ServicesActivities:
    def __init__(
        self, db: Database, identity: IdentityClient, relay: MailRelay, links: HouseholdLinks
    ) -> None:
        self._db = db
        self._identity = identity
        self._relay = relay
        self._links = links

    @activity.defn(name=ActivityName.PROJECT_SERVICE)
    async def project_service(self, state: ServiceState) -> bool:
        async with self._db.transaction() as session:
            written = await repository.project(session, state)
        if written:
            PROJECTED.labels(str(int(state.status))).inc()
        log.info(
            "service projected",
            service_id=state.service_id,
            version=state.version,
            status=int(state.status),
            written=written,
        )
        return written

    @activity.defn(name=ActivityName.MOVE_KEY)
    async def move_key(self, move: KeyMove) -> KeyHolder:
        """A modification takes the natural key of its new details, unless another service
        holds it (then nothing changes and the holder is answered)."""
        key = NaturalKey.of(move.parties, move.details)
        async with self._db.transaction() as session:
            holder = await repository.move_key(session, move.service_id, key, datetime.now(UTC))
        log.info("service key moved", service_id=move.service_id, holder=holder)
        return KeyHolder(service_id=holder)

    @activity.defn(name=ActivityName.PROJECTED_PAYMENTS)
    async def projected_payments(self, query: ProjectedPaymentsQuery) -> ProjectedPayments:
        """What the read model shows of these services' payment (the wallet reconciles)."""
        async with self._db.sessions() as session:
            return ProjectedPayments(
                services=await repository.projected_payments(session, query.service_ids)
            )

    @activity.defn(name=ActivityName.REQUEST_VALIDATION)
    async def request_validation(self, request: NotificationRequest) -> None:
        """Ask the company (inbox) and the user (e-mail) at the same time."""
        await self._notify(request, kind="validation-requested", reminder=False)

    @activity.defn(name=ActivityName.SEND_REMINDER)
    async def send_reminder(self, request: NotificationRequest) -> None:
        await self._notify(request, kind="reminder", reminder=True)

    async def _notify(self, request: NotificationRequest, *, kind: str, reminder: bool) -> None:
        """The inbox item and the e-mail are recorded together; the mail relay delivers."""
        key = f"{request.service_id}:{kind}:{request.version}"
        user = await self._identity.user(request.parties.user_number)
        if user is None:
            raise ApplicationError(
                f"user {request.parties.user_number} is unknown to identity",
                type="UnknownUser",
                non_retryable=True,
            )
        mail = confirmation_request(
            request,
            recipient=user.email,
            language=user.language,
            link=self._links.to(request),
            reminder=reminder,
        )
        now = datetime.now(UTC)
        async with self._db.transaction() as session:
            await repository.add_to_inbox(
                session,
                key=key,
                company_id=request.parties.company_id,
                service_id=request.service_id,
                kind=kind,
                now=now,
            )
            await repository.record_mail(
                session,
                key=key,
                recipient=mail.recipient,
                subject=mail.subject,
                body=mail.body,
                now=now,
            )
        self._relay.nudge()

    @property
    def all(self) -> list[Callable[..., Awaitable[object]]]:
        return [
            self.project_service,
            self.move_key,
            self.projected_payments,
            self.request_validation,
            self.send_reminder,
        ]
