"""The "Robokids" demo company: a small factory of educational robots and construction kits, standard and custom.

`fabrika demo_load` (and `make demo`) runs the loaders in order, in one transaction. Each loader takes the shared
`DemoContext` (users, departments, roles and what earlier loaders made) and adds its app's part through that app's
own services, so the demo data passes the same validation as data typed in by a user. A loader is idempotent: it
creates what is missing and leaves what exists, so loading twice changes nothing.

Later apps add their part as a function `load_<things>(context)` in `fabrika/<app>/demo.py` and append it to
`LOADERS` in `fabrika/core/management/commands/demo_load.py` (after the loaders whose data it needs).

The platform's own bootstrap (company settings, currencies, roles, departments, users) is written directly, as
Django's `createsuperuser` does: it is the data every service needs before it can run (an actor to act as).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from .errors import DomainError
from .models import CompanySettings, Currency, Department, ExchangeRate, User
from .models.company import ValuationMethod
from .roles import standard_roles_ensure, standard_roles_sync

COMPANY_NAME = "Robokids"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    first_name: str
    last_name: str
    role: str
    department: str
    position: str
    superuser: bool = False


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", "admin-robokids", "Anna", "Admin", "Administrator", "Management", "System administrator", superuser=True),
    DemoUser("director", "director-robokids", "Dmitry", "Orlov", "Director", "Management", "Managing director"),
    DemoUser("headsales", "headsales-robokids", "Elena", "Sokolova", "Head of sales", "Sales", "Head of sales"),
    DemoUser("sales1", "sales1-robokids", "Ivan", "Petrov", "Sales manager", "Sales", "Sales manager, schools"),
    DemoUser("sales2", "sales2-robokids", "Maria", "Kuznetsova", "Sales manager", "Sales", "Sales manager, dealers"),
    DemoUser("buyer", "buyer-robokids", "Oleg", "Smirnov", "Purchasing manager", "Supply", "Purchasing manager"),
    DemoUser("store", "store-robokids", "Sergey", "Volkov", "Storekeeper", "Warehouse", "Storekeeper"),
    DemoUser("accountant", "accountant-robokids", "Olga", "Popova", "Accountant", "Finance", "Chief accountant"),
    DemoUser("production", "production-robokids", "Pavel", "Lebedev", "Production manager", "Production", "Production manager"),
    DemoUser("service", "service-robokids", "Nikolai", "Kozlov", "Service engineer", "Service", "Service engineer"),
)

# Department name → parent name (None: the top of the tree) and the username of its head.
DEMO_DEPARTMENTS: tuple[tuple[str, str | None, str | None], ...] = (
    ("Management", None, "director"),
    ("Sales", "Management", "headsales"),
    ("Supply", "Management", "buyer"),
    ("Warehouse", "Management", "store"),
    ("Finance", "Management", "accountant"),
    ("Production", "Management", "production"),
    ("Service", "Management", "service"),
)

DEMO_CURRENCIES: tuple[tuple[str, str, str], ...] = (
    ("RUB", "Russian rouble", "₽"),
    ("EUR", "Euro", "€"),
    ("USD", "US dollar", "$"),
    ("CNY", "Chinese yuan", "¥"),
)
# Roubles per unit on the demo's reference dates.
DEMO_RATES: tuple[tuple[str, dt.date, Decimal], ...] = (
    ("EUR", dt.date(2026, 11, 2), Decimal("98.500000")),
    ("USD", dt.date(2026, 11, 2), Decimal("91.200000")),
    ("CNY", dt.date(2026, 11, 2), Decimal("12.600000")),
    ("EUR", dt.date(2026, 11, 16), Decimal("99.100000")),
    ("USD", dt.date(2026, 11, 16), Decimal("91.850000")),
    ("CNY", dt.date(2026, 11, 16), Decimal("12.710000")),
)


@dataclass(frozen=True)
class DemoParty:
    name: str
    responsible: str  # username
    kind: str  # "client", "dealer" (a reseller: client and dealer), "supplier", "own" (the company itself)
    inn_base: str  # 9 digits (organisation) or 10 digits (individual); the check digit(s) are computed; "" for none
    city: str
    phone: str
    email: str
    notes: str
    individual: bool = False


DEMO_PARTIES: tuple[DemoParty, ...] = (
    # Schools: kits for robotics lessons, bought once a year on tenders.
    DemoParty("School No. 57, Moscow", "sales1", "client", "770123456", "Moscow", "+7 495 123-45-67",
              "info@school57.example", "Robotics lessons in grades 5-9; buys starter kits every August."),
    DemoParty("School No. 1535, Moscow", "sales1", "client", "770987654", "Moscow", "+7 499 322-11-00",
              "office@school1535.example", "Engineering classes; interested in custom competition robots."),
    DemoParty("Lyceum 239, Saint Petersburg", "sales2", "client", "782512345", "Saint Petersburg", "+7 812 555-12-34",
              "lyceum239@spb-schools.example", "Physics and mathematics lyceum; two robotics teams."),
    DemoParty("Gymnasium No. 1, Novosibirsk", "sales2", "client", "540612345", "Novosibirsk", "+7 383 210-45-67",
              "gym1@nsk-edu.example", "Pilot of the advanced kit in 2026."),
    DemoParty("Kazan IT Lyceum", "sales1", "client", "165512345", "Kazan", "+7 843 238-11-22",
              "robotics@it-lyceum.example", "Boarding lyceum; buys spare parts quarterly."),
    # Robotics clubs: small, frequent orders of kits and spare parts.
    DemoParty("Robotics club Kvantorium, Yekaterinburg", "sales1", "client", "667012345", "Yekaterinburg",
              "+7 343 371-22-33", "club@kvant-ekb.example", "Children's technopark; 12 groups."),
    DemoParty("RoboSchool club, Samara", "sales2", "client", "631512345", "Samara", "+7 846 333-12-12",
              "hello@roboschool-samara.example", "Franchise club; wants dealer terms next year."),
    DemoParty("Young Engineers club, Tomsk", "sales2", "client", "701712345", "Tomsk", "+7 3822 52-11-22",
              "engineers@tomsk-club.example", "University-run club for teenagers."),
    DemoParty("Robolab children's centre, Perm", "sales1", "client", "590412345", "Perm", "+7 342 212-33-44",
              "robolab@perm-kids.example", "Summer camps; orders peak in May."),
    DemoParty("Alexey Morozov", "sales1", "client", "7728123456", "Moscow", "+7 916 123-45-67",
              "a.morozov@mail.example", "Private robotics tutor, buys single kits.", individual=True),
    # Distributors and dealers: resell the kits in their regions.
    DemoParty("EduTech Distribution LLC", "sales2", "dealer", "771456789", "Moscow", "+7 495 640-12-12",
              "orders@edutech-distribution.example", "Federal distributor to schools; 30-day payment terms."),
    DemoParty("Siberian Educational Supply", "sales1", "dealer", "540512378", "Novosibirsk", "+7 383 299-10-10",
              "sales@sib-edu-supply.example", "Distributor for Siberia and the Far East."),
    DemoParty("RoboStore Krasnodar", "sales2", "dealer", "230812345", "Krasnodar", "+7 861 255-44-33",
              "shop@robostore-krd.example", "Dealer with a shop and an online store."),
    DemoParty("Volga Robotics", "sales1", "dealer", "526012345", "Nizhny Novgorod", "+7 831 433-55-66",
              "info@volga-robotics.example", "Dealer for the Volga region."),
    DemoParty("Ural Edu Partner", "sales2", "dealer", "745312345", "Chelyabinsk", "+7 351 265-10-20",
              "partner@ural-edu.example", "Dealer; also runs teacher training."),
    # Suppliers: motors, printed circuit boards, plastics, packaging.
    DemoParty("Servo Motors Ltd", "buyer", "supplier", "500301234", "Balashikha", "+7 496 512-34-56",
              "sales@servo-motors.example", "Servo and DC gear motors; lead time 3 weeks."),
    DemoParty("Shenzhen Micro Motor Co.", "buyer", "supplier", "", "Shenzhen", "+86 755 2661 2345",
              "export@szmicromotor.example", "Micro motors and encoders; payment in CNY, lead time 8 weeks."),
    DemoParty("Rezonans PCB Factory", "buyer", "supplier", "773512345", "Zelenograd", "+7 499 735-10-10",
              "pcb@rezonans.example", "Controller boards, 4-layer PCBs and SMT assembly."),
    DemoParty("Voronezh Electronics Assembly", "buyer", "supplier", "366412345", "Voronezh", "+7 473 250-30-40",
              "orders@vea.example", "Sensor boards; second source for PCBs."),
    DemoParty("Plastic Parts Plant", "buyer", "supplier", "665812345", "Yekaterinburg", "+7 343 310-20-30",
              "plastics@ppp-ural.example", "Injection-moulded housings and wheels (ABS, PC)."),
    DemoParty("PolyCast Moulding", "buyer", "supplier", "631912345", "Samara", "+7 846 270-40-50",
              "info@polycast.example", "Construction-kit beams and connectors."),
    DemoParty("Kama Cardboard Packaging", "buyer", "supplier", "590212345", "Perm", "+7 342 206-70-80",
              "boxes@kama-pack.example", "Printed kit boxes and foam inserts."),
    DemoParty("PrintPack Labels", "buyer", "supplier", "165912345", "Kazan", "+7 843 567-80-90",
              "labels@printpack.example", "Labels, manuals and stickers."),
)


def inn_with_check_digits(base: str) -> str:
    """A valid Russian INN from its first digits: 9 for an organisation (10 digits), 10 for a person (12 digits)."""

    def check(digits: str, weights: tuple[int, ...]) -> str:
        return str(sum(weight * int(digit) for weight, digit in zip(weights, digits, strict=True)) % 11 % 10)

    if len(base) == 9 and base.isdigit():
        return base + check(base, (2, 4, 10, 3, 5, 9, 4, 6, 8))
    if len(base) == 10 and base.isdigit():
        base = base + check(base, (7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
        return base + check(base, (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8))
    raise ValueError(f"An INN base has 9 digits (organisation) or 10 digits (person), not {base!r}")


class DemoRefused(DomainError):
    status = 409
    code = "demo_refused"


@dataclass
class DemoContext:
    """What the loaders share: each later loader finds the records earlier ones made."""

    users: dict[str, User] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)
    roles: dict[str, Group] = field(default_factory=dict)
    records: dict[str, dict[str, Any]] = field(default_factory=dict)  # per app: name → record, for later loaders

    @property
    def admin(self) -> User:
        return self.users["admin"]


DemoLoader = Callable[[DemoContext], None]


def _save_changed(instance: Any, values: dict[str, Any]) -> None:
    """Set `values` and save only the fields that differ (a second load writes nothing)."""
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    if instance._state.adding:
        instance.save()
    elif changed:
        instance.save(update_fields=changed)


def ensure_demo_database() -> None:
    """Refuse to load the demo into a database that holds real users (it would reset the demo logins' passwords)."""
    demo_names = {demo.username for demo in DEMO_USERS}
    others = list(User.objects.exclude(username__in=demo_names).order_by("username").values_list("username", flat=True)[:5])
    if others:
        raise DemoRefused(
            "This database already has users that are not part of the demo "
            f"({', '.join(others)}): load the demo into its own database (e.g. another FABRIKA_VAR_DIR).",
            usernames=others,
        )


def load_company(context: DemoContext) -> None:
    company = CompanySettings.objects.filter(pk=1).first() or CompanySettings(pk=1)
    _save_changed(company, {
        "name": COMPANY_NAME, "base_currency": "RUB", "country": "RU", "time_zone": "Europe/Moscow",
        "fiscal_year_start_month": 1, "default_valuation_method": ValuationMethod.FIFO,
    })
    for code, name, symbol in DEMO_CURRENCIES:
        Currency.objects.get_or_create(code=code, defaults={"name": name, "symbol": symbol})
    for code, date, rate in DEMO_RATES:
        ExchangeRate.objects.get_or_create(currency=Currency.objects.get(code=code), date=date, defaults={"rate": rate})


def load_people(context: DemoContext) -> None:
    context.roles = standard_roles_ensure()
    standard_roles_sync(apply=True)  # a demo loaded by an older release gets the new apps' permissions
    for name, parent, _head in DEMO_DEPARTMENTS:
        context.departments[name], _ = Department.objects.get_or_create(
            name=name, parent=context.departments[parent] if parent else None
        )
    for demo in DEMO_USERS:
        user = User.objects.filter(username=demo.username).first() or User(username=demo.username)
        _save_changed(user, {
            "first_name": demo.first_name, "last_name": demo.last_name, "email": f"{demo.username}@robokids.example",
            "department": context.departments[demo.department], "position": demo.position, "is_active": True,
            "is_superuser": demo.superuser, "is_staff": demo.superuser,
        })
        if not user.check_password(demo.password):
            user.set_password(demo.password)
            user.save(update_fields=["password"])
        if set(user.groups.values_list("pk", flat=True)) != {context.roles[demo.role].pk}:
            user.groups.set([context.roles[demo.role]])
        context.users[demo.username] = user
    for name, _parent, head in DEMO_DEPARTMENTS:
        if head:
            _save_changed(context.departments[name], {"head": context.users[head]})


# More Robokids counterparties (a toy retail chain and the PLA plastics and fasteners suppliers), next to DEMO_PARTIES.
DEMO_MORE_PARTIES: tuple[DemoParty, ...] = (
    DemoParty("Toy Planet retail chain", "sales2", "client", "771234567", "Moscow", "+7 495 780-20-30",
              "purchasing@toyplanet.example", "Toy retailer with 40 stores; stocks the starter kits before the holidays."),
    DemoParty("Filament PLA Plastics", "buyer", "supplier", "780412345", "Saint Petersburg", "+7 812 640-55-77",
              "sales@filament-pla.example", "PLA and PETG filament and granules for prototypes and kit parts."),
    DemoParty("Krepezh Fasteners", "buyer", "supplier", "503612345", "Podolsk", "+7 4967 55-12-34",
              "orders@krepezh.example", "Screws, nuts, standoffs and rivets for the kits; delivery in 3 days."),
)

# City → (country, region, postcode) of the demo legal addresses.
DEMO_CITIES: dict[str, tuple[str, str, str]] = {
    "Moscow": ("RU", "Moscow", "125009"), "Zelenograd": ("RU", "Moscow", "124482"),
    "Saint Petersburg": ("RU", "Saint Petersburg", "191186"), "Novosibirsk": ("RU", "Novosibirsk Oblast", "630099"),
    "Kazan": ("RU", "Republic of Tatarstan", "420111"), "Yekaterinburg": ("RU", "Sverdlovsk Oblast", "620014"),
    "Samara": ("RU", "Samara Oblast", "443010"), "Tomsk": ("RU", "Tomsk Oblast", "634050"),
    "Perm": ("RU", "Perm Krai", "614000"), "Krasnodar": ("RU", "Krasnodar Krai", "350000"),
    "Nizhny Novgorod": ("RU", "Nizhny Novgorod Oblast", "603005"), "Chelyabinsk": ("RU", "Chelyabinsk Oblast", "454091"),
    "Balashikha": ("RU", "Moscow Oblast", "143900"), "Podolsk": ("RU", "Moscow Oblast", "142100"),
    "Voronezh": ("RU", "Voronezh Oblast", "394018"), "Shenzhen": ("CN", "Guangdong", "518057"),
}
DEMO_STREETS = ("Lenina St.", "Sovetskaya St.", "Mira Ave.", "Gagarina St.", "Pushkina St.", "Promyshlennaya St.", "Sadovaya St.")
# (bank, BIC, correspondent account): settlement accounts are numbered under these.
DEMO_BANKS: tuple[tuple[str, str, str], ...] = (
    ("Sberbank", "044525225", "30101810400000000225"),
    ("VTB Bank", "044525187", "30101810700000000187"),
    ("Alfa-Bank", "044525593", "30101810200000000593"),
    ("T-Bank", "044525974", "30101810145250000974"),
)
DEMO_POSITIONS = ("Director", "Purchasing manager", "Sales manager", "Accountant")
DEMO_SEGMENTS = ("Education", "Retail", "Distribution", "Electronics", "Plastics", "Packaging", "Fasteners")
DEMO_TAGS = ("tenders", "key account", "import", "second source", "franchise", "seasonal")
# Name → (segments, tags) where the kind alone does not tell (see `_demo_labels`).
DEMO_LABELS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Alexey Morozov": (("Retail",), ()),
    "Toy Planet retail chain": (("Retail",), ("key account", "seasonal")),
    "RoboStore Krasnodar": (("Distribution", "Retail"), ()),
    "EduTech Distribution LLC": (("Distribution",), ("key account",)),
    "RoboSchool club, Samara": (("Education",), ("franchise",)),
    "Robolab children's centre, Perm": (("Education",), ("seasonal",)),
    "Servo Motors Ltd": (("Electronics",), ()),
    "Shenzhen Micro Motor Co.": (("Electronics",), ("import",)),
    "Rezonans PCB Factory": (("Electronics",), ()),
    "Voronezh Electronics Assembly": (("Electronics",), ("second source",)),
    "Plastic Parts Plant": (("Plastics",), ()),
    "PolyCast Moulding": (("Plastics",), ()),
    "Filament PLA Plastics": (("Plastics",), ()),
    "Kama Cardboard Packaging": (("Packaging",), ()),
    "PrintPack Labels": (("Packaging",), ()),
    "Krepezh Fasteners": (("Fasteners",), ()),
}
DEMO_MALE_NAMES = ("Andrey", "Sergey", "Mikhail", "Alexander", "Dmitry", "Roman", "Igor", "Konstantin")
DEMO_FEMALE_NAMES = ("Tatiana", "Natalia", "Irina", "Ekaterina", "Yulia", "Svetlana", "Anastasia", "Marina")
DEMO_SURNAMES = ("Ivanov", "Fedorov", "Volkov", "Pavlov", "Semenov", "Golubev", "Vinogradov", "Bogdanov", "Vorobyov",
                 "Frolov", "Zaitsev", "Nikitin", "Makarov")


