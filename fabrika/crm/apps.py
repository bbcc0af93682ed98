from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "fabrika.crm"
    label = "crm"
    verbose_name = _("CRM")

    def ready(self) -> None:
        # Each sub-domain registers its timer handlers, event consumers and importers here.
        from . import registrations

        registrations.register()
