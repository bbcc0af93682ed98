from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from . import views

app_name = "core"

urlpatterns = [
    path("", include("fabrika.core.urls_access")),
    path("", include("fabrika.core.urls_custom_fields")),
    path("", include("fabrika.core.urls_statuses")),
    path("", include("fabrika.core.urls_ui")),
    path("", include("fabrika.core.urls_events")),
    path("", include("fabrika.core.urls_imports")),
    path("", include("fabrika.core.urls_printing")),
    path("", include("fabrika.core.urls_mailing")),
    path("", views.home, name="home"),
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path(
        "password/change/",
        views.PasswordChangeView.as_view(template_name="core/form_page.html", success_url=reverse_lazy("core:password_change_done")),
        name="password_change",
    ),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(template_name="core/message.html"), name="password_change_done"),
    path(
        "password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="core/form_page.html",
            email_template_name="core/email/password_reset.txt",
            subject_template_name="core/email/password_reset_subject.txt",
            success_url=reverse_lazy("core:password_reset_done"),
        ),
        name="password_reset",
    ),
    path("password/reset/sent/", auth_views.PasswordResetDoneView.as_view(template_name="core/message.html"), name="password_reset_done"),
    path(
        "password/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(template_name="core/access/password_reset_confirm.html", success_url=reverse_lazy("core:password_reset_complete")),
        name="password_reset_confirm",
    ),
    path("password/reset/done/", auth_views.PasswordResetCompleteView.as_view(template_name="core/message.html"), name="password_reset_complete"),
]
