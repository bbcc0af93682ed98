from .invoices import (  # noqa: F401
    CreditNote,
    CreditNoteLine,
    Direction,
    DocumentStatus,
    Invoice,
    InvoiceLine,
    PaymentScheduleItem,
    ScheduleKind,
)
from .payments import Payment, PaymentAllocation, PaymentMethod  # noqa: F401
