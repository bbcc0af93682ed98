"""Access checks shared by the API and the UI.

Two questions: may this user do an action in an app (Django model permissions granted through roles), and which
records may they see (the widest scope among their roles: own, department, all). Records outside the scope are
answered with 404, never 403.
"""

from __future__ import annotations

from django.db.models import Model, Q, QuerySet

from .errors import NotFound, PermissionDenied
from .models import Department, Scope, User
from .models.users import SCOPE_RANK


def user_scope(user: User) -> str:
    if not user.is_authenticated or not user.is_active:
        return ""
    if user.is_superuser:
        return Scope.ALL
    cached = getattr(user, "_fabrika_scope", None)
    if cached is not None:
        return cached
    scopes = [profile_scope for profile_scope in user.groups.values_list("profile__scope", flat=True) if profile_scope]
    scope = max(scopes, key=lambda s: SCOPE_RANK[Scope(s)]) if scopes else Scope.OWN
    user._fabrika_scope = scope  # type: ignore[attr-defined]
    return scope


def department_user_ids(user: User) -> set[int]:
    """Users whose records a department-scoped user sees: everyone in their department and the ones below it,
    plus, for a head, everyone in the departments they head."""
    department_ids: set[int] = set()
    if user.department_id:
        department_ids |= Department.objects.get(pk=user.department_id).descendant_ids()
    for headed in Department.objects.filter(head=user):
        department_ids |= headed.descendant_ids()
    ids = set(User.objects.filter(department_id__in=department_ids).values_list("id", flat=True))
    ids.add(user.pk)
    return ids


def scope_filter(user: User, *, responsible_field: str = "responsible") -> Q | None:
    """A Q limiting records to the user's scope, or None when the user sees everything."""
    scope = user_scope(user)
    if scope == Scope.ALL:
        return None
    if scope == Scope.DEPARTMENT:
        return Q(**{f"{responsible_field}__in": department_user_ids(user)})
    return Q(**{responsible_field: user.pk})


def scoped(queryset: QuerySet, user: User, *, responsible_field: str = "responsible") -> QuerySet:
    if not user.is_authenticated:
        return queryset.none()
    condition = scope_filter(user, responsible_field=responsible_field)
    return queryset if condition is None else queryset.filter(condition)


def permission_codename(model: type[Model], action: str) -> str:
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def require(user: User, model: type[Model], action: str) -> None:
    """Raise PermissionDenied unless the user's roles grant `action` (view, add, change, delete, ...) on `model`."""
    if not user.is_authenticated:
        raise PermissionDenied("Authentication required")
    if not user.has_perm(permission_codename(model, action)):
        raise PermissionDenied(
            f"Your role does not allow '{action}' on {model._meta.verbose_name_plural}", code="permission_denied"
        )


def can(user: User, model: type[Model], action: str) -> bool:
    return user.is_authenticated and user.has_perm(permission_codename(model, action))


def get_scoped(queryset: QuerySet, user: User, pk, *, responsible_field: str = "responsible"):
    """The record with this pk if the user's scope includes it; NotFound (404) otherwise."""
    try:
        return scoped(queryset, user, responsible_field=responsible_field).get(pk=pk)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound(f"{queryset.model._meta.verbose_name.capitalize()} {pk} not found")
