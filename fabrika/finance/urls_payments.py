from django.urls import path

from . import views_payments, views_settlements

urlpatterns = [
    path("payments/", views_payments.payment_list, name="payment_list"),
    path("payments/new/", views_payments.payment_create, name="payment_create"),
    path("payments/statement/", views_payments.payment_statement, name="payment_statement"),
    path("payments/<int:pk>/", views_payments.payment_detail, name="payment_detail"),
    path("payments/<int:pk>/edit/", views_payments.payment_edit, name="payment_edit"),
    path("payments/<int:pk>/post/", views_payments.payment_post, name="payment_post"),
    path("payments/<int:pk>/allocate/", views_payments.payment_allocate, name="payment_allocate"),
    path("payments/<int:pk>/allocations/<int:allocation_pk>/undo/", views_payments.payment_unallocate, name="payment_unallocate"),
    path("payments/<int:pk>/cancel/", views_payments.payment_cancel, name="payment_cancel"),
    path("invoices/<int:invoice_pk>/apply-advances/", views_payments.invoice_apply_advances, name="invoice_apply_advances"),
    path("settlements/", views_settlements.settlement_list, name="settlement_list"),
    path("settlements/overdue/", views_settlements.overdue_list, name="overdue_list"),
    path("settlements/<int:pk>/", views_settlements.settlement_detail, name="settlement_detail"),
    path("settlements/<int:pk>/credit-limit/", views_settlements.credit_limit_set, name="credit_limit_set"),
    path("settlements/<int:pk>/reconciliation/", views_settlements.reconciliation, name="reconciliation"),
    path("settlements/<int:pk>/reconciliation.pdf", views_settlements.reconciliation_pdf, name="reconciliation_pdf"),
]
