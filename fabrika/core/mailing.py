"""E-mailing a printed document from its card: the PDF of a printed form (fabrika.core.printing) as an attachment.

    document_email_send(*, actor, template_key, obj, to, subject, body) -> EmailMessage
    default_recipient(template_key, obj) -> str        # the e-mail the form is prefilled with
    default_subject(template_key, obj) -> str

The PDF is rendered inside the caller's transaction (so a failing template refuses before anything is sent), the
audit row is written in the same transaction, and the message is handed to Django's mail backend only after the
commit (`transaction.on_commit`): a rolled-back request sends nothing.

Hooks, registered by the app that registers the printed form (in its printing module, next to
`printing.register`), so core never imports a higher app:

    register_recipient("finance.invoice", lambda invoice: invoice.contact.email if invoice.contact_id else "")
    register_object_preparer("finance.reconciliation_statement", lambda obj, params: StatementPeriod(...))

Without a recipient hook the default recipient is found on the record: `obj.contact.email`, then the primary (else the
first) contact of `obj.counterparty` with an e-mail, then `obj.counterparty.email`, then `obj.email`. A preparer turns
the record fetched by id (plus the page's query parameters) into what the form's `build_context` expects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from . import audit, printing
from .errors import ValidationError
from .models.audit import AuditAction

MAX_RECIPIENTS = 10
MAX_SUBJECT = 200
MAX_BODY = 10_000

_recipient_hooks: dict[str, Callable[[Any], str]] = {}
_preparers: dict[str, Callable[[Any, Any], Any]] = {}


def register_recipient(template_key: str, hook: Callable[[Any], str]) -> None:
    _recipient_hooks[template_key] = hook


def register_object_preparer(template_key: str, hook: Callable[[Any, Any], Any]) -> None:
    _preparers[template_key] = hook


def prepare_object(template_key: str, obj, params) -> Any:
    printing.printable_document(template_key)  # imports the apps' printing modules, which register the hooks
    hook = _preparers.get(template_key)
    return hook(obj, params) if hook is not None else obj


def _email_of(value) -> str:
    return (getattr(value, "email", "") or "").strip() if value is not None else ""


def default_recipient(template_key: str, obj) -> str:
    printing.printable_document(template_key)
    hook = _recipient_hooks.get(template_key)
    if hook is not None:
        return hook(obj) or ""
    contact = getattr(obj, "contact", None)
    if _email_of(contact):
        return _email_of(contact)
    counterparty = getattr(obj, "counterparty", None)
    if counterparty is not None:
        for found in counterparty.contacts.exclude(email="").order_by("-is_primary", "name", "id")[:1]:
            return found.email
        if _email_of(counterparty):
            return _email_of(counterparty)
    return _email_of(obj)


def _record(obj) -> models.Model | None:
    """The database record the e-mail is about (the object itself, or the counterparty of a prepared object)."""
    if isinstance(obj, models.Model):
        return obj
    counterparty = getattr(obj, "counterparty", None)
    return counterparty if isinstance(counterparty, models.Model) else None


def default_subject(template_key: str, obj) -> str:
    document = printing.printable_document(template_key)
    record = _record(obj)
    return f"{document.name} {record}" if record is not None else str(document.name)


def parse_recipients(value) -> list[str]:
    """Addresses separated by commas, semicolons or spaces; ValidationError on `to` naming the bad one."""
    raw = value if isinstance(value, list | tuple) else str(value or "").replace(";", ",").replace(" ", ",").split(",")
    addresses = [str(item).strip() for item in raw if str(item).strip()]
    if not addresses:
        raise ValidationError({"to": [_("Enter at least one e-mail address")]})
    if len(addresses) > MAX_RECIPIENTS:
        raise ValidationError({"to": [_("At most %(n)d recipients") % {"n": MAX_RECIPIENTS}]})
    for address in addresses:
        try:
            validate_email(address)
        except DjangoValidationError:
            raise ValidationError({"to": [_("“%(address)s” is not a valid e-mail address") % {"address": address}]})
    return addresses


def _filename(template_key: str, obj) -> str:
    record = _record(obj)
    name = slugify(str(record)) if record is not None else ""
    return f"{template_key.split('.')[-1]}{'-' + name if name else ''}.pdf"


@transaction.atomic
def document_email_send(*, actor, template_key: str, obj, to, subject: str, body: str = "", language: str | None = None) -> EmailMessage:
    """Render the printed form `template_key` of `obj` to PDF and e-mail it to `to` after the commit."""
    recipients = parse_recipients(to)
    subject = str(subject or "").strip()
    errors: dict[str, list[str]] = {}
    if not subject:
        errors["subject"] = [_("Enter a subject")]
    elif len(subject) > MAX_SUBJECT or "\n" in subject or "\r" in subject:
        errors["subject"] = [_("One line of at most %(n)d characters") % {"n": MAX_SUBJECT}]
    if len(body or "") > MAX_BODY:
        errors["body"] = [_("At most %(n)d characters") % {"n": MAX_BODY}]
    if errors:
        raise ValidationError(errors)
    rendered = printing.render_html(template_key, obj, language=language)
    pdf = printing.html_to_pdf(rendered.html)
    message = EmailMessage(subject=subject, body=body or "", from_email=settings.DEFAULT_FROM_EMAIL, to=recipients)
    filename = _filename(template_key, obj)
    message.attach(filename, pdf, printing.PDF_CONTENT_TYPE)
    record = _record(obj)
    audit.record(
        actor=actor, action=AuditAction.EXPORT, target=record,
        changes={"email": recipients, "print": template_key, "subject": subject, "attachment": filename},
        message=_("E-mailed %(document)s to %(to)s") % {"document": rendered.document.name, "to": ", ".join(recipients)},
    )
    transaction.on_commit(lambda: message.send(fail_silently=False), robust=True)  # a mail server failure is logged
    return message
