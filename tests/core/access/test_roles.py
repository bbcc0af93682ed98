"""The standard roles grant the apps (catalog, inventory, crm) and `fabrika roles_sync` brings existing roles up to
date without undoing an administrator's removals."""

from __future__ import annotations

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from fabrika.core import services_access
from fabrika.core.models import AuditEntry
from fabrika.core.roles import (
    STANDARD_ROLES,
    RoleDefinition,
    _permissions,
    standard_roles_ensure,
    standard_roles_sync,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def roles(db):
    """Permissions of every installed model exist (an app whose migrations are still being written gets them from
    its models, as `migrate` will), then the standard roles are created from them."""
    for app_config in django_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=django_apps)
    return standard_roles_ensure()


def _codes(group: Group) -> set[str]:
    return {f"{app}.{code}" for app, code in group.permissions.values_list("content_type__app_label", "codename")}


def _all(app_label: str, prefix: str = "") -> set[str]:
    return {
        f"{app_label}.{code}"
        for code in Permission.objects.filter(content_type__app_label=app_label, codename__startswith=prefix).values_list(
            "codename", flat=True
        )
    }


def test_administrator_gets_every_permission_of_every_app(roles):
    granted = _codes(roles["Administrator"])
    for app in ("core", "parties", "auth", "catalog", "inventory", "crm"):
        assert _all(app) <= granted, app


def test_director_sees_everything_and_changes_nothing(roles):
    granted = _codes(roles["Director"])
    for app in ("core", "parties", "catalog", "inventory", "crm", "ledger", "pricing", "sales", "finance"):
        assert _all(app, "view_") <= granted, app
    # the one exception a director signs off: confirming an order over the client's credit limit
    assert {code for code in granted if not code.split(".", 1)[1].startswith("view_")} == {"sales.override_credit_limit"}


def test_storekeeper_runs_the_warehouse_but_does_not_close_periods(roles):
    granted = _codes(roles["Storekeeper"])
    assert {"inventory.post_stockdocument", "inventory.cancel_stockdocument", "inventory.add_stockdocument"} <= granted
    assert _all("catalog", "view_") <= granted
    assert "catalog.add_product" not in granted
    assert _all("inventory") - granted == {"inventory.add_periodclose", "inventory.change_periodclose", "inventory.delete_periodclose"}


def test_accountant_closes_periods_and_only_views_the_rest(roles):
    granted = _codes(roles["Accountant"])
    assert {"inventory.add_periodclose", "inventory.delete_periodclose", "core.add_exchangerate"} <= granted
    assert _all("crm", "view_") | _all("catalog", "view_") | _all("inventory", "view_") <= granted
    assert "inventory.post_stockdocument" not in granted


def test_sales_manager_works_deals_but_does_not_configure_pipelines(roles):
    granted = _codes(roles["Sales manager"])
    assert {"crm.view_deal", "crm.add_deal", "crm.change_deal", "crm.add_lead", "crm.convert_lead", "crm.add_activity"} <= granted
    assert {"crm.view_pipeline", "crm.view_stage"} <= granted
    assert not granted & {"crm.add_pipeline", "crm.change_pipeline", "crm.delete_pipeline", "crm.add_stage", "crm.delete_stage"}
    assert not granted & {"crm.delete_deal", "crm.manage_publicform"}
    assert {"catalog.view_product", "inventory.view_stockbalance"} <= granted
    assert "inventory.add_stockdocument" not in granted


def test_head_of_sales_configures_the_funnels(roles):
    granted = _codes(roles["Head of sales"])
    assert _all("crm") <= granted
    assert {"crm.add_pipeline", "crm.change_stage", "parties.delete_counterparty", "inventory.view_stockbalance"} <= granted
    assert "catalog.change_product" not in granted


def test_purchasing_and_production_managers_edit_the_catalog(roles):
    purchasing, production = _codes(roles["Purchasing manager"]), _codes(roles["Production manager"])
    assert _all("catalog") <= purchasing and _all("catalog") <= production
    assert {"inventory.add_stockdocument", "inventory.change_stockdocument", "crm.add_deal"} <= purchasing
    assert "inventory.post_stockdocument" not in purchasing
    assert _all("inventory", "view_") <= production and "inventory.add_stockdocument" not in production


