from django.urls import path

from . import views

app_name = "parties"

urlpatterns = [
    path("counterparties/", views.counterparty_list, name="counterparty_list"),
    path("counterparties/new/", views.counterparty_create, name="counterparty_create"),
    path("counterparties/new/validate/", views.counterparty_validate, name="counterparty_validate_new"),
    path("counterparties/<int:pk>/", views.counterparty_detail, name="counterparty_detail"),
    path("counterparties/<int:pk>/edit/", views.counterparty_edit, name="counterparty_edit"),
    path("counterparties/<int:pk>/validate/", views.counterparty_validate, name="counterparty_validate"),
    path("counterparties/<int:pk>/delete/", views.counterparty_delete, name="counterparty_delete"),
]