def _demo_labels(party: DemoParty) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if party.name in DEMO_LABELS:
        return DEMO_LABELS[party.name]
    if party.kind == "dealer":
        return ("Distribution",), ()
    return ("Education",), ("tenders",) if "School" in party.name or "Lyceum" in party.name or "Gymnasium" in party.name else ()


def russian_account_with_key(bic: str, account: str) -> str:
    """A Russian settlement account (20 digits) with its control digit (the 9th) computed from the BIC."""
    digits = bic[-3:] + account[:8] + "0" + account[9:]
    total = sum(int(digit) * weight % 10 for digit, weight in zip(digits, (7, 1, 3) * 8, strict=False))
    return account[:8] + str(total % 10 * 3 % 10) + account[9:]


def _demo_contacts(party: DemoParty, index: int, country: str) -> list[tuple[str, str, str, str]]:
    """(name, position, phone, e-mail) of the director, the purchasing (a supplier's: sales) manager and the accountant."""
    domain = party.email.split("@", 1)[1]
    positions = ("Director", "Sales manager" if party.kind == "supplier" else "Purchasing manager", "Accountant")
    contacts = []
    for number, position in enumerate(positions):
        serial = index * 3 + number
        female = serial % 2 == 1
        first = (DEMO_FEMALE_NAMES if female else DEMO_MALE_NAMES)[serial % 8]
        surname = DEMO_SURNAMES[serial % 13] + ("a" if female else "")
        if country == "CN":
            phone = f"+86 138 {1000 + serial:04d} {2000 + serial * 7:04d}"
        else:
            phone = f"+7 9{16 + serial % 10} {100 + serial * 7 % 900:03d}-{serial * 13 % 100:02d}-{serial * 29 % 100:02d}"
        contacts.append((f"{first} {surname}", position, phone, f"{first[0]}.{surname}@{domain}".lower()))
    return contacts


