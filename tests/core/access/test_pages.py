from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from fabrika.core import audit, services_access
from fabrika.core.models import AuditEntry, Department, ExchangeRate, NumberSequence, User
from fabrika.core.models.audit import AuditAction

pytestmark = pytest.mark.django_db

PAGES = [
    ("core:audit_log", {}),
    ("core:user_list", {}),
    ("core:user_create", {}),
    ("core:role_list", {}),
    ("core:role_create", {}),
    ("core:department_list", {}),
    ("core:department_create", {}),
    ("core:company_settings", {}),
    ("core:currency_list", {}),
    ("core:currency_create", {}),
    ("core:numbering_list", {}),
    ("core:numbering_create", {}),
    ("core:token_list", {}),
]


@pytest.mark.parametrize(("name", "kwargs"), PAGES)
def test_an_administrator_opens_every_page(admin_user, web_client, name, kwargs):
    response = web_client(admin_user).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 200


@pytest.mark.parametrize(("name", "kwargs"), [page for page in PAGES if page[0] != "core:token_list"])
def test_a_sales_manager_is_refused_the_admin_pages(make_user, web_client, name, kwargs):
    response = web_client(make_user("Sales manager")).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 403


def test_staff_without_roles_may_manage_users(make_user, web_client):
    staff = make_user(role="", is_staff=True)
    assert web_client(staff).get(reverse("core:user_list")).status_code == 200


def test_the_director_sees_the_audit_log_but_cannot_create_users(make_user, web_client):
    client = web_client(make_user("Director"))
    assert client.get(reverse("core:audit_log")).status_code == 200
    assert client.get(reverse("core:user_list")).status_code == 200
    response = client.post(reverse("core:user_create"), {"username": "eve"})
    assert response.status_code == 403
    assert not User.objects.filter(username="eve").exists()


def test_the_user_menu_links_to_api_tokens(admin_user, web_client):
    page = web_client(admin_user).get(reverse("core:home")).content.decode()
    assert f'href="{reverse("core:token_list")}"' in page


# --- users -----------------------------------------------------------------------------------------------------


