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

# Sub-domain model modules: each lists its models in __all__.
from .attachments import *  # noqa: E402,F403
from .custom_fields import *  # noqa: E402,F403
from .idempotency import *  # noqa: E402,F403
from .imports import *  # noqa: E402,F403
from .printing import *  # noqa: E402,F403
from .statuses import *  # noqa: E402,F403
from .timers import *  # noqa: E402,F403
from .ui import *  # noqa: E402,F403
from .webhooks import *  # noqa: E402,F403
