"""Ledger test fixtures: the inventory factories (real documents through the services) and journal helpers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from fabrika.ledger.models import JournalEntry, JournalLine
from fabrika.ledger.services import accounts_ensure
from fabrika.parties.models import Counterparty
from tests.inventory.conftest import (  # noqa: F401 - fixtures reused by the ledger tests
    DAY,
    Ledger,
    average_ledger,
    average_policy,
    box,
    company,
    fifo_policy,
    ledger,
    main,
    pcs,
    second,
    storekeeper,
    warehouse,
)

D = Decimal


@pytest.fixture
def chart(db):
    return accounts_ensure()


@pytest.fixture
def accountant(make_user, chart):
    return make_user("Accountant", username="accountant")


@pytest.fixture
def director(make_user, chart):
    return make_user("Director", username="director")


@pytest.fixture
def clerk(make_user, chart):
    """A user whose role grants nothing in the ledger."""
    user = make_user("Storekeeper", username="clerk")
    assert not user.has_perm("ledger.view_journalentry")
    return user


@pytest.fixture
def manager(make_user):
    return make_user("Sales manager", username="manager")


@pytest.fixture
def client_party(manager):
    return Counterparty.objects.create(name="Robokids LLC", is_client=True, responsible=manager)


@pytest.fixture
def all_permissions_accountant(accountant):
    accountant.user_permissions.add(*Permission.objects.filter(content_type__app_label="ledger"))
    return accountant


def entry_lines(entry: JournalEntry) -> list[tuple[str, Decimal, Decimal]]:
    """(account code, debit, credit) of an entry, debits first."""
    return [
        (line.account.code, line.debit, line.credit)
        for line in entry.lines.select_related("account").order_by("-debit", "account__code")
    ]


def entries_of(document) -> list[list[tuple[str, Decimal, Decimal]]]:
    return [
        entry_lines(entry)
        for entry in JournalEntry.objects.filter(source_type=document._meta.label_lower, source_id=document.pk).order_by("id")
    ]


def journal_snapshot() -> tuple:
    return (
        JournalEntry.objects.count(),
        sorted(JournalLine.objects.values_list("entry_id", "account_id", "counterparty_id", "debit", "credit")),
    )
