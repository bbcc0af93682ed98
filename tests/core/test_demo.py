"""The Robokids demo: loads into an empty database, loads again without changing anything, and its logins work."""

from __future__ import annotations

import io
import json

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import CommandError, call_command
from django.test import Client
from stdnum.ru import inn

from fabrika.core.demo import DEMO_PARTIES, DEMO_USERS, inn_with_check_digits
from fabrika.core.models import AuditEntry, CompanySettings, Department, OutboxEvent, User
from fabrika.parties.models import Counterparty

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def run_demo_load() -> str:
    output = io.StringIO()
    call_command("demo_load", stdout=output)
    return output.getvalue()


def printed_logins(output: str) -> list[tuple[str, str, str]]:
    lines = output.splitlines()
    assert lines[0] == "Robokids demo is ready. Log in at http://127.0.0.1:8000/ as:"
    assert lines[1].split() == ["login", "password", "role"]
    return [(line.split()[0], line.split()[1], " ".join(line.split()[2:])) for line in lines[2:]]


def dump_everything() -> dict[str, list[dict]]:
    return {
        model._meta.label: json.loads(serializers.serialize("json", model._default_manager.order_by("pk")))
        for model in apps.get_models()
    }


def test_demo_loads_into_an_empty_database_and_prints_working_logins():
    # given an empty database
    assert User.objects.count() == 0
    # when the demo is loaded
    output = run_demo_load()
    # then one login per role is printed, and each printed password logs in
    logins = printed_logins(output)
    assert logins == [(demo.username, demo.password, demo.role) for demo in DEMO_USERS]
    assert [role for _, _, role in logins] == [
        "Administrator", "Director", "Head of sales", "Sales manager", "Sales manager", "Purchasing manager",
        "Storekeeper", "Accountant", "Production manager", "Service engineer",
    ]
    for username, password, role in logins:
        client = Client()
        assert client.login(username=username, password=password), username
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role]
        assert client.get("/").status_code == 200
    # and the company is Robokids, with its department tree and heads
    assert CompanySettings.objects.get(pk=1).name == "Robokids"
    assert {department.name: (department.parent.name if department.parent else None, department.head.username)
            for department in Department.objects.select_related("parent", "head")} == {
        "Management": (None, "director"), "Sales": ("Management", "headsales"), "Supply": ("Management", "buyer"),
        "Warehouse": ("Management", "store"), "Finance": ("Management", "accountant"),
        "Production": ("Management", "production"), "Service": ("Management", "service"),
    }


def test_demo_counterparties_are_valid_and_spread_across_the_sales_managers():
    run_demo_load()
    # every demo counterparty was created through the service: normalised phone, audit row, event
    assert Counterparty.objects.count() == len(DEMO_PARTIES) == 23
    assert AuditEntry.objects.filter(action="create", content_type__model="counterparty").count() == 23
    assert OutboxEvent.objects.filter(event_type="record.created", aggregate="parties.counterparty").count() == 23
    for party in Counterparty.objects.all():
        assert party.phone.startswith("+") and party.city and party.email.endswith(".example")
        if party.tax_id:
            assert inn.is_valid(party.tax_id), party.name
    assert Counterparty.objects.filter(tax_id="").count() == 1  # the Chinese supplier has no INN
    # clients are split between the two sales managers; suppliers belong to the buyer
    per_owner = {
        username: (
            Counterparty.objects.filter(responsible__username=username, is_client=True, is_dealer=False).count(),
            Counterparty.objects.filter(responsible__username=username, is_dealer=True).count(),
            Counterparty.objects.filter(responsible__username=username, is_supplier=True).count(),
        )
        for username in ("sales1", "sales2", "buyer")
    }
    assert per_owner == {"sales1": (6, 2, 0), "sales2": (4, 3, 0), "buyer": (0, 0, 8)}
    tutor = Counterparty.objects.get(name="Alexey Morozov")
    assert tutor.kind == "individual" and len(tutor.tax_id) == 12 and inn.is_valid(tutor.tax_id)
    school = Counterparty.objects.get(name="School No. 57, Moscow")
    assert (school.tax_id, school.phone, school.city) == ("7701234560", "+74951234567", "Moscow")


def test_loading_the_demo_twice_changes_nothing():
    # given a loaded demo
    run_demo_load()
    before = dump_everything()
    # when it is loaded again
    output = run_demo_load()
    # then not a single row changed (passwords, audit, events, counterparties), and the logins are printed again
    assert dump_everything() == before
    assert len(printed_logins(output)) == 10
    assert Client().login(username="sales1", password="sales1-robokids")


def test_loading_the_demo_restores_a_changed_demo_password():
    run_demo_load()
    user = User.objects.get(username="sales2")
    user.set_password("changed-Password-1")
    user.save()
    run_demo_load()
    assert Client().login(username="sales2", password="sales2-robokids")


def test_the_demo_refuses_a_database_with_real_users(make_user):
    # given a database with a real user
    make_user("Administrator", username="chief")
    before = dump_everything()
    # when the demo is loaded into it
    with pytest.raises(CommandError) as raised:
        run_demo_load()
    # then it is refused, naming the user, and nothing changed
    assert str(raised.value) == (
        "This database already has users that are not part of the demo (chief): load the demo into its own "
        "database (e.g. another FABRIKA_VAR_DIR)."
    )
    assert dump_everything() == before


@pytest.mark.parametrize(("base", "expected"), [("770708389", "7707083893"), ("7728123456", "772812345609")])
def test_inn_check_digits(base, expected):
    assert inn_with_check_digits(base) == expected
    assert inn.is_valid(expected)
