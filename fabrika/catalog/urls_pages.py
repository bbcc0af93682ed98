from django.urls import path

from . import views

urlpatterns = [
    path("products/", views.product_list, name="product_list"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/new/validate/", views.product_validate, name="product_validate_new"),
    path("products/<int:pk>/", views.product_detail, name="product_detail"),
    path("products/<int:pk>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/validate/", views.product_validate, name="product_validate"),
    path("products/<int:pk>/barcodes/", views.product_barcode_add, name="product_barcode_add"),
    path("products/<int:pk>/barcodes/<int:barcode_pk>/remove/", views.product_barcode_remove, name="product_barcode_remove"),
    path("products/<int:pk>/conversions/", views.product_conversion_add, name="product_conversion_add"),
    path("groups/", views.group_list, name="group_list"),
    path("groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("units/", views.unit_list, name="unit_list"),
]
