from django.urls import path

from . import views_leads as views

urlpatterns = [
    path("leads/", views.lead_list, name="lead_list"),
    path("leads/new/", views.lead_create, name="lead_create"),
    path("leads/new/validate/", views.lead_validate, name="lead_validate_new"),
    path("leads/<int:pk>/", views.lead_detail, name="lead_detail"),
    path("leads/<int:pk>/edit/", views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/validate/", views.lead_validate, name="lead_validate"),
    path("leads/<int:pk>/status/", views.lead_status, name="lead_status"),
    path("leads/<int:pk>/convert/", views.lead_convert, name="lead_convert"),
    path("web-forms/", views.public_form_list, name="public_form_list"),
    path("web-forms/new/", views.public_form_edit, name="public_form_create"),
    path("web-forms/<int:pk>/", views.public_form_edit, name="public_form_edit"),
    path("forms/<slug:slug>/", views.public_form, name="public_form"),
]
