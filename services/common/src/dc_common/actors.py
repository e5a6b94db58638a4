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


ROLES = {
    ActorKind.COMPANY: "company staff",
    ActorKind.USER: "household",
    ActorKind.WORKER: "worker",
    ActorKind.OPERATOR: "operator",
    ActorKind.SYSTEM: "the platform",
}


class ActorOut(BaseModel):
    """Who acted, as an answer shows it: the party, and the person by name and role; their
    national number only in an answer to an operator."""

    kind: str = Field(description="the party: company, user, worker, operator or system")
    id: str = Field(description="the party's number: enterprise, user or worker login")
    name: str | None = Field(default=None, description="the person who acted for it, by name")
    role: str = Field(description="what the person acted as")
    person: str | None = Field(
        default=None, description="national number of who acted: shown to operators only"
    )

    @classmethod
    def of(cls, actor: Actor, *, private: bool) -> "ActorOut":
        """``private``: with the national number (the answer is for an operator)."""
        return cls(
            kind=actor.kind.value,
            id=actor.id,
            name=actor.name,
            role=ROLES[actor.kind],
            person=actor.person if private else None,
        )
