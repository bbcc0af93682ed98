from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "fabrika.pricing"
    label = "pricing"
    verbose_name = _("Pricing")

    def ready(self) -> None:
        from fabrika.core.ui.cards import register_related_lists

        from .cards import pricing_related

        register_related_lists(pricing_related)
