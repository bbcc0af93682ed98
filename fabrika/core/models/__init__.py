"""Platform models, split by sub-domain; import them from here."""

from .audit import AuditEntry
from .company import CompanySettings, Currency, ExchangeRate
from .numbering import NumberCounter, NumberSequence
from .users import ApiToken, Department, LoginFailure, RoleProfile, Scope, User

__all__ = [
    "ApiToken",
    "AuditEntry",
    "CompanySettings",
    "Currency",
    "Department",
    "ExchangeRate",
    "LoginFailure",
    "NumberCounter",
    "NumberSequence",
    "RoleProfile",
    "Scope",
    "User",
]

from .events import OutboxEvent  # noqa: E402

__all__ += ["OutboxEvent"]
