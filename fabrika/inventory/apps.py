from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "fabrika.inventory"
    label = "inventory"
    verbose_name = _("Inventory")

    def ready(self) -> None:
        # The journal's reconciliation check for stock (ledger.checks) is registered by the accounting module.
        from . import accounting  # noqa: F401
