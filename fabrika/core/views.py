from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import audit
from .auth import LockedOut, login_attempt
from .forms import LoginForm
from .models.audit import AuditAction
from .request_context import client_ip


def preferred_language_apply(response: HttpResponse, user) -> HttpResponse:
    """Set the language cookie (what LocaleMiddleware reads since Django 4) to the user's preferred language, if
    they chose one; otherwise the browser's language or an earlier switch keeps applying."""
    if user.language and user.language in dict(settings.LANGUAGES):
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            user.language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def login_view(request):
    form = LoginForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if request.method == "POST" and form.is_valid():
        try:
            user = login_attempt(
                request, username=form.cleaned_data["username"], password=form.cleaned_data["password"], ip_address=client_ip(request)
            )
        except LockedOut as locked:
            form.add_error(None, _("Too many failed attempts. Try again in %(minutes)d minute(s).") % {"minutes": locked.minutes})
        else:
            if user is None:
                form.add_error(None, _("Wrong username or password."))
            else:
                login(request, user)
                if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
                    next_url = ""
                return preferred_language_apply(redirect(next_url or "core:home"), user)
    return render(request, "core/login.html", {"form": form, "next": next_url})


@require_POST
def logout_view(request):
    if request.user.is_authenticated:
        audit.record(actor=request.user, action=AuditAction.LOGOUT, target=request.user)
    logout(request)
    return redirect("core:login")


@login_required
def home(request):
    return render(request, "core/home.html", {})


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, audited (the password itself is never written to the log)."""

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit.record(actor=self.request.user, action=AuditAction.UPDATE, target=self.request.user, message="Password changed")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Django's set-a-new-password step of the e-mailed reset link, audited."""

    def form_valid(self, form):
        with transaction.atomic():
            response = super().form_valid(form)
            audit.record(actor=self.user, action=AuditAction.UPDATE, target=self.user, message="Password reset by e-mail link")
        return response
