"""The standard roles a new company starts with. Administrators edit them afterwards in the UI (Roles)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from .models import RoleProfile, Scope


@dataclass(frozen=True)
class RoleDefinition:
    name: str
    scope: str
    # "app_label.codename" or "app_label.*" (every permission of the app) or "app_label.view_*"
    permissions: tuple[str, ...]
    description: str = ""


STANDARD_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition("Administrator", Scope.ALL, ("core.*", "parties.*", "auth.*"), "Configures the system, users and roles"),
    RoleDefinition("Director", Scope.ALL, ("core.view_*", "parties.view_*", "core.view_auditentry"), "Sees everything, changes nothing by default"),
    RoleDefinition("Head of sales", Scope.DEPARTMENT, ("parties.*", "core.view_auditentry", "core.add_recordstatus"), "Sales department head"),
    RoleDefinition("Sales manager", Scope.OWN, ("parties.view_counterparty", "parties.add_counterparty", "parties.change_counterparty", "core.add_recordstatus"), "Own clients and deals"),
    RoleDefinition("Purchasing manager", Scope.OWN, ("parties.view_counterparty", "parties.add_counterparty", "parties.change_counterparty"), "Suppliers and purchases"),
    RoleDefinition("Storekeeper", Scope.ALL, ("parties.view_counterparty",), "Warehouse operations"),
    RoleDefinition("Accountant", Scope.ALL, ("parties.view_counterparty", "core.view_auditentry"), "Invoices, payments, settlements"),
    RoleDefinition("Production manager", Scope.ALL, ("parties.view_counterparty",), "Production orders and planning"),
    RoleDefinition("Service engineer", Scope.OWN, ("parties.view_counterparty",), "Warranty and repairs"),
)


def _permissions(patterns: tuple[str, ...]) -> list[Permission]:
    condition = Q(pk__in=[])
    for pattern in patterns:
        app_label, codename = pattern.split(".", 1)
        if codename == "*":
            condition |= Q(content_type__app_label=app_label)
        elif codename.endswith("*"):
            condition |= Q(content_type__app_label=app_label, codename__startswith=codename[:-1])
        else:
            condition |= Q(content_type__app_label=app_label, codename=codename)
    return list(Permission.objects.filter(condition))


@transaction.atomic
def standard_roles_ensure() -> dict[str, Group]:
    """Create the standard roles that are missing (existing ones are left as the administrator set them)."""
    groups: dict[str, Group] = {}
    for definition in STANDARD_ROLES:
        group, created = Group.objects.get_or_create(name=definition.name)
        if created:
            group.permissions.set(_permissions(definition.permissions))
            RoleProfile.objects.create(group=group, scope=definition.scope, description=definition.description)
        else:
            RoleProfile.objects.get_or_create(group=group, defaults={"scope": definition.scope, "description": definition.description})
        groups[definition.name] = group
    return groups
