from django.urls import include, path

app_name = "catalog"

urlpatterns = [
    path("", include("fabrika.catalog.urls_pages")),
]