def _demo_directory(context: DemoContext, model, names: Sequence[str]) -> dict[str, Any]:
    from fabrika.parties.services import directory_item_create

    found = {item.name: item for item in model.objects.filter(name__in=names)}
    for name in names:
        if name not in found:
            found[name] = directory_item_create(actor=context.admin, model=model, data={"name": name, "is_active": True})
    return found


def _demo_party_details(context: DemoContext, counterparty, party: DemoParty, index: int, positions: dict[str, Any]) -> None:
    """The legal address, the contacts (organisations only) and a bank account, each added when missing."""
    from fabrika.parties.models import AddressKind
    from fabrika.parties.services import address_create, bank_account_create, contact_create

    owner = context.users[party.responsible]
    country, region, postcode = DEMO_CITIES[party.city]
    if not counterparty.addresses.filter(kind=AddressKind.LEGAL).exists():
        street = "Keji South Road" if country == "CN" else DEMO_STREETS[index % len(DEMO_STREETS)]
        building = str(3 + index * 7 % 90)
        raw = ", ".join((postcode, region, party.city, street, building)) if country == "RU" else f"{building} {street}, {party.city}, {region} {postcode}, China"
        address_create(actor=owner, counterparty=counterparty, data={
            "kind": AddressKind.LEGAL, "country": country, "region": region, "city": party.city, "street": street,
            "building": building, "postcode": postcode, "raw": raw,
        })
    if not party.individual:
        existing = set(counterparty.contacts.values_list("name", flat=True))
        for name, position, phone, email in _demo_contacts(party, index, country):
            if name not in existing:
                contact_create(actor=owner, counterparty=counterparty, name=name, position=positions[position], phone=phone, email=email)
    if country == "CN":
        account = {"bank_name": "Bank of China, Shenzhen branch", "bic": "BKCHCNBJ45A", "account": f"7445627{index:05d}",
                   "correspondent_account": "", "currency": "CNY"}
    else:
        bank_name, bic, correspondent = DEMO_BANKS[index % len(DEMO_BANKS)]
        prefix = "40817810" if party.individual else "40702810"  # a person's / an organisation's rouble account
        account = {"bank_name": bank_name, "bic": bic, "account": russian_account_with_key(bic, f"{prefix}0{3800 + index:04d}{index * 7919 % 10_000_000:07d}"),
                   "correspondent_account": correspondent, "currency": "RUB"}
    if not counterparty.bank_accounts.filter(account=account["account"]).exists():
        bank_account_create(actor=owner, counterparty=counterparty, data=account)


