from django.urls import path

from . import views_mailing

urlpatterns = [
    path("mail/<str:code>/<int:object_id>/", views_mailing.email_document, name="email_document"),
]
