from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# Each app adds its entry here when it gets a UI: (label, url name, permission or None).
NAVIGATION = [
    (_("Counterparties"), "parties:counterparty_list", "parties.view_counterparty"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, url_name, permission in NAVIGATION:
        if permission is None or user.has_perm(permission):
            items.append({"label": label, "url": reverse(url_name), "active": request.path.startswith(reverse(url_name))})
    return {"nav_items": items}
