from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SalesConfig(AppConfig):
    name = "fabrika.sales"
    label = "sales"
    verbose_name = _("Sales")

    def ready(self) -> None:
        # Buttons and related lists on deal and counterparty cards (fabrika/core/ui/cards.py).
        from fabrika.core.ui.cards import register_card_actions, register_related_lists

        from .cards import order_actions, order_related

        register_card_actions(order_actions)
        register_related_lists(order_related)