# The company itself as a counterparty: printed invoices and acts take the seller's requisites from it.
DEMO_OWN_COMPANY = DemoParty(COMPANY_NAME, "admin", "own", "770555123", "Moscow", "+7 495 800-12-34", "office@robokids.example",
                             "Our company: its tax ID, KPP and bank account are printed on invoices and acts.")


def load_counterparties(context: DemoContext) -> None:
    """Clients, dealers and suppliers with KPP, segments, tags, a legal address, contacts and a bank account each,
    all through the parties services; what exists is completed, not duplicated."""
    from fabrika.parties.models import Counterparty, PartyKind, Position, Segment, Tag
    from fabrika.parties.services import counterparty_create, counterparty_update

    positions = _demo_directory(context, Position, DEMO_POSITIONS)
    _demo_directory(context, Segment, DEMO_SEGMENTS)
    _demo_directory(context, Tag, DEMO_TAGS)
    parties = (*DEMO_PARTIES, *DEMO_MORE_PARTIES, DEMO_OWN_COMPANY)
    names = [party.name for party in parties]
    existing = {c.name: c for c in Counterparty.objects.filter(name__in=names).prefetch_related("segments", "tags")}
    for index, party in enumerate(parties):
        owner = context.users[party.responsible]
        segments, tags = _demo_labels(party)
        tax_id = inn_with_check_digits(party.inn_base) if party.inn_base else ""
        wanted = {
            "country": DEMO_CITIES[party.city][0],
            "kpp": tax_id[:4] + "01001" if len(tax_id) == 10 else "",
            "segments": sorted(segments),
            "tags": sorted(tags),
        }
        counterparty = existing.get(party.name)
        if counterparty is None:
            counterparty = counterparty_create(actor=owner, data={
                "kind": PartyKind.INDIVIDUAL if party.individual else PartyKind.ORGANISATION,
                "name": party.name,
                "is_client": party.kind in ("client", "dealer"),
                "is_dealer": party.kind == "dealer",
                "is_supplier": party.kind == "supplier",
                "is_own_company": party.kind == "own",
                "tax_id": tax_id,
                "city": party.city,
                "phone": party.phone,
                "email": party.email,
                "notes": party.notes,
                "responsible": owner,
                **wanted,
            })
        else:
            current = {
                "country": counterparty.country, "kpp": counterparty.kpp,
                "segments": sorted(s.name for s in counterparty.segments.all()), "tags": sorted(t.name for t in counterparty.tags.all()),
            }
            changed = {name: value for name, value in wanted.items() if current[name] != value}
            if changed:  # a demo loaded before these details existed
                counterparty = counterparty_update(actor=owner, counterparty_id=counterparty.pk, data=changed)
        _demo_party_details(context, counterparty, party, index, positions)
    context.records["counterparties"] = {counterparty.name: counterparty for counterparty in Counterparty.objects.filter(name__in=names)}


