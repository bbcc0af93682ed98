"""Domain errors: every business rule that refuses raises one of these.

`fabrika/api.py` maps them to problem+json once; views show the message beside the field.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule refused the operation. `code` is stable, `message` is for people."""

    status = 400
    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None, **values: Any):
        super().__init__(message)
        self.message = str(message)
        if code:
            self.code = code
        self.field = field
        self.values = values

    def field_errors(self) -> dict[str, list[str]]:
        return {self.field: [self.message]} if self.field else {}


class ValidationError(DomainError):
    """Bad input: `errors` maps each field to its messages."""

    status = 422
    code = "validation_error"

    def __init__(self, errors: dict[str, list[str]] | str, *, field: str | None = None, **values: Any):
        if isinstance(errors, str):
            errors = {field or "__all__": [errors]}
        self.errors = {key: [str(m) for m in messages] for key, messages in errors.items()}
        first = next(iter(self.errors.items()))
        message = "; ".join(f"{name}: {', '.join(msgs)}" if name != "__all__" else ", ".join(msgs) for name, msgs in self.errors.items())
        super().__init__(message, field=first[0] if first[0] != "__all__" else None, **values)

    def field_errors(self) -> dict[str, list[str]]:
        return self.errors


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "permission_denied"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"
