"""The standard roles a new company starts with. Administrators edit them afterwards in the UI (Roles).

    standard_roles_ensure() -> {name: Group}          # creates the missing roles (existing ones are left alone)
    standard_roles_sync(apply=False) -> [RoleSyncPlan]  # what each existing role lacks of its definition (and adds it)

A definition grants permissions by pattern: "app_label.codename", "app_label.*" (every permission of the app),
"app_label.view_*" (a codename prefix). A pattern that starts with "-" takes permissions away again, so
("inventory.*", "-inventory.add_periodclose") is everything of inventory except closing a period. A pattern that
matches nothing (an app whose models do not exist yet) grants nothing and is not an error.

New releases add apps, and with them permissions the standard roles should have. `fabrika roles_sync --add-missing`
gives existing roles what their definition grants and they lack, except permissions an administrator removed from
that role (found in the audit log), so deliberate edits survive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q

from . import audit
from .models import AuditEntry, RoleProfile, Scope
from .models.audit import AuditAction


@dataclass(frozen=True)
class RoleDefinition:
    name: str
    scope: str
    # "app_label.codename", "app_label.*", "app_label.view_*"; a leading "-" removes what the pattern matches
    permissions: tuple[str, ...]
    description: str = ""


# Shared pieces of the definitions below.
_CRM_WORK = (  # everyday funnel work, without configuring pipelines, stages or public forms
    "crm.view_*",
    "crm.add_deal", "crm.change_deal",
    "crm.add_lead", "crm.change_lead", "crm.convert_lead",
    "crm.add_activity", "crm.change_activity", "crm.delete_activity",
    "crm.add_checklistitem", "crm.change_checklistitem", "crm.delete_checklistitem",
    "crm.add_calendarfeed", "crm.change_calendarfeed", "crm.delete_calendarfeed",
)
_STOCK_VIEW = (  # stock on hand and where it is, for people who sell or serve
    "inventory.view_warehouse", "inventory.view_location", "inventory.view_stockbalance",
    "inventory.view_lot", "inventory.view_serialnumber", "inventory.view_reservation",
)
_PERIOD_CLOSE = ("inventory.add_periodclose", "inventory.change_periodclose", "inventory.delete_periodclose")
_RECEIPTS = (  # draft stock documents (receipts); posting stays with the storekeeper
    "inventory.view_*",
    "inventory.add_stockdocument", "inventory.change_stockdocument",
    "inventory.add_stockdocumentline", "inventory.change_stockdocumentline", "inventory.delete_stockdocumentline",
)
_PARTIES_EDIT = ("parties.view_*", "parties.add_counterparty", "parties.change_counterparty")
_SALES_WORK = (  # orders from quote to shipment request; posting shipments stays with the storekeeper
    "sales.view_*", "sales.add_salesorder", "sales.change_salesorder", "sales.confirm_salesorder",
    "sales.add_salesorderline", "sales.change_salesorderline", "sales.delete_salesorderline",
    "sales.add_shipment", "sales.add_shipmentline", "sales.add_salesreturn", "sales.add_salesreturnline",
)

STANDARD_ROLES: tuple[RoleDefinition, ...] = (
    RoleDefinition(
        "Administrator", Scope.ALL,
        ("core.*", "parties.*", "auth.*", "catalog.*", "inventory.*", "crm.*", "ledger.*", "pricing.*", "sales.*", "finance.*"),
        "Configures the system, users and roles",
    ),
    RoleDefinition(
        "Director", Scope.ALL,
        ("core.view_*", "parties.view_*", "catalog.view_*", "inventory.view_*", "crm.view_*", "ledger.view_*", "pricing.view_*",
         "sales.view_*", "finance.view_*", "sales.override_credit_limit"),
        "Sees everything, changes nothing by default; signs off orders over a client's credit limit",
    ),
    RoleDefinition(
        "Head of sales", Scope.DEPARTMENT,
        ("parties.*", "crm.*", "catalog.view_*", *_STOCK_VIEW, "core.view_auditentry", "core.add_recordstatus", *_SALES_WORK,
         "sales.approve_discount", "pricing.*", "finance.view_*"),
        "Sales department head: funnels and their configuration",
    ),
    RoleDefinition(
        "Sales manager", Scope.OWN,
        (*_PARTIES_EDIT, *_CRM_WORK, "catalog.view_*", *_STOCK_VIEW, "core.add_recordstatus", *_SALES_WORK, "pricing.view_*",
         "finance.view_invoice", "finance.view_payment", "finance.view_paymentscheduleitem"),
        "Own clients and deals",
    ),
    RoleDefinition(
        "Purchasing manager", Scope.OWN,
        (*_PARTIES_EDIT, *_CRM_WORK, "catalog.*", *_RECEIPTS, "core.add_recordstatus"),
        "Suppliers, procurement deals and receipts",
    ),
    RoleDefinition(
        "Storekeeper", Scope.ALL,
        ("parties.view_counterparty", "catalog.view_*", "inventory.*", *(f"-{p}" for p in _PERIOD_CLOSE),
         "sales.view_*", "sales.add_shipment", "sales.change_shipment", "sales.add_shipmentline", "sales.change_shipmentline",
         "sales.delete_shipmentline", "sales.add_salesreturn", "sales.change_salesreturn", "sales.add_salesreturnline",
         "sales.change_salesreturnline", "sales.delete_salesreturnline"),
        "Warehouse operations",
    ),
    RoleDefinition(
        "Accountant", Scope.ALL,
        (
            "parties.view_*", "catalog.view_*", "inventory.view_*", "crm.view_*", *_PERIOD_CLOSE,
            "core.view_auditentry", "core.view_currency", "core.view_exchangerate", "core.add_exchangerate",
            "core.change_exchangerate", "finance.*", "ledger.*", "sales.view_*", "pricing.view_*", "sales.override_credit_limit",
        ),
        "Invoices, payments, settlements, closing periods",
    ),
    RoleDefinition(
        "Production manager", Scope.ALL,
        ("parties.view_counterparty", "catalog.*", "inventory.view_*"),
        "Production orders and planning",
    ),
    RoleDefinition(
        "Service engineer", Scope.OWN,
        (
            "parties.view_counterparty", "parties.view_contact",
            "crm.view_activity", "crm.add_activity", "crm.change_activity",
            "crm.view_checklistitem", "crm.add_checklistitem", "crm.change_checklistitem",
            "catalog.view_product", "inventory.view_serialnumber", "inventory.view_lot",
        ),
        "Warranty and repairs",
    ),
)


def _pattern_condition(pattern: str) -> Q:
    app_label, codename = pattern.split(".", 1)
    if codename == "*":
        return Q(content_type__app_label=app_label)
    if codename.endswith("*"):
        return Q(content_type__app_label=app_label, codename__startswith=codename[:-1])
    return Q(content_type__app_label=app_label, codename=codename)


def _permissions(patterns: tuple[str, ...]) -> list[Permission]:
    granted, removed = Q(pk__in=[]), Q(pk__in=[])
    for pattern in patterns:
        if pattern.startswith("-"):
            removed |= _pattern_condition(pattern[1:])
        else:
            granted |= _pattern_condition(pattern)
    return list(Permission.objects.filter(granted).exclude(removed).select_related("content_type"))


def definition_permissions(definition: RoleDefinition) -> set[str]:
    """The "app_label.codename" strings a definition grants in this database."""
    return {f"{p.content_type.app_label}.{p.codename}" for p in _permissions(definition.permissions)}


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


@dataclass
class RoleSyncPlan:
    role: str
    missing: list[str] = field(default_factory=list)  # granted by the definition, absent from the role: added
    kept_removed: list[str] = field(default_factory=list)  # granted by the definition, removed by an administrator


def permissions_removed_by_administrators(group: Group) -> set[str]:
    """Permissions that an audited role update took away from this role (old list minus new list)."""
    removed: set[str] = set()
    entries = AuditEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Group), object_id=str(group.pk), action=AuditAction.UPDATE
    ).values_list("changes", flat=True)
    for changes in entries:
        pair = (changes or {}).get("permissions")
        if isinstance(pair, list) and len(pair) == 2 and all(isinstance(side, list) for side in pair):
            removed |= set(pair[0]) - set(pair[1])
    return removed


@transaction.atomic
def standard_roles_sync(*, apply: bool = False, actor=None) -> list[RoleSyncPlan]:
    """For each standard role: the permissions its definition grants that the role lacks. With `apply`, add them
    (audited as an update of the role), skipping those an administrator removed. Missing roles are created first.
    Nothing is ever taken away from a role."""
    groups = standard_roles_ensure()
    plans: list[RoleSyncPlan] = []
    for definition in STANDARD_ROLES:
        group = groups[definition.name]
        current = {f"{app}.{codename}" for app, codename in group.permissions.values_list("content_type__app_label", "codename")}
        wanted = definition_permissions(definition) - current
        removed = permissions_removed_by_administrators(group) & wanted
        plan = RoleSyncPlan(role=definition.name, missing=sorted(wanted - removed), kept_removed=sorted(removed))
        plans.append(plan)
        if apply and plan.missing:
            to_add = [p for p in _permissions(definition.permissions) if f"{p.content_type.app_label}.{p.codename}" in plan.missing]
            group.permissions.add(*to_add)
            audit.record(
                actor=actor,
                action=AuditAction.UPDATE,
                target=group,
                changes={"permissions": [sorted(current), sorted(current | set(plan.missing))]},
                message="Standard role synchronised with its definition (fabrika roles_sync)",
                actor_name=None if actor else "roles_sync",
            )
    return plans
