from django.urls import path

from . import views_imports

urlpatterns = [
    path("imports/", views_imports.import_start, name="import_start"),
    path("imports/<int:pk>/mapping/", views_imports.import_mapping, name="import_mapping"),
    path("imports/<int:pk>/preview/", views_imports.import_preview, name="import_preview"),
    path("imports/<int:pk>/", views_imports.import_result, name="import_result"),
    path("imports/<int:pk>/errors.csv", views_imports.import_errors, name="import_errors"),
]
