"""Access administration pages (included into the "core" namespace by fabrika/core/urls.py)."""

from django.urls import path

from . import views_access as views

urlpatterns = [
    path("settings/audit/", views.audit_log, name="audit_log"),
    path("settings/users/", views.user_list, name="user_list"),
    path("settings/users/new/", views.user_create, name="user_create"),
    path("settings/users/<int:pk>/", views.user_edit, name="user_edit"),
    path("settings/users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("settings/roles/", views.role_list, name="role_list"),
    path("settings/roles/new/", views.role_create, name="role_create"),
    path("settings/roles/<int:pk>/", views.role_edit, name="role_edit"),
    path("settings/roles/<int:pk>/delete/", views.role_delete, name="role_delete"),
    path("settings/departments/", views.department_list, name="department_list"),
    path("settings/departments/new/", views.department_create, name="department_create"),
    path("settings/departments/<int:pk>/", views.department_edit, name="department_edit"),
    path("settings/departments/<int:pk>/delete/", views.department_delete, name="department_delete"),
    path("settings/company/", views.company_settings_edit, name="company_settings"),
    path("settings/currencies/", views.currency_list, name="currency_list"),
    path("settings/currencies/new/", views.currency_create, name="currency_create"),
    path("settings/currencies/<int:pk>/", views.currency_detail, name="currency_detail"),
    path("settings/exchange-rates/<int:pk>/delete/", views.exchange_rate_delete, name="exchange_rate_delete"),
    path("settings/numbering/", views.numbering_list, name="numbering_list"),
    path("settings/numbering/new/", views.numbering_create, name="numbering_create"),
    path("settings/numbering/<int:pk>/", views.numbering_edit, name="numbering_edit"),
    path("account/tokens/", views.token_list, name="token_list"),
    path("account/tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
