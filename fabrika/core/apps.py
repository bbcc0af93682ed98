from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "fabrika.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from .statuses import DIGEST_TIMER, REMIND_TIMER, reminder_digest_fire, status_remind_fire
        from .timers import register_timer_handler

        register_timer_handler(REMIND_TIMER, status_remind_fire)
        register_timer_handler(DIGEST_TIMER, reminder_digest_fire)