def test_service_engineer_handles_activities_and_serial_numbers(roles):
    granted = _codes(roles["Service engineer"])
    assert {"crm.view_activity", "crm.add_activity", "inventory.view_serialnumber", "parties.view_counterparty"} <= granted
    assert "crm.view_deal" not in granted


def test_patterns_of_an_app_without_models_grant_nothing_and_do_not_fail(roles):
    assert _permissions(("nosuchapp.*", "nosuchapp.view_*", "nosuchapp.add_thing", "-nosuchapp.view_thing")) == []


def test_every_standard_role_pattern_is_well_formed(roles):
    for definition in STANDARD_ROLES:
        for pattern in definition.permissions:
            app_label, codename = pattern.lstrip("-").split(".", 1)
            assert app_label and codename, (definition.name, pattern)


def test_roles_sync_adds_what_an_old_role_lacks_and_keeps_an_administrators_removal(admin_user):
    # given a database from an older release: the storekeeper role knows nothing of inventory
    keeper = Group.objects.get(name="Storekeeper")
    keeper.permissions.remove(*Permission.objects.filter(content_type__app_label="inventory"))
    # and an administrator who took "cancel posted stock documents" away from it... after giving it back once
    services_access.role_update(
        actor=admin_user, role_id=keeper.pk, data={"permissions": sorted(_codes(keeper) | {"inventory.cancel_stockdocument"})}
    )
    services_access.role_update(actor=admin_user, role_id=keeper.pk, data={"permissions": sorted(_codes(keeper) - {"inventory.cancel_stockdocument"})})
    before = _codes(keeper)
    expected = (_all("inventory") - {"inventory.add_periodclose", "inventory.change_periodclose", "inventory.delete_periodclose"}) - {
        "inventory.cancel_stockdocument"
    }
    # when the plan is only shown, nothing changes
    plans = {plan.role: plan for plan in standard_roles_sync(apply=False)}
    assert set(plans["Storekeeper"].missing) == expected
    assert plans["Storekeeper"].kept_removed == ["inventory.cancel_stockdocument"]
    assert _codes(keeper) == before
    # when it is applied
    call_command("roles_sync", "--add-missing", verbosity=0)
    # then the role has the new permissions, still not the removed one, and the change is audited
    assert _codes(keeper) == before | expected
    entry = AuditEntry.objects.filter(object_id=str(keeper.pk), actor_name="roles_sync").get()
    assert entry.changes["permissions"] == [sorted(before), sorted(before | expected)]
    # and a second run finds nothing to do
    assert all(plan.missing == [] for plan in standard_roles_sync(apply=True))
    assert AuditEntry.objects.filter(actor_name="roles_sync").count() == 1


def test_roles_sync_never_removes_and_creates_missing_roles(capsys):
    # given an administrator gave the sales manager an extra permission and renamed the director role
    sales = Group.objects.get(name="Sales manager")
    sales.permissions.add(Permission.objects.get(content_type__app_label="crm", codename="delete_deal"))
    Group.objects.filter(name="Director").update(name="Owner")
    # when roles_sync runs (dry run)
    call_command("roles_sync")
    # then the director exists again with its definition, the extra permission stays, the dry run says all is current
    assert _codes(Group.objects.get(name="Director")) == {
        f"{p.content_type.app_label}.{p.codename}" for p in _permissions(STANDARD_ROLES[1].permissions)
    }
    assert "crm.delete_deal" in _codes(sales)
    assert capsys.readouterr().out.strip() == "The standard roles are up to date."


def test_a_minus_pattern_removes_what_a_wider_one_granted(roles):
    definition = RoleDefinition("x", "all", ("crm.view_*", "-crm.view_deal"))
    granted = {p.codename for p in _permissions(definition.permissions)}
    assert "view_deal" not in granted and "view_lead" in granted
