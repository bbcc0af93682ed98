"""Test data for counterparties: a small sales organisation with people of each scope."""

from __future__ import annotations

from dataclasses import dataclass

from fabrika.core.models import Department, User
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create


@dataclass
class SalesOrg:
    manager: User  # Sales manager (own) in Sales
    colleague: User  # Sales manager (own) in Sales, same department as `manager`
    outsider: User  # Sales manager (own) in Export
    head: User  # Head of sales (department) heading Sales
    director: User  # Director (all)
    mine: Counterparty  # responsible: manager
    colleagues: Counterparty  # responsible: colleague
    outsiders: Counterparty  # responsible: outsider


def sales_org(make_user) -> SalesOrg:
    sales = Department.objects.create(name="Sales")
    export = Department.objects.create(name="Export")
    manager = make_user("Sales manager", department=sales, username="anna")
    colleague = make_user("Sales manager", department=sales, username="boris")
    outsider = make_user("Sales manager", department=export, username="vera")
    head = make_user("Head of sales", department=sales, username="gleb")
    sales.head = head
    sales.save(update_fields=["head"])
    director = make_user("Director", username="dina")
    return SalesOrg(
        manager=manager,
        colleague=colleague,
        outsider=outsider,
        head=head,
        director=director,
        mine=counterparty_create(actor=manager, data={"name": "Robo Alpha", "tax_id": "7707083893", "email": "alpha@example.com"}),
        colleagues=counterparty_create(actor=colleague, data={"name": "Robo Gamma", "phone": "+7 495 123-45-67"}),
        outsiders=counterparty_create(actor=outsider, data={"name": "Robo Beta", "city": "Kazan"}),
    )
