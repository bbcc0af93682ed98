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

from fabrika.core.demo import (
    DEMO_MORE_PARTIES,
    DEMO_PARTIES,
    DEMO_USERS,
    inn_with_check_digits,
    russian_account_with_key,
)
from fabrika.core.models import AuditEntry, CompanySettings, Department, OutboxEvent, User
from fabrika.parties.models import Address, BankAccount, Contact, Counterparty, Position, Segment, Tag

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
    # (the 26 parties plus the company itself, marked "our company")
    assert Counterparty.objects.count() == len(DEMO_PARTIES) + len(DEMO_MORE_PARTIES) + 1 == 27
    assert AuditEntry.objects.filter(action="create", content_type__model="counterparty").count() == 27
    assert OutboxEvent.objects.filter(event_type="record.created", aggregate="parties.counterparty").count() == 27
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
    assert per_owner == {"sales1": (6, 2, 0), "sales2": (5, 3, 0), "buyer": (0, 0, 10)}
    tutor = Counterparty.objects.get(name="Alexey Morozov")
    assert tutor.kind == "individual" and len(tutor.tax_id) == 12 and inn.is_valid(tutor.tax_id)
    school = Counterparty.objects.get(name="School No. 57, Moscow")
    assert (school.tax_id, school.phone, school.city) == ("7701234560", "+74951234567", "Moscow")


def counterparty_detail_counts() -> dict[str, int]:
    return {
        "clients": Counterparty.objects.filter(is_client=True).count(),
        "dealers": Counterparty.objects.filter(is_dealer=True).count(),
        "suppliers": Counterparty.objects.filter(is_supplier=True).count(),
        "contacts": Contact.objects.count(),
        "addresses": Address.objects.count(),
        "bank_accounts": BankAccount.objects.count(),
        "positions": Position.objects.count(),
        "segments": Segment.objects.count(),
        "tags": Tag.objects.count(),
        "audit": AuditEntry.objects.count(),
        "events": OutboxEvent.objects.count(),
    }


def test_demo_counterparties_have_requisites_contacts_addresses_and_bank_accounts():
    # when the demo is loaded
    run_demo_load()
    # then every organisation has a valid INN (or none, abroad), a KPP from its INN in Russia, a legal address with
    # its parts and its text, a director, a purchasing (or sales) manager and an accountant, and one bank account
    counts = counterparty_detail_counts()
    assert {name: counts[name] for name in ("clients", "dealers", "suppliers", "contacts", "addresses", "bank_accounts")} == {
        "clients": 16, "dealers": 5, "suppliers": 10, "contacts": 26 * 3, "addresses": 27, "bank_accounts": 27,
    }
    ours = Counterparty.objects.get(is_own_company=True)  # the company itself: the seller's requisites on invoices
    assert (ours.name, len(ours.tax_id), len(ours.kpp), ours.bank_accounts.count(), ours.is_client) == ("Robokids", 10, 9, 1, False)
    for party in Counterparty.objects.exclude(is_own_company=True).prefetch_related("contacts__position", "addresses", "bank_accounts", "segments"):
        assert party.segments.exists(), party.name
        (address,) = party.addresses.all()
        assert address.kind == "legal" and address.city == party.city and address.street and address.building, party.name
        assert address.raw and address.postcode in address.raw and address.city in address.raw
        (account,) = party.bank_accounts.all()
        assert account.is_default and account.bank_name
        contacts = list(party.contacts.all())
        if party.kind == "individual":
            assert contacts == [] and account.account.startswith("40817810") and party.kpp == ""
            continue
        positions = sorted(contact.position.name for contact in contacts)
        expected = "Sales manager" if party.is_supplier else "Purchasing manager"
        assert positions == sorted(["Director", expected, "Accountant"]), party.name
        assert [c.position.name for c in contacts if c.is_primary] == ["Director"]
        domain = party.email.split("@")[1]
        for contact in contacts:
            assert contact.phone.startswith("+") and contact.phone[1:].isdigit(), contact.phone  # E.164
            assert contact.email.endswith("@" + domain)
        if party.country == "RU":
            assert inn.is_valid(party.tax_id) and len(party.tax_id) == 10
            assert party.kpp == party.tax_id[:4] + "01001"
            assert len(account.bic) == 9 and account.bic.isdigit() and len(account.account) == 20
            assert account.account == russian_account_with_key(account.bic, account.account)  # the control digit holds
            assert len(account.correspondent_account) == 20 and account.currency == "RUB"
        else:
            assert (party.name, party.country, party.tax_id, account.currency) == ("Shenzhen Micro Motor Co.", "CN", "", "CNY")
    school = Counterparty.objects.get(name="School No. 57, Moscow")
    assert school.kpp == "770101001"
    assert [(c.name, c.position.name, c.phone, c.email) for c in school.contacts.order_by("pk")] == [
        ("Andrey Ivanov", "Director", "+79161000000", "a.ivanov@school57.example"),
        ("Natalia Fedorova", "Purchasing manager", "+79171071329", "n.fedorova@school57.example"),
        ("Mikhail Volkov", "Accountant", "+79181142658", "m.volkov@school57.example"),
    ]
    assert (school.addresses.get().raw, school.bank_accounts.get().bic, school.bank_accounts.get().account) == (
        "125009, Moscow, Moscow, Lenina St., 3", "044525225", "40702810638000000000",
    )
    assert sorted(s.name for s in school.segments.all()) == ["Education"] and [t.name for t in school.tags.all()] == ["tenders"]
    retail = Counterparty.objects.get(name="Toy Planet retail chain")
    assert retail.is_client and retail.responsible.username == "sales2"
    assert [s.name for s in retail.segments.all()] == ["Retail"] and sorted(t.name for t in retail.tags.all()) == ["key account", "seasonal"]
    # and a second load adds nothing
    run_demo_load()
    assert counterparty_detail_counts() == counts