# The status catalogue of counterparties and deals, and a few statuses set, so "My reminders" has something to show.
DEMO_STATUSES: tuple[tuple[str, str, str, str], ...] = (
    # entity, name, kind, colour
    ("parties.counterparty", "Active client", "info", "#2f855a"),
    ("parties.counterparty", "Call back", "remind", "#c05621"),
    ("parties.counterparty", "Send the catalogue", "remind", "#b7791f"),
    ("parties.counterparty", "Not interested", "closed", "#718096"),
    ("crm.deal", "Waiting for the client", "remind", "#c05621"),
    ("crm.deal", "Budget approved", "info", "#2f855a"),
)
# counterparty name, status, days before today it took effect, note
DEMO_RECORD_STATUSES: tuple[tuple[str, str, int, str], ...] = (
    ("School No. 57, Moscow", "Call back", 2, "Asked for the autumn price list for 30 kits"),
    ("Toy Planet retail chain", "Send the catalogue", 0, "New buyer for the Christmas season"),
)


def load_statuses(context: DemoContext) -> None:
    from django.utils import timezone

    from fabrika.parties.models import Counterparty

    from .models import StatusDefinition
    from .statuses import current_status, record_status_set, status_definition_create

    admin = context.users["admin"]
    for order, (entity, name, kind, colour) in enumerate(DEMO_STATUSES):
        if not StatusDefinition.objects.filter(entity=entity, name=name).exists():
            status_definition_create(actor=admin, data={"entity": entity, "name": name, "kind": kind, "colour": colour, "order": order})
    today = timezone.localdate()
    for party_name, status_name, days_ago, note in DEMO_RECORD_STATUSES:
        counterparty = Counterparty.objects.filter(name=party_name).first()
        if counterparty is None or current_status(counterparty) is not None:
            continue
        definition = StatusDefinition.objects.get(entity="parties.counterparty", name=status_name)
        owner = counterparty.responsible or admin
        record_status_set(
            actor=owner, record=counterparty, definition_id=definition.pk, effective_from=today - dt.timedelta(days=days_ago), note=note
        )


CORE_LOADERS: tuple[DemoLoader, ...] = (load_company, load_people, load_counterparties, load_statuses)


@transaction.atomic
def demo_load(*, loaders: Sequence[DemoLoader] = CORE_LOADERS) -> DemoContext:
    """Load (or complete) the Robokids demo; returns the context with the demo users. All or nothing."""
    ensure_demo_database()
    context = DemoContext()
    for loader in loaders:
        loader(context)
    return context
