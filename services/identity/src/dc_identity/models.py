"""The directory's tables: companies, their branches, their workers, and users (households).

Identifiers are the official numbers, kept as strings (leading zeros matter).
"""

from datetime import date

from sqlalchemy import (
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Company(Base):
    """A recognised company (erkende onderneming)."""

    __tablename__ = "companies"

    enterprise_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    recognition_number: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))


class Branch(Base):
    """A branch (vestiging) of a company, by its establishment unit number."""

    __tablename__ = "branches"

    establishment_unit_number: Mapped[str] = mapped_column(String(10), primary_key=True)
    company_id: Mapped[str] = mapped_column(
        String(10), ForeignKey("companies.enterprise_number"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))

    # Target of the workers' (company, branch) key: a worker's branch belongs to its company.
    __table_args__ = (UniqueConstraint("company_id", "establishment_unit_number"),)


class Worker(Base):
    """A household helper employed by a company, known by the 12-digit login (980...)."""

    __tablename__ = "workers"

    login: Mapped[str] = mapped_column(String(12), primary_key=True)
    national_number: Mapped[str] = mapped_column(String(11), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    company_id: Mapped[str] = mapped_column(String(10), ForeignKey("companies.enterprise_number"))
    branch_id: Mapped[str | None] = mapped_column(String(10))
    contract_start: Mapped[date] = mapped_column(Date)
    contract_end: Mapped[date | None] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(2))

    __table_args__ = (
        ForeignKeyConstraint(
            ["company_id", "branch_id"],
            ["branches.company_id", "branches.establishment_unit_number"],
            name="fk_workers_company_branch",
        ),
        Index("ix_workers_company_name", "company_id", "last_name", "first_name", "login"),
        Index("ix_workers_branch", "branch_id"),
    )


class User(Base):
    """A user (household) of service vouchers, by the 12-digit user number."""

    __tablename__ = "users"

    user_number: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(2))
