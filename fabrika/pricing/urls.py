from django.urls import path

from . import views

app_name = "pricing"

urlpatterns = [
    path("price-types/", views.price_type_list, name="price_type_list"),
    path("price-types/new/", views.price_type_create, name="price_type_create"),
    path("price-types/<int:pk>/", views.price_type_detail, name="price_type_detail"),
    path("price-types/<int:pk>/edit/", views.price_type_edit, name="price_type_edit"),
    path("price-types/<int:pk>/delete/", views.price_type_delete, name="price_type_delete"),
    path("price-lists/", views.price_list_list, name="price_list_list"),
    path("price-lists/new/", views.price_list_create, name="price_list_create"),
    path("price-lists/<int:pk>/", views.price_list_detail, name="price_list_detail"),
    path("price-lists/<int:pk>/edit/", views.price_list_edit, name="price_list_edit"),
    path("price-lists/<int:pk>/delete/", views.price_list_delete, name="price_list_delete"),
    path("price-lists/<int:pk>/copy/", views.price_list_copy, name="price_list_copy"),
    path("price-lists/<int:pk>/items/add/", views.price_list_item_add, name="price_list_item_add"),
    path("price-lists/<int:pk>/items/<int:item_pk>/edit/", views.price_list_item_edit, name="price_list_item_edit"),
    path("price-lists/<int:pk>/items/<int:item_pk>/delete/", views.price_list_item_delete, name="price_list_item_delete"),
    path("discount-rules/", views.discount_rule_list, name="discount_rule_list"),
    path("discount-rules/new/", views.discount_rule_create, name="discount_rule_create"),
    path("discount-rules/<int:pk>/", views.discount_rule_detail, name="discount_rule_detail"),
    path("discount-rules/<int:pk>/edit/", views.discount_rule_edit, name="discount_rule_edit"),
    path("discount-rules/<int:pk>/delete/", views.discount_rule_delete, name="discount_rule_delete"),
    path("discount-limits/", views.discount_limit_list, name="discount_limit_list"),
    path("discount-limits/new/", views.discount_limit_create, name="discount_limit_create"),
    path("discount-limits/<int:pk>/edit/", views.discount_limit_edit, name="discount_limit_edit"),
    path("discount-limits/<int:pk>/delete/", views.discount_limit_delete, name="discount_limit_delete"),
    path("price-check/", views.price_check, name="price_check"),
]
