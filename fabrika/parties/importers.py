"""Counterparties from XLSX/CSV: each row goes through `counterparty_create` and its rules."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from fabrika.core.importer import Importer, ImportField, parse_bool, parse_choice, parse_text, parse_user
from fabrika.core.models import User

from . import services
from .models import Counterparty, PartyKind


class CounterpartyImporter(Importer):
    entity = services.ENTITY
    model = Counterparty
    label = _("Counterparties")
    fields = (
        ImportField("name", _("Name"), required=True, aliases=("company", "organisation", "organization", "название", "наименование", "компания")),
        ImportField("kind", _("Kind"), parser=parse_choice(PartyKind), aliases=("type", "тип", "вид")),
        ImportField("is_client", _("Client"), parser=parse_bool, aliases=("client", "клиент")),
        ImportField("is_supplier", _("Supplier"), parser=parse_bool, aliases=("supplier", "поставщик")),
        ImportField("is_dealer", _("Dealer / partner"), parser=parse_bool, aliases=("dealer", "partner", "дилер", "партнер")),
        ImportField("is_distributor", _("Distributor"), parser=parse_bool, aliases=("distributor", "дистрибьютор")),
        ImportField("is_point_of_sale", _("Point of sale"), parser=parse_bool, aliases=("point of sale", "торговая точка")),
        ImportField("is_carrier", _("Carrier"), parser=parse_bool, aliases=("carrier", "перевозчик")),
        ImportField("is_service_provider", _("Service provider"), parser=parse_bool, aliases=("service provider", "исполнитель услуг")),
        ImportField("country", _("Country"), aliases=("страна",)),
        ImportField("tax_id", _("Tax ID"), aliases=("inn", "vat", "vat number", "nif", "cif", "tin", "инн")),
        ImportField("kpp", _("KPP"), aliases=("кпп",)),
        ImportField("email", _("E-mail"), aliases=("email", "mail", "почта", "электронная почта")),
        ImportField("phone", _("Phone"), aliases=("telephone", "tel", "телефон", "тел")),
        ImportField("city", _("City"), aliases=("town", "город")),
        ImportField("notes", _("Notes"), parser=parse_text, aliases=("comment", "comments", "примечание", "комментарий")),
        ImportField(
            "responsible",
            _("Responsible"),
            parser=parse_user,
            aliases=("manager", "owner", "менеджер", "ответственный"),
            help_text=_("Username or e-mail of an active user; empty means the user who imports"),
        ),
        ImportField(
            "allow_duplicate",
            _("Create even if duplicate"),
            parser=parse_bool,
            aliases=("duplicate", "дубль"),
            help_text=_("A row that looks like an existing counterparty (same tax ID, phone, e-mail or a similar name) is refused unless this says yes"),
        ),
    )

    def create_row(self, *, actor: User, data: dict[str, Any]) -> Counterparty:
        allow_duplicate = bool(data.pop("allow_duplicate", False))
        return services.counterparty_create(actor=actor, data=data, check_duplicates=not allow_duplicate)
