"""What every contract shares: the task queues, the base model, the acting party and the
field types of a service."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from dc_common.actors import Actor as Actor
from dc_common.actors import ActorKind as ActorKind


class TaskQueue(StrEnum):
    LIFECYCLE = "lifecycle"
    SERVICE_LIFECYCLE = "service-lifecycle"
    """Services' lifecycles, hosted by the services-mgmt worker, whose activities (the
    projection, the key, the notifications) they run as local activities: no round trip through
    the server per step. Lifecycles begun before it stay on ``LIFECYCLE``."""
    SERVICES_MGMT = "services-mgmt"
    WALLET = "wallet"
    IMPORTS = "imports"


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


SYSTEM = Actor(kind=ActorKind.SYSTEM, id="lifecycle")

WALLET = Actor(kind=ActorKind.SYSTEM, id="wallet")

Hours = Annotated[int, Field(ge=1, le=9)]

ActivityCode = Annotated[int, Field(ge=1, le=4)]


class FieldProblem(Frozen):
    field: str
    reason: str
