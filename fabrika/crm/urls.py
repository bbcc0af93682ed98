from django.urls import include, path

app_name = "crm"

urlpatterns = [
    path("", include("fabrika.crm.urls_pipelines")),
    path("", include("fabrika.crm.urls_leads")),
    path("", include("fabrika.crm.urls_activities")),
    path("", include("fabrika.crm.urls_plans")),
]
