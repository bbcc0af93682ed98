"""Statuses, reminders, notifications and attachments (included by fabrika/core/urls.py in the "core" namespace)."""

from django.urls import path

from . import views_statuses as views

urlpatterns = [
    path("statuses/", views.status_definition_list, name="status_definition_list"),
    path("statuses/new/", views.status_definition_create, name="status_definition_create"),
    path("statuses/<int:definition_id>/edit/", views.status_definition_edit, name="status_definition_edit"),
    path(
        "statuses/<int:definition_id>/delete/",
        views.status_definition_delete,
        name="status_definition_delete",
    ),
    path("records/<str:entity>/<str:object_id>/statuses/", views.record_statuses, name="record_statuses"),
    path(
        "records/<str:entity>/<str:object_id>/attachments/",
        views.record_attachments,
        name="record_attachments",
    ),
    path("attachments/<int:attachment_id>/download/", views.attachment_download, name="attachment_download"),
    path("attachments/<int:attachment_id>/delete/", views.attachment_delete, name="attachment_delete"),
    path("reminders/", views.reminders_mine, name="reminders_mine"),
    path("reminders/department/", views.reminders_department, name="reminders_department"),
    path("notifications/", views.notification_list, name="notification_list"),
    path("notifications/bell/", views.notification_bell, name="notification_bell"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("notifications/<int:notification_id>/read/", views.notification_read, name="notification_read"),
]
