from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartiesConfig(AppConfig):
    name = "fabrika.parties"
    label = "parties"
    verbose_name = _("Counterparties")

    def ready(self) -> None:
        from fabrika.core.importer import register_importer

        from .importers import CounterpartyImporter

        register_importer(CounterpartyImporter)
