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
    path("counterparties/<int:pk>/merge/", views.counterparty_merge, name="counterparty_merge"),
    path("counterparties/<int:pk>/contacts/new/", views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", views.contact_delete, name="contact_delete"),
    path("counterparties/<int:pk>/addresses/new/", views.address_create, name="address_create"),
    path("addresses/<int:pk>/", views.address_edit, name="address_edit"),
    path("addresses/<int:pk>/delete/", views.address_delete, name="address_delete"),
    path("counterparties/<int:pk>/bank-accounts/new/", views.bank_account_create, name="bank_account_create"),
    path("bank-accounts/<int:pk>/", views.bank_account_edit, name="bank_account_edit"),
    path("bank-accounts/<int:pk>/delete/", views.bank_account_delete, name="bank_account_delete"),
    path("directories/<str:kind>/", views.directory_list, name="directory_list"),
    path("directories/<str:kind>/new/", views.directory_edit, name="directory_create"),
    path("directories/<str:kind>/new/validate/", views.directory_validate, name="directory_validate_new"),
    path("directories/<str:kind>/<int:item_id>/", views.directory_edit, name="directory_edit"),
    path("directories/<str:kind>/<int:item_id>/validate/", views.directory_validate, name="directory_validate"),
]
