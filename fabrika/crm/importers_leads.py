"""Leads from XLSX/CSV: each row goes through `lead_create` (source "import") and its rules.

A row whose phone or e-mail an existing lead already has (or an earlier row of the same file) is refused as a
duplicate; bad phones, e-mails and tax IDs are refused by the service's own checks, each beside its column.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from fabrika.core.importer import Importer, ImportField, parse_user
from fabrika.core.models import User

from . import services_leads
from .models import Lead, LeadSource

ENTITY = "crm.lead"
SOURCE_DETAILS_MAX = 1000
_PAIR = re.compile(r"^\s*([\w.-]{1,50})\s*[=:]\s*(.*?)\s*$")


def parse_source_details(text: str) -> dict[str, str]:
    """`utm_source=yandex; utm_campaign=spring` becomes {"utm_source": "yandex", "utm_campaign": "spring"}; any other
    text is kept whole as {"details": text}."""
    text = text.strip()
    if len(text) > SOURCE_DETAILS_MAX:
        raise ValueError(gettext("At most %(limit)d characters") % {"limit": SOURCE_DETAILS_MAX})
    parts = [part for part in re.split(r"[;&\n]", text) if part.strip()]
    matches = [_PAIR.match(part) for part in parts]
    if parts and all(matches):
        return {match.group(1): match.group(2) for match in matches if match and match.group(2)}
    return {"details": text}


class LeadImporter(Importer):
    entity = ENTITY
    model = Lead
    label = _("Leads")
    fields = (
        ImportField(
            "name",
            _("Name"),
            required=True,
            aliases=("contact", "contact name", "full name", "имя", "фио", "контакт"),
        ),
        ImportField(
            "company_name",
            _("Company"),
            aliases=(
                "company name",
                "organisation",
                "organization",
                "компания",
                "организация",
                "название компании",
            ),
        ),
        ImportField("tax_id", _("Tax ID"), aliases=("inn", "vat", "vat number", "nif", "cif", "tin", "инн")),
        ImportField("phone", _("Phone"), aliases=("telephone", "tel", "mobile", "телефон", "тел")),
        ImportField("email", _("E-mail"), aliases=("email", "mail", "почта", "электронная почта")),
        ImportField(
            "message", _("Message"), aliases=("comment", "request", "сообщение", "комментарий", "запрос")
        ),
        ImportField(
            "responsible",
            _("Responsible"),
            parser=parse_user,
            aliases=("manager", "owner", "менеджер", "ответственный"),
            help_text=_("Username or e-mail of an active user; empty means the user who imports"),
        ),
        ImportField(
            "source_details",
            _("Source details"),
            parser=parse_source_details,
            aliases=("source", "utm", "channel", "источник", "детали источника"),
            help_text=_("Free text, or pairs such as utm_source=yandex; utm_campaign=spring"),
        ),
    )

    def create_row(self, *, actor: User, data: dict[str, Any]) -> Lead:
        return services_leads.lead_create(
            actor=actor, data={**data, "source": LeadSource.IMPORT}, reject_duplicates=True
        )
