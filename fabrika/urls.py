from django.contrib import admin
from django.urls import include, path

from fabrika.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("parties/", include("fabrika.parties.urls")),
    path("crm/", include("fabrika.crm.urls")),
    path("catalog/", include("fabrika.catalog.urls")),
    path("inventory/", include("fabrika.inventory.urls")),
    path("ledger/", include("fabrika.ledger.urls")),
    path("pricing/", include("fabrika.pricing.urls")),
    path("sales/", include("fabrika.sales.urls")),
    path("finance/", include("fabrika.finance.urls")),
    path("", include("fabrika.core.urls")),
]
