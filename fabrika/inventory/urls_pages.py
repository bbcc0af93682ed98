from django.urls import path

from . import views

urlpatterns = [
    path("warehouses/", views.warehouse_list, name="warehouse_list"),
    path("warehouses/<int:pk>/", views.warehouse_detail, name="warehouse_detail"),
    path("documents/", views.document_list, name="document_list"),
    path("documents/new/<str:document_type>/", views.document_create, name="document_create"),
    path("documents/new/<str:document_type>/validate/", views.document_validate, name="document_validate_new"),
    path("documents/<int:pk>/validate/", views.document_validate, name="document_validate"),
    path("documents/<int:pk>/", views.document_detail, name="document_detail"),
    path("documents/<int:pk>/edit/", views.document_edit, name="document_edit"),
    path("documents/<int:pk>/products/", views.document_product_search, name="document_product_search"),
    path("documents/<int:pk>/line-form/", views.document_line_form, name="document_line_form"),
    path("documents/<int:pk>/lines/", views.document_line_add, name="document_line_add"),
    path("documents/<int:pk>/lines/<int:line_pk>/remove/", views.document_line_remove, name="document_line_remove"),
    path("documents/<int:pk>/lines/<int:line_pk>/edit/", views.document_line_edit, name="document_line_edit"),
    path("documents/<int:pk>/scan/", views.document_scan, name="document_scan"),
    path("documents/<int:pk>/count-sheet/", views.document_fill_count, name="document_fill_count"),
    path("documents/<int:pk>/post/", views.document_post, name="document_post"),
    path("documents/<int:pk>/cancel/", views.document_cancel, name="document_cancel"),
    path("documents/<int:pk>/reservations/", views.document_reservations, name="document_reservations"),
    path("lots/", views.lot_list, name="lot_list"),
    path("lots/<int:pk>/", views.lot_detail, name="lot_detail"),
    path("serials/", views.serial_list, name="serial_list"),
    path("serials/<int:pk>/", views.serial_detail, name="serial_detail"),
    path("periods/", views.period_list, name="period_list"),
]
