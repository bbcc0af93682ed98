from django.urls import path

from . import views_events as views

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("settings/webhooks/", views.webhook_list, name="webhook_list"),
    path("settings/webhooks/new/", views.webhook_create, name="webhook_create"),
    path("settings/webhooks/<int:endpoint_id>/", views.webhook_detail, name="webhook_detail"),
    path("settings/webhooks/<int:endpoint_id>/edit/", views.webhook_edit, name="webhook_edit"),
    path("settings/webhooks/<int:endpoint_id>/delete/", views.webhook_delete, name="webhook_delete"),
    path("settings/webhooks/<int:endpoint_id>/rotate-secret/", views.webhook_rotate_secret, name="webhook_rotate_secret"),
    path(
        "settings/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/resend/",
        views.webhook_delivery_resend,
        name="webhook_delivery_resend",
    ),
]
