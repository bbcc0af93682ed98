"""Lead writes: create (by hand, API, import or the public web form), qualify, disqualify, convert.

Conversion runs in one transaction: it reuses the counterparty the user chose or an existing one that
`duplicates_find` matches by tax ID, phone or e-mail, else creates one; then adds the contact and (optionally) a deal.
Public form submissions are rate-limited per client address by rows in `PublicFormHit`, so every process sees them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from fabrika.core import audit, events
from fabrika.core.errors import DomainError, InvalidTransition, ValidationError
from fabrika.core.models import User
from fabrika.core.models.audit import AuditAction
from fabrika.core.selectors import company_settings
from fabrika.parties.models import Contact, Counterparty
from fabrika.parties.services import contact_create, counterparty_create, duplicates_find
from fabrika.parties.validation import normalise_phone, normalise_tax_id

from .models import (
    Activity,
    Lead,
    LeadSource,
    LeadStatus,
    Pipeline,
    PipelinePurpose,
    PublicForm,
    PublicFormHit,
)
from .services_pipelines import deal_create

EDITABLE_FIELDS = ("name", "company_name", "tax_id", "phone", "email", "message", "responsible", "source", "source_details")
TEXT_LIMITS = {"name": 300, "company_name": 300, "message": 10000}
SOURCE_DETAIL_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "page", "referrer")
STRONG_DUPLICATE_REASONS = {"tax_id", "phone", "email"}
RATE_LIMIT = 5
RATE_WINDOW = dt.timedelta(minutes=10)
HONEYPOT_FIELD = "website"

TRANSITIONS: dict[str, set[str]] = {
    LeadStatus.NEW: {LeadStatus.IN_PROGRESS, LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED},
    LeadStatus.IN_PROGRESS: {LeadStatus.QUALIFIED, LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED},
    LeadStatus.QUALIFIED: {LeadStatus.IN_PROGRESS, LeadStatus.DISQUALIFIED, LeadStatus.CONVERTED},
    LeadStatus.DISQUALIFIED: {LeadStatus.IN_PROGRESS},
    LeadStatus.CONVERTED: set(),
}


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"


def _add(errors: dict[str, list[str]], field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def _clean(data: dict[str, Any], *, existing: Lead | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    cleaned = {name: data[name] for name in EDITABLE_FIELDS if name in data}
    country = company_settings().country
    for name, limit in TEXT_LIMITS.items():
        if name in cleaned or (existing is None and name == "name"):
            cleaned[name] = str(cleaned.get(name) or "").strip()
            if len(cleaned[name]) > limit:
                _add(errors, name, _("At most %(limit)d characters") % {"limit": limit})
    if ("name" in cleaned or existing is None) and not cleaned.get("name"):
        _add(errors, "name", _("Name is required"))
    if "email" in cleaned:
        cleaned["email"] = str(cleaned["email"] or "").strip().lower()
        if cleaned["email"]:
            try:
                validate_email(cleaned["email"])
            except DjangoValidationError:
                _add(errors, "email", _("Enter a valid e-mail address, e.g. name@example.com"))
    for name, normalise in (("phone", normalise_phone), ("tax_id", normalise_tax_id)):
        if name in cleaned:
            try:
                cleaned[name] = normalise(str(cleaned[name] or ""), country=country)
            except ValueError as error:
                _add(errors, name, str(error))
    phone = cleaned["phone"] if "phone" in cleaned else (existing.phone if existing else "")
    email = cleaned["email"] if "email" in cleaned else (existing.email if existing else "")
    if not phone and not email and "phone" not in errors and "email" not in errors:
        _add(errors, "phone", _("Give a phone or an e-mail to reach the lead"))
    if "source" in cleaned or existing is None:
        cleaned["source"] = cleaned.get("source") or LeadSource.MANUAL
        if cleaned["source"] not in LeadSource.values:
            _add(errors, "source", _("Must be one of: %(choices)s") % {"choices": ", ".join(LeadSource.values)})
    if "source_details" in cleaned:
        details = cleaned["source_details"] or {}
        if not isinstance(details, dict):
            _add(errors, "source_details", _("Must be an object"))
        else:
            cleaned["source_details"] = {str(k)[:50]: str(v)[:500] for k, v in list(details.items())[:20] if v not in (None, "")}
    if "responsible" in cleaned or existing is None:
        responsible = cleaned.get("responsible")
        if isinstance(responsible, int | str) and str(responsible).isdigit():
            responsible = User.objects.filter(pk=int(responsible)).first()
        if not isinstance(responsible, User) or not responsible.is_active:
            _add(errors, "responsible", _("Choose an active user as responsible"))
        cleaned["responsible"] = responsible
    if errors:
        raise ValidationError(errors)
    return cleaned


def lead_validate(*, data: dict[str, Any], existing: Lead | None = None) -> dict[str, Any]:
    return _clean(data, existing=existing)


def lead_duplicate_errors(*, phone: str, email: str, exclude_id: int | None = None) -> dict[str, list[str]]:
    """Errors for a normalised phone or e-mail that an existing lead already has.

    They concern the row as a whole (key "__all__"): the cell itself is valid, so an importer must not drop it and
    re-check the rest of the row without it."""
    errors: dict[str, list[str]] = {}
    for name, value in (("phone", phone), ("email", email)):
        if not value:
            continue
        lookup = {"email__iexact": value} if name == "email" else {"phone": value}
        existing = Lead.objects.filter(**lookup).exclude(pk=exclude_id).order_by("id").first()
        if existing is not None:
            message = (
                _("A lead with this phone already exists: %(lead)s")
                if name == "phone"
                else _("A lead with this e-mail already exists: %(lead)s")
            )
            _add(errors, "__all__", message % {"lead": existing})
    return errors


@transaction.atomic
def lead_create(
    *,
    actor: User | None,
    data: dict[str, Any],
    public_form: PublicForm | None = None,
    actor_name: str = "",
    reject_duplicates: bool = False,
) -> Lead:
    """A new lead; the actor is responsible unless `data["responsible"]` names someone else.

    With `reject_duplicates` (imports), a lead whose phone or e-mail another lead already has is refused."""
    if actor is not None:
        data = {"responsible": actor, **data}
    cleaned = _clean(data, existing=None)
    if reject_duplicates:
        duplicates = lead_duplicate_errors(phone=cleaned.get("phone", ""), email=cleaned.get("email", ""))
        if duplicates:
            raise ValidationError(duplicates)
    lead = Lead.objects.create(public_form=public_form, **cleaned)
    audit.record(actor=actor, action=AuditAction.CREATE, target=lead, changes=audit.snapshot(lead), actor_name=actor_name or None)
    events.record_event("crm.lead.created", target=lead, payload={"lead": lead.pk, "source": lead.source, "responsible": lead.responsible_id})
    return lead


@transaction.atomic
def lead_update(*, actor: User, lead: Lead | int, data: dict[str, Any]) -> Lead:
    lead = _locked(lead)
    if lead.status == LeadStatus.CONVERTED:
        raise InvalidTransition(_("A converted lead cannot be changed"), field="status", status=lead.status)
    before = audit.snapshot(lead)
    cleaned = _clean({k: v for k, v in data.items() if k != "source"}, existing=lead)
    for name, value in cleaned.items():
        setattr(lead, name, value)
    lead.save()
    changes = audit.diff(before, audit.snapshot(lead))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=lead, changes=changes)
        events.record_event("crm.lead.changed", target=lead, payload={"lead": lead.pk, "changes": changes})
    return lead


def _locked(lead: Lead | int) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk if isinstance(lead, Lead) else lead)


def _move(lead: Lead, status: str, *, reason: str = "") -> dict[str, list[Any]]:
    if status not in TRANSITIONS[lead.status]:
        raise InvalidTransition(
            _("A lead cannot go from “%(old)s” to “%(new)s”") % {"old": lead.get_status_display(), "new": LeadStatus(status).label},
            field="status",
            status=lead.status,
            wanted=status,
        )
    changes = {"status": [lead.status, status]}
    if reason != lead.status_reason:
        changes["status_reason"] = [lead.status_reason, reason]
    lead.status, lead.status_reason = status, reason
    return changes


@transaction.atomic
def lead_set_status(*, actor: User, lead: Lead | int, status: str, reason: str = "") -> Lead:
    """Take a lead into work, qualify it, disqualify it (a reason is required) or reopen a disqualified one."""
    lead = _locked(lead)
    reason = (reason or "").strip()
    if status not in LeadStatus.values or status == LeadStatus.CONVERTED:
        raise ValidationError({"status": [_("Choose in progress, qualified or disqualified; convert a lead with the conversion")]})
    if status == LeadStatus.DISQUALIFIED and not reason:
        raise ValidationError({"reason": [_("Say why the lead is disqualified")]})
    if len(reason) > 500:
        raise ValidationError({"reason": [_("At most %(limit)d characters") % {"limit": 500}]})
    changes = _move(lead, status, reason=reason)
    lead.save(update_fields=["status", "status_reason", "updated_at"])
    audit.record(actor=actor, action=AuditAction.UPDATE, target=lead, changes=changes, message=reason)
    events.record_event("crm.lead.status_changed", target=lead, payload={"lead": lead.pk, "status": status, "reason": reason})
    return lead


def lead_duplicates(lead: Lead) -> list:
    """Counterparties `duplicates_find` matches for this lead (strongest first)."""
    return duplicates_find(name=lead.company_name or lead.name, tax_id=lead.tax_id, phone=lead.phone, email=lead.email)


def _matching_counterparty(lead: Lead) -> Counterparty | None:
    for candidate in lead_duplicates(lead):
        if STRONG_DUPLICATE_REASONS & set(candidate.reasons) or candidate.similarity >= 0.95:
            return candidate.counterparty
    return None


def _matching_contact(counterparty: Counterparty, lead: Lead) -> Contact | None:
    contacts = Contact.objects.filter(counterparty=counterparty)
    if lead.email:
        found = contacts.filter(email__iexact=lead.email).first()
        if found:
            return found
    if lead.phone:
        return contacts.filter(phone=lead.phone).first()
    return None


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_active=True, purpose=PipelinePurpose.SALES).order_by("order", "id").first()


@transaction.atomic
def lead_convert(
    *,
    actor: User,
    lead: Lead | int,
    pipeline: Pipeline | None = None,
    create_deal: bool = True,
    counterparty: Counterparty | None = None,
    deal_title: str = "",
) -> Lead:
    """Turn a lead into a counterparty (reused when it is a duplicate or chosen), a contact and a deal."""
    lead = _locked(lead)
    previous_status = lead.status
    _move(lead, LeadStatus.CONVERTED)
    if create_deal:
        pipeline = pipeline or (lead.public_form.pipeline if lead.public_form_id and lead.public_form.pipeline_id else None) or default_pipeline()
        if pipeline is None:
            raise ValidationError({"pipeline": [_("Choose a pipeline for the deal")]})
    reused = counterparty is not None
    if counterparty is None:
        counterparty = _matching_counterparty(lead)
        reused = counterparty is not None
    if counterparty is None:
        counterparty = counterparty_create(
            actor=actor,
            data={
                "name": lead.company_name or lead.name,
                "kind": "organisation" if lead.company_name else "individual",
                "roles": ["client"],
                "tax_id": lead.tax_id,
                "phone": lead.phone,
                "email": lead.email,
                "responsible": lead.responsible,
            },
        )
    contact = _matching_contact(counterparty, lead) if reused else None
    if contact is None and (lead.company_name or reused):
        contact = contact_create(actor=actor, counterparty=counterparty, name=lead.name, phone=lead.phone, email=lead.email, note=lead.message[:2000])
    deal = None
    if create_deal:
        deal = deal_create(
            actor=actor,
            pipeline=pipeline,
            title=(deal_title or "").strip() or (lead.company_name or lead.name),
            counterparty=counterparty,
            contact=contact,
            responsible=lead.responsible,
        )
    lead.converted_counterparty, lead.converted_contact, lead.converted_deal = counterparty, contact, deal
    lead.converted_at = timezone.now()
    lead.save(update_fields=["status", "status_reason", "converted_counterparty", "converted_contact", "converted_deal", "converted_at", "updated_at"])
    Activity.objects.filter(lead=lead, counterparty__isnull=True).update(counterparty=counterparty, contact=contact, deal=deal)
    audit.record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=lead,
        changes={
            "status": [previous_status, LeadStatus.CONVERTED.value],
            "converted_counterparty": [None, str(counterparty)],
            "converted_contact": [None, str(contact) if contact else None],
            "converted_deal": [None, str(deal) if deal else None],
        },
        message=_("Reused the existing counterparty") if reused else "",
    )
    events.record_event(
        "crm.lead.converted",
        target=lead,
        payload={
            "lead": lead.pk,
            "counterparty": counterparty.pk,
            "contact": contact.pk if contact else None,
            "deal": deal.pk if deal else None,
            "reused_counterparty": reused,
        },
    )
    return lead


# --- the public web form --------------------------------------------------------------------------------------


@transaction.atomic
def public_form_save(*, actor: User, data: dict[str, Any], existing: PublicForm | None = None) -> PublicForm:
    errors: dict[str, list[str]] = {}
    values = {name: data[name] for name in ("slug", "title", "responsible", "pipeline", "allowed_origins", "success_message", "is_active") if name in data}
    if "slug" in values or existing is None:
        values["slug"] = slugify(values.get("slug") or values.get("title") or "")[:60]
        if not values["slug"]:
            _add(errors, "slug", _("Give the form an address of letters, digits and dashes"))
        elif PublicForm.objects.filter(slug=values["slug"]).exclude(pk=existing.pk if existing else None).exists():
            _add(errors, "slug", _("Another form already uses this address"))
    if "title" in values or existing is None:
        values["title"] = str(values.get("title") or "").strip()
        if not values["title"]:
            _add(errors, "title", _("A title is required"))
    if "responsible" in values or existing is None:
        responsible = values.get("responsible")
        if not isinstance(responsible, User) or not responsible.is_active:
            _add(errors, "responsible", _("Choose an active user as responsible"))
    for origin in str(values.get("allowed_origins") or "").splitlines():
        if origin.strip() and not origin.strip().startswith(("http://", "https://")):
            _add(errors, "allowed_origins", _("Each origin starts with http:// or https://"))
            break
    if errors:
        raise ValidationError(errors)
    if existing is None:
        form = PublicForm.objects.create(**values)
        audit.record(actor=actor, action=AuditAction.CREATE, target=form, changes=audit.snapshot(form))
        return form
    before = audit.snapshot(existing)
    for name, value in values.items():
        setattr(existing, name, value)
    existing.save()
    changes = audit.diff(before, audit.snapshot(existing))
    if changes:
        audit.record(actor=actor, action=AuditAction.UPDATE, target=existing, changes=changes)
    return existing


@transaction.atomic
def public_form_hit(*, public_form: PublicForm, ip_address: str, now: dt.datetime | None = None) -> None:
    """Count one submission from `ip_address`; RateLimited (429) when it already sent RATE_LIMIT in RATE_WINDOW."""
    now = now or timezone.now()
    ip_address = (ip_address or "unknown")[:45]
    PublicFormHit.objects.filter(at__lt=now - RATE_WINDOW * 6).delete()  # keep the table small
    recent = PublicFormHit.objects.filter(ip_address=ip_address, at__gte=now - RATE_WINDOW).count()
    if recent >= RATE_LIMIT:
        raise RateLimited(_("Too many submissions from your address: try again in a few minutes"), code="rate_limited")
    PublicFormHit.objects.create(public_form=public_form, ip_address=ip_address, at=now)


def lead_submit_public(*, public_form: PublicForm, data: dict[str, Any], ip_address: str, now: dt.datetime | None = None) -> Lead | None:
    """A web-form submission: rate-limited per address, a filled honeypot is accepted silently and discarded (None).

    The hit is counted in its own transaction so that refused (invalid) submissions count too."""
    if not public_form.is_active:
        raise ValidationError({"__all__": [_("This form no longer accepts submissions")]})
    public_form_hit(public_form=public_form, ip_address=ip_address, now=now)
    if str(data.get(HONEYPOT_FIELD) or "").strip():
        return None
    details = {key: data.get(key) for key in SOURCE_DETAIL_KEYS if data.get(key)}
    details["ip"] = ip_address
    values = {name: data.get(name, "") for name in ("name", "company_name", "phone", "email", "message")}
    return lead_create(
        actor=None,
        data={**values, "source": LeadSource.WEB_FORM, "source_details": details, "responsible": public_form.responsible},
        public_form=public_form,
        actor_name=f"web form {public_form.slug}",
    )
