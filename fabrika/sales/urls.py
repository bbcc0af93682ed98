from django.urls import include, path

app_name = "sales"

urlpatterns = [
    path("", include("fabrika.sales.urls_orders")),
    path("", include("fabrika.sales.urls_shipments")),
]
