from django.urls import path

from .ui import views

urlpatterns = [
    path("search/", views.search, name="search"),
    path("ui/autocomplete/<slug:source>/", views.autocomplete, name="autocomplete"),
    path("ui/saved-views/", views.saved_view_save, name="saved_view_save"),
    path("ui/saved-views/<int:pk>/delete/", views.saved_view_delete, name="saved_view_delete"),
]
