from django.urls import path

from . import views_custom_fields as views

urlpatterns = [
    path("custom-fields/", views.custom_field_list, name="custom_field_list"),
    path("custom-fields/new/", views.custom_field_create, name="custom_field_create"),
    path("custom-fields/<int:definition_id>/", views.custom_field_edit, name="custom_field_edit"),
    path("custom-fields/<int:definition_id>/deactivate/", views.custom_field_deactivate, name="custom_field_deactivate"),
    path("custom-fields/<int:definition_id>/activate/", views.custom_field_activate, name="custom_field_activate"),
    path("custom-fields/<int:definition_id>/delete/", views.custom_field_delete, name="custom_field_delete"),
]
