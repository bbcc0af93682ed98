from django.urls import path

from . import views_reports

urlpatterns = [
    path("reports/", views_reports.report_index, name="report_index"),
    path("reports/<str:key>/", views_reports.report_page, name="report"),
]