def test_the_demo_completes_counterparties_loaded_before_their_details_existed():
    # given a demo loaded, whose counterparties then lost their details (as loaded by an older version)
    run_demo_load()
    counts = counterparty_detail_counts()
    school = Counterparty.objects.get(name="School No. 57, Moscow")
    Contact.objects.filter(counterparty=school).delete()
    BankAccount.objects.filter(counterparty=school).delete()
    Address.objects.filter(counterparty=school).delete()
    Counterparty.objects.filter(pk=school.pk).update(kpp="")
    school.tags.clear()
    # when it is loaded again
    run_demo_load()
    # then they are back, and nothing else was added
    school.refresh_from_db()
    assert (school.kpp, school.contacts.count(), school.addresses.count(), school.bank_accounts.count()) == ("770101001", 3, 1, 1)
    assert [t.name for t in school.tags.all()] == ["tenders"]
    assert {k: v for k, v in counterparty_detail_counts().items() if k not in ("audit", "events")} == {
        k: v for k, v in counts.items() if k not in ("audit", "events")
    }


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


def test_account_control_digit_matches_a_published_example():
    # Sberbank's BIC 044525225 and the textbook account 40702810938000000001 (control digit 9)
    assert russian_account_with_key("044525225", "40702810038000000001") == "40702810938000000001"


def test_the_demo_has_a_status_catalogue_and_a_reminder_due_for_a_sales_manager():
    from fabrika.core.models import RecordStatus, StatusDefinition
    from fabrika.core.statuses import current_status

    run_demo_load()
    assert set(StatusDefinition.objects.filter(entity="parties.counterparty").values_list("name", "kind")) == {
        ("Active client", "info"), ("Call back", "remind"), ("Send the catalogue", "remind"), ("Not interested", "closed"),
        ("Maintenance due", "remind"),  # the after-sales reminder of the demo shipment (fabrika/sales/demo.py)
    }
    school = Counterparty.objects.get(name="School No. 57, Moscow")
    status = current_status(school)  # the maintenance reminder is dated months ahead: today the call-back still holds
    assert (status.definition.name, status.note) == ("Call back", "Asked for the autumn price list for 30 kits")
    maintenance = RecordStatus.objects.get(object_id=str(school.pk), definition__name="Maintenance due")
    assert maintenance.effective_from > status.effective_from
    # the school's manager sees it on "My reminders"
    client = Client()
    client.force_login(school.responsible)
    assert "School No. 57, Moscow" in client.get("/reminders/").content.decode()
    # and loading again sets nothing twice
    run_demo_load()
    assert RecordStatus.objects.count() == 3
