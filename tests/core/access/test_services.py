"""Services of the access area: what they store, what they refuse (leaving the database as it was), and the
audit entry each writes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group

from fabrika.core import services_access
from fabrika.core.errors import Conflict, DomainError, ValidationError
from fabrika.core.models import (
    AuditEntry,
    Currency,
    Department,
    ExchangeRate,
    NumberCounter,
    NumberSequence,
    OutboxEvent,
    User,
)
from fabrika.core.selectors import company_settings
from fabrika.core.selectors_access import exchange_rate_on

pytestmark = pytest.mark.django_db


def _entries(target) -> list[tuple[str, dict, str]]:
    return list(
        AuditEntry.objects.filter(object_id=str(target.pk), content_type__model=target._meta.model_name)
        .order_by("id")
        .values_list("action", "changes", "message")
    )


# --- users -----------------------------------------------------------------------------------------------------


def test_user_create_update_deactivate_are_audited_with_old_and_new_values(admin_user, roles):
    sales = Department.objects.create(name="Sales")
    # when a user is created, edited and deactivated
    anna = services_access.user_create(
        actor=admin_user,
        data={"username": "anna", "first_name": "Anna", "email": "anna@example.com", "department": sales.pk,
              "roles": [roles["Sales manager"]], "language": "ru", "position": "Manager", "phone": "+7 900 000-00-00"},
    )
    services_access.user_update(
        actor=admin_user, user_id=anna.pk, data={"position": "Head of sales", "roles": [roles["Head of sales"].pk], "department": None}
    )
    services_access.user_deactivate(actor=admin_user, user_id=anna.pk)
    # then three audit entries tell the story field by field
    assert _entries(anna) == [
        ("create", {
            "username": "anna", "first_name": "Anna", "last_name": "", "email": "anna@example.com", "department": "Sales",
            "is_active": True, "language": "ru", "position": "Manager", "phone": "+7 900 000-00-00", "roles": ["Sales manager"],
        }, ""),
        ("update", {
            "department": ["Sales", None], "position": ["Manager", "Head of sales"], "roles": [["Sales manager"], ["Head of sales"]],
        }, ""),
        ("update", {"is_active": [True, False]}, "User deactivated"),
    ]
    assert AuditEntry.objects.filter(object_id=str(anna.pk), action="update").first().actor == admin_user
    # and a user created without a password has a random one (so the e-mailed reset works), not an empty one
    anna.refresh_from_db()
    assert anna.has_usable_password() is True
    assert anna.check_password("") is False
    # and record events were written for webhooks and automation
    assert list(OutboxEvent.objects.filter(aggregate="core.user", aggregate_id=str(anna.pk)).values_list("event_type", flat=True)) == [
        "record.created", "record.changed", "record.changed"
    ]


def test_user_update_without_changes_writes_no_audit(admin_user, make_user):
    anna = make_user(username="anna", position="Manager")
    services_access.user_update(actor=admin_user, user_id=anna.pk, data={"position": "Manager"})
    assert _entries(anna) == []


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"username": ""}, {"username": ["Username is required"]}),
        ({"username": "ROOT"}, {"username": ["The username 'ROOT' is already taken"]}),
        ({"username": "x", "email": "root@example.com"}, {"email": ["Another user already has the e-mail root@example.com"]}),
        ({"username": "x", "language": "de"}, {"language": ["Choose one of: en, ru (or leave empty for the browser's language)"]}),
        ({"username": "x", "department": 999999}, {"department": ["Department 999999 does not exist"]}),
        ({"username": "x", "roles": [999999]}, {"roles": ["Role(s) 999999 do not exist"]}),
        ({"username": "x", "roles": ["admin"]}, {"roles": ["Choose roles from the list"]}),
        ({"username": "x" * 151}, {"username": ["At most 150 characters"]}),
    ],
)
def test_user_create_refuses_bad_input_and_changes_nothing(admin_user, data, errors):
    User.objects.filter(pk=admin_user.pk).update(email="root@example.com")
    users, entries = User.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ValidationError) as raised:
        services_access.user_create(actor=admin_user, data=data)
    assert raised.value.errors == errors
    assert (User.objects.count(), AuditEntry.objects.count()) == (users, entries)


def test_nobody_deactivates_themselves_or_changes_their_own_roles(make_user, roles):
    head = make_user("Administrator", username="head")
    with pytest.raises(ValidationError) as raised:
        services_access.user_deactivate(actor=head, user_id=head.pk)
    assert raised.value.errors == {"is_active": ["You cannot deactivate yourself"]}
    with pytest.raises(ValidationError) as raised:
        services_access.user_update(actor=head, user_id=head.pk, data={"roles": [roles["Administrator"], roles["Director"]]})
    assert raised.value.errors == {"roles": ["You cannot change your own roles; ask another administrator"]}
    head.refresh_from_db()
    assert head.is_active is True
    assert list(head.groups.values_list("name", flat=True)) == ["Administrator"]
    assert _entries(head) == []


def test_deactivating_an_inactive_user_is_a_conflict(admin_user, make_user):
    gone = make_user(username="gone", is_active=False)
    with pytest.raises(Conflict, match="already inactive"):
        services_access.user_deactivate(actor=admin_user, user_id=gone.pk)
    assert _entries(gone) == []


# --- roles -----------------------------------------------------------------------------------------------------


def test_role_create_update_delete_are_audited(admin_user):
    role = services_access.role_create(
        actor=admin_user,
        data={"name": "Economist", "scope": "all", "description": "Costs", "discount_limit_percent": "5",
              "permissions": ["core.view_currency", "parties.view_counterparty"]},
    )
    services_access.role_update(
        actor=admin_user, role_id=role.pk,
        data={"scope": "department", "discount_limit_percent": Decimal("12.5"), "permissions": ["core.view_currency", "core.add_exchangerate"]},
    )
    services_access.role_delete(actor=admin_user, role_id=role.pk)
    assert _entries(role) == [
        ("create", {"name": "Economist", "scope": "all", "description": "Costs", "discount_limit_percent": "5.00",
                    "permissions": ["core.view_currency", "parties.view_counterparty"]}, ""),
        ("update", {"discount_limit_percent": ["5.00", "12.50"], "scope": ["all", "department"],
                    "permissions": [["core.view_currency", "parties.view_counterparty"], ["core.add_exchangerate", "core.view_currency"]]}, ""),
        ("delete", {"name": "Economist", "scope": "department", "description": "Costs", "discount_limit_percent": "12.50",
                    "permissions": ["core.add_exchangerate", "core.view_currency"]}, ""),
    ]
    assert not Group.objects.filter(name="Economist").exists()


def test_role_members_gain_the_role_s_permissions_and_scope(admin_user, make_user):
    from fabrika.core.permissions import user_scope

    role = services_access.role_create(actor=admin_user, data={"name": "Economist", "scope": "department", "permissions": ["core.view_currency"]})
    eve = services_access.user_create(actor=admin_user, data={"username": "eve", "roles": [role.pk], "password": "Robot-kits-2026"})
    eve = User.objects.get(pk=eve.pk)
    assert eve.has_perm("core.view_currency") is True
    assert eve.has_perm("core.add_currency") is False
    assert user_scope(eve) == "department"


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"name": "", "scope": "everything"}, {"name": ["Name is required"], "scope": ["Choose one of: own, department, all"]}),
        ({"name": "Director"}, {"name": ["A role named 'Director' already exists"]}),
        ({"name": "R", "discount_limit_percent": "-1"}, {"discount_limit_percent": ["Must be between 0 and 100"]}),
        ({"name": "R", "discount_limit_percent": "1.234"}, {"discount_limit_percent": ["At most 2 decimal places"]}),
        ({"name": "R", "discount_limit_percent": "lots"}, {"discount_limit_percent": ["Enter a number, e.g. 7.5"]}),
        ({"name": "R", "permissions": ["core.fly_away", 999999]}, {"permissions": ["Unknown permission(s): 999999, core.fly_away"]}),
    ],
)
def test_role_create_refuses_bad_input(admin_user, roles, data, errors):
    groups, entries = Group.objects.count(), AuditEntry.objects.count()
    with pytest.raises(ValidationError) as raised:
        services_access.role_create(actor=admin_user, data=data)
    assert raised.value.errors == errors
    assert (Group.objects.count(), AuditEntry.objects.count()) == (groups, entries)


def test_a_role_with_members_cannot_be_deleted(admin_user, roles):
    with pytest.raises(Conflict) as raised:
        services_access.role_delete(actor=admin_user, role_id=roles["Administrator"].pk)
    assert raised.value.message == "The role 'Administrator' still has 1 member(s); take it away from them first"
    assert Group.objects.filter(pk=roles["Administrator"].pk).exists()


# --- departments -----------------------------------------------------------------------------------------------


def test_department_changes_are_audited(admin_user, make_user):
    boss = make_user("Director", username="boss")
    company = services_access.department_create(actor=admin_user, data={"name": "Robokids"})
    sales = services_access.department_create(actor=admin_user, data={"name": "Sales", "parent": company.pk})
    services_access.department_update(actor=admin_user, department_id=sales.pk, data={"name": "Sales & marketing", "head": boss.pk})
    services_access.department_delete(actor=admin_user, department_id=sales.pk)
    assert _entries(sales) == [
        ("create", {"name": "Sales", "parent": "Robokids", "head": None}, ""),
        ("update", {"name": ["Sales", "Sales & marketing"], "head": [None, "boss"]}, ""),
        ("delete", {"name": "Sales & marketing", "parent": "Robokids", "head": "boss"}, ""),
    ]


def test_department_rules(admin_user, make_user):
    company = services_access.department_create(actor=admin_user, data={"name": "Robokids"})
    sales = services_access.department_create(actor=admin_user, data={"name": "Sales", "parent": company})
    make_user(username="anna", department=sales)
    entries = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as raised:
        services_access.department_create(actor=admin_user, data={"name": "sales", "parent": company})
    assert raised.value.errors == {"name": ["'Robokids' already has a department named 'sales'"]}
    with pytest.raises(ValidationError) as raised:
        services_access.department_create(actor=admin_user, data={"name": "robokids"})
    assert raised.value.errors == {"name": ["'The top level' already has a department named 'robokids'"]}
    with pytest.raises(ValidationError) as raised:
        services_access.department_update(actor=admin_user, department_id=company.pk, data={"parent": sales.pk, "head": 999999})
    assert raised.value.errors == {
        "parent": ["A department cannot be placed inside itself or one of its sub-departments"],
        "head": ["Choose an active user as the head"],
    }
    with pytest.raises(Conflict, match="has sub-departments"):
        services_access.department_delete(actor=admin_user, department_id=company.pk)
    with pytest.raises(Conflict, match="still has 1 member"):
        services_access.department_delete(actor=admin_user, department_id=sales.pk)
    assert Department.objects.count() == 2
    assert AuditEntry.objects.count() == entries


# --- company settings ------------------------------------------------------------------------------------------


def test_company_settings_update_is_partial_and_audited(admin_user):
    company_settings()
    services_access.company_settings_update(
        actor=admin_user, data={"name": "Robokids", "base_currency": "eur", "country": "de", "time_zone": "Europe/Berlin", "fiscal_year_start_month": 7}
    )
    company = company_settings()
    assert (company.name, company.base_currency, company.country, company.time_zone, company.fiscal_year_start_month) == (
        "Robokids", "EUR", "DE", "Europe/Berlin", 7
    )
    assert _entries(company) == [
        ("update", {
            "name": ["My company", "Robokids"], "base_currency": ["RUB", "EUR"], "country": ["RU", "DE"],
            "time_zone": ["Europe/Moscow", "Europe/Berlin"], "fiscal_year_start_month": [1, 7],
        }, "")
    ]


def test_company_settings_refuses_each_bad_field_and_changes_nothing(admin_user):
    company_settings()
    with pytest.raises(ValidationError) as raised:
        services_access.company_settings_update(
            actor=admin_user,
            data={"name": " ", "base_currency": "EURO", "country": "XX", "time_zone": "Mars/Olympus", "fiscal_year_start_month": 13,
                  "default_valuation_method": "lifo"},
        )
    assert raised.value.errors == {
        "name": ["Company name is required"],
        "base_currency": ["At most 3 characters", "Enter an ISO 4217 currency code, e.g. RUB, EUR, USD"],
        "country": ["Enter an ISO 3166 two-letter country code, e.g. RU, DE, US"],
        "time_zone": ["Enter a time zone from the IANA database, e.g. Europe/Moscow"],
        "fiscal_year_start_month": ["Enter a month number from 1 to 12"],
        "default_valuation_method": ["Choose one of: fifo, average"],
    }
    with pytest.raises(ValidationError) as raised:
        services_access.company_settings_update(actor=admin_user, data={"allow_negative_stock": True})
    assert raised.value.errors == {"allow_negative_stock": ["Negative stock is possible only with moving-average valuation"]}
    company = company_settings()
    assert (company.name, company.base_currency, company.allow_negative_stock) == ("My company", "RUB", False)
    assert AuditEntry.objects.filter(action="update").count() == 0


# --- currencies and rates --------------------------------------------------------------------------------------


def test_currency_defaults_come_from_iso_4217(admin_user):
    jpy = services_access.currency_create(actor=admin_user, data={"code": "jpy"})
    assert (jpy.code, jpy.name, jpy.symbol, jpy.minor_unit) == ("JPY", "Japanese Yen", "¥", 0)
    custom = services_access.currency_create(actor=admin_user, data={"code": "KWD", "name": "Dinar", "symbol": "KD", "minor_unit": 3})
    assert (custom.name, custom.symbol, custom.minor_unit) == ("Dinar", "KD", 3)
    services_access.currency_update(actor=admin_user, currency_id=custom.pk, data={"symbol": "د.ك", "minor_unit": "3"})
    assert _entries(custom)[1] == ("update", {"symbol": ["KD", "د.ك"]}, "")


def test_currency_refusals(admin_user):
    services_access.currency_create(actor=admin_user, data={"code": "USD"})
    for data, errors in [
        ({"code": "USD"}, {"code": ["The currency USD already exists"]}),
        ({"code": "ABC"}, {"code": ["Not an ISO 4217 currency code; use e.g. RUB, EUR, USD"]}),
        ({"code": ""}, {"code": ["Code is required"]}),
        ({"code": "EUR", "minor_unit": 9}, {"minor_unit": ["Enter the number of decimal places, from 0 to 6"]}),
    ]:
        with pytest.raises(ValidationError) as raised:
            services_access.currency_create(actor=admin_user, data=data)
        assert raised.value.errors == errors
    usd = Currency.objects.get()
    with pytest.raises(ValidationError) as raised:
        services_access.currency_update(actor=admin_user, currency_id=usd.pk, data={"code": "EUR"})
    assert raised.value.errors == {"code": ["The code of an existing currency cannot be changed"]}
    assert list(Currency.objects.values_list("code", flat=True)) == ["USD"]


def test_exchange_rates_and_the_rate_on_a_date(admin_user):
    usd = services_access.currency_create(actor=admin_user, data={"code": "USD"})
    jpy = services_access.currency_create(actor=admin_user, data={"code": "JPY"})
    services_access.exchange_rate_add(actor=admin_user, currency_id=usd.pk, data={"date": "2026-01-10", "rate": "90.5"})
    services_access.exchange_rate_add(actor=admin_user, currency_id=usd.pk, data={"date": dt.date(2026, 1, 20), "rate": Decimal("92.123456")})
    services_access.exchange_rate_add(actor=admin_user, currency_id=jpy.pk, data={"date": "2026-01-10", "rate": "61.5", "nominal": 100})
    # the latest rate on or before the date, per one unit
    assert exchange_rate_on(currency_code="USD", on_date=dt.date(2026, 1, 10)) == Decimal("90.5")
    assert exchange_rate_on(currency_code="usd", on_date=dt.date(2026, 1, 19)) == Decimal("90.5")
    assert exchange_rate_on(currency_code="USD", on_date=dt.date(2026, 1, 20)) == Decimal("92.123456")
    assert exchange_rate_on(currency_code="USD", on_date=dt.date(2027, 1, 1)) == Decimal("92.123456")
    assert exchange_rate_on(currency_code="JPY", on_date=dt.date(2026, 2, 1)) == Decimal("0.615")
    # the base currency is always 1
    assert exchange_rate_on(currency_code="RUB", on_date=dt.date(1990, 1, 1)) == Decimal(1)
    # before the first rate there is none: a clear error
    with pytest.raises(DomainError) as raised:
        exchange_rate_on(currency_code="USD", on_date=dt.date(2026, 1, 9))
    assert raised.value.message == "No exchange rate for USD on or before 2026-01-09; add one under Currencies"
    assert raised.value.code == "exchange_rate_missing"
    # and the rate was audited
    rate = ExchangeRate.objects.get(currency=usd, date=dt.date(2026, 1, 10))
    assert _entries(rate) == [("create", {"currency": "USD", "date": "2026-01-10", "rate": "90.500000", "nominal": 1}, "")]


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"date": "2026-01-10", "rate": "0"}, {"date": ["USD already has a rate on 2026-01-10; there is one rate per currency per day"],
                                               "rate": ["The rate must be greater than 0"]}),
        ({"date": "10.01.2026", "rate": "abc"}, {"date": ["Enter a date as YYYY-MM-DD"], "rate": ["Enter a number, e.g. 92.5"]}),
        ({"date": "2026-02-01", "rate": "1.0000001"}, {"rate": ["At most 6 decimal places"]}),
        ({"date": "2026-02-01", "rate": "1", "nominal": 0}, {"nominal": ["The nominal is a whole number from 1 to 1000000, e.g. 100 for rates per 100 units"]}),
        ({"date": "2026-02-01"}, {"rate": ["Enter a number, e.g. 92.5"]}),
    ],
)
def test_exchange_rate_refusals(admin_user, data, errors):
    usd = services_access.currency_create(actor=admin_user, data={"code": "USD"})
    services_access.exchange_rate_add(actor=admin_user, currency_id=usd.pk, data={"date": "2026-01-10", "rate": "90"})
    with pytest.raises(ValidationError) as raised:
        services_access.exchange_rate_add(actor=admin_user, currency_id=usd.pk, data=data)
    assert raised.value.errors == errors
    assert list(ExchangeRate.objects.values_list("date", "rate")) == [(dt.date(2026, 1, 10), Decimal("90"))]


def test_the_base_currency_takes_no_rates(admin_user):
    rub = services_access.currency_create(actor=admin_user, data={"code": "RUB"})
    with pytest.raises(ValidationError) as raised:
        services_access.exchange_rate_add(actor=admin_user, currency_id=rub.pk, data={"date": "2026-01-10", "rate": "1"})
    assert raised.value.errors == {"currency": ["RUB is the base currency: its rate is always 1"]}
    assert ExchangeRate.objects.count() == 0


# --- numbering -------------------------------------------------------------------------------------------------


def test_number_sequence_create_and_update_are_audited(admin_user):
    sequence = services_access.number_sequence_create(actor=admin_user, data={"document_type": "sales_order", "name": "Sales orders", "prefix": "SO"})
    assert (sequence.pattern, sequence.padding, sequence.yearly_reset) == ("{prefix}-{year}-{number}", 5, True)
    services_access.number_sequence_update(actor=admin_user, sequence_id=sequence.pk, data={"prefix": "ЗК", "padding": 6})
    assert _entries(sequence)[1] == ("update", {"padding": [5, 6], "prefix": ["SO", "ЗК"]}, "")


@pytest.mark.parametrize(
    ("data", "errors"),
    [
        ({"document_type": "Sales Order"}, {"document_type": ["Use lowercase letters, digits and _ starting with a letter, e.g. sales_order"]}),
        ({"document_type": "x", "pattern": "{prefix}-{number}"}, {"pattern": ["With a yearly restart the pattern must contain {year} or {yy}, or numbers would repeat"]}),
        ({"document_type": "x", "pattern": "{prefix}-{nr}", "prefix": "{A}"}, {"prefix": ["The prefix cannot contain { or }"], "pattern": ["Unknown placeholder(s): nr"]}),
        ({"document_type": "x", "padding": 13}, {"padding": ["Enter the number of digits, from 1 to 12"]}),
    ],
)
def test_number_sequence_refusals(admin_user, data, errors):
    with pytest.raises(ValidationError) as raised:
        services_access.number_sequence_create(actor=admin_user, data=data)
    assert raised.value.errors == errors
    assert NumberSequence.objects.count() == 0


def test_switching_the_yearly_restart_carries_the_count_over(admin_user):
    from django.db import transaction
    from django.utils import timezone

    from fabrika.core import numbering

    year = timezone.localdate().year
    sequence = services_access.number_sequence_create(
        actor=admin_user, data={"document_type": "invoice", "prefix": "INV", "pattern": "{prefix}-{year}-{number}", "yearly_reset": False}
    )
    with transaction.atomic():
        for _ in range(3):
            numbering.next_number("invoice")
    # when the sequence starts restarting every year
    services_access.number_sequence_update(actor=admin_user, sequence_id=sequence.pk, data={"yearly_reset": True})
    # then this year's count continues where it was, so no number repeats
    with transaction.atomic():
        assert numbering.next_number("invoice") == f"INV-{year}-00004"
    assert NumberCounter.objects.get(sequence=sequence, year=year).last_value == 4
