from django.urls import path

from . import views_plans as views

urlpatterns = [
    path("plans/", views.plan_report, name="plan_report"),
    path("plans/edit/", views.plan_edit, name="plan_edit"),
]