def test_creating_a_user_through_the_form(admin_user, web_client, roles):
    sales = Department.objects.create(name="Sales")
    response = web_client(admin_user).post(
        reverse("core:user_create"),
        {
            "username": "anna", "first_name": "Anna", "last_name": "Petrova", "email": "Anna@Robokids.example",
            "department": sales.pk, "roles": [roles["Sales manager"].pk], "language": "ru", "position": "Manager",
            "phone": "+7 495 123-45-67", "is_active": "on", "password": "Correct-Horse-42",
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="anna")
    assert (user.email, user.department, user.language, user.position, user.is_active) == (
        "anna@robokids.example", sales, "ru", "Manager", True
    )
    assert list(user.groups.values_list("name", flat=True)) == ["Sales manager"]
    assert user.check_password("Correct-Horse-42")


def test_a_bad_user_form_shows_errors_beside_the_fields_and_saves_nothing(admin_user, web_client):
    before = User.objects.count()
    response = web_client(admin_user).post(
        reverse("core:user_create"), {"username": "bad name!", "email": "nope", "phone": "call me", "password": "123"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "username": ["Use only letters, digits and @ . + - _"],
        "email": ["Enter a valid e-mail address, e.g. name@example.com"],
        "phone": ["Use digits, spaces, brackets and dashes, optionally starting with +, e.g. +7 495 123-45-67"],
        "password": [
            "This password is too short. It must contain at least 8 characters.",
            "This password is too common.",
            "This password is entirely numeric.",
        ],
    }
    assert 'id="field-email"' in response.content.decode()
    assert User.objects.count() == before


def test_editing_and_deactivating_a_user(admin_user, make_user, web_client, roles):
    anna = make_user("Sales manager", username="anna", email="anna@x.example")
    client = web_client(admin_user)
    page = client.get(reverse("core:user_edit", args=[anna.pk]))
    assert page.context["form"].initial["roles"] == [roles["Sales manager"].pk]
    response = client.post(
        reverse("core:user_edit", args=[anna.pk]),
        {"username": "anna", "email": "anna@x.example", "roles": [roles["Head of sales"].pk], "is_active": "on", "position": "Head"},
    )
    assert response.status_code == 302
    anna.refresh_from_db()
    assert list(anna.groups.values_list("name", flat=True)) == ["Head of sales"]
    assert anna.position == "Head"
    response = client.post(reverse("core:user_deactivate", args=[anna.pk]))
    assert response.status_code == 302
    anna.refresh_from_db()
    assert anna.is_active is False


def test_the_user_list_filters(admin_user, make_user, web_client):
    sales = Department.objects.create(name="Sales")
    make_user("Sales manager", username="anna", department=sales)
    make_user("Storekeeper", username="boris")
    make_user("Storekeeper", username="clara", is_active=False)
    client = web_client(admin_user)

    def names(**query):
        return [user.username for user in client.get(reverse("core:user_list"), query).context["page"]]

    assert names() == ["anna", "boris", "root"]
    assert names(department=sales.pk) == ["anna"]
    assert names(role=Group.objects.get(name="Storekeeper").pk, active="all") == ["boris", "clara"]
    assert names(active="no") == ["clara"]
    assert names(q="bor") == ["boris"]


# --- roles -----------------------------------------------------------------------------------------------------


def test_the_role_grid_saves_permissions_and_profile(admin_user, web_client):
    from django.contrib.auth.models import Permission

    view_currency = Permission.objects.get(codename="view_currency")
    add_currency = Permission.objects.get(codename="add_currency")
    client = web_client(admin_user)
    page = client.get(reverse("core:role_create"))
    grid_labels = [row.model_label for app in page.context["grid"] for row in app.rows]
    assert "core.currency" in grid_labels and "auth.group" in grid_labels and "parties.counterparty" in grid_labels
    assert "core.loginfailure" not in grid_labels
    response = client.post(
        reverse("core:role_create"),
        {"name": "Economist", "scope": "department", "description": "Costs", "discount_limit_percent": "7.5",
         "permissions": [view_currency.pk, add_currency.pk]},
    )
    assert response.status_code == 302
    role = Group.objects.get(name="Economist")
    assert set(role.permissions.values_list("codename", flat=True)) == {"view_currency", "add_currency"}
    assert (role.profile.scope, role.profile.discount_limit_percent) == ("department", Decimal("7.50"))
    # the edit page shows the boxes ticked
    edit = client.get(reverse("core:role_edit", args=[role.pk]))
    assert edit.context["selected"] == {view_currency.pk, add_currency.pk}
    assert f'value="{view_currency.pk}" aria-label' in edit.content.decode()


def test_a_bad_role_form_shows_errors(admin_user, web_client, roles):
    response = web_client(admin_user).post(
        reverse("core:role_create"), {"name": "administrator", "scope": "own", "discount_limit_percent": "101"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["A role named 'administrator' already exists"],
        "discount_limit_percent": ["Must be between 0 and 100"],
    }


def test_deleting_a_role_in_use_is_refused_with_a_message(admin_user, web_client, roles):
    response = web_client(admin_user).post(reverse("core:role_delete", args=[roles["Administrator"].pk]), follow=True)
    assert "still has 1 member(s)" in response.content.decode()
    assert Group.objects.filter(name="Administrator").exists()


# --- departments -----------------------------------------------------------------------------------------------


def test_the_department_tree_lists_parents_before_children(admin_user, web_client, make_user):
    boss = make_user("Director", username="boss")
    company = services_access.department_create(actor=admin_user, data={"name": "Robokids", "head": boss})
    sales = services_access.department_create(actor=admin_user, data={"name": "Sales", "parent": company})
    services_access.department_create(actor=admin_user, data={"name": "Export", "parent": sales})
    services_access.department_create(actor=admin_user, data={"name": "Assembly", "parent": company})
    response = web_client(admin_user).get(reverse("core:department_list"))
    assert [(department.name, depth) for department, depth in response.context["tree"]] == [
        ("Robokids", 0), ("Assembly", 1), ("Sales", 1), ("Export", 2)
    ]
    assert "boss" in response.content.decode()


def test_a_department_cannot_move_under_its_own_child(admin_user, web_client):
    company = services_access.department_create(actor=admin_user, data={"name": "Robokids"})
    sales = services_access.department_create(actor=admin_user, data={"name": "Sales", "parent": company})
    response = web_client(admin_user).post(reverse("core:department_edit", args=[company.pk]), {"name": "Robokids", "parent": sales.pk})
    assert response.context["form"].errors == {"parent": ["A department cannot be placed inside itself or one of its sub-departments"]}
    company.refresh_from_db()
    assert company.parent_id is None


# --- company, currencies, numbering ----------------------------------------------------------------------------


def test_company_settings_form_saves_and_refuses(admin_user, web_client):
    client = web_client(admin_user)
    data = {"name": "Robokids LLC", "base_currency": "eur", "country": "DE", "time_zone": "Europe/Berlin",
            "fiscal_year_start_month": "4", "default_valuation_method": "average", "allow_negative_stock": "on"}
    assert client.post(reverse("core:company_settings"), data).status_code == 302
    from fabrika.core.selectors import company_settings

    company = company_settings()
    assert (company.name, company.base_currency, company.country, company.time_zone, company.fiscal_year_start_month) == (
        "Robokids LLC", "EUR", "DE", "Europe/Berlin", 4
    )
    response = client.post(reverse("core:company_settings"), {**data, "base_currency": "XYZ", "default_valuation_method": "fifo"})
    assert response.context["form"].errors == {
        "base_currency": ["Enter an ISO 4217 currency code, e.g. RUB, EUR, USD"],
        "allow_negative_stock": ["Negative stock is possible only with moving-average valuation"],
    }
    company.refresh_from_db()
    assert (company.base_currency, company.default_valuation_method) == ("EUR", "average")


def test_currency_page_adds_a_rate_and_shows_errors(admin_user, web_client):
    usd = services_access.currency_create(actor=admin_user, data={"code": "USD"})
    client = web_client(admin_user)
    url = reverse("core:currency_detail", args=[usd.pk])
    assert client.post(url, {"add_rate": "1", "date": "2026-03-01", "rate": "91.25", "nominal": "1"}).status_code == 302
    response = client.post(url, {"add_rate": "1", "date": "2026-03-01", "rate": "-1", "nominal": "1"})
    assert response.context["rate_form"].errors == {
        "date": ["USD already has a rate on 2026-03-01; there is one rate per currency per day"],
        "rate": ["The rate must be greater than 0"],
    }
    assert list(ExchangeRate.objects.values_list("date", "rate")) == [(dt.date(2026, 3, 1), Decimal("91.250000"))]
    assert "91.250000" in response.content.decode()


def test_numbering_page_shows_a_preview_and_saves(admin_user, web_client):
    sequence = NumberSequence.objects.create(document_type="sales_order", prefix="SO", pattern="{prefix}-{year}-{number}", padding=5)
    client = web_client(admin_user)
    year = dt.date.today().year
    listing = client.get(reverse("core:numbering_list"))
    assert listing.context["sequences"] == [(sequence, f"SO-{year}-00001")]
    edit = client.get(reverse("core:numbering_edit", args=[sequence.pk]))
    assert edit.context["preview"] == f"SO-{year}-00001"
    response = client.post(
        reverse("core:numbering_edit", args=[sequence.pk]),
        {"name": "Sales orders", "prefix": "ЗК", "pattern": "{prefix}{yy}/{number}", "padding": "4", "yearly_reset": "on"},
    )
    assert response.status_code == 302
    sequence.refresh_from_db()
    assert (sequence.prefix, sequence.pattern, sequence.padding) == ("ЗК", "{prefix}{yy}/{number}", 4)
    bad = client.post(reverse("core:numbering_edit", args=[sequence.pk]), {"pattern": "{prefix}-{number}", "padding": "0", "yearly_reset": "on"})
    assert bad.context["form"].errors == {
        "pattern": ["With a yearly restart the pattern must contain {year} or {yy}, or numbers would repeat"],
        "padding": ["Enter the number of digits, from 1 to 12"],
    }
    sequence.refresh_from_db()
    assert sequence.pattern == "{prefix}{yy}/{number}"


# --- audit log -------------------------------------------------------------------------------------------------


def test_the_audit_log_filters_and_paginates(admin_user, make_user, web_client):
    anna = make_user("Sales manager", username="anna")
    for number in range(55):
        audit.record(actor=anna, action=AuditAction.UPDATE, target=anna, changes={"position": [str(number), str(number + 1)]})
    audit.record(actor=admin_user, action=AuditAction.EXPORT, message="Exported counterparties")
    client = web_client(admin_user)
    url = reverse("core:audit_log")
    first = client.get(url)
    assert first.context["page"].paginator.count == AuditEntry.objects.count()
    assert len(first.context["page"]) == 50
    assert first.context["page"][0].message == "Exported counterparties"
    assert client.get(url, {"actor": anna.pk}).context["page"].paginator.count == 55
    assert client.get(url, {"action": "export"}).context["page"].paginator.count == 1
    assert client.get(url, {"text": "exported counter"}).context["page"].paginator.count == 1
    assert client.get(url, {"object_type": "core.user", "actor": anna.pk, "page": 2}).context["page"].object_list[-1].changes == {"position": ["0", "1"]}
    today = dt.date.today()
    assert client.get(url, {"date_from": today - dt.timedelta(days=1), "date_to": today + dt.timedelta(days=1), "actor": anna.pk}).context["page"].paginator.count == 55
    assert client.get(url, {"date_to": today - dt.timedelta(days=1)}).context["page"].paginator.count == 0
    page_two = client.get(url, {"actor": anna.pk, "page": 2}).content.decode()
    assert f"actor={anna.pk}&amp;page=1" in page_two
    assert "0 → 1" in page_two


def test_the_audit_log_is_read_only(admin_user, web_client):
    audit.record(actor=admin_user, action=AuditAction.EXPORT, message="x")
    response = web_client(admin_user).post(reverse("core:audit_log"), {"action": "delete"})
    assert response.status_code == 200
    assert AuditEntry.objects.count() == 1
