from django.urls import include, path

app_name = "inventory"

urlpatterns = [
    path("", include("fabrika.inventory.urls_pages")),
    path("", include("fabrika.inventory.urls_reports")),
]
