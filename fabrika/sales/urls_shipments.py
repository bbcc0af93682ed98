from django.urls import path

from . import views_shipments as views

urlpatterns = [
    path("shipments/", views.shipment_list, name="shipment_list"),
    path("shipments/new/<int:order_id>/", views.shipment_create, name="shipment_create"),
    path("shipments/<int:pk>/", views.shipment_detail, name="shipment_detail"),
    path("shipments/<int:pk>/edit/", views.shipment_edit, name="shipment_edit"),
    path("shipments/<int:pk>/post/", views.shipment_post, name="shipment_post"),
    path("shipments/<int:pk>/cancel/", views.shipment_cancel, name="shipment_cancel"),
    path("shipments/order/<int:order_id>/", views.order_shipments, name="order_shipments"),
    path("returns/", views.return_list, name="return_list"),
    path("returns/new/<int:order_id>/", views.return_create, name="return_create"),
    path("returns/<int:pk>/", views.return_detail, name="return_detail"),
    path("returns/<int:pk>/edit/", views.return_edit, name="return_edit"),
    path("returns/<int:pk>/post/", views.return_post, name="return_post"),
    path("returns/<int:pk>/cancel/", views.return_cancel, name="return_cancel"),
]
