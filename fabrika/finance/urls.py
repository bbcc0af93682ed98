from django.urls import include, path

app_name = "finance"

urlpatterns = [
    path("", include("fabrika.finance.urls_invoices")),
    path("", include("fabrika.finance.urls_payments")),
]
