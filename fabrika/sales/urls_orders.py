from django.urls import path

from . import views_orders as views

urlpatterns = [
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/new/validate/", views.order_validate, name="order_validate_new"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/edit/", views.order_edit, name="order_edit"),
    path("orders/<int:pk>/validate/", views.order_validate, name="order_validate"),
    path("orders/<int:pk>/products/", views.order_product_search, name="order_product_search"),
    path("orders/<int:pk>/line-form/", views.order_line_form, name="order_line_form"),
    path("orders/<int:pk>/lines/", views.order_line_add, name="order_line_add"),
    path("orders/<int:pk>/scan/", views.order_scan, name="order_scan"),
    path("orders/<int:pk>/lines/<int:line_pk>/edit/", views.order_line_edit, name="order_line_edit"),
    path("orders/<int:pk>/lines/<int:line_pk>/remove/", views.order_line_remove, name="order_line_remove"),
    path("orders/<int:pk>/lines/<int:line_pk>/<str:decision>/", views.order_line_decide, name="order_line_decide"),
    path("orders/<int:pk>/confirm/", views.order_confirm, name="order_confirm"),
    path("orders/<int:pk>/reserve/", views.order_reserve, name="order_reserve"),
    path("orders/<int:pk>/cancel/", views.order_cancel, name="order_cancel"),
]
