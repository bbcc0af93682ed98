"""The "Robokids" demo company: a small factory of educational robots and construction kits."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from .models import CompanySettings, Currency, Department, ExchangeRate, User
from .roles import standard_roles_ensure


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    first_name: str
    last_name: str
    role: str
    department: str
    superuser: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "admin-robokids", "Anna", "Admin", "Administrator", "Management", superuser=True),
    DemoUser("director", "director-robokids", "Dmitry", "Orlov", "Director", "Management"),
    DemoUser("headsales", "headsales-robokids", "Elena", "Sokolova", "Head of sales", "Sales"),
    DemoUser("sales1", "sales1-robokids", "Ivan", "Petrov", "Sales manager", "Sales"),
    DemoUser("sales2", "sales2-robokids", "Maria", "Kuznetsova", "Sales manager", "Sales"),
    DemoUser("buyer", "buyer-robokids", "Oleg", "Smirnov", "Purchasing manager", "Supply"),
    DemoUser("store", "store-robokids", "Sergey", "Volkov", "Storekeeper", "Warehouse"),
    DemoUser("accountant", "accountant-robokids", "Olga", "Popova", "Accountant", "Finance"),
    DemoUser("production", "production-robokids", "Pavel", "Lebedev", "Production manager", "Production"),
    DemoUser("service", "service-robokids", "Nikolai", "Kozlov", "Service engineer", "Service"),
)

DEMO_CLIENTS = (
    ("School No. 57, Moscow", "7701234567", "sales1", True, False),
    ("Robotics club Kvantorium", "7805123456", "sales1", True, False),
    ("EduTech Distribution LLC", "7714567890", "sales2", True, False),
    ("Lyceum 239, Saint Petersburg", "7825123450", "sales2", True, False),
    ("Servo Motors Ltd", "5003012345", "buyer", False, True),
    ("PCB Factory Rezonit", "7735123456", "buyer", False, True),
    ("Plastic Parts Plant", "6658123456", "buyer", False, True),
)


def _valid_inn(base: str) -> str:
    """Complete a 9-digit base into a 10-digit INN with the right check digit (demo data must pass validation)."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    digits = [int(c) for c in base[:9]]
    check = sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 % 10
    return base[:9] + str(check)


@transaction.atomic
def demo_load() -> list[DemoUser]:
    from fabrika.parties.models import Counterparty
    from fabrika.parties.services import counterparty_create

    company, _ = CompanySettings.objects.get_or_create(pk=1)
    company.name = "Robokids"
    company.base_currency = "RUB"
    company.country = "RU"
    company.time_zone = "Europe/Moscow"
    company.save()
    for code, name, symbol in (("RUB", "Russian rouble", "₽"), ("EUR", "Euro", "€"), ("USD", "US dollar", "$"), ("CNY", "Yuan", "¥")):
        Currency.objects.get_or_create(code=code, defaults={"name": name, "symbol": symbol})
    import datetime as dt
    from decimal import Decimal

    for code, rate in (("EUR", Decimal("98.500000")), ("USD", Decimal("91.200000")), ("CNY", Decimal("12.600000"))):
        ExchangeRate.objects.get_or_create(currency=Currency.objects.get(code=code), date=dt.date(2026, 11, 2), defaults={"rate": rate})
    roles = standard_roles_ensure()
    management, _ = Department.objects.get_or_create(name="Management", parent=None)
    departments = {"Management": management}
    for name in ("Sales", "Supply", "Warehouse", "Finance", "Production", "Service"):
        departments[name], _ = Department.objects.get_or_create(name=name, parent=management)
    users: dict[str, User] = {}
    for demo in DEMO_USERS:
        user = User.objects.filter(username=demo.username).first()
        if user is None:
            user = User(username=demo.username)
        user.first_name, user.last_name = demo.first_name, demo.last_name
        user.email = f"{demo.username}@robokids.example"
        user.department = departments[demo.department]
        user.is_superuser = user.is_staff = demo.superuser
        user.set_password(demo.password)
        user.save()
        user.groups.set([roles[demo.role]])
        users[demo.username] = user
    departments["Sales"].head = users["headsales"]
    departments["Sales"].save()
    management.head = users["director"]
    management.save()
    for name, inn_base, owner, is_client, is_supplier in DEMO_CLIENTS:
        if not Counterparty.objects.filter(name=name).exists():
            counterparty_create(
                actor=users[owner],
                data={"name": name, "tax_id": _valid_inn(inn_base), "is_client": is_client, "is_supplier": is_supplier,
                      "responsible": users[owner], "email": "", "city": "Moscow"},
            )
    return list(DEMO_USERS)
