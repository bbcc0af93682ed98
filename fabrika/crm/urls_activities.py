from django.urls import path

from . import views_activities as views

urlpatterns = [
    path("tasks/", views.task_list, name="task_list"),
    path("calendar/", views.calendar_view, name="calendar"),
    path("calendar/regenerate/", views.ical_regenerate, name="ical_regenerate"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical_feed"),
    path("activities/new/", views.activity_create, name="activity_create"),
    path("activities/new/validate/", views.activity_validate, name="activity_validate_new"),
    path("activities/<int:pk>/", views.activity_detail, name="activity_detail"),
    path("activities/<int:pk>/edit/", views.activity_edit, name="activity_edit"),
    path("activities/<int:pk>/validate/", views.activity_validate, name="activity_validate"),
    path("activities/<int:pk>/checklist/", views.checklist_add, name="checklist_add"),
    path("activities/<int:pk>/<str:action>/", views.activity_action, name="activity_action"),
    path("checklist/<int:item_pk>/toggle/", views.checklist_toggle, name="checklist_toggle"),
]
