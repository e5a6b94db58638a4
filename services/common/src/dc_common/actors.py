"""Who acts on the platform: the party (a company, a user, a worker...) and the person acting for
it. Shared by the workflows' contracts and by the internal APIs that hear it from the gateway."""

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ActorKind(StrEnum):
    COMPANY = "company"
    USER = "user"
    WORKER = "worker"
    OPERATOR = "operator"
    SYSTEM = "system"


class Actor(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: ActorKind
    id: str = Field(min_length=1, max_length=64)
    person: str | None = Field(
        default=None, max_length=64, description="national number (shown to operators only)"
    )
    name: str | None = Field(default=None, max_length=200, description="who acted, by name")
