from django.urls import path

from . import views_invoices as views

urlpatterns = [
    path("invoices/", views.invoice_list, name="invoice_list"),
    path("invoices/new/", views.invoice_create, name="invoice_create"),
    path("invoices/new/validate/", views.invoice_validate, name="invoice_validate_new"),
    path("invoices/<int:pk>/validate/", views.invoice_validate, name="invoice_validate"),
    path("invoices/from-order/<int:order_pk>/", views.invoice_from_order, name="invoice_from_order"),
    path("invoices/from-shipments/<int:order_pk>/", views.invoice_from_shipments, name="invoice_from_shipments"),
    path("invoices/<int:pk>/", views.invoice_detail, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", views.invoice_edit, name="invoice_edit"),
    path("invoices/<int:pk>/lines/add/", views.invoice_line_add, name="invoice_line_add"),
    path("invoices/<int:pk>/products/", views.invoice_product_search, name="invoice_product_search"),
    path("invoices/<int:pk>/line-form/", views.invoice_line_form, name="invoice_line_form"),
    path("invoices/<int:pk>/lines/<int:line_pk>/quantity/", views.invoice_line_quantity, name="invoice_line_quantity"),
    path("invoices/<int:pk>/lines/<int:line_pk>/remove/", views.invoice_line_remove, name="invoice_line_remove"),
    path("invoices/<int:pk>/post/", views.invoice_post, name="invoice_post"),
    path("invoices/<int:pk>/cancel/", views.invoice_cancel, name="invoice_cancel"),
    path("invoices/<int:pk>/schedule/", views.invoice_schedule, name="invoice_schedule"),
    path("orders/<int:order_pk>/schedule/", views.order_schedule, name="order_schedule"),
    path("credit-notes/", views.credit_note_list, name="credit_note_list"),
    path("credit-notes/new/<int:invoice_pk>/", views.credit_note_create, name="credit_note_create"),
    path("credit-notes/from-return/<int:return_pk>/", views.credit_note_from_return, name="credit_note_from_return"),
    path("credit-notes/<int:pk>/", views.credit_note_detail, name="credit_note_detail"),
    path("credit-notes/<int:pk>/post/", views.credit_note_post, name="credit_note_post"),
    path("credit-notes/<int:pk>/cancel/", views.credit_note_cancel, name="credit_note_cancel"),
]
