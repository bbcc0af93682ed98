from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FinanceConfig(AppConfig):
    name = "fabrika.finance"
    label = "finance"
    verbose_name = _("Finance")

    def ready(self) -> None:
        # A "Settlements" button and the latest invoices on counterparty cards (fabrika/core/ui/cards.py).
        from fabrika.core.ui.cards import register_card_actions, register_related_lists

        from .cards import invoice_related, settlement_actions

        register_card_actions(settlement_actions)
        register_related_lists(invoice_related)
